import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/logging/index.js';
import { duplicateKeys } from '../helpers/json-keys.js';

/** A destination keeping every line written, raw. */
function capture(): { stream: Writable & { write(text: string): boolean }; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  return { stream, lines };
}

function jsonLogger() {
  const out = capture();
  const { logger } = createLogger({
    level: 'info',
    format: 'json',
    environment: 'production',
    destination: out.stream,
  });
  return { logger, lines: out.lines };
}

describe('logging', () => {
  it('finds duplicate keys in raw JSON, at any depth, and none where there are none', () => {
    assert.deepEqual(duplicateKeys('{"a":1,"b":"a","a":2}'), ['a']);
    assert.deepEqual(duplicateKeys('{"a":{"x":1,"x":[{"y":"\\"x\\"","y":0}]},"b":[1,"a"]}'), [
      'x',
      'y',
    ]);
    assert.deepEqual(duplicateKeys('{"a":{"a":1},"b":[{"a":1},{"a":2}],"c":"{\\"c\\":1}"}'), []);
  });

  it('nests a component under a component as its subcomponent, each key once', () => {
    const { logger, lines } = jsonLogger();
    const cameras = logger.child({ component: 'cameras' });
    const discovery = cameras.child({ component: 'discovery' });
    discovery.info('one');
    discovery.child({ component: 'probe', device: '/dev/video0' }).info('two');
    cameras.info('three');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      records.map((r) => [r.component, r.subcomponent, r.msg]),
      [
        ['cameras', 'discovery', 'one'],
        ['cameras', 'discovery.probe', 'two'],
        ['cameras', undefined, 'three'],
      ],
    );
    assert.equal(records[1]?.device, '/dev/video0');
    for (const line of lines) assert.deepEqual(duplicateKeys(line), [], line);
  });

  it('binds a key bound again once, with the value of the child', () => {
    const { logger, lines } = jsonLogger();
    const session = logger.child({ component: 'rpc', session: 's1', remote: '10.0.0.1' });
    const call = session.child({ session: 's2', method: 'ping' });
    call.info('call');
    call.child({ method: 'get_status' }).warn('nested');
    session.info('session');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      records.map((r) => [r.component, r.session, r.method, r.remote]),
      [
        ['rpc', 's2', 'ping', '10.0.0.1'],
        ['rpc', 's2', 'get_status', '10.0.0.1'],
        ['rpc', 's1', undefined, '10.0.0.1'],
      ],
    );
    for (const line of lines) assert.deepEqual(duplicateKeys(line), [], line);
  });

  it('keeps setLevel reaching children made anew from the root', () => {
    const out = capture();
    const control = createLogger({
      level: 'info',
      format: 'json',
      environment: 'production',
      destination: out.stream,
    });
    const child = control.logger.child({ component: 'a' }).child({ component: 'b' });
    const again = child.child({ subcomponent: 'c' });
    control.setLevel('debug');
    again.debug('visible');
    assert.equal(out.lines.length, 1);
  });

  it('writes colour codes in the pretty format only to a terminal', () => {
    for (const isTerminal of [false, true]) {
      const out = capture();
      const { logger } = createLogger({
        level: 'info',
        format: 'pretty',
        environment: 'development',
        destination: out.stream,
        isTerminal,
      });
      logger.child({ component: 'cameras' }).warn({ device: '/dev/video0' }, 'a line');
      const text = out.lines.join('\n');
      assert.match(text, /a line/);
      // eslint-disable-next-line no-control-regex
      assert.equal(/\x1b\[/.test(text), isTerminal, text);
    }
  });
});
