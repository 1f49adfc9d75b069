/**
 * Which certificate files the certificate-expiry rules watch (the HTTPS port's and every `tls`
 * block of the channels), and reading when they expire: the first of a chain, read again when
 * the file is replaced.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CertificateExpiry, certificateUses } from '../../src/alerts/certificates.ts';
import type { ResolvedChannel } from '../../src/config/load.ts';
import { certificateDir, makeCa, selfSigned, skipWithoutOpenssl } from '../support/certs.ts';

test('the HTTPS port certificate and client CA, and the cert and ca of every tls block of the channels', () => {
  const channel = {
    config: { id: 'lab', statusCallback: { url: 'https://ehr.example.org/status', tls: { ca: '/certs/ehr-ca.pem' } } },
    sourceConfig: { port: 2575, tls: { cert: '/certs/listener.pem', key: '/certs/listener.key' } },
    destinations: [
      { config: { id: 'lis' }, senderConfig: { host: 'lis', port: 2575, tls: { ca: '/certs/lis-ca.pem', cert: '/certs/client.pem', key: '/certs/client.key' } } },
      { config: { id: 'archive' }, senderConfig: { directory: '/archive' } },
      { config: { id: 'ehr' }, senderConfig: { baseUrl: 'https://ehr.example.org', auth: { type: 'none' }, tls: { ca: '/certs/ehr-ca.pem' } } },
    ],
  } as unknown as ResolvedChannel;
  assert.deepEqual(certificateUses({ tlsCert: '/certs/https.pem', tlsClientCa: '/certs/clients-ca.pem' }, [channel]), [
    { file: '/certs/https.pem', use: '--tls-cert' },
    { file: '/certs/clients-ca.pem', use: '--tls-client-ca' },
    { file: '/certs/listener.pem', use: 'source.tls.cert', channel: 'lab' },
    { file: '/certs/client.pem', use: 'destinations[0].sender.tls.cert', channel: 'lab', destination: 'lis' },
    { file: '/certs/lis-ca.pem', use: 'destinations[0].sender.tls.ca', channel: 'lab', destination: 'lis' },
    { file: '/certs/ehr-ca.pem', use: 'destinations[2].sender.tls.ca', channel: 'lab', destination: 'ehr' },
    { file: '/certs/ehr-ca.pem', use: 'statusCallback.tls.ca', channel: 'lab' },
  ]);
  assert.deepEqual(certificateUses({}, []), []);
});

test('expiry: the first certificate of a chain to expire; a replaced file is read again, a missing one gives nothing', { skip: skipWithoutOpenssl }, (t) => {
  const certs = certificateDir();
  t.after(() => certs.remove());
  const ca = makeCa(certs.dir);
  const server = ca.server('lis.example.org');
  const chain = join(certs.dir, 'chain.pem');
  writeFileSync(chain, readFileSync(server.cert, 'utf8') + readFileSync(ca.cert, 'utf8'));
  const expiry = new CertificateExpiry();
  const validTo = (file: string) => Date.parse(new X509Certificate(readFileSync(file)).validTo);

  const first = expiry.read(chain)!;
  assert.equal(first.validTo, Math.min(validTo(server.cert), validTo(ca.cert)));
  assert.match(first.subject, /^CN=/);
  assert.ok(first.validFrom <= first.validTo);

  const other = selfSigned(certs.dir, 'replacement');
  writeFileSync(chain, `${readFileSync(other.cert, 'utf8')}\n`);
  assert.equal(expiry.read(chain)!.subject, 'CN=replacement');
  assert.equal(expiry.read(join(certs.dir, 'nowhere.pem')), undefined);
  writeFileSync(chain, 'not a certificate');
  assert.equal(expiry.read(chain), undefined);
});
