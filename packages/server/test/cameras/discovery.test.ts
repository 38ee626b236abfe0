/**
 * Hot-plug discovery against a real directory: device nodes are regular files in a fresh
 * temporary directory, changed with real filesystem calls so the real inotify watcher sees
 * them.
 *
 * Nothing sleeps to synchronise. A test waits for the event it expects, or for the log line
 * that shows a decision was made. To show that an event did *not* happen, it waits for a
 * positive signal instead of a quiet period ({@link assertQuiet}). Only the stop() test,
 * where there is no discovery left to give a signal, waits a bounded time, longer than two
 * polls and three debounces.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { after, afterEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  DeviceDiscovery,
  watchDirectory,
  type DiscoveryOptions,
  type WatchFactory,
} from '../../src/cameras/discovery.js';
import { tempDir } from '../helpers/files.js';
import type { LogRecord, LogSink } from '../helpers/log-sink.js';
import { testLogger } from '../helpers/media.js';
import { within } from '../helpers/wait.js';

const DEBOUNCE_MS = 80;
const POLL_MS = 250;
/** For waits that only bound a test that has gone wrong, not for latency assertions. */
const TIMEOUT = 5000;
/** Scheduling slack on top of the designed latency, for a loaded CI machine. */
const MARGIN_MS = 200;

interface NodeEvent {
  type: 'added' | 'removed' | 'changed';
  node: string;
  at: number;
}

interface Harness {
  d: DeviceDiscovery;
  dir: string;
  logs: LogSink;
  /** `added` and `removed`, in order. */
  events: NodeEvent[];
  /** `changed`, in order. */
  changes: NodeEvent[];
  /** Resolves with the first `type` event for `node` at or after index `from` of `events`. */
  next(
    type: NodeEvent['type'],
    node: string,
    from?: number,
    timeoutMs?: number,
  ): Promise<NodeEvent>;
  /** The path of `name` in the device directory. */
  path(name: string): string;
}

const discoveries: DeviceDiscovery[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const d of discoveries.splice(0)) d.stop();
});
after(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function newDir(): string {
  const dir = tempDir('camera-service-discovery-');
  dirs.push(dir);
  return dir;
}

function harness(options: Partial<DiscoveryOptions> = {}): Harness {
  const dir = options.deviceDir ?? newDir();
  const { log, logs } = testLogger();
  const d = new DeviceDiscovery({
    deviceDir: dir,
    pollIntervalMs: POLL_MS,
    debounceMs: DEBOUNCE_MS,
    log,
    ...options,
  });
  discoveries.push(d);
  const events: NodeEvent[] = [];
  const changes: NodeEvent[] = [];
  const signal = new EventEmitter();
  for (const type of ['added', 'removed'] as const) {
    d.on(type, (node) => {
      events.push({ type, node, at: performance.now() });
      signal.emit('event');
    });
  }
  d.on('changed', (node) => changes.push({ type: 'changed', node, at: performance.now() }));
  return {
    d,
    dir,
    logs,
    events,
    changes,
    path: (name) => join(dir, name),
    async next(type, node, from = 0, timeoutMs = TIMEOUT) {
      const find = () => events.slice(from).find((e) => e.type === type && e.node === node);
      let check: (() => void) | undefined;
      try {
        return await within(
          new Promise<NodeEvent>((resolve) => {
            check = () => {
              const found = find();
              if (found) resolve(found);
            };
            signal.on('event', check);
            check();
          }),
          timeoutMs,
          `'${type}' for ${node}`,
        );
      } finally {
        if (check) signal.off('event', check);
      }
    },
  };
}

function touch(path: string): void {
  writeFileSync(path, '');
}

/** The first log record at or after index `from` matching, waited for. */
function logAfter(
  logs: LogSink,
  from: number,
  predicate: (r: LogRecord) => boolean,
  what: string,
): Promise<LogRecord> {
  return logs.waitFor((r) => logs.records.indexOf(r) >= from && predicate(r), TIMEOUT, what);
}

const changed = (node: string) => (r: LogRecord) =>
  r.msg === 'device node changed' && r.node === node;

/**
 * Proves that nothing more will be reported for `node` (until the filesystem changes again)
 * with a positive signal rather than a quiet period. Discovery reports a node only from a
 * decision, and a decision only follows a "device node changed" mark logged after the
 * previous decision. Marks come from watcher events and polling passes. Once an explicit
 * reconcile() has resolved, every inotify event queued before it has been read (its readdir
 * needs a turn of the event loop's poll phase) and the pass itself has marked anything that
 * disagrees. So if no mark was logged since the last decision (at log index `since`), nothing
 * is pending for the node and no further event can come.
 */
async function assertQuiet(h: Harness, node: string, since: number): Promise<void> {
  await h.d.reconcile();
  const marks = h.logs.records.slice(since).filter(changed(node));
  assert.deepEqual(marks, [], `nothing should be pending for ${node}`);
}

/**
 * Asserts that `source` marked `node` since log index `from`. Only "among the marks": right
 * after a watcher is created, a polling pass of the same tick may list a new node before its
 * inotify event has been read, so the first mark may come from either.
 */
function assertSeenBy(h: Harness, source: string, node: string, from: number): void {
  const sources = h.logs.records
    .slice(from)
    .filter(changed(node))
    .map((r) => r.source);
  assert.ok(sources.includes(source), `${node} was marked by ${sources.join(', ')}`);
}

/**
 * Waits until discovery has nothing left to do for `node` after its last mark: the index of
 * the `device node settled` record logged after the last "device node changed" for it (at or
 * after index `from`).
 */
async function settledIndex(h: Harness, node: string, from: number): Promise<number> {
  const lastMark = () => h.logs.records.findLastIndex(changed(node));
  const record = await logAfter(
    h.logs,
    from,
    (r) =>
      r.msg === 'device node settled' && r.node === node && h.logs.records.indexOf(r) > lastMark(),
    `discovery to settle on ${node}`,
  );
  return h.logs.records.indexOf(record);
}

describe('DeviceDiscovery', () => {
  it('reports the nodes present at start, in number order, and ignores other names', async () => {
    const h = harness();
    for (const name of ['video10', 'video2', 'video0', 'video-foo', 'media0', 'videoX1']) {
      touch(h.path(name));
    }
    mkdirSync(h.path('v4l'));
    mkdirSync(h.path('video7')); // a directory is not a device node, whatever its name
    symlinkSync(h.path('video2'), h.path('video3')); // followed: counts
    symlinkSync(h.path('nowhere'), h.path('video4')); // dangling: does not
    const expected = ['video0', 'video2', 'video3', 'video10'].map(h.path);

    await h.d.start();

    // Reported by start() itself, before it resolved: no debounce for nodes already there.
    assert.deepEqual(
      h.events.map((e) => `${e.type} ${e.node}`),
      expected.map((node) => `added ${node}`),
    );
    assert.deepEqual(h.d.nodes(), expected);
    const info = h.logs.records.filter((r) => r.msg === 'device node added');
    assert.deepEqual(
      info.map((r) => [r.level, r.node]),
      expected.map((node) => ['info', node]),
    );
  });

  it('reports a new node once, at once (a plug does not wait for the debounce)', async () => {
    const h = harness();
    await h.d.start();
    const node = h.path('video0');
    const from = h.logs.records.length;

    const t0 = performance.now();
    touch(node);
    const added = await h.next('added', node);

    const latency = added.at - t0;
    assert.ok(latency < MARGIN_MS, `added after ${latency} ms`);
    assert.deepEqual(h.d.nodes(), [node]);
    await assertQuiet(h, node, (await settledIndex(h, node, from)) + 1);
    assert.deepEqual(h.events, [added]);
  });

  it('reports a deleted node removed, once', async () => {
    const h = harness();
    touch(h.path('video0'));
    touch(h.path('video1'));
    await h.d.start();
    const node = h.path('video0');
    const from = h.logs.records.length;
    const start = h.events.length;

    const t0 = performance.now();
    unlinkSync(node);
    const removed = await h.next('removed', node, start);

    assert.ok(removed.at - t0 < DEBOUNCE_MS + MARGIN_MS, `removed after ${removed.at - t0} ms`);
    assert.deepEqual(h.d.nodes(), [h.path('video1')]);
    await assertQuiet(h, node, (await settledIndex(h, node, from)) + 1);
    assert.deepEqual(h.events.slice(start), [removed]);
  });

  it('reports a node at once even while udev goes on changing it (mode, owner, links)', async () => {
    // A debounce far longer than the plug may take: waiting for the node to be quiet would
    // show as a plug this late.
    const debounceMs = 3000;
    const h = harness({ debounceMs });
    await h.d.start();
    const node = h.path('video0');
    const from = h.logs.records.length;

    // What devtmpfs and udev do: the kernel creates the node, then udev sets its mode and
    // group and adds its links, all before discovery has had a turn to look at it.
    const t0 = performance.now();
    touch(node);
    chmodSync(node, 0o660);
    chownSync(node, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    mkdirSync(h.path('v4l/by-id'), { recursive: true });
    symlinkSync('../../video0', h.path('v4l/by-id/usb-Camera-video-index0'));
    const added = await h.next('added', node);

    const latency = added.at - t0;
    assert.ok(latency < MARGIN_MS, `added after ${latency} ms, debounce ${debounceMs} ms`);
    await assertQuiet(h, node, (await settledIndex(h, node, from)) + 1);
    assert.deepEqual(h.events, [added], 'one plug, however many events it made');
    // The changes after the plug were seen as changes of a node that is there.
    const marks = h.logs.records.slice(from).filter(changed(node)).length;
    assert.ok(marks >= 2, `${marks} marks`);
    assert.ok(h.changes.length >= 1, 'the changes after the plug are reported as changed');
    assert.ok(h.changes.every((c) => c.node === node && c.at >= added.at));
  });

  it('reports nothing for a re-plug inside the debounce window', async () => {
    const h = harness();
    const node = h.path('video0');
    touch(node);
    await h.d.start();
    const start = h.events.length;
    const from = h.logs.records.length;

    const t0 = performance.now();
    unlinkSync(node);
    // Re-plug only once discovery has found the node gone and waits to confirm it, so the
    // test cannot pass by missing the unplug.
    await logAfter(
      h.logs,
      from,
      (r) => r.node === node && r.msg === 'device node gone: confirming after the debounce',
      'the unplug to be seen',
    );
    touch(node);
    const gap = performance.now() - t0;
    assert.ok(gap < DEBOUNCE_MS / 4, `the re-plug took ${gap} ms: too slow for this test`);
    const replugged = h.logs.records.length;

    // The positive signal: discovery settles on the node being there, as reported.
    const settled = await settledIndex(h, node, replugged);
    assert.equal(h.logs.records[settled]?.present, true);
    await assertQuiet(h, node, settled + 1);
    assert.deepEqual(h.events.slice(start), []);
    assert.deepEqual(h.d.nodes(), [node]);
  });

  it('reports a flapping node added once', async () => {
    const h = harness();
    await h.d.start();
    const node = h.path('video0');
    const from = h.logs.records.length;

    // 10 plug/unplug cycles, then plugged for good. Each toggle waits until discovery has
    // seen the previous one (so every one restarts the debounce while the node really is in
    // that state), and the next follows well inside the debounce.
    let last = performance.now();
    let longest = 0;
    for (let i = 0; i < 21; i++) {
      const mark = h.logs.records.length;
      if (i % 2 === 0) touch(node);
      else unlinkSync(node);
      await logAfter(h.logs, mark, changed(node), `toggle ${i + 1} to be seen`);
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }
    assert.ok(longest < DEBOUNCE_MS / 2, `toggles ${longest} ms apart: too slow for this test`);

    const added = await h.next('added', node);
    // The flapping restarted the debounce at least once per toggle ...
    assert.ok(h.logs.records.slice(from).filter(changed(node)).length >= 21);
    // ... and one decision came after it.
    await assertQuiet(h, node, (await settledIndex(h, node, from)) + 1);
    assert.deepEqual(h.events, [added]);
    assert.deepEqual(h.d.nodes(), [node]);
  });

  it('catches by polling a node whose inotify events were lost', async () => {
    let dropped = 0;
    let created = 0;
    const deaf: WatchFactory = (dir, _onChange, onError) => {
      created += 1;
      return watchDirectory(dir, () => (dropped += 1), onError);
    };
    const h = harness({ watch: deaf });
    await h.d.start();
    assert.equal(created, 1);
    const node = h.path('video0');
    const from = h.logs.records.length;

    const t0 = performance.now();
    touch(node);
    const added = await h.next('added', node);

    const latency = added.at - t0;
    assert.ok(latency < POLL_MS + DEBOUNCE_MS + MARGIN_MS, `added after ${latency} ms`);
    assert.ok(dropped > 0, 'the watcher should have seen (and dropped) the event');
    const marks = h.logs.records.slice(from).filter(changed(node));
    assert.deepEqual(
      marks.map((r) => r.source),
      ['poll'],
    );
    await assertQuiet(h, node, (await settledIndex(h, node, from)) + 1);
    assert.deepEqual(h.events, [added]);
  });

  it('treats a watcher event without a name as a reason to reconcile at once', async () => {
    const anonymous: WatchFactory = (dir, onChange, onError) =>
      watchDirectory(dir, () => onChange(null), onError);
    // Polling far too slow to be what finds the node.
    const h = harness({ watch: anonymous, pollIntervalMs: 60_000 });
    await h.d.start();
    const node = h.path('video0');

    const t0 = performance.now();
    touch(node);
    const added = await h.next('added', node);

    assert.ok(added.at - t0 < DEBOUNCE_MS + MARGIN_MS, `added after ${added.at - t0} ms`);
    assert.ok(h.logs.find((r) => r.msg === 'device directory event without a name: reconciling'));
  });

  it('survives a watcher error: reconciles, polls, and watches again on the next poll', async () => {
    let created = 0;
    const failsOnce: WatchFactory = (dir, onChange, onError) => {
      created += 1;
      if (created > 1) return watchDirectory(dir, onChange, onError);
      return watchDirectory(dir, () => onError(new Error('inotify queue overflow')), onError);
    };
    const h = harness({ watch: failsOnce });
    await h.d.start();
    const node = h.path('video0');
    const from = h.logs.records.length;

    touch(node);
    await h.next('added', node);

    const warning = await logAfter(
      h.logs,
      from,
      (r) => r.level === 'warn' && r.msg.startsWith('watching the device directory failed'),
      'the watcher warning',
    );
    assert.match(warning.msg, /inotify queue overflow/);
    await logAfter(h.logs, from, (r) => r.msg === 'watching the device directory', 'a new watcher');
    assert.equal(created, 2);

    // The new watcher works: a node is seen by it, not by polling.
    const second = h.path('video1');
    const marked = h.logs.records.length;
    touch(second);
    await h.next('added', second);
    assertSeenBy(h, 'watch', second, marked);
  });

  it('polls a directory that is missing at start, and watches it once it exists', async () => {
    const dir = join(newDir(), 'dev');
    const h = harness({ deviceDir: dir });
    await h.d.start();
    assert.deepEqual(h.d.nodes(), []);
    // Two more passes: the missing directory is still logged only once.
    await h.d.reconcile();
    await h.d.reconcile();
    const missing = h.logs.records.filter((r) =>
      r.msg.startsWith('the device directory does not exist'),
    );
    assert.equal(missing.length, 1);
    assert.equal(missing[0]?.level, 'warn');
    assert.ok(!h.logs.find((r) => r.msg === 'watching the device directory'));

    const t0 = performance.now();
    mkdirSync(dir);
    touch(h.path('video0'));
    const added = await h.next('added', h.path('video0'));
    assert.ok(added.at - t0 < POLL_MS + DEBOUNCE_MS + MARGIN_MS, `added after ${added.at - t0} ms`);
    await h.logs.waitFor((r) => r.msg === 'watching the device directory', TIMEOUT, 'a watcher');

    // Once watched, a node is seen by the watcher.
    const node = h.path('video1');
    const from = h.logs.records.length;
    touch(node);
    await h.next('added', node);
    assertSeenBy(h, 'watch', node, from);
  });

  it('reports every node removed when the directory goes, and watches the new one', async () => {
    const h = harness();
    touch(h.path('video0'));
    touch(h.path('video1'));
    await h.d.start();
    const start = h.events.length;

    rmSync(h.dir, { recursive: true });
    await h.next('removed', h.path('video0'), start);
    await h.next('removed', h.path('video1'), start);
    assert.deepEqual(h.d.nodes(), []);

    // The old watcher watches a deleted inode and would stay silent: it is replaced.
    const from = h.logs.records.length;
    mkdirSync(h.dir);
    await logAfter(h.logs, from, (r) => r.msg === 'watching the device directory', 'a watcher');
    const node = h.path('video2');
    const marked = h.logs.records.length;
    touch(node);
    await h.next('added', node, start);
    assertSeenBy(h, 'watch', node, marked);
    // The two unplugs are confirmed by two debounce timers of their own, which fire in no
    // promised order: both come, once each, before the plug that followed them.
    const seen = h.events.slice(start).map((e) => `${e.type} ${e.node}`);
    assert.deepEqual(seen.slice(0, 2).sort(), [
      `removed ${h.path('video0')}`,
      `removed ${h.path('video1')}`,
    ]);
    assert.deepEqual(seen.slice(2), [`added ${node}`]);
  });

  it('re-creates a watcher whose directory was replaced behind its back', async (t) => {
    // Without the event inotify sends for the directory itself, only its identity shows that
    // it was replaced; the inode number is often reused, so that needs a birth time.
    const probe = newDir();
    if (statSync(probe).birthtimeMs === 0) {
      t.skip('this filesystem records no birth time');
      return;
    }
    const parent = newDir();
    const dir = join(parent, 'dev');
    mkdirSync(dir);
    const selfDeaf: WatchFactory = (watched, onChange, onError) =>
      watchDirectory(watched, (name) => name !== 'dev' && onChange(name), onError);
    const h = harness({ deviceDir: dir, watch: selfDeaf });
    await h.d.start();
    const from = h.logs.records.length;

    rmSync(dir, { recursive: true });
    mkdirSync(dir);
    await logAfter(
      h.logs,
      from,
      (r) =>
        r.msg === 'the device directory was removed or replaced: watching it again once it exists',
      'the stale watcher to be noticed',
    );
    await logAfter(h.logs, from, (r) => r.msg === 'watching the device directory', 'a watcher');
    const node = h.path('video0');
    const marked = h.logs.records.length;
    touch(node);
    await h.next('added', node);
    assertSeenBy(h, 'watch', node, marked);
  });

  it('turns a throwing listener into an error event and carries on', async () => {
    const h = harness();
    await h.d.start();
    let thrown = false;
    h.d.once('added', () => {
      thrown = true;
      throw new Error('listener bug');
    });
    const errors: Error[] = [];
    h.d.on('error', (error) => errors.push(error));

    touch(h.path('video0'));
    await h.next('added', h.path('video0'));
    touch(h.path('video1'));
    await h.next('added', h.path('video1'));

    assert.ok(thrown);
    assert.deepEqual(
      errors.map((e) => e.message),
      [`A listener for 'added' of ${h.path('video0')} threw: listener bug.`],
    );
  });

  it('stops completely: no events, no timers, no watcher', async () => {
    let opened = 0;
    let closed = 0;
    const counting: WatchFactory = (dir, onChange, onError) => {
      opened += 1;
      const watcher = watchDirectory(dir, onChange, onError);
      return {
        close() {
          closed += 1;
          watcher.close();
        },
      };
    };
    const h = harness({ watch: counting });
    touch(h.path('video0'));
    await h.d.start();

    // Stop while an unplug waits for its debounce, so its timer must be cancelled.
    unlinkSync(h.path('video0'));
    await logAfter(
      h.logs,
      0,
      (r) => r.msg === 'device node gone: confirming after the debounce',
      'the unplug to be seen',
    );
    h.d.stop();
    h.d.stop();
    const start = h.events.length;
    const stopped = h.logs.records.length;
    const reported = h.d.nodes();
    assert.equal(opened, 1);
    assert.equal(closed, 1);

    touch(h.path('video2'));
    await h.d.reconcile(); // a no-op once stopped

    // No discovery is left to give a positive signal, so this absence is a bounded wait:
    // longer than two polls and three debounces.
    await delay(Math.max(2 * POLL_MS, 3 * DEBOUNCE_MS) + MARGIN_MS);
    assert.deepEqual(h.events.slice(start), []);
    assert.deepEqual(
      h.logs.records.slice(stopped).map((r) => r.msg),
      [],
    );
    assert.deepEqual(h.d.nodes(), reported); // the last reported state, not the directory's
    await assert.rejects(h.d.start(), /already started once/);
  });

  it('never keeps the process alive, even when not stopped', async () => {
    const dir = newDir();
    touch(join(dir, 'video0'));
    const discovery = new URL('../../src/cameras/discovery.js', import.meta.url).href;
    const logging = new URL('../../src/logging/index.js', import.meta.url).href;
    // Started, never stopped, with a decision pending: the process must still exit.
    const script = `
      import { unlinkSync } from 'node:fs';
      import { DeviceDiscovery } from ${JSON.stringify(discovery)};
      import { createLogger } from ${JSON.stringify(logging)};
      const { logger } = createLogger({ level: 'silent', format: 'json', environment: 'production' });
      const d = new DeviceDiscovery({ deviceDir: ${JSON.stringify(dir)}, pollIntervalMs: 50, debounceMs: 5000, log: logger });
      d.on('added', (node) => console.log('added', node));
      await d.start();
      // An unplug waits for the debounce: a decision is pending when the script ends.
      unlinkSync(${JSON.stringify(join(dir, 'video0'))});
      setTimeout(() => console.log('polled'), 200);
    `;
    const t0 = performance.now();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script],
      { timeout: TIMEOUT },
    );
    assert.equal(stdout, `added ${join(dir, 'video0')}\npolled\n`);
    assert.ok(performance.now() - t0 < TIMEOUT);
  });

  it('refuses intervals that make no sense, in a sentence', () => {
    const { log } = testLogger();
    assert.throws(
      () => new DeviceDiscovery({ deviceDir: '/dev', pollIntervalMs: 0, debounceMs: 10, log }),
      /^RangeError: The discovery polling interval must be a positive number of milliseconds, not 0\.$/,
    );
    assert.throws(
      () => new DeviceDiscovery({ deviceDir: '/dev', pollIntervalMs: 10, debounceMs: -1, log }),
      /^RangeError: The discovery debounce must be 0 or more milliseconds, not -1\.$/,
    );
  });
});
