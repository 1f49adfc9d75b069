/**
 * The recording receiver used by the crash tests and the benchmark: it answers as scripted,
 * and it records every frame, resends included, with MSH-10, PID-3 and ORC-3. Driven here by
 * our MllpSender, the component it stands in front of in the end-to-end tests.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { encodeOruR01 } from '../../src/encoders/oru-r01/encode.ts';
import { OruR01Settings } from '../../src/encoders/oru-r01/settings.ts';
import { mapPlatformEvent } from '../../src/mapping/platform-result/map.ts';
import { PlatformResultSettings } from '../../src/mapping/platform-result/settings.ts';
import { MllpSender, mllpDestinationConfig } from '../../src/senders/mllp/index.ts';
import type { OutboundMessage } from '../../src/senders/types.ts';
import { generateEvents } from './platform-events.ts';
import { answer, startRecordingReceiver } from './recording-receiver.ts';
import { mappingSettings } from './repo.ts';

const inbound = PlatformResultSettings.parse(mappingSettings('platform-result.yaml'));
const outbound = OruR01Settings.parse(mappingSettings('oru-r01-lis.yaml'));

/** ORU^R01 of the n-th generated event, with MSH-10 = controlId. */
function oru(n: number, controlId: string): { message: OutboundMessage; accession: string; patientId: string } {
  const event = generateEvents({ events: n + 1, patients: 3, runId: 'rr' })[n]!;
  const { report } = mapPlatformEvent(JSON.parse(event.body), inbound);
  const payload = encodeOruR01(report, { controlId, createdAt: '2026-11-20T08:00:00Z' }, outbound);
  return {
    message: { messageId: `m${n}`, destinationId: 'lis', payload, contentType: 'application/hl7-v2', controlId, attempt: 1 },
    accession: event.accession,
    patientId: event.patientId,
  };
}

test('the recording receiver answers as scripted and records every frame in order', async (t) => {
  const receiver = await startRecordingReceiver({
    keepRaw: true,
    script: { 2: answer.ack('AE'), 3: answer.ack('AR'), 4: answer.silence(), 5: answer.close(), 6: answer.ack('AA', 30) },
  });
  const sender = new MllpSender(mllpDestinationConfig.parse({ host: '127.0.0.1', port: receiver.port, ackTimeoutMs: 300 }), { log: pino({ level: 'silent' }) });
  t.after(async () => {
    await sender.close();
    await receiver.close();
  });
  const signal = new AbortController().signal;
  const one = oru(0, 'CTL1');
  const outcomes = [];
  // The same message six times: each answer in turn, every frame recorded.
  for (let i = 0; i < 6; i++) outcomes.push(await sender.send(one.message, signal));
  assert.deepEqual(
    outcomes.map((o) => (o.status === 'acknowledged' ? o.status : `${o.status} ${o.code}`)),
    ['acknowledged', 'retryable HL7_APPLICATION_ERROR', 'rejected HL7_APPLICATION_REJECT', 'retryable MLLP_ACK_TIMEOUT', 'retryable MLLP_PEER_CLOSED', 'acknowledged'],
  );
  assert.deepEqual(receiver.frames.map((f) => f.n), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(receiver.frames.map((f) => f.action), ['ack', 'ack', 'ack', 'silence', 'close', 'ack']);
  assert.deepEqual(receiver.frames.map((f) => f.ackCode), ['AA', 'AE', 'AR', undefined, undefined, 'AA']);
  for (const f of receiver.frames) {
    assert.equal(f.controlId, 'CTL1');
    assert.equal(f.messageType, 'ORU^R01');
    assert.equal(f.fillerId, one.accession);
    assert.equal(f.patientId, one.patientId);
    assert.equal(f.raw, one.message.payload);
  }
  // Silence and close cost the sender its connection: frames 5 and 6 came on new ones.
  assert.equal(new Set(receiver.frames.map((f) => f.connectionId)).size, 3);
  assert.equal(receiver.byFiller().get(one.accession)?.length, 6);
  const delayed = receiver.frames[5]!;
  assert.ok(delayed.answeredAt! - delayed.hrAt >= 25, 'the scripted delay holds the ACK back');
});

test('the recording receiver: default delay, a function script, waitFor and record: false', async (t) => {
  const answered: string[] = [];
  const receiver = await startRecordingReceiver({ delayMs: 5, record: false, onAnswered: (f) => answered.push(`${f.controlId}:${f.ackCode}`) });
  const sender = new MllpSender(mllpDestinationConfig.parse({ host: '127.0.0.1', port: receiver.port }), { log: pino({ level: 'silent' }) });
  t.after(async () => {
    await sender.close();
    await receiver.close();
  });
  const signal = new AbortController().signal;
  receiver.setScript((n) => (n % 2 === 0 ? answer.ack('AE') : undefined));
  const done = receiver.waitFor(() => receiver.count >= 4, 5000);
  for (let i = 0; i < 4; i++) await sender.send(oru(i, `C${i}`).message, signal);
  await done;
  assert.deepEqual(answered, ['C0:AA', 'C1:AE', 'C2:AA', 'C3:AE']);
  assert.equal(receiver.frames.length, 0);
  await assert.rejects(receiver.waitFor(() => false, 50), /condition not met within 50 ms \(4 frames received\)/);
});
