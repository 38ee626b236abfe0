/**
 * `camera-service backup` and `restore`: what a box needs to come back as it was, in one
 * tar.gz with a manifest: the configuration file, the API keys file, the JWT secret the
 * service generated (when it did not come from the configuration), the retention policy
 * set over the API, the recording journals, and with --with-media the recordings and
 * snapshots. The manifest lists every file with its size, mode and sha256; restore
 * refuses an archive whose files do not match it, writes each file atomically (temporary
 * file, fsync, rename) with its mode (the secret and the keys always 0600), and refuses
 * to overwrite a state that is not empty unless --force.
 *
 * The archive is made and read with the system's tar (GNU tar: it refuses members with
 * `..` and strips leading slashes); restore also refuses anything but regular files and
 * directories in it, so nothing it holds can point outside the directories it restores to.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { devSecretPath } from '../auth/index.js';
import { loadConfig, type Config } from '../config/index.js';
import { VERSION } from '../version.js';

export const MANIFEST = 'manifest.json';
export const FORMAT = 'camera-service-backup/1';

/** What a file in the archive is, which says where it goes back to. */
export type EntryKind = 'config' | 'api_keys' | 'jwt_secret' | 'retention' | 'journal' | 'media';

export interface ManifestEntry {
  /** Path inside the archive (under `files/`). */
  path: string;
  kind: EntryKind;
  size: number;
  mode: number;
  sha256: string;
}

export interface Manifest {
  format: typeof FORMAT;
  version: string;
  created_at: string;
  with_media: boolean;
  contents: EntryKind[];
  files: ManifestEntry[];
  /** Media files left out because a recording was writing them (its journal lists them). */
  skipped: string[];
  /** Said when the JWT secret is not in the archive, and what to keep instead. */
  notes: string[];
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Refused archive or state: the message says what to do. */
export class BackupError extends Error {}

const SECRET_MODE = 0o600;

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => null)) !== null;
}

async function regularFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Where each kind of file lives for a configuration (and the file it was read from). */
function places(config: Config, configFile: string | null) {
  const recordings = resolve(config.storage.recordings_dir);
  // auth.jwt_secret_file (the Debian package's /etc/camera-service/jwt-secret) when set;
  // else the secret generated into the state directory.
  const secretFile = config.auth.jwt_secret_file ?? null;
  return {
    config: configFile,
    state: resolve(config.service.state_dir),
    api_keys: resolve(config.auth.api_keys_file),
    jwt_secret:
      config.auth.jwt_secret !== null
        ? null
        : secretFile !== null
          ? resolve(secretFile)
          : devSecretPath(config),
    retention: resolve(config.service.state_dir, 'retention.json'),
    journals: join(recordings, '.sessions'),
    recordings,
    snapshots: resolve(config.storage.snapshots_dir),
  };
}

function tar(args: string[], what: string): string {
  const result = spawnSync('tar', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new BackupError(`${what}: tar could not run (${result.error.message}).`);
  if (result.status !== 0)
    throw new BackupError(`${what}: ${result.stderr.trim() || 'tar failed'}.`);
  return result.stdout;
}

export interface BackupOptions {
  out: string;
  withMedia?: boolean;
}

/** Writes the archive; returns its manifest. */
export async function createBackup(
  loaded: { config: Config; file: string | null },
  options: BackupOptions,
  io: Io,
): Promise<Manifest> {
  const where = places(loaded.config, loaded.file);
  const out = resolve(options.out);
  await mkdir(dirname(out), { recursive: true });
  const staging = await mkdtemp(join(dirname(out), '.camera-service-backup-'));
  const files: ManifestEntry[] = [];
  const notes: string[] = [];
  const skipped: string[] = [];
  try {
    /** Small files are copied (a consistent copy to hash and pack); media is linked. */
    const add = async (source: string, path: string, kind: EntryKind, copy: boolean) => {
      const info = await stat(source);
      const target = join(staging, 'files', path);
      await mkdir(dirname(target), { recursive: true });
      if (copy) await copyFile(source, target);
      else await symlink(source, target);
      files.push({
        path: `files/${path}`,
        kind,
        size: copy ? (await stat(target)).size : info.size,
        mode: info.mode & 0o777,
        sha256: await sha256(copy ? target : source),
      });
    };
    if (where.config && (await exists(where.config)))
      await add(where.config, 'config/config.yml', 'config', true);
    if (await exists(where.api_keys))
      await add(where.api_keys, 'auth/api-keys.json', 'api_keys', true);
    if (where.jwt_secret && (await exists(where.jwt_secret))) {
      await add(where.jwt_secret, 'auth/jwt-secret', 'jwt_secret', true);
    } else if (loaded.config.auth.jwt_secret !== null) {
      notes.push(
        loaded.file && (await readFile(loaded.file, 'utf8')).includes('jwt_secret')
          ? 'The JWT secret is in the configuration file, which is in this archive.'
          : "The JWT secret comes from the environment (CAMERA_SERVICE_AUTH_JWT_SECRET): keep the file that sets it (e.g. the unit's EnvironmentFile) with this backup, or tokens minted before it will not verify.",
      );
    }
    if (await exists(where.retention))
      await add(where.retention, 'state/retention.json', 'retention', true);
    const inProgress = new Set<string>();
    for (const journal of await regularFiles(where.journals)) {
      if (!journal.endsWith('.json')) continue;
      await add(journal, `journals/${basename(journal)}`, 'journal', true);
      try {
        const parsed = JSON.parse(await readFile(journal, 'utf8')) as { files?: unknown };
        if (Array.isArray(parsed.files)) for (const f of parsed.files) inProgress.add(String(f));
      } catch {
        // A journal being rewritten: its files are still skipped by name below if listed.
      }
    }
    if (options.withMedia) {
      for (const [kind, dir] of [
        ['recordings', where.recordings],
        ['snapshots', where.snapshots],
      ] as const) {
        for (const file of await regularFiles(dir)) {
          const rel = relative(dir, file);
          if (rel.split(sep)[0] === '.sessions' || basename(rel).startsWith('.')) continue;
          if (kind === 'recordings' && inProgress.has(rel)) {
            skipped.push(`${kind}/${rel}`);
            continue;
          }
          await add(file, `media/${kind}/${rel}`, 'media', false);
        }
      }
      if (skipped.length > 0)
        notes.push(`${skipped.length} file(s) of recordings in progress were left out.`);
    }
    const manifest: Manifest = {
      format: FORMAT,
      version: VERSION,
      created_at: new Date().toISOString(),
      with_media: options.withMedia === true,
      contents: [...new Set(files.map((f) => f.kind))],
      files,
      skipped,
      notes,
    };
    await writeFile(join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    const partial = `${out}.partial`;
    // -h: the media links are packed as the files they point to.
    tar(['-czhf', partial, '-C', staging, MANIFEST, 'files'], 'Writing the backup');
    await chmod(partial, SECRET_MODE);
    await rename(partial, out);
    io.err(
      `backup written to ${out}: ${files.length} file(s) (${manifest.contents.join(', ') || 'nothing'})\n`,
    );
    for (const note of notes) io.err(`note: ${note}\n`);
    return manifest;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Reads and checks the manifest and every file against it; returns the extracted tree. */
async function extractVerified(archive: string): Promise<{ dir: string; manifest: Manifest }> {
  const listing = tar(['-tvzf', archive], `${archive} is not a readable backup`);
  for (const line of listing.split('\n').filter(Boolean)) {
    if (!/^[-d]/.test(line))
      throw new BackupError(
        `${archive} holds something other than files and directories (${line.split(/\s+/).slice(5).join(' ')}): refused.`,
      );
  }
  const dir = await mkdtemp(join(tmpdir(), 'camera-service-restore-'));
  try {
    tar(
      ['-xzf', archive, '-C', dir, '--no-same-owner', '--no-same-permissions'],
      `${archive} could not be unpacked`,
    );
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
    } catch {
      throw new BackupError(
        `${archive} has no readable ${MANIFEST}: it is not a camera-service backup.`,
      );
    }
    if (manifest.format !== FORMAT || !Array.isArray(manifest.files))
      throw new BackupError(
        `${archive} is not a ${FORMAT} archive (format ${String(manifest.format)}).`,
      );
    const listed = new Set<string>();
    for (const entry of manifest.files) {
      const path = join(dir, entry.path);
      if (!entry.path.startsWith('files/') || relative(dir, path).startsWith('..'))
        throw new BackupError(
          `${archive}: the manifest names ${entry.path}, outside the archive: refused.`,
        );
      listed.add(path);
      const info = await stat(path).catch(() => null);
      if (!info?.isFile())
        throw new BackupError(
          `${archive} is corrupt: ${entry.path} is in the manifest but not in the archive.`,
        );
      if (info.size !== entry.size || (await sha256(path)) !== entry.sha256)
        throw new BackupError(
          `${archive} is corrupt: ${entry.path} does not match its sha256 in the manifest. Use another backup.`,
        );
    }
    for (const file of await regularFiles(join(dir, 'files')))
      if (!listed.has(file))
        throw new BackupError(
          `${archive} is corrupt: ${relative(dir, file)} is not in the manifest.`,
        );
    return { dir, manifest };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Copies `source` over `target` atomically with `mode`, owned as `owner` when root. */
async function placeFile(
  source: string,
  target: string,
  mode: number,
  owner: { uid: number; gid: number } | null,
): Promise<void> {
  await mkdir(dirname(target), { recursive: true, mode: 0o750 });
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.restore.tmp`);
  await copyFile(source, tmp);
  await chmod(tmp, mode);
  if (owner) await chown(tmp, owner.uid, owner.gid);
  const handle = await open(tmp, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, target);
}

/**
 * The owner a restored file gets (as root only): the file it replaces; else, for the
 * service's own files, the owner of its state directory (the service user, so that a
 * secret restored into /etc is still readable by it); else its nearest directory's.
 */
async function ownerFor(
  target: string,
  stateDir: string | null,
): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const replaced = await stat(target).catch(() => null);
  if (replaced) return { uid: replaced.uid, gid: replaced.gid };
  const state = stateDir ? await stat(stateDir).catch(() => null) : null;
  if (state) return { uid: state.uid, gid: state.gid };
  for (let dir = dirname(target); dir !== dirname(dir); dir = dirname(dir)) {
    const info = await stat(dir).catch(() => null);
    if (info) return { uid: info.uid, gid: info.gid };
  }
  return null;
}

export interface RestoreOptions {
  /** The configuration file to restore to (--config), or null for the one in the archive's manifest paths. */
  configFile: string | null;
  force?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Restores an archive; returns what it wrote. */
export async function restoreBackup(
  archive: string,
  options: RestoreOptions,
  io: Io,
): Promise<string[]> {
  const { dir, manifest } = await extractVerified(resolve(archive));
  try {
    const configEntry = manifest.files.find((f) => f.kind === 'config');
    if (configEntry && !options.configFile)
      throw new BackupError(
        "The backup holds a configuration file: give --config FILE, where it goes (the service's own, e.g. /etc/camera-service/config.yml).",
      );
    // Destinations come from the configuration being restored (with this environment's
    // overrides, as the service will read it), else from the one in place.
    const loaded = loadConfig({
      file: configEntry ? join(dir, configEntry.path) : options.configFile,
      ...(options.env && { env: options.env }),
    });
    const where = places(loaded.config, options.configFile ? resolve(options.configFile) : null);
    const targets = manifest.files.map((entry) => ({ entry, target: targetOf(entry, where) }));
    const occupied: string[] = [];
    for (const { entry, target } of targets)
      if (entry.kind !== 'config' && (await exists(target))) occupied.push(target);
    if (occupied.length > 0 && !options.force)
      throw new BackupError(
        `The state is not empty (${occupied.slice(0, 3).join(', ')}${occupied.length > 3 ? `, and ${occupied.length - 3} more` : ''} exist): stop the service and run again with --force to overwrite it.`,
      );
    const written: string[] = [];
    for (const { entry, target } of targets) {
      const secret = entry.kind === 'jwt_secret' || entry.kind === 'api_keys';
      const mode = secret ? SECRET_MODE : entry.mode & 0o777;
      const owner = await ownerFor(target, entry.kind === 'config' ? null : where.state);
      await placeFile(join(dir, entry.path), target, mode, owner);
      written.push(target);
    }
    io.err(
      `restored ${written.length} file(s) from ${archive} (made ${manifest.created_at} by camera-service ${manifest.version})\n`,
    );
    for (const note of manifest.notes) io.err(`note: ${note}\n`);
    return written;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function targetOf(entry: ManifestEntry, where: ReturnType<typeof places>): string {
  const rest = entry.path.split('/').slice(2).join('/');
  switch (entry.kind) {
    case 'config':
      return where.config!;
    case 'api_keys':
      return where.api_keys;
    case 'jwt_secret':
      if (!where.jwt_secret)
        throw new BackupError(
          'The backup holds a JWT secret file, but the configuration sets auth.jwt_secret itself: remove that key (or restore the configuration from the backup).',
        );
      return where.jwt_secret;
    case 'retention':
      return where.retention;
    case 'journal':
      return join(where.journals, basename(rest));
    case 'media': {
      const [kind, ...path] = rest.split('/');
      const base = kind === 'recordings' ? where.recordings : where.snapshots;
      const target = join(base, ...path);
      if (relative(base, target).startsWith('..'))
        throw new BackupError(`${entry.path}: refused (outside ${base}).`);
      return target;
    }
    default:
      throw new BackupError(
        `The manifest names a file of unknown kind ${String(entry.kind)}: refused.`,
      );
  }
}
