/**
 * The FHIR destination's `tls` block against an HTTPS FHIR server on loopback: a CA of its own,
 * a client certificate the server requires, a token endpoint verified with the same CA, and the
 * specific error (HTTP_TLS_FAILED, the reason in the attempt's detail) when verification fails.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConduitError } from '../../../src/errors.ts';
import { type FhirServerPeer, startFhirServer } from '../../peers/fhir-server/index.ts';
import { startTokenServer, type TokenServer } from '../../peers/oauth/index.ts';
import { type CertFiles, certificateDir, makeCa, skipWithoutOpenssl, type TestCa } from '../../support/certs.ts';
import { assertOutcome, Cleanup, fhirSender, send } from './helpers.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

describe('FHIR destination over HTTPS', { skip: skipWithoutOpenssl }, () => {
  const certs = certificateDir();
  let serverCa: TestCa;
  let clientCa: TestCa;
  let client: CertFiles;
  let fhir: FhirServerPeer;
  let mutual: FhirServerPeer;
  let oauth: TokenServer;

  before(async () => {
    serverCa = makeCa(certs.dir, 'EHR CA');
    clientCa = makeCa(certs.dir, 'Partner Client CA');
    const server = serverCa.server('ehr');
    client = clientCa.client('conduit');
    const serverTls = { cert: readFileSync(server.cert), key: readFileSync(server.key) };
    fhir = cleanup.add(await startFhirServer({ tls: serverTls }));
    mutual = cleanup.add(await startFhirServer({ tls: { ...serverTls, requestCert: true, rejectUnauthorized: true, ca: readFileSync(clientCa.cert) } }));
    oauth = cleanup.add(await startTokenServer({ clients: [{ clientId: 'conduit-lab', clientSecret: 'a-secret-of-the-lab' }], tls: serverTls }));
  });
  after(() => certs.remove());

  it('delivers when the server certificate verifies against tls.ca', async () => {
    const before = fhir.requests.length;
    assertOutcome(await send(fhirSender(cleanup, { baseUrl: fhir.baseUrl, tls: { ca: serverCa.cert } })), 'acknowledged');
    assert.equal(fhir.requests.length, before + 1);
  });

  it('without the CA: HTTP_TLS_FAILED, the detail says the certificate is not trusted and what to set', async () => {
    const before = fhir.requests.length;
    const outcome = await send(fhirSender(cleanup, { baseUrl: fhir.baseUrl }));
    assertOutcome(outcome, 'retryable', 'HTTP_TLS_FAILED');
    assert.match(outcome.detail, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    assert.match(outcome.detail, /tls\.ca/);
    assert.equal(fhir.requests.length, before, 'nothing reached the server');
  });

  it('a CA that did not sign the server certificate is refused the same way', async () => {
    const outcome = await send(fhirSender(cleanup, { baseUrl: fhir.baseUrl, tls: { ca: clientCa.cert } }));
    assertOutcome(outcome, 'retryable', 'HTTP_TLS_FAILED');
    assert.match(outcome.detail, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
  });

  it('a certificate for another host name: HTTP_TLS_FAILED naming the mismatch', async () => {
    const outcome = await send(fhirSender(cleanup, { baseUrl: fhir.baseUrl, tls: { ca: serverCa.cert, servername: 'ehr.example.org' } }));
    assertOutcome(outcome, 'retryable', 'HTTP_TLS_FAILED');
    assert.match(outcome.detail, /ERR_TLS_CERT_ALTNAME_INVALID/);
    assert.match(outcome.detail, /ehr\.example\.org/);
  });

  it('presents tls.cert and tls.key to a server that requires a client certificate', async () => {
    const before = mutual.requests.length;
    assertOutcome(await send(fhirSender(cleanup, { baseUrl: mutual.baseUrl, tls: { ca: serverCa.cert, cert: client.cert, key: client.key } })), 'acknowledged');
    assert.equal(mutual.requests.length, before + 1);
  });

  it('without a client certificate that server refuses the handshake: HTTP_TLS_FAILED, and it processed nothing', async () => {
    const before = mutual.requests.length;
    const outcome = await send(fhirSender(cleanup, { baseUrl: mutual.baseUrl, tls: { ca: serverCa.cert } }));
    assertOutcome(outcome, 'retryable', 'HTTP_TLS_FAILED');
    assert.match(outcome.detail, /client certificate/);
    assert.equal(mutual.requests.length, before);
  });

  it('a client certificate from a CA the server does not trust gets nothing through (retried)', async () => {
    const before = mutual.requests.length;
    const stranger = serverCa.client('stranger');
    const outcome = await send(fhirSender(cleanup, { baseUrl: mutual.baseUrl, tls: { ca: serverCa.cert, cert: stranger.cert, key: stranger.key } }));
    // A Node server closes such a connection without a TLS alert, so the client cannot tell it
    // from a dropped connection (HTTP_CONNECTION_LOST); servers that send the alert give HTTP_TLS_FAILED.
    assertOutcome(outcome, 'retryable');
    assert.equal(mutual.requests.length, before);
  });

  it('the token endpoint on another host is verified with the same CA', async () => {
    fhir.requireBearer((token) => oauth.isValid(token));
    try {
      const auth = { type: 'oauth2-client-credentials', tokenUrl: oauth.tokenUrl, clientId: 'conduit-lab', clientSecret: 'a-secret-of-the-lab' };
      assertOutcome(await send(fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth, tls: { ca: serverCa.cert } })), 'acknowledged');
      assert.match(fhir.requests.at(-1)!.authorization ?? '', /^Bearer /);
      // Without the CA the token request itself fails, and says why.
      const without = await send(fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth }));
      assertOutcome(without, 'retryable', 'AUTH_TOKEN_UNAVAILABLE');
      assert.match(without.detail, /HTTP_TLS_FAILED/);
      assert.match(without.detail, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    } finally {
      fhir.requireBearer(undefined);
    }
  });

  it('a tls file that is not PEM is a configuration error naming the field and the file', () => {
    const notPem = join(certs.dir, 'not-a-cert.pem');
    writeFileSync(notPem, 'this is not a certificate\n');
    assert.throws(
      () => fhirSender(cleanup, { baseUrl: fhir.baseUrl, tls: { ca: notPem } }),
      (e: unknown) => e instanceof ConduitError && e.code === 'CONFIG_INVALID' && /^tls\.ca: /.test(e.message) && e.message.includes(notPem),
    );
    assert.throws(
      () => fhirSender(cleanup, { baseUrl: fhir.baseUrl, tls: { ca: serverCa.cert, cert: client.cert, key: serverCa.key } }),
      (e: unknown) => e instanceof ConduitError && /^tls\.key: .*the key does not match the certificate/.test(e.message),
    );
  });
});
