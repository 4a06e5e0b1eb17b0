import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { CertFiles } from './certs.js';

export interface HttpsGetOptions {
  /** Trust only this CA. Without it the peer is not verified: only for a component's self-signed loopback health port. */
  caFile?: string;
  client?: CertFiles;
  timeoutMs?: number;
}

export interface HttpsResponse {
  status: number;
  body: string;
}

/** One GET over TLS with optional client cert; fetch() cannot present client certificates. */
export async function httpsGet(url: string, opts: HttpsGetOptions = {}): Promise<HttpsResponse> {
  const ca = opts.caFile ? await readFile(opts.caFile) : undefined;
  const cert = opts.client ? await readFile(opts.client.cert) : undefined;
  const key = opts.client ? await readFile(opts.client.key) : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', ca, cert, key, rejectUnauthorized: ca !== undefined, timeout: opts.timeoutMs ?? 5_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
