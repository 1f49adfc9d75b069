import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { restToMllpChannel } from '../sources/rest/support.ts';

type Line = { level: number; msg: string; channel?: string; code?: string; count?: number };

/** The backpressure lines of one channel, and the 503s they stand for. */
function backpressureLines(logs: string[], channel: string): { lines: Line[]; counted: number } {
  const lines = logs.map((l) => JSON.parse(l) as Line).filter((l) => l.channel === channel && l.code === 'BACKPRESSURE');
  return { lines, counted: lines.reduce((n, l) => n + (l.count ?? 1), 0) };
}

test('a 503 under backpressure is logged once per second per source with a count, not once per request (issue 8)', { timeout: 30_000 }, async () => {
  // Nothing listens on port 9: the first message stays in the backlog, which is then at its bound.
  const t = await startTestEngine(
    {
      'hook.yaml': webhookToMllpChannel('hook', 9, 'maxAttempts: 100\n      initialBackoffMs: 60000'),
      'rest.yaml': restToMllpChannel('rest', 9, { delivery: 'maxAttempts: 100\n      initialBackoffMs: 60000' }),
    },
    { maxBacklog: 1 },
  );
  try {
    assert.equal((await t.post('/channels/hook', makeEvent('res_LOG_0'))).status, 201);
    const refusals = 200;
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: refusals }, (_, i) => t.post(i % 2 === 0 ? '/channels/hook' : '/channels/rest/submissions', makeEvent(`res_LOG_${i + 1}`))),
    );
    assert.deepEqual(new Set(answers.map((r) => r.status)), new Set([503]));
    // The last window's line comes when its second ends.
    for (let i = 0; backpressureLines(t.logs, 'hook').counted + backpressureLines(t.logs, 'rest').counted < refusals; i++) {
      if (i > 500) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const seconds = Math.ceil((Date.now() - started) / 1000);
    for (const channel of ['hook', 'rest']) {
      const { lines, counted } = backpressureLines(t.logs, channel);
      assert.equal(counted, refusals / 2, `${channel}: every 503 is counted`);
      // At most one line per second of refusals (plus the first, logged at once), not one per request.
      assert.ok(lines.length <= seconds + 1, `${channel}: ${lines.length} lines in ${seconds} s for ${counted} refusals`);
      assert.ok(lines.every((l) => l.level === 40 && typeof l.count === 'number'));
    }
  } finally {
    await t.stop();
  }
});
