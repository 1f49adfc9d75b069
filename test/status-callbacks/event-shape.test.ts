/** The status event and the callback answer classification, as pure functions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SettledDelivery } from '../../src/engine/dispatcher.ts';
import { statusCallbackFollowUp } from '../../src/engine/status-callbacks.ts';
import { outcomeText, statusEvent } from '../../src/senders/status-callback/event.ts';
import { classifyCallbackAnswer, signBody } from '../../src/senders/status-callback/sender.ts';
import type { PendingDelivery } from '../../src/store/types.ts';

const row: PendingDelivery = {
  id: 7, messageId: 'MSG1', destinationId: 'lis', controlId: 'CTRL1', payload: 'MSH|...', contentType: 'application/hl7-v2', attempts: 0, nextAttemptAt: 0, partitionKey: 'patient:p1', sourceId: 'res_1', sourceVersion: '2', receivedAt: '2026-11-20T08:59:00.000Z',
};
const ACK_AR = 'MSH|^~\\&|LIS|LAB|CONDUIT|LAB|20261120090000||ACK^R01^ACK|A1|P|2.5.1\rMSA|AR|CTRL1\rERR|||207^Application internal error^HL70357|E||||unknown test code';
const where = { channelId: 'ch', destinationId: 'lis', source: { id: 'res_1', version: '2' } };

test('a rejected delivery: the ACK code and ERR text as detail, the error code, no payload', () => {
  const settled: SettledDelivery = { row, status: 'rejected', attempt: 1, outcome: { status: 'rejected', code: 'HL7_APPLICATION_REJECT', detail: 'AR: unknown test code', response: ACK_AR } };
  const e = statusEvent(settled, where, new Date('2026-11-20T09:00:00.000Z'));
  assert.deepEqual({ ...e, id: 'X' }, {
    id: 'X', event: 'result.rejected', occurred_at: '2026-11-20T09:00:00.000Z', channel: 'ch', destination: 'lis', message_id: 'MSG1',
    source: { id: 'res_1', version: '2' }, control_id: 'CTRL1', status: 'rejected', attempts: 1, code: 'HL7_APPLICATION_REJECT', detail: 'AR: unknown test code',
  });
});

test('an acknowledged FHIR delivery keeps the sender detail; a dead one the last error', () => {
  const ok = statusEvent({ row, status: 'acknowledged', attempt: 2, outcome: { status: 'acknowledged', response: '{"resourceType":"Bundle"}', detail: '3 entries: 3×201 Created' } }, where);
  assert.equal(ok.detail, '3 entries: 3×201 Created');
  assert.equal(ok.code, undefined);
  const dead = statusEvent({ row, status: 'dead', attempt: 10, outcome: { status: 'retryable', code: 'HTTP_TIMEOUT', detail: 'no complete answer from ehr:443 within 30000 ms' } }, where);
  assert.equal(dead.event, 'result.failed');
  assert.equal(dead.detail, 'no complete answer from ehr:443 within 30000 ms');
});

test('outcomeText: an HL7 ACK as code and text, anything else as the detail', () => {
  assert.equal(outcomeText(undefined, 'MSH|^~\\&|||||||ACK|1|P|2.5.1\rMSA|AA|CTRL1'), 'AA');
  assert.equal(outcomeText('AR: x', ACK_AR), 'AR: unknown test code');
  assert.equal(outcomeText('connection refused', undefined), 'connection refused');
  assert.equal(outcomeText('garbled', 'MSH|broken'), 'garbled');
});

test('the follow-up: only wanted events, on the lane of the partition key, the event id as control id', async () => {
  const policy = { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 10, backoffMultiplier: 2, lanes: 4, paceIntake: false };
  const config = { url: 'http://x/', events: ['failed' as const], signatureHeader: 'X-Conduit-Signature', headers: {}, timeoutMs: 1000, delivery: policy };
  const build = statusCallbackFollowUp(config, { channelId: 'ch', destinationId: 'lis' });
  assert.equal(build({ row, status: 'acknowledged', attempt: 1, outcome: { status: 'acknowledged', response: '' } }), undefined);
  const f = build({ row, status: 'dead', attempt: 3, outcome: { status: 'retryable', code: 'MLLP_CONNECT_REFUSED', detail: 'refused' } })!;
  assert.equal(f.destinationId, 'status-callback:lis');
  assert.equal(f.contentType, 'application/json');
  assert.equal(f.controlId, (JSON.parse(f.payload) as { id: string }).id);
  assert.ok(f.lane >= 0 && f.lane < 4);
});

test('classifyCallbackAnswer: 2xx delivered, 408/429/5xx retried with Retry-After, other 4xx refused', () => {
  const answer = (status: number, headers: Record<string, string> = {}) => ({ status, statusText: '', headers: new Headers(headers), body: '' });
  assert.equal(classifyCallbackAnswer(answer(204)).status, 'acknowledged');
  const busy = classifyCallbackAnswer(answer(503, { 'retry-after': '7' }));
  assert.deepEqual([busy.status, busy.status === 'retryable' && busy.retryAfterMs], ['retryable', 7000]);
  assert.equal(classifyCallbackAnswer(answer(429)).status, 'retryable');
  assert.equal(classifyCallbackAnswer(answer(408)).status, 'retryable');
  const refused = classifyCallbackAnswer(answer(401));
  assert.equal(refused.status === 'rejected' && refused.code, 'AUTH_UNAUTHORIZED');
  assert.equal(classifyCallbackAnswer(answer(404)).status, 'rejected');
  assert.equal(classifyCallbackAnswer(answer(302)).status, 'rejected');
});

test('signBody: sha256= and the hex HMAC-SHA256 of the bytes', () => {
  // RFC 4231 test case 2.
  assert.equal(signBody('Jefe', 'what do ya want for nothing?'), 'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
});
