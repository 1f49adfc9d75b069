/** The channel's statusCallback block: defaults, and problems reported at load with their path. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configDir, issueAt } from '../config/support.ts';
import { envRef, restToMllpChannel } from '../sources/rest/support.ts';

test('defaults: all three events, X-Conduit-Signature, 10 s, the usual delivery policy', (t) => {
  const dir = configDir({ channels: { 'cb.yaml': restToMllpChannel('cb', 2575, { extra: `statusCallback:\n  url: https://platform.example/status\n  secret: ${envRef('CB_SECRET')}\n` }) } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load({ CB_SECRET: 'x'.repeat(32) });
  assert.deepEqual(issues, []);
  assert.deepEqual(channels[0]!.config.statusCallback, {
    url: 'https://platform.example/status',
    events: ['delivered', 'rejected', 'failed'],
    secret: 'x'.repeat(32),
    signatureHeader: 'X-Conduit-Signature',
    headers: {},
    timeoutMs: 10_000,
    delivery: { maxAttempts: 10, initialBackoffMs: 1000, maxBackoffMs: 300_000, backoffMultiplier: 2, lanes: 1, paceIntake: false },
  });
});

test('bad blocks are reported at their paths, all in one pass', (t) => {
  const extra = [
    'statusCallback:',
    '  url: ftp://platform.example/status',
    '  events: [delivered, acked]',
    '  secret: short',
    '  timeoutMs: 0',
    '  retries: 3',
    '',
  ].join('\n');
  const dir = configDir({ channels: { 'bad.yaml': restToMllpChannel('bad', 2575, { extra }) } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  const file = dir.channelFile('bad.yaml');
  assert.match(issueAt(issues, file, 'statusCallback.url').message, /http\(s\) URL/);
  assert.match(issueAt(issues, file, 'statusCallback.events[1]').message, /'delivered', 'rejected' or 'failed'/);
  assert.match(issueAt(issues, file, 'statusCallback.secret').message, /at least 16 characters/);
  assert.ok(issueAt(issues, file, 'statusCallback.timeoutMs'));
  assert.match(issueAt(issues, file, 'statusCallback.retries').message, /unknown key 'retries'/);
  assert.deepEqual(channels, []);
});

test('an unset secret variable is reported at the secret', (t) => {
  const dir = configDir({ channels: { 'cb.yaml': restToMllpChannel('cb', 2575, { extra: `statusCallback:\n  url: http://127.0.0.1:9/x\n  secret: ${envRef('NOT_SET_CB_SECRET')}\n` }) } });
  t.after(() => dir.remove());
  const { issues } = dir.load({});
  assert.equal(issueAt(issues, dir.channelFile('cb.yaml'), 'statusCallback.secret').code, 'env_missing');
});
