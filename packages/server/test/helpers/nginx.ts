/**
 * Debian's nginx as a foreground master under a scratch prefix: its own pid file, error
 * log, temp directories and the `http` block the caller gives, listening where that block
 * says (127.0.0.1 high ports). Used by the nginx site test (test/deploy/nginx.test.ts) and
 * by the files bench (bench/files-bench.ts) to compare downloads.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';

export interface Nginx {
  child: ChildProcess;
  version: string;
  /** The configuration file written. */
  conf: string;
  /** Everything nginx wrote on stderr (its error log). */
  stderr: () => string;
  stop: () => Promise<void>;
}

/** nginx's version line, or null when it is not installed. */
export function nginxVersion(): string | null {
  const result = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  return result.error ? null : result.stderr.trim();
}

/**
 * Starts nginx with `http` (the inside of the http block: servers, maps, upstreams) and
 * resolves once a TCP connection to `port` on 127.0.0.1 is accepted.
 */
export async function startNginx(dir: string, http: string, port: number): Promise<Nginx> {
  const version = nginxVersion();
  if (version === null) throw new Error('nginx is not installed (apt-get install nginx)');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      'daemon off;',
      // As root, workers would drop to nobody, who cannot read the scratch directory.
      ...(process.getuid?.() === 0 ? ['user root root;'] : []),
      'worker_processes 1;',
      'error_log stderr;',
      `pid ${join(dir, 'nginx.pid')};`,
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir};`,
      `  uwsgi_temp_path ${dir}; scgi_temp_path ${dir};`,
      http,
      '}',
      '',
    ].join('\n'),
  );
  const test = spawnSync('nginx', ['-t', '-p', dir, '-c', conf], { encoding: 'utf8' });
  if (test.status !== 0) throw new Error(`nginx refuses the configuration:\n${test.stderr}`);
  const child = spawn('nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGQUIT: nginx's graceful stop (the master ends its workers).
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  };
  const deadline = performance.now() + 5000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    if (performance.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`nginx did not start:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, version, conf, stderr: () => stderr, stop };
}

/** A GET on plain HTTP resolving with the status (for waiting on a server behind nginx). */
export function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}
