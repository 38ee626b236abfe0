/**
 * Who a request comes from. Directly connected clients are their socket's address and
 * the Host they used. Behind a reverse proxy every socket is the proxy's, so the address,
 * host and scheme come from `X-Forwarded-For`, `X-Forwarded-Host` and `X-Forwarded-Proto`,
 * but only when the socket's peer is one of `server.trusted_proxies`: from anyone else
 * those headers are ignored, so a client cannot pick the address its limits are kept under.
 *
 * The address is found as proxy-addr (Express's `trust proxy`) finds it: walk
 * X-Forwarded-For from the right, past every trusted hop; the first untrusted address is
 * the client.
 */
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

export interface ClientInfo {
  /** The client's IP address (IPv4-mapped IPv6 written as IPv4). */
  address: string;
  /** The host name it used to reach the service, when plain (see hostOf); else null. */
  host: string | null;
  /** Whether it reached the service over TLS (directly, or through a TLS-terminating proxy). */
  secure: boolean;
  /** Whether the address came through trusted proxies rather than from the socket. */
  proxied: boolean;
}

export class ClientResolver {
  #trust: (address: string, hop: number) => boolean = () => false;
  #proxies: readonly string[] = [];

  constructor(trustedProxies: readonly string[] = []) {
    this.setTrustedProxies(trustedProxies);
  }

  /** Replaces the trusted proxies (SIGHUP); the list is validated by the config schema. */
  setTrustedProxies(list: readonly string[]): void {
    this.#proxies = [...list];
    this.#trust = list.length === 0 ? () => false : proxyaddr.compile([...list]);
  }

  get trustedProxies(): readonly string[] {
    return this.#proxies;
  }

  /** The client's address only (for limits, throttles and audit lines). */
  address(req: IncomingMessage): string {
    return this.resolve(req).address;
  }

  /**
   * The origin the client reached the service at (`https://box.local:8002`), from its Host
   * header (or a trusted proxy's X-Forwarded-Host and -Proto): what a browser's Origin
   * header says for a page of this service. Null without a usable Host.
   */
  ownOrigin(req: IncomingMessage): string | null {
    const { secure } = this.resolve(req);
    const peer = normalize(req.socket.remoteAddress ?? 'unknown');
    const trusted = this.#proxies.length > 0 && !!req.socket.remoteAddress && this.#trust(peer, 0);
    const authority = (trusted && lastValue(req.headers['x-forwarded-host'])) || req.headers.host;
    if (!authority || !/^[A-Za-z0-9.\-[\]:]+$/.test(authority)) return null;
    return `${secure ? 'https' : 'http'}://${authority.toLowerCase()}`;
  }

  resolve(req: IncomingMessage): ClientInfo {
    const peer = normalize(req.socket.remoteAddress ?? 'unknown');
    const direct = {
      address: peer,
      host: hostOf(req.headers.host),
      secure: isTlsSocket(req),
      proxied: false,
    };
    if (this.#proxies.length === 0 || !req.socket.remoteAddress || !this.#trust(peer, 0)) {
      return direct;
    }
    let address: string;
    try {
      address = normalize(proxyaddr(req, this.#trust));
    } catch {
      return direct;
    }
    const forwardedHost = lastValue(req.headers['x-forwarded-host']);
    const forwardedProto = lastValue(req.headers['x-forwarded-proto'])?.toLowerCase();
    return {
      address,
      host: forwardedHost !== undefined ? hostOf(forwardedHost) : direct.host,
      secure: forwardedProto !== undefined ? forwardedProto === 'https' : direct.secure,
      proxied: address !== peer,
    };
  }
}

/** The last value of a header a proxy appends to (`a, b` → `b`: the nearest proxy's word). */
function lastValue(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header[header.length - 1] : header;
  if (text === undefined) return undefined;
  const parts = text.split(',');
  const last = parts[parts.length - 1]?.trim();
  return last ? last : undefined;
}

function isTlsSocket(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`, so one client has one address whatever the socket family. */
function normalize(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The host part of a Host header ("box.local:8002" → "box.local", "[fe80::1]:8002" →
 * "fe80::1"), or null when it is absent or not a plain host name or address: it ends up
 * in URLs given back to the client, so nothing else gets through.
 */
export function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::[0-9]{1,5})?$/.exec(header.trim());
  if (!match) return null;
  return match[1] ?? match[2] ?? null;
}
