/** Real ffmpeg/ffprobe around a relay started on a free port. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { OpenPaths, RtspServer, type Stream } from '../../src/index.js';

export interface TestRelay {
  paths: OpenPaths;
  url: (path: string) => string;
  stop(): Promise<void>;
}

export async function startRelay(
  options: { maxReaderBufferBytes?: number } = {},
): Promise<TestRelay> {
  const paths = new OpenPaths();
  const server = new RtspServer({ host: '127.0.0.1', port: 0, paths, ...options });
  const { port } = await server.start();
  return { paths, url: (path) => `rtsp://127.0.0.1:${port}/${path}`, stop: () => server.stop() };
}

/** A 320x240, 10 fps H.264 test pattern (one keyframe a second) pushed to `url`. */
export function publish(url: string, seconds = 30): ChildProcess {
  return spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=10',
      '-t',
      String(seconds),
      '-c:v',
      'libx264',
      '-profile:v',
      'baseline',
      '-level',
      '3.0',
      '-pix_fmt',
      'yuv420p',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-g',
      '10',
      '-f',
      'rtsp',
      '-rtsp_transport',
      'tcp',
      url,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

/** Resolves when the relay has a stream on `path` with its first keyframe cached. */
export async function waitForStream(
  paths: OpenPaths,
  path: string,
  timeoutMs = 10_000,
): Promise<Stream> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no keyframe on ${path} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const published = new Promise<Stream>((resolve) => {
    const existing = paths.streams.get(path);
    if (existing) return resolve(existing);
    const onPublished = (name: string, stream: Stream) => {
      if (name !== path) return;
      paths.off('published', onPublished);
      resolve(stream);
    };
    paths.on('published', onPublished);
  });
  try {
    const stream = await Promise.race([published, timeout]);
    await Promise.race([stream.firstKeyframe, timeout]);
    return stream;
  } finally {
    clearTimeout(timer);
  }
}

export async function run(
  command: string,
  args: string[],
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  // 'close', not 'exit': only then has everything the process wrote been read.
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout: Buffer.concat(out), stderr };
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
