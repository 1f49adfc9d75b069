/**
 * Brokers that cannot be reached do not keep the engine from starting or stopping: the Kafka
 * source logs KAFKA_CONNECT_FAILED and keeps trying with backoff; a stop cuts the attempts.
 * (No broker needed: nothing listens on 127.0.0.1:1.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestEngine } from '../support/in-process.ts';
import { until } from './support.ts';

test('Kafka source with unreachable brokers: the engine starts, logs the code, retries, and stops promptly', async () => {
  const t = await startTestEngine({
    'k.yaml': `id: k
source:
  type: kafka
  brokers: ["127.0.0.1:1"]
  topic: nowhere
  connectionTimeoutMs: 200
mapping: platform-result
destinations: []
`,
  });
  try {
    const failures = () => t.logs.filter((l) => l.includes('Kafka consumer could not start'));
    await until(() => failures().length >= 1, () => 'no start failure logged', 60_000, 50);
    const entry = JSON.parse(failures()[0]!) as { code: string; groupId: string; retryInMs: number };
    assert.equal(entry.code, 'KAFKA_CONNECT_FAILED');
    assert.equal(entry.groupId, 'conduit.k', 'the default group is conduit.<channel id>');
    const res = await t.admin('/api/channels');
    const body = (await res.json()) as { channels: Array<{ id: string; source: string; state: string }> };
    assert.equal(body.channels[0]!.source, 'kafka://127.0.0.1:1/nowhere (group conduit.k)');
  } finally {
    const started = performance.now();
    await t.stop();
    assert.ok(performance.now() - started < 5_000, 'stop does not wait for the retries');
  }
});
