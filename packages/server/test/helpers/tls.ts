/** A self-signed certificate made with openssl for one test run (for 127.0.0.1 and localhost). */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './files.js';

export function selfSignedCertificate(days = 1): { cert: string; key: string } {
  const dir = tempDir('camera-service-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', key, '-out', cert, '-days', String(days), '-subj', '/CN=127.0.0.1'],
      ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
