/**
 * The HTTPS certificate is loaded again when its files change, without a restart: a renewed
 * pair is served to new connections; a replacement that cannot be used keeps the served one,
 * and both outcomes are logged and audited (`tls.reload`).
 */
import assert from 'node:assert/strict';
import { copyFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { auditEvent, watchAudit } from '../support/audit-events.ts';
import { type CertFiles, certificateDir, fingerprint256, makeCa, skipWithoutOpenssl, type TestCa } from '../support/certs.ts';
import { servedFingerprint } from '../support/https-client.ts';
import { startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import type { AuditEvent } from '../../src/audit/event.ts';

/** Replaces `to`'s files by renaming fresh copies over them, as certbot and Kubernetes do. */
function install(from: CertFiles, to: CertFiles): void {
  for (const part of ['cert', 'key'] as const) {
    copyFileSync(from[part], `${to[part]}.new`);
    renameSync(`${to[part]}.new`, to[part]);
  }
}

describe('HTTPS certificate reload', { skip: skipWithoutOpenssl }, () => {
  const certs = certificateDir();
  let ca: TestCa;
  let served: CertFiles;
  let t: TestEngine;
  let audit: AuditEvent[];

  before(async () => {
    ca = makeCa(certs.dir);
    const first = ca.server('conduit-1');
    served = { cert: join(certs.dir, 'served.crt'), key: join(certs.dir, 'served.key') };
    install(first, served);
    // The LIS port is never reached: no message is sent in this file.
    t = await startTestEngine({ 'in.yaml': webhookToMllpChannel('in', 1) }, { tlsCert: served.cert, tlsKey: served.key });
    audit = watchAudit(t.engine.audit);
  });
  after(async () => {
    await t.stop();
    certs.remove();
  });

  /** The next `tls.reload` event with `outcome` recorded after `change` has run. */
  const reloadAfter = async (outcome: AuditEvent['outcome'], change: () => void): Promise<AuditEvent> => {
    const mark = audit.length;
    change();
    return auditEvent(audit, (e) => audit.indexOf(e) >= mark && e.action === 'tls.reload' && e.outcome === outcome);
  };

  test('a renewed certificate and key are served to new connections, without a restart', async () => {
    const before = await servedFingerprint(t.engine.port, ca.cert);
    assert.equal(before, fingerprint256(served.cert));
    const renewed = ca.server('conduit-2');
    const event = await reloadAfter('success', () => install(renewed, served));
    assert.equal(event.actor, 'engine');
    assert.equal(event.detail?.fingerprint256, fingerprint256(renewed.cert));
    assert.equal(await servedFingerprint(t.engine.port, ca.cert), fingerprint256(renewed.cert));
    assert.ok(t.logs.some((l) => l.includes('"msg":"TLS certificate reloaded"')));
  });

  test('a certificate file that is not PEM keeps the served certificate; the failure names the file and the reason', async () => {
    const servedBefore = await servedFingerprint(t.engine.port, ca.cert);
    const event = await reloadAfter('failure', () => writeFileSync(served.cert, 'not a certificate\n'));
    assert.equal(event.detail?.setting, 'tlsCert');
    assert.equal(event.detail?.file, served.cert);
    assert.match(String(event.detail?.reason), /not a PEM certificate/);
    assert.equal(await servedFingerprint(t.engine.port, ca.cert), servedBefore);
    const line = t.logs.find((l) => l.includes('TLS certificate not reloaded'));
    assert.ok(line?.includes(served.cert), line);
    assert.match(line ?? '', /"level":50/);
  });

  test('a key that does not match the certificate keeps the served certificate too', async () => {
    const servedBefore = await servedFingerprint(t.engine.port, ca.cert);
    const a = ca.server('conduit-3');
    const b = ca.server('conduit-4');
    const event = await reloadAfter('failure', () => install({ cert: a.cert, key: b.key }, served));
    assert.equal(event.detail?.setting, 'tlsKey');
    assert.match(String(event.detail?.reason), /the key does not match the certificate/);
    assert.equal(await servedFingerprint(t.engine.port, ca.cert), servedBefore);
    // Fixed: the next good pair is served.
    await reloadAfter('success', () => install(a, served));
    assert.equal(await servedFingerprint(t.engine.port, ca.cert), fingerprint256(a.cert));
  });

  test('the reloads are rows of the audit trail', async () => {
    await t.engine.audit.settled();
    const rows = await t.engine.audit.query({ action: 'tls.reload', limit: 100 });
    assert.deepEqual(
      rows.sort((a, b) => a.seq - b.seq).map((r) => [r.outcome, r.detail?.setting ?? null]),
      [['success', null], ['failure', 'tlsCert'], ['failure', 'tlsKey'], ['success', null]],
    );
  });
});
