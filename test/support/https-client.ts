/**
 * HTTPS clients for tests: fetch (undici's, with a pool of its own) trusting a test CA and
 * presenting a client certificate, and the certificate a server presents to a bare TLS
 * connection.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { Agent, fetch, type RequestInit, type Response } from 'undici';
import type { CertFiles } from './certs.ts';

export interface HttpsClient {
  fetch(url: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** A client that trusts `ca` (PEM file) and, with `client`, presents that certificate. */
export function httpsClient(ca: string, client?: CertFiles): HttpsClient {
  const agent = new Agent({
    connect: { ca: [readFileSync(ca)], ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}) },
  });
  return { fetch: (url, init = {}) => fetch(url, { ...init, dispatcher: agent }), close: () => agent.close() };
}

/** The SHA-256 fingerprint of the certificate served on 127.0.0.1:`port` (a new connection, no session reused). */
export function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: [readFileSync(ca)], servername: 'localhost' }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}
