/**
 * Client-certificate authentication of webhook and REST sources (`clientCertificate`) on an
 * engine serving HTTPS with a client CA: no certificate or one that does not verify is 401,
 * a verified one with the wrong subject or fingerprint 403, each audited; the right one passes.
 * A channel asking for certificates on an engine without a client CA is a configuration error.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent } from '../../src/audit/event.ts';
import { loadConfiguration } from '../../src/config/load.ts';
import { ClientCertificateConfig } from '../../src/sources/client-certificate.ts';
import { auditEvent, watchAudit } from '../support/audit-events.ts';
import { type CertFiles, certificateDir, fingerprint256, makeCa, skipWithoutOpenssl, type TestCa } from '../support/certs.ts';
import { makeEvent } from '../support/events.ts';
import { type HttpsClient, httpsClient } from '../support/https-client.ts';
import { REPO, startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';
import { restToMllpChannel } from './rest/support.ts';

type Outcome = { resourceType: string; issue: Array<{ code: string; diagnostics: string }> };

describe('client certificates on webhook and REST sources', { skip: skipWithoutOpenssl }, () => {
  const certs = certificateDir();
  let serverCa: TestCa;
  let lab: CertFiles;
  let billing: CertFiles;
  let impostor: CertFiles;
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  let audit: AuditEvent[];
  const clients: HttpsClient[] = [];
  let url: string;

  /** A client trusting the engine's CA, presenting `cert` if given. */
  const as = (cert?: CertFiles) => {
    const c = httpsClient(serverCa.cert, cert);
    clients.push(c);
    return c;
  };
  const post = (client: HttpsClient, path: string, id: string) =>
    client.fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(makeEvent(id)) });

  before(async () => {
    serverCa = makeCa(certs.dir, 'Conduit Server CA');
    const clientCa = makeCa(certs.dir, 'Lab Clients CA');
    const server = serverCa.server('conduit');
    lab = clientCa.client('lab-platform');
    billing = clientCa.client('billing', { names: ['billing.example'] });
    // The right name, from a CA the engine does not trust for clients.
    impostor = serverCa.client('lab-platform', { file: 'impostor' });
    lis = await startSandboxLis();
    t = await startTestEngine(
      {
        'by-subject.yaml': webhookToMllpChannel('by-subject', lis.mllpPort, undefined, '\n  clientCertificate:\n    subjects: [lab-platform]'),
        'optional.yaml': webhookToMllpChannel('optional', lis.mllpPort, undefined, '\n  clientCertificate:\n    required: false'),
        'by-fingerprint.yaml': restToMllpChannel('by-fingerprint', lis.mllpPort, {
          source: `  clientCertificate:\n    fingerprints: ['${fingerprint256(lab.cert).replaceAll(':', '').toLowerCase()}']\n`,
        }),
      },
      { tlsCert: server.cert, tlsKey: server.key, tlsClientCa: clientCa.cert },
    );
    audit = watchAudit(t.engine.audit);
    url = `https://127.0.0.1:${t.engine.port}`;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await t.stop();
    await lis.stop();
    certs.remove();
  });

  /** The next `source.certificate.refused` event of `channel` after `request` ran. */
  const refusedAfter = async <T>(channel: string, request: () => Promise<T>): Promise<{ answer: T; event: AuditEvent }> => {
    const mark = audit.length;
    const answer = await request();
    const event = await auditEvent(audit, (e) => audit.indexOf(e) >= mark && e.action === 'source.certificate.refused' && e.actor === `source:${channel}`);
    return { answer, event };
  };

  test('no client certificate: 401, an OperationOutcome saying one is required, audited as denied', async () => {
    const { answer: res, event } = await refusedAfter('by-subject', () => post(as(), '/channels/by-subject', 'res_CC_1'));
    assert.equal(res.status, 401);
    const body = (await res.json()) as Outcome;
    assert.equal(body.resourceType, 'OperationOutcome');
    assert.equal(body.issue[0]!.code, 'login');
    assert.match(body.issue[0]!.diagnostics, /client certificate .* is required/);
    assert.equal(event.outcome, 'denied');
    assert.equal(event.target, 'channel:by-subject');
    assert.equal(event.ip, '127.0.0.1');
    assert.equal(event.detail?.reason, 'no-certificate');
  });

  test('a certificate from another CA: 401 with the verification error', async () => {
    const { answer: res, event } = await refusedAfter('by-subject', () => post(as(impostor), '/channels/by-subject', 'res_CC_2'));
    assert.equal(res.status, 401);
    const body = (await res.json()) as Outcome;
    // The client sends its chain up to a root it knows: OpenSSL's code says the root is not the engine's.
    assert.match(body.issue[0]!.diagnostics, /does not verify against the engine's client CA \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\)/);
    assert.equal(event.detail?.reason, 'not-verified');
    assert.match(String(event.detail?.code), /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)$/);
  });

  test('a verified certificate with a subject the source does not list: 403 naming the subject', async () => {
    const { answer: res, event } = await refusedAfter('by-subject', () => post(as(billing), '/channels/by-subject', 'res_CC_3'));
    assert.equal(res.status, 403);
    const body = (await res.json()) as Outcome;
    assert.equal(body.issue[0]!.code, 'forbidden');
    assert.match(body.issue[0]!.diagnostics, /subject \(billing, billing\.example\) is not one this source accepts/);
    assert.equal(event.detail?.reason, 'subject-not-allowed');
  });

  test('the listed subject passes: 201, stored and delivered', async () => {
    const res = await post(as(lab), '/channels/by-subject', 'res_CC_4');
    assert.equal(res.status, 201);
    await t.drained();
    assert.ok((await sandboxMessages(lis)).some((m) => m.includes('res_CC_4')));
  });

  test('REST by fingerprint: another verified certificate is 403, the listed one 202; status reads are checked too', async () => {
    const { answer: refused, event } = await refusedAfter('by-fingerprint', () => post(as(billing), '/channels/by-fingerprint/submissions', 'res_CC_5'));
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as Outcome).issue[0]!.diagnostics, /SHA-256 [0-9A-F:]{95}\) is not one this source accepts/);
    assert.equal(event.detail?.reason, 'fingerprint-not-allowed');
    const labClient = as(lab);
    const accepted = await post(labClient, '/channels/by-fingerprint/submissions', 'res_CC_6');
    assert.equal(accepted.status, 202);
    const { location } = (await accepted.json()) as { location: string };
    assert.equal((await labClient.fetch(url + location)).status, 200);
    assert.equal((await as().fetch(url + location)).status, 401);
  });

  test('required: false lets a request without a certificate through, but not one with a certificate that does not verify', async () => {
    assert.equal((await post(as(), '/channels/optional', 'res_CC_7')).status, 201);
    const { answer: res } = await refusedAfter('optional', () => post(as(impostor), '/channels/optional', 'res_CC_8'));
    assert.equal(res.status, 401);
  });
});

describe('clientCertificate without a client CA', () => {
  test('is a configuration issue at source.clientCertificate, with file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conduit-cc-config-'));
    try {
      const channelsDir = join(dir, 'channels');
      mkdirSync(channelsDir);
      writeFileSync(join(channelsDir, 'needs-cert.yaml'), webhookToMllpChannel('needs-cert', 1, undefined, '\n  clientCertificate:\n    subjects: [lab-platform]'));
      const settings = { channelsDir, mappingsDir: join(REPO, 'mappings') };
      const { channels, issues } = loadConfiguration(settings, {});
      assert.equal(channels.length, 0);
      assert.equal(issues.length, 1);
      assert.equal(issues[0]!.path, 'source.clientCertificate');
      assert.equal(issues[0]!.code, 'tls_required');
      assert.equal(issues[0]!.line, 5);
      assert.match(issues[0]!.file, /needs-cert\.yaml$/);
      assert.match(issues[0]!.message, /--tls-cert, --tls-key and --tls-client-ca/);
      // With a client CA configured the same file loads.
      assert.equal(loadConfiguration({ ...settings, tlsClientCa: '/etc/conduit/clients.pem' }, {}).issues.length, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('fingerprints are accepted with or without colons, in either case, and kept as Node prints them', () => {
    const hex = 'ab'.repeat(32);
    const parsed = ClientCertificateConfig.parse({ fingerprints: [hex, hex.toUpperCase().match(/../g)!.join(':')] });
    assert.deepEqual(parsed.fingerprints, [Array(32).fill('AB').join(':'), Array(32).fill('AB').join(':')]);
    assert.equal(parsed.required, true);
    assert.equal(ClientCertificateConfig.safeParse({ fingerprints: ['AB:CD'] }).success, false);
    assert.equal(ClientCertificateConfig.safeParse({ subjects: [] }).success, false);
    assert.equal(ClientCertificateConfig.safeParse({ subject: ['x'] }).success, false);
  });
});
