/**
 * The RTSP Transport header (RFC 2326 §12.39): a comma-separated list of specs such as
 * `RTP/AVP/TCP;unicast;interleaved=0-1;mode=record`. Pure.
 */

export interface TransportSpec {
  /** `RTP/AVP`, `RTP/AVP/TCP`, `RTP/SAVP`... as sent. */
  protocol: string;
  lowerTransport: 'UDP' | 'TCP';
  unicast: boolean;
  interleaved: [number, number] | null;
  clientPort: [number, number] | null;
  mode: string | null;
}

function pair(value: string | undefined): [number, number] | null {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value ?? '');
  if (!match) return null;
  const first = Number(match[1]);
  const second = match[2] === undefined ? first + 1 : Number(match[2]);
  return first <= 65535 && second <= 65535 ? [first, second] : null;
}

export function parseTransport(header: string): TransportSpec[] {
  return header
    .split(',')
    .map((spec) => spec.trim())
    .filter((spec) => spec.length > 0)
    .map((spec) => {
      const [protocol = '', ...params] = spec.split(';').map((p) => p.trim());
      const values = new Map<string, string | undefined>();
      for (const param of params) {
        const eq = param.indexOf('=');
        if (eq < 0) values.set(param.toLowerCase(), undefined);
        else
          values.set(param.slice(0, eq).toLowerCase(), param.slice(eq + 1).replace(/^"|"$/g, ''));
      }
      const upper = protocol.toUpperCase();
      return {
        protocol,
        lowerTransport: upper.endsWith('/TCP') ? ('TCP' as const) : ('UDP' as const),
        unicast: !values.has('multicast'),
        interleaved: pair(values.get('interleaved')),
        clientPort: pair(values.get('client_port')),
        mode: values.get('mode')?.toLowerCase() ?? null,
      };
    });
}

/** The first spec the relay can serve: RTP over the RTSP connection (TCP interleaved). */
export function pickInterleaved(specs: readonly TransportSpec[]): TransportSpec | undefined {
  return specs.find(
    (s) => s.protocol.toUpperCase().startsWith('RTP/AVP') && s.lowerTransport === 'TCP',
  );
}
