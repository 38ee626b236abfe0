/**
 * The path of an HTTP request target, read the way RFC 9112 (section 3.2) defines it and
 * without ever throwing: the input comes from anyone on the network.
 *
 * `new URL(target, base)` is the wrong tool here: it reads `//a:b` (a valid origin-form
 * target: an empty segment, then `a:b`) as a scheme-relative URL with host `a` and port
 * `b`, and throws. Origin-form targets are taken literally up to `?`; absolute-form ones
 * (`http://host/path`, sent to proxies) are parsed; `*` (OPTIONS) and anything else are
 * not paths.
 */

/** The raw (still percent-encoded) path of a request target, or null when it has none. */
export function targetPath(target: string | undefined): string | null {
  if (target === undefined || target.length === 0) return null;
  if (target.startsWith('/')) {
    const end = target.search(/[?#]/);
    return end < 0 ? target : target.slice(0, end);
  }
  if (/^https?:\/\//i.test(target)) {
    try {
      return new URL(target).pathname;
    } catch {
      return null;
    }
  }
  return null;
}

/** The raw query of a request target, without `?` ('' when there is none). */
export function targetQuery(target: string | undefined): string {
  if (target === undefined) return '';
  const start = target.indexOf('?');
  if (start < 0) return '';
  const end = target.indexOf('#', start);
  return end < 0 ? target.slice(start + 1) : target.slice(start + 1, end);
}

/** Percent-decodes once; null when the encoding is malformed (`%zz`, overlong UTF-8). */
export function decodeSegment(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
