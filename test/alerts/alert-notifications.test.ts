/**
 * Alerts end to end (issue 12): an engine with an alerts file, a real HTTP receiver on
 * loopback that verifies each notification's signature as a Conduit webhook source would, and
 * the situations the rules describe: a dead delivery (once per cooldown), a backlog over its
 * bound, a destination failing for longer than `for`, a certificate near expiry. GET
 * /api/alerts shows them, to tenants only their own.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AlertsAnswer, type AlertView } from '../../src/alerts/view.ts';
import { type AlertReceiver, startAlertReceiver } from '../support/alert-receiver.ts';
import { certificateDir, selfSigned, skipWithoutOpenssl } from '../support/certs.ts';
import { makeEvent } from '../support/events.ts';
import { releasedPort, startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startRecordingReceiver } from '../support/recording-receiver.ts';

const SECRET = 'alert-webhook-secret-0123456789';

/** An alerts file (evaluated every 200 ms) posting to `receiver`, with these rules (YAML list items). */
function alertsFile(t: { after(fn: () => void): unknown }, receiver: AlertReceiver, rules: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-alerts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'alerts.yaml');
  writeFileSync(file, `evaluateEvery: 200ms\nwebhooks:\n  - id: receiver\n    url: ${receiver.url}\n    secret: ${SECRET}\nrules:\n${rules}`);
  return file;
}

async function alerts(e: TestEngine, token?: string): Promise<AlertView[]> {
  const res = token ? await fetch(`${e.url}/api/alerts`, { headers: { authorization: `Bearer ${token}` } }) : await e.admin('/api/alerts');
  assert.equal(res.status, 200);
  return AlertsAnswer.strict().parse(await res.json()).alerts;
}

async function alertsUntil(e: TestEngine, what: string, check: (a: AlertView[]) => boolean, timeoutMs = 20_000): Promise<AlertView[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await alerts(e);
    if (check(list)) return list;
    if (Date.now() > deadline) throw new Error(`GET /api/alerts never showed ${what}: ${JSON.stringify(list)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const DOWN_FOR_GOOD = 'maxAttempts: 1';
const RETRYING = 'maxAttempts: 1000\n      initialBackoffMs: 100\n      maxBackoffMs: 200';

test('a dead delivery: one signed notification, verified by the receiver; none again within the cooldown', async (t) => {
  const receiver = await startAlertReceiver(SECRET);
  t.after(() => receiver.close());
  const file = alertsFile(t, receiver, '  - id: lis-dead\n    kind: delivery-dead\n    cooldown: 15m\n');
  const e = await startTestEngine({ 'lab.yaml': webhookToMllpChannel('lab', await releasedPort(), DOWN_FOR_GOOD) }, { alerts: file });
  t.after(() => e.stop());

  assert.equal((await e.post('/channels/lab', makeEvent('res_DEAD_1', { family: 'Deadwood', patientId: 'PAT-DEAD-1' }))).status, 201);
  await receiver.waitFor((r) => r.length === 1);
  const [first] = receiver.received;
  assert.equal(first!.refused, undefined, 'the signature verifies as a Conduit webhook source checks it');
  assert.match(String(first!.headers['x-signature']), /^sha256=[0-9a-f]{64}$/);
  assert.match(String(first!.headers['x-timestamp']), /^\d{10}$/);
  assert.equal(first!.headers['content-type'], 'application/json');
  const p = first!.payload;
  assert.deepEqual(
    { type: p.type, alert: p.alert, rule: p.rule, kind: p.kind, state: p.state, subject: p.subject, count: p.count, instance: p.instance },
    { type: 'conduit.alert', alert: 'lis-dead:lab/lis', rule: 'lis-dead', kind: 'delivery-dead', state: 'firing', subject: { channel: 'lab', destination: 'lis' }, count: 1, instance: e.engine.instanceId },
  );
  assert.match(p.summary, /^1 delivery to lab\/lis dead \(retries used up\) since \S+; last error MLLP_CONNECT_REFUSED$/);
  assert.ok(Date.parse(p.since) <= Date.parse(p.sentAt));
  assert.ok(!first!.raw.includes('Deadwood') && !first!.raw.includes('PAT-DEAD-1') && !first!.raw.includes('res_DEAD_1'), 'no patient data');

  const [fired] = await alertsUntil(e, 'the sent notification', (a) => a[0]?.notifications[0]?.state === 'sent');
  assert.equal(fired!.state, 'firing');
  assert.deepEqual(fired!.notifications, [{ webhook: 'receiver', alertState: 'firing', state: 'sent', attempts: 1, at: fired!.notifications[0]!.at }]);
  const sentAt = fired!.lastSentAt;
  assert.ok(sentAt);

  // A second dead delivery to the same destination within the cooldown: counted, not sent.
  assert.equal((await e.post('/channels/lab', makeEvent('res_DEAD_2'))).status, 201);
  const [again] = await alertsUntil(e, 'the second dead delivery counted', (a) => a[0]?.count === 2);
  assert.equal(again!.lastSentAt, sentAt, 'no notification since the first');
  assert.deepEqual(again!.notifications, fired!.notifications);
  assert.match(again!.summary, /^2 deliveries to lab\/lis dead/);
  assert.equal(receiver.received.length, 1);
  assert.ok(e.logs.some((l) => l.includes('alert firing') && l.includes('lis-dead')));
});

test('a notification the receiver fails is tried again and logged without its URL', async (t) => {
  const receiver = await startAlertReceiver(SECRET, (n) => (n === 1 ? 503 : 204));
  t.after(() => receiver.close());
  const file = alertsFile(t, receiver, '  - id: lis-dead\n    kind: delivery-dead\n');
  const e = await startTestEngine({ 'lab.yaml': webhookToMllpChannel('lab', await releasedPort(), DOWN_FOR_GOOD) }, { alerts: file });
  t.after(() => e.stop());

  assert.equal((await e.post('/channels/lab', makeEvent('res_RETRY_1'))).status, 201);
  await receiver.waitFor((r) => r.length === 2);
  assert.deepEqual(
    receiver.received.map((r) => [r.status, r.refused, r.payload.alert]),
    [
      [503, undefined, 'lis-dead:lab/lis'],
      [204, undefined, 'lis-dead:lab/lis'],
    ],
  );
  const [a] = await alertsUntil(e, 'the notification sent on its second try', (list) => list[0]?.notifications[0]?.state === 'sent');
  assert.equal(a!.notifications[0]!.attempts, 2);
  const failed = e.logs.find((l) => l.includes('an alert notification failed; it is tried again'));
  assert.ok(failed);
  assert.match(failed, /"reason":"HTTP 503"/);
  assert.ok(!failed.includes(receiver.url), 'the URL may hold a token: never logged');
});

test('a backlog over its bound, per destination and engine-wide; resolved once the LIS takes it', async (t) => {
  const receiver = await startAlertReceiver(SECRET);
  t.after(() => receiver.close());
  const file = alertsFile(
    t,
    receiver,
    '  - id: lis-backlog\n    kind: backlog\n    over: 1\n    destination: lis\n  - id: engine-backlog\n    kind: backlog\n    over: 1\n    per: engine\n',
  );
  const port = await releasedPort();
  const e = await startTestEngine({ 'lab.yaml': webhookToMllpChannel('lab', port, RETRYING) }, { alerts: file });
  t.after(() => e.stop());

  assert.equal((await e.post('/channels/lab', makeEvent('res_BACKLOG_1'))).status, 201);
  assert.equal((await e.post('/channels/lab', makeEvent('res_BACKLOG_2', { patientId: 'PAT-OTHER' }))).status, 201);
  await receiver.waitFor((r) => r.filter((x) => x.payload.state === 'firing').length === 2);
  const firing = new Map(receiver.received.map((r) => [r.payload.rule, r.payload]));
  assert.deepEqual(firing.get('lis-backlog')!.subject, { channel: 'lab', destination: 'lis' });
  assert.equal(firing.get('lis-backlog')!.summary, '2 pending deliveries to lab/lis, over 1');
  assert.deepEqual(firing.get('engine-backlog')!.subject, {});
  assert.equal(firing.get('engine-backlog')!.alert, 'engine-backlog:engine');
  assert.equal(firing.get('engine-backlog')!.summary, '2 pending deliveries in the engine, over 1');
  assert.ok(receiver.received.every((r) => r.refused === undefined));

  // The LIS comes up: the backlog drains and both alerts resolve, each with a notification.
  const lis = await startRecordingReceiver({ port });
  t.after(() => lis.close());
  await e.drained();
  await receiver.waitFor((r) => r.filter((x) => x.payload.state === 'resolved').length === 2);
  const resolved = receiver.received.filter((r) => r.payload.state === 'resolved').map((r) => r.payload);
  assert.deepEqual(resolved.map((p) => p.rule).sort(), ['engine-backlog', 'lis-backlog']);
  for (const p of resolved) {
    assert.match(p.summary, /^resolved: 2 pending deliveries/);
    assert.ok(p.resolvedAt && Date.parse(p.resolvedAt) >= Date.parse(p.since));
  }
  const list = await alerts(e);
  assert.deepEqual(list.map((a) => [a.rule, a.state]).sort(), [
    ['engine-backlog', 'resolved'],
    ['lis-backlog', 'resolved'],
  ]);
});

test('a destination failing for longer than `for`: fires once its lane has been failing that long; resolved once a delivery gets through', async (t) => {
  const receiver = await startAlertReceiver(SECRET);
  t.after(() => receiver.close());
  const file = alertsFile(t, receiver, '  - id: lis-down\n    kind: destination-failing\n    for: 2s\n');
  const port = await releasedPort();
  const e = await startTestEngine({ 'lab.yaml': webhookToMllpChannel('lab', port, RETRYING) }, { alerts: file });
  t.after(() => e.stop());

  assert.equal((await e.post('/channels/lab', makeEvent('res_FAILING_1'))).status, 201);
  await receiver.waitFor((r) => r.length === 1);
  const p = receiver.received[0]!.payload;
  assert.equal(receiver.received[0]!.refused, undefined);
  assert.deepEqual([p.rule, p.kind, p.state, p.subject], ['lis-down', 'destination-failing', 'firing', { channel: 'lab', destination: 'lis' }]);
  // Fired only once the lane had been failing for the 2 s of `for`, counted from when it began.
  assert.ok(Date.parse(p.sentAt) - Date.parse(p.since) >= 2000, `${p.since} → ${p.sentAt}`);
  assert.match(p.summary, /^lab\/lis has been failing for \d+ s, since \S+; last error MLLP_CONNECT_REFUSED$/);
  const [a] = await alerts(e);
  assert.equal(a!.state, 'firing');
  assert.equal(a!.since, p.since);
  assert.ok(a!.firingSince);

  const lis = await startRecordingReceiver({ port });
  t.after(() => lis.close());
  await receiver.waitFor((r) => r.some((x) => x.payload.state === 'resolved'));
  assert.equal(lis.frames.length, 1);
  assert.deepEqual((await alerts(e)).map((x) => [x.rule, x.state]), [['lis-down', 'resolved']]);
});

test('a certificate near expiry: one made at test time, named in a destination tls block, expires within 30 days but not within the hour', { skip: skipWithoutOpenssl }, async (t) => {
  const certs = certificateDir();
  t.after(() => certs.remove());
  const ca = selfSigned(certs.dir, 'lis-ca');
  const receiver = await startAlertReceiver(SECRET);
  t.after(() => receiver.close());
  const file = alertsFile(
    t,
    receiver,
    '  - id: certs-30d\n    kind: certificate-expiry\n    within: 30d\n  - id: certs-1h\n    kind: certificate-expiry\n    within: 1h\n',
  );
  const channel = webhookToMllpChannel('lab', await releasedPort(), RETRYING).replace('      ackTimeoutMs: 2000\n', `      ackTimeoutMs: 2000\n      tls:\n        ca: ${ca.cert}\n`);
  assert.match(channel, /tls:\n {8}ca: /);
  const e = await startTestEngine({ 'lab.yaml': channel }, { alerts: file });
  t.after(() => e.stop());

  await receiver.waitFor((r) => r.length === 1);
  const p = receiver.received[0]!.payload;
  assert.equal(receiver.received[0]!.refused, undefined);
  assert.deepEqual([p.rule, p.kind, p.state], ['certs-30d', 'certificate-expiry', 'firing']);
  assert.deepEqual(p.subject, { certificate: ca.cert, use: 'destinations[0].sender.tls.ca', channel: 'lab', destination: 'lis' });
  assert.match(p.summary, /^certificate CN=lis-ca in \S+ \(destinations\[0\]\.sender\.tls\.ca of channel lab\) expires in \d+ h, on \S+$/);
  // Both rules were looked at in the same evaluation: the one-hour window holds nothing.
  const list = await alerts(e);
  assert.deepEqual(list.map((a) => a.rule), ['certs-30d']);
});

test('GET /api/alerts: a tenant token sees the alerts of its channels only, never engine-wide ones', async (t) => {
  const receiver = await startAlertReceiver(SECRET);
  t.after(() => receiver.close());
  const file = alertsFile(t, receiver, '  - id: dead\n    kind: delivery-dead\n  - id: engine-backlog\n    kind: backlog\n    over: 0\n    per: engine\n');
  const e = await startTestEngine(
    {
      'north-lab.yaml': `${webhookToMllpChannel('north-lab', await releasedPort(), DOWN_FOR_GOOD)}tenant: north\n`,
      'south-lab.yaml': `${webhookToMllpChannel('south-lab', await releasedPort(), RETRYING)}tenant: south\n`,
    },
    { alerts: file },
  );
  t.after(() => e.stop());
  const token = async (name: string, tenant: string) => {
    const res = await e.admin('/api/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, role: 'viewer', tenant }) });
    return ((await res.json()) as { token: string }).token;
  };
  assert.equal((await e.post('/channels/north-lab', makeEvent('res_NORTH_1'))).status, 201);
  assert.equal((await e.post('/channels/south-lab', makeEvent('res_SOUTH_1'))).status, 201);
  const all = await alertsUntil(e, 'the dead north delivery and the engine backlog', (a) => a.filter((x) => x.state === 'firing').length === 2);
  assert.deepEqual(all.map((a) => a.id).sort(), ['dead:north-lab/lis', 'engine-backlog:engine']);

  const north = await alerts(e, await token('north-viewer', 'north'));
  assert.deepEqual(north.map((a) => a.id), ['dead:north-lab/lis']);
  const south = await alerts(e, await token('south-viewer', 'south'));
  assert.deepEqual(south, []);
});
