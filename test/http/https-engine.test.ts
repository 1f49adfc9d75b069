/**
 * The engine's HTTP port serving HTTPS (--tls-cert, --tls-key): a webhook delivered end to end
 * to a loopback MLLP LIS over it, the admin API and /health on the same port, TLS 1.2 as the
 * oldest protocol, and the URL it announces.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { type HttpsClient, httpsClient } from '../support/https-client.ts';
import { type CertFiles, certificateDir, makeCa, skipWithoutOpenssl, type TestCa } from '../support/certs.ts';
import { ADMIN_TOKEN, startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';

/** The protocol a handshake limited to `version` ends in, or the error code of the refusal. */
function handshake(port: number, ca: string, version: tls.SecureVersion): Promise<string> {
  return new Promise((resolve) => {
    // SECLEVEL=0: OpenSSL 3 clients refuse TLS 1.1 themselves otherwise; the server must be the one to refuse.
    const socket = tls.connect({ host: '127.0.0.1', port, ca: [readFileSync(ca)], servername: 'localhost', minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' });
    socket.once('secureConnect', () => {
      resolve(socket.getProtocol() ?? 'none');
      socket.destroy();
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('the HTTP port over HTTPS', { skip: skipWithoutOpenssl }, () => {
  const certs = certificateDir();
  let ca: TestCa;
  let server: CertFiles;
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  let client: HttpsClient;
  let url: string;

  before(async () => {
    ca = makeCa(certs.dir);
    server = ca.server('conduit');
    lis = await startSandboxLis();
    t = await startTestEngine({ 'to-lis.yaml': webhookToMllpChannel('to-lis', lis.mllpPort) }, { tlsCert: server.cert, tlsKey: server.key });
    client = httpsClient(ca.cert);
    url = `https://127.0.0.1:${t.engine.port}`;
  });
  after(async () => {
    await client.close();
    await t.stop();
    await lis.stop();
    certs.remove();
  });

  test('the start-up line announces an https:// URL', () => {
    const line = t.logs.map((l) => JSON.parse(l) as { msg: string; url?: string }).find((l) => l.msg === 'Conduit is listening');
    assert.equal(line?.url, `https://127.0.0.1:${t.engine.port}`);
  });

  test('a webhook over HTTPS is stored, delivered to the LIS over MLLP and acknowledged', async () => {
    const res = await client.fetch(`${url}/channels/to-lis`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(makeEvent('res_HTTPS_1')) });
    assert.equal(res.status, 201);
    const { messageId } = (await res.json()) as { messageId: string };
    await t.drained();
    const view = (await (await client.fetch(`${url}/api/messages/${messageId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as {
      deliveries: Array<{ status: string; controlId: string }>;
    };
    assert.equal(view.deliveries[0]?.status, 'acknowledged');
    const received = await sandboxMessages(lis);
    assert.ok(received.some((m) => m.includes(view.deliveries[0]!.controlId)), 'the LIS got the message');
  });

  test('/health answers on the same HTTPS port', async () => {
    const res = await client.fetch(`${url}/health`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'healthy');
  });

  test('plain HTTP to the port gets no answer', async () => {
    await assert.rejects(fetch(`http://127.0.0.1:${t.engine.port}/health`));
  });

  test('a client without the CA does not trust the port', async () => {
    await assert.rejects(fetch(`${url}/health`), (e: Error & { cause?: { code?: string } }) => e.cause?.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  test('TLS 1.1 is refused, TLS 1.2 and 1.3 are spoken', async () => {
    assert.equal(await handshake(t.engine.port, ca.cert, 'TLSv1.2'), 'TLSv1.2');
    assert.equal(await handshake(t.engine.port, ca.cert, 'TLSv1.3'), 'TLSv1.3');
    assert.equal(await handshake(t.engine.port, ca.cert, 'TLSv1.1'), 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
    // The same client does complete TLS 1.1 with a server that allows it: the refusal above is the engine's.
    const permissive = createServer({ cert: readFileSync(server.cert), key: readFileSync(server.key), minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' });
    await new Promise<void>((r) => permissive.listen(0, '127.0.0.1', r));
    try {
      assert.equal(await handshake((permissive.address() as AddressInfo).port, ca.cert, 'TLSv1.1'), 'TLSv1.1');
    } finally {
      permissive.close();
    }
  });
});
