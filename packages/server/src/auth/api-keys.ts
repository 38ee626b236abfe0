/**
 * API keys: random 256-bit secrets shown once; the file keeps only an HMAC-SHA256 of each
 * (keyed with a random key of the file's own). For random secrets a fast keyed hash is as
 * strong as a slow password hash, and verifying costs microseconds. The file is written
 * atomically with mode 0600. The CLI edits it while the daemon runs, so before answering
 * the daemon compares the file's identity (inode, size, modification time: one stat) with
 * the one it read, and re-reads a changed file: a key created or revoked is in force when
 * `camera-service keys` returns, not when a file watcher gets round to it.
 *
 * A key reads `csk_<id>_<secret>`: the id finds the record without scanning.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../logging/index.js';
import { ROLES, type Role } from '../rpc/index.js';
import { writeFileAtomic } from './atomic-file.js';

const KEY_PATTERN = /^csk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

const recordSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{8}$/),
  name: z.string().min(1),
  role: z.enum(ROLES),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});
const fileSchema = z.object({
  version: z.literal(1),
  hmac_key: z.string().min(32),
  keys: z.array(recordSchema),
});

export type ApiKeyRecord = z.infer<typeof recordSchema>;
export type ApiKeyInfo = Omit<ApiKeyRecord, 'hash'>;
type KeysFile = z.infer<typeof fileSchema>;

export type KeyCheck =
  { ok: true; record: ApiKeyRecord } | { ok: false; reason: 'invalid_token' | 'api_key_revoked' };

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith('csk_');
}

export class ApiKeyStore extends EventEmitter<{ reload: []; invalid: [Error] }> {
  readonly file: string;
  readonly #log: Logger | undefined;
  #data: KeysFile | null = null;
  #byId = new Map<string, ApiKeyRecord>();
  /** The identity of the file as last read (or found unreadable); null before the first read. */
  #stamp: string | null = null;
  #watcher: FSWatcher | undefined;
  #reloadTimer: NodeJS.Timeout | undefined;

  constructor(options: { file: string; log?: Logger }) {
    super();
    this.file = resolve(options.file);
    this.#log = options.log;
  }

  /** Reads the file (a missing file is an empty store); throws with a clear message when it is corrupt. */
  load(): void {
    // Stat first: a file replaced between the stat and the read is read again next time.
    const stamp = this.#identity();
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.#set(null, stamp);
      return;
    }
    let parsed: KeysFile;
    try {
      parsed = fileSchema.parse(JSON.parse(text));
    } catch {
      throw new InvalidKeysFile(this.file, stamp);
    }
    this.#set(parsed, stamp);
  }

  /** Creates a key and returns it: the only time the secret exists outside its holder. */
  create(options: { name: string; role: Role; now?: Date }): { key: string; info: ApiKeyInfo } {
    this.load();
    const data = this.#data ?? {
      version: 1 as const,
      hmac_key: randomBytes(32).toString('base64'),
      keys: [],
    };
    if (data.keys.some((k) => k.name === options.name && k.revoked_at === null)) {
      throw new Error(
        `An active key named "${options.name}" exists; revoke it or choose another name.`,
      );
    }
    let id: string;
    do id = randomBytes(4).toString('hex');
    while (data.keys.some((k) => k.id === id));
    const secret = randomBytes(32).toString('base64url');
    const record: ApiKeyRecord = {
      id,
      name: options.name,
      role: options.role,
      hash: hmac(data.hmac_key, secret),
      created_at: (options.now ?? new Date()).toISOString(),
      revoked_at: null,
    };
    this.#write({ ...data, keys: [...data.keys, record] });
    return { key: `csk_${id}_${secret}`, info: withoutHash(record) };
  }

  list(): ApiKeyInfo[] {
    return (this.#data?.keys ?? []).map(withoutHash);
  }

  /** Revokes by id or by name (active keys); returns what was revoked, or null. */
  revoke(idOrName: string, now = new Date()): ApiKeyInfo | null {
    this.load();
    const data = this.#data;
    const target = data?.keys.find(
      (k) => k.revoked_at === null && (k.id === idOrName || k.name === idOrName),
    );
    if (!data || !target) return null;
    const revoked = { ...target, revoked_at: now.toISOString() };
    this.#write({ ...data, keys: data.keys.map((k) => (k === target ? revoked : k)) });
    return withoutHash(revoked);
  }

  verify(key: string): KeyCheck {
    this.#refresh();
    const match = KEY_PATTERN.exec(key);
    const record = match ? this.#byId.get(match[1] as string) : undefined;
    if (!match || !record || !this.#data) return { ok: false, reason: 'invalid_token' };
    const expected = Buffer.from(record.hash, 'hex');
    const actual = Buffer.from(hmac(this.#data.hmac_key, match[2] as string), 'hex');
    if (!timingSafeEqual(expected, actual)) return { ok: false, reason: 'invalid_token' };
    if (record.revoked_at !== null) return { ok: false, reason: 'api_key_revoked' };
    return { ok: true, record };
  }

  /** Whether a key is still usable (a session bound to it checks on every call). */
  isActive(id: string): boolean {
    this.#refresh();
    const record = this.#byId.get(id);
    return record !== undefined && record.revoked_at === null;
  }

  /** Re-reads the file whenever it is replaced or changed. */
  watch(): void {
    if (this.#watcher) return;
    const dir = dirname(this.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const name = basename(this.file);
    this.#watcher = watch(dir, (_event, filename) => {
      if (filename !== name) return;
      clearTimeout(this.#reloadTimer);
      this.#reloadTimer = setTimeout(() => this.#refresh(), 20);
    });
    this.#watcher.on('error', (error) =>
      this.#log?.error({ err: error }, 'API keys file watch failed'),
    );
  }

  close(): void {
    clearTimeout(this.#reloadTimer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** Re-reads the file if it changed since it was read; a bad file keeps the keys held. */
  #refresh(): void {
    if (this.#stamp === null) return; // never loaded: nothing to keep fresh
    let stamp: string;
    try {
      stamp = this.#identity();
    } catch {
      return; // the directory went unreadable: keep the keys held, as for a bad file
    }
    if (stamp === this.#stamp) return;
    try {
      this.load();
      this.#log?.info({ keys: this.#byId.size, file: this.file }, 'API keys reloaded');
      this.emit('reload');
    } catch (error) {
      // Not read again until it changes once more, so a bad file is logged once.
      this.#stamp = error instanceof InvalidKeysFile ? error.stamp : stamp;
      this.#log?.error(
        { err: (error as Error).message },
        'API keys file unreadable; keeping the keys loaded before',
      );
      this.emit('invalid', error as Error);
    }
  }

  /** What changes whenever the file is replaced (a new inode) or written in place. */
  #identity(): string {
    const s = statSync(this.file, { bigint: true, throwIfNoEntry: false });
    return s ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}` : 'absent';
  }

  #write(data: KeysFile): void {
    writeFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`, 0o600);
    this.#set(data, this.#identity());
  }

  #set(data: KeysFile | null, stamp: string): void {
    this.#data = data;
    this.#stamp = stamp;
    this.#byId = new Map((data?.keys ?? []).map((k) => [k.id, k]));
  }
}

class InvalidKeysFile extends Error {
  constructor(
    file: string,
    /** The identity of the file found invalid. */
    readonly stamp: string,
  ) {
    super(
      `The API keys file ${file} is not valid; restore it from a backup or move it away to start with no keys.`,
    );
  }
}

function hmac(key: string, secret: string): string {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(secret).digest('hex');
}

function withoutHash(record: ApiKeyRecord): ApiKeyInfo {
  const { hash: _hash, ...info } = record;
  return info;
}
