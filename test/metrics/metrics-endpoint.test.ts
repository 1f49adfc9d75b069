/**
 * GET /metrics (issue 12): Prometheus text that parses, with the series of what the engine did:
 * messages received by outcome, attempts, settled deliveries, latency histograms, the backlog
 * per destination and engine-wide, lane states, the store's size and the process's own metrics;
 * on PostgreSQL the leases held and the database's size. Guarded like the admin API.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LATENCY_BUCKETS } from '../../src/metrics/engine-metrics.ts';
import { makeEvent } from '../support/events.ts';
import { releasedPort, startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { postgresUnavailable, tempDatabase } from '../support/postgres.ts';
import { type Exposition, parsePrometheusText } from '../support/prometheus-text.ts';
import { startSandboxLis } from '../support/sandbox.ts';

async function scrape(t: TestEngine): Promise<Exposition> {
  const res = await t.admin('/metrics');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusText(await res.text());
}

/** Scrapes until `check` holds (the lanes and the cached backlog catch up on their own time). */
async function scrapeUntil(t: TestEngine, what: string, check: (m: Exposition) => boolean, timeoutMs = 15_000): Promise<Exposition> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await scrape(t);
    if (check(m)) return m;
    if (Date.now() > deadline) throw new Error(`/metrics never showed ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('after a delivered message: received and settled counters, attempts, both latency histograms, an empty backlog, the lane and the process', async (t) => {
  const lis = await startSandboxLis();
  t.after(() => lis.stop());
  const e = await startTestEngine({ 'lab.yaml': webhookToMllpChannel('lab', lis.mllpPort) });
  t.after(() => e.stop());
  assert.equal((await e.post('/channels/lab', makeEvent('res_METRICS_1', { family: 'Metricsworth' }))).status, 201);
  await e.drained();

  const m = await scrapeUntil(e, 'the lane idle again', (x) => x.value('conduit_lane_state', { channel: 'lab', destination: 'lis', lane: '0', state: 'idle' }) === 1);
  const lis0 = { channel: 'lab', destination: 'lis' };
  assert.equal(m.types.get('conduit_messages_received_total'), 'counter');
  assert.equal(m.value('conduit_messages_received_total', { channel: 'lab', outcome: 'stored' }), 1);
  assert.equal(m.value('conduit_messages_received_total', { channel: 'lab', outcome: 'refused' }), 0);
  assert.equal(m.value('conduit_delivery_attempts_total', { ...lis0, outcome: 'acknowledged' }), 1);
  assert.equal(m.value('conduit_delivery_attempts_total', { ...lis0, outcome: 'retryable' }), 0);
  assert.equal(m.value('conduit_deliveries_settled_total', { ...lis0, status: 'acknowledged' }), 1);
  assert.equal(m.value('conduit_deliveries_settled_total', { ...lis0, status: 'dead' }), 0);

  for (const histogram of ['conduit_delivery_latency_seconds', 'conduit_attempt_latency_seconds']) {
    assert.equal(m.types.get(histogram), 'histogram');
    const buckets = m.find(`${histogram}_bucket`, lis0);
    assert.deepEqual(
      buckets.map((b) => b.labels.le),
      [...LATENCY_BUCKETS.map(String), '+Inf'],
      `${histogram}: 1 ms to 60 s, then +Inf`,
    );
    // Cumulative: each bucket holds the ones below it, +Inf holds the one observation.
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${histogram} bucket ${buckets[i]!.labels.le}`);
    assert.equal(buckets.at(-1)!.value, 1);
    assert.equal(m.value(`${histogram}_count`, lis0), 1);
    assert.ok(m.value(`${histogram}_sum`, lis0)! > 0);
  }
  // Received to acknowledged includes the attempt.
  assert.ok(m.value('conduit_delivery_latency_seconds_sum', lis0)! >= m.value('conduit_attempt_latency_seconds_sum', lis0)!);

  assert.equal(m.value('conduit_backlog_deliveries', lis0), 0);
  assert.equal(m.value('conduit_engine_backlog_deliveries'), 0);
  assert.equal(m.find('conduit_lane_state', { ...lis0, lane: '0' }).length, 5, 'one series per state');
  assert.equal(m.value('conduit_destination_failing_seconds', lis0), 0);
  assert.ok(m.value('conduit_store_size_bytes', { part: 'file' })! > 0);
  assert.ok(m.value('conduit_store_size_bytes', { part: 'wal' })! >= 0);
  assert.equal(m.value('conduit_build_info', { store: 'sqlite' }), 1);
  assert.equal(m.find('conduit_lane_leases_held').length, 0, 'no leases alone on SQLite');
  // prom-client's process metrics.
  assert.ok(m.value('process_resident_memory_bytes')! > 0);
  assert.ok(m.types.has('nodejs_eventloop_lag_seconds'));
  assert.equal(m.types.get('nodejs_gc_duration_seconds'), 'histogram');
  // Ids and words only: nothing of the message.
  const text = await (await e.admin('/metrics')).text();
  assert.ok(!text.includes('Metricsworth'));
  assert.ok(!text.includes('res_METRICS_1'));
});

test('intake outcomes: a duplicate, an input the mapping refuses and a message every destination filters out', async (t) => {
  const lis = await startSandboxLis();
  t.after(() => lis.stop());
  const e = await startTestEngine({
    'lab.yaml': webhookToMllpChannel('lab', lis.mllpPort),
    'kept-back.yaml': `${webhookToMllpChannel('kept-back', lis.mllpPort)}filters:\n  - name: never\n    when: report.status = 'no-such-status'\n`,
  });
  t.after(() => e.stop());
  const event = makeEvent('res_METRICS_DUP');
  assert.equal((await e.post('/channels/lab', event)).status, 201);
  assert.equal((await e.post('/channels/lab', event)).status, 200, 'the same result again is a duplicate');
  assert.equal((await e.post('/channels/lab', { not: 'a result event' })).status, 422);
  assert.equal((await e.post('/channels/kept-back', makeEvent('res_METRICS_FILTERED'))).status, 201);
  await e.drained();

  const m = await scrape(e);
  assert.equal(m.value('conduit_messages_received_total', { channel: 'lab', outcome: 'stored' }), 1);
  assert.equal(m.value('conduit_messages_received_total', { channel: 'lab', outcome: 'duplicate' }), 1);
  assert.equal(m.value('conduit_messages_received_total', { channel: 'lab', outcome: 'refused' }), 1);
  assert.equal(m.value('conduit_messages_received_total', { channel: 'kept-back', outcome: 'filtered' }), 1);
  assert.equal(m.value('conduit_messages_received_total', { channel: 'kept-back', outcome: 'stored' }), 0);
  assert.equal(m.value('conduit_delivery_attempts_total', { channel: 'lab', destination: 'lis', outcome: 'acknowledged' }), 1);
});

test('while the LIS is down: the backlog per destination and engine-wide, the lane retrying and failing', async (t) => {
  const port = await releasedPort();
  const e = await startTestEngine({ 'lab.yaml': webhookToMllpChannel('lab', port, 'maxAttempts: 50\n      initialBackoffMs: 60000\n      maxBackoffMs: 60000') });
  t.after(() => e.stop());
  for (const id of ['res_DOWN_1', 'res_DOWN_2']) assert.equal((await e.post('/channels/lab', makeEvent(id, { patientId: id }))).status, 201);

  const lis0 = { channel: 'lab', destination: 'lis' };
  const m = await scrapeUntil(
    e,
    'two pending deliveries and a failing lane',
    (x) => x.value('conduit_backlog_deliveries', lis0) === 2 && x.value('conduit_lane_state', { ...lis0, lane: '0', state: 'retrying' }) === 1 && x.value('conduit_destination_failing_seconds', lis0)! > 0,
  );
  assert.equal(m.value('conduit_engine_backlog_deliveries'), 2);
  assert.equal(m.value('conduit_lane_state', { ...lis0, lane: '0', state: 'idle' }), 0);
  assert.equal(m.value('conduit_delivery_attempts_total', { ...lis0, outcome: 'retryable' }), 1, 'the head of the lane tried once, waiting a minute for its retry');
  assert.equal(m.value('conduit_deliveries_settled_total', { ...lis0, status: 'acknowledged' }), 0);
});

test('guarded as the route table says: 401 without a token, 403 for a tenant token, 200 for a viewer', async (t) => {
  const lis = await startSandboxLis();
  t.after(() => lis.stop());
  const e = await startTestEngine({ 'lab.yaml': `${webhookToMllpChannel('lab', lis.mllpPort)}tenant: north\n` });
  t.after(() => e.stop());
  const token = async (name: string, tenant?: string) => {
    const res = await e.admin('/api/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, role: 'viewer', ...(tenant ? { tenant } : {}) }),
    });
    return ((await res.json()) as { token: string }).token;
  };
  const none = await fetch(`${e.url}/metrics`);
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
  const tenant = await fetch(`${e.url}/metrics`, { headers: { authorization: `Bearer ${await token('north-viewer', 'north')}` } });
  assert.equal(tenant.status, 403, "a tenant's token would see the other tenants' series");
  assert.match(await tenant.text(), /ACCESS_DENIED/);
  const viewer = await fetch(`${e.url}/metrics`, { headers: { authorization: `Bearer ${await token('prometheus')}` } });
  assert.equal(viewer.status, 200);
  assert.ok(parsePrometheusText(await viewer.text()).types.has('conduit_messages_received_total'));
});

const skip = await postgresUnavailable();

test('on PostgreSQL: the lane leases this instance holds and the size of the database', { skip, timeout: 60_000 }, async (t) => {
  const lis = await startSandboxLis();
  t.after(() => lis.stop());
  const url = await tempDatabase(t);
  const e = await startTestEngine({ 'lab.yaml': webhookToMllpChannel('lab', lis.mllpPort) }, { store: url });
  t.after(() => e.stop());
  assert.equal((await e.post('/channels/lab', makeEvent('res_METRICS_PG'))).status, 201);
  await e.drained();
  const m = await scrapeUntil(e, 'the lease of the one lane', (x) => x.value('conduit_lane_leases_held') === 1);
  assert.equal(m.value('conduit_build_info', { store: 'postgres' }), 1);
  assert.ok(m.value('conduit_store_size_bytes', { part: 'database' })! > 0);
  assert.equal(m.value('conduit_store_size_bytes', { part: 'file' }), undefined);
  assert.equal(m.value('conduit_deliveries_settled_total', { channel: 'lab', destination: 'lis', status: 'acknowledged' }), 1);
  assert.equal(m.value('conduit_backlog_deliveries', { channel: 'lab', destination: 'lis' }), 0);
});
