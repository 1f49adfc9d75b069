import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { MllpServer } from '../../../src/protocols/mllp/index.ts';
import { MllpSender, mllpDestinationConfig } from '../../../src/senders/mllp/index.ts';
import { selfSigned as makeCert, skipWithoutOpenssl } from '../../support/certs.ts';
import { ackFor, outbound } from './helpers.ts';

describe('MLLP over TLS', { skip: skipWithoutOpenssl }, () => {
  const log = pino({ level: 'silent' });
  let dir: string;
  let server: { cert: string; key: string };
  let client: { cert: string; key: string };
  const servers: MllpServer[] = [];
  const senders: MllpSender[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'conduit-mllp-tls-'));
    server = makeCert(dir, 'server');
    client = makeCert(dir, 'client');
  });
  after(async () => {
    await Promise.all(senders.map((s) => s.close()));
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function listen(mutual: boolean): Promise<number> {
    const s = new MllpServer();
    servers.push(s);
    await s.listen({
      host: '127.0.0.1',
      port: 0,
      maxFrameBytes: 1024 * 1024,
      tls: {
        cert: readFileSync(server.cert),
        key: readFileSync(server.key),
        ...(mutual ? { requestCert: true, rejectUnauthorized: true, ca: readFileSync(client.cert) } : {}),
      },
      handler: async (f) => ackFor(f, 'AA'),
    });
    return s.address().port;
  }

  function sender(port: number, tls: Record<string, unknown>): MllpSender {
    const s = new MllpSender(mllpDestinationConfig.parse({ host: '127.0.0.1', port, connectTimeoutMs: 2000, tls }), { log });
    senders.push(s);
    return s;
  }

  it('delivers when the peer certificate verifies against the configured CA', async () => {
    const port = await listen(false);
    const outcome = await sender(port, { ca: server.cert }).send(outbound('T-1'), new AbortController().signal);
    assert.equal(outcome.status, 'acknowledged', JSON.stringify(outcome));
  });

  it('refuses a certificate it cannot verify: MLLP_CONNECT_FAILED', async () => {
    const port = await listen(false);
    const outcome = await sender(port, {}).send(outbound('T-2'), new AbortController().signal);
    assert.equal(outcome.status, 'retryable');
    assert.equal(outcome.status === 'retryable' && outcome.code, 'MLLP_CONNECT_FAILED');
    assert.match(outcome.status === 'retryable' ? outcome.detail : '', /SELF_SIGNED/);
  });

  it('presents a client certificate for mutual TLS', async () => {
    const port = await listen(true);
    const withCert = await sender(port, { ca: server.cert, cert: client.cert, key: client.key }).send(
      outbound('T-3'),
      new AbortController().signal,
    );
    assert.equal(withCert.status, 'acknowledged', JSON.stringify(withCert));
    const without = await sender(port, { ca: server.cert }).send(outbound('T-4'), new AbortController().signal);
    assert.equal(without.status, 'retryable', JSON.stringify(without));
  });
});
