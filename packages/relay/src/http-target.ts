/**
 * Request targets and query strings, read without ever throwing. `new URL()` and
 * `decodeURIComponent()` throw on targets such as `//a:b`, `http://[::1/x` or `%zz`; here
 * such input gives null, which the listeners answer with 400. Queries are read as Go's
 * url.ParseQuery reads them, since MediaMTX's token rules depend on its errors. Pure.
 */

export interface Target {
  /** The path, percent-decoded (bytes that are not UTF-8 become U+FFFD). */
  path: string;
  /** The query as sent, without the `?`. */
  query: string;
}

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const ESCAPE = /%(?![0-9A-Fa-f]{2})/;

function isControlOrSpace(char: string): boolean {
  const code = char.charCodeAt(0);
  return code <= 0x20 || code === 0x7f;
}

/**
 * Splits an HTTP request target (origin-form `/path?query`, or absolute-form
 * `http://host/path?query`) into its decoded path and raw query; null when malformed.
 */
export function parseTarget(raw: string): Target | null {
  if (raw.length === 0 || [...raw].some(isControlOrSpace)) return null;
  let rawPath: string;
  let query: string;
  if (raw.startsWith('/')) {
    const mark = raw.indexOf('?');
    rawPath = mark < 0 ? raw : raw.slice(0, mark);
    query = mark < 0 ? '' : raw.slice(mark + 1);
  } else if (ABSOLUTE.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return null;
    }
    rawPath = url.pathname || '/';
    query = url.search.slice(1);
  } else {
    return null;
  }
  const path = unescape(rawPath, false);
  return path === null ? null : { path, query };
}

/** Percent-decoding as Go's url.PathUnescape/QueryUnescape: null on a bad escape. */
export function unescape(text: string, query: boolean): string | null {
  if (ESCAPE.test(text)) return null;
  // A run of escapes is one byte sequence: a character's UTF-8 bytes are always adjacent.
  return text.replace(/(?:%[0-9A-Fa-f]{2})+|\+/g, (run) =>
    run === '+' ? (query ? ' ' : '+') : Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'),
  );
}

/**
 * A query string as Go's url.ParseQuery reads it: `&`-separated pairs, `+` as space.
 * Null when Go reports an error (a bad escape, or a `;` separator); MediaMTX then takes
 * no token from the query.
 */
export function parseQuery(raw: string): Map<string, string[]> | null {
  const values = new Map<string, string[]>();
  let failed = false;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    if (pair.includes(';')) {
      failed = true;
      continue;
    }
    const eq = pair.indexOf('=');
    const key = unescape(eq < 0 ? pair : pair.slice(0, eq), true);
    const value = unescape(eq < 0 ? '' : pair.slice(eq + 1), true);
    if (key === null || value === null) {
      failed = true;
      continue;
    }
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  }
  return failed ? null : values;
}
