// A node:test reporter that writes one JSON line per skipped test or suite ({file, name,
// reason, suite}), for run-tests.mjs to name every skip at the end of a run. Node's own
// summary counts a skipped test but not a skipped suite, whose tests it never sees.
export default async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, name, file } = event.data;
    if (skip === undefined || skip === false) continue;
    yield `${JSON.stringify({
      file: file ?? null,
      name,
      reason: typeof skip === 'string' ? skip : '(no reason given)',
      suite: event.data.details?.type === 'suite',
    })}\n`;
  }
}
