/**
 * The HTTP destination's `tls` block against HTTPS partner APIs on loopback: a CA of its own, a
 * client certificate the partner requires, and HTTP_TLS_FAILED with the reason when the
 * handshake fails.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../../src/log.ts';
import { REQUEST_PLAN_CONTENT_TYPE } from '../../../src/protocols/http/request-plan.ts';
import { HttpSender, httpDestinationConfig } from '../../../src/senders/http/destination/index.ts';
import type { OutboundMessage, SendOutcome } from '../../../src/senders/types.ts';
import { type HttpPeer, startHttpPeer } from '../../peers/partners/http-peer.ts';
import { type CertFiles, certificateDir, makeCa, skipWithoutOpenssl, type TestCa } from '../../support/certs.ts';

const log = createLogger('silent');
const routes = [{ method: 'POST', pattern: '/api/results', handle: () => ({ status: 201, body: { id: 'R1' } }) }];
const PLAN: OutboundMessage = {
  messageId: 'm1',
  destinationId: 'partner',
  payload: JSON.stringify([{ step: 'result', method: 'POST', path: '/results', body: { ok: true } }]),
  contentType: REQUEST_PLAN_CONTENT_TYPE,
  controlId: 'C1',
  attempt: 1,
};

function send(peer: HttpPeer, tls?: Record<string, unknown>): Promise<SendOutcome> {
  const config = httpDestinationConfig.parse({ baseUrl: `${peer.url}/api`, timeoutMs: 5000, ...(tls ? { tls } : {}) });
  return new HttpSender(config, { log }).send(PLAN, new AbortController().signal);
}

describe('HTTP destination over HTTPS', { skip: skipWithoutOpenssl }, () => {
  const certs = certificateDir();
  let serverCa: TestCa;
  let client: CertFiles;
  let partner: HttpPeer;
  let mutual: HttpPeer;
  let plain: HttpPeer;

  before(async () => {
    serverCa = makeCa(certs.dir, 'Partner CA');
    const clientCa = makeCa(certs.dir, 'Conduit Clients CA');
    const server = serverCa.server('api.partner');
    client = clientCa.client('conduit');
    const tls = { cert: readFileSync(server.cert), key: readFileSync(server.key) };
    partner = await startHttpPeer(routes, { tls });
    mutual = await startHttpPeer(routes, { tls: { ...tls, requestCert: true, rejectUnauthorized: true, ca: readFileSync(clientCa.cert) } });
    plain = await startHttpPeer(routes);
  });
  after(async () => {
    await Promise.all([partner.close(), mutual.close(), plain.close()]);
    certs.remove();
  });

  test('delivers a request plan when the partner certificate verifies against tls.ca', async () => {
    const outcome = await send(partner, { ca: serverCa.cert });
    assert.equal(outcome.status, 'acknowledged', JSON.stringify(outcome));
    assert.equal(partner.requests.at(-1)?.path, '/api/results');
  });

  test('without the CA: HTTP_TLS_FAILED naming the request and the TLS reason; nothing reached the partner', async () => {
    const before = partner.requests.length;
    const outcome = await send(partner);
    assert.equal(outcome.status, 'retryable');
    assert.equal(outcome.status === 'retryable' && outcome.code, 'HTTP_TLS_FAILED');
    assert.match(outcome.detail ?? '', /^request 1\/1 \(result\) POST \/results: TLS with 127\.0\.0\.1:\d+ failed \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    assert.equal(partner.requests.length, before);
  });

  test('mutual TLS: the client certificate is presented; without it the partner refuses the handshake', async () => {
    const withCert = await send(mutual, { ca: serverCa.cert, cert: client.cert, key: client.key });
    assert.equal(withCert.status, 'acknowledged', JSON.stringify(withCert));
    assert.equal(mutual.requests.length, 1);
    const without = await send(mutual, { ca: serverCa.cert });
    assert.equal(without.status === 'retryable' && without.code, 'HTTP_TLS_FAILED', JSON.stringify(without));
    assert.match(without.detail ?? '', /ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\): the server requires a client certificate: set tls\.cert and tls\.key/);
    assert.equal(mutual.requests.length, 1, 'the partner processed nothing');
  });

  test('an https:// URL to a server that speaks plain HTTP: HTTP_TLS_FAILED saying so', async () => {
    const outcome = await send({ ...plain, url: plain.url.replace('http:', 'https:') }, { ca: serverCa.cert });
    assert.equal(outcome.status === 'retryable' && outcome.code, 'HTTP_TLS_FAILED', JSON.stringify(outcome));
    assert.match(outcome.detail ?? '', /does not speak TLS on this port/);
  });
});
