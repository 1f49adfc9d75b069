import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { MllpClientConnection } from '../../src/protocols/mllp/index.ts';
import { makeEvent } from '../support/events.ts';
import { startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { startSandboxLis } from '../support/sandbox.ts';

/** Strings that only occur in the health data sent below. */
const PHI = ['Zyxwvutsrq', 'Qwertyuiop', 'MRN-PHI-777', 'pat_PHI_999', '987.654', 'COMMENT-PHI-TEXT', 'ORU^R01', 'MSH|'];

function phiEvent(resultId: string, value = '987.654') {
  const e = makeEvent(resultId, { patientId: 'pat_PHI_999', family: 'Zyxwvutsrq', value }) as {
    result: { patient: Record<string, unknown>; observations: Array<Record<string, unknown>> };
  };
  e.result.patient.given = ['Qwertyuiop'];
  e.result.patient.external_id = 'MRN-PHI-777';
  e.result.observations[0]!.comment = 'COMMENT-PHI-TEXT';
  return e;
}

function assertClean(lines: string[], where: string): void {
  assert.ok(lines.length > 0, `${where} logged something`);
  for (const line of lines) for (const s of PHI) assert.ok(!line.includes(s), `${where} log leaks '${s}': ${line}`);
}

test('no name, identifier, value or raw message reaches the logs, on success or failure paths', async () => {
  const lis = await startSandboxLis();
  const refusing = await startSandboxLis('AE');
  const t = await startTestEngine(
    {
      'ok.yaml': webhookToMllpChannel('ok', lis.mllpPort),
      'refused.yaml': webhookToMllpChannel('refused', refusing.mllpPort),
    },
    { logLevel: 'trace' },
  );
  after(async () => {
    await t.stop();
    await lis.stop();
    await refusing.stop();
  });
  assert.equal((await t.post('/channels/ok', phiEvent('res_PHI_1'))).status, 201);
  assert.equal((await t.post('/channels/refused', phiEvent('res_PHI_2'))).status, 201);
  // Bad input that quotes health data in the body.
  assert.equal((await t.post('/channels/ok', phiEvent('res_PHI_3', 987.654 as unknown as string))).status, 422);
  assert.equal((await t.post('/channels/ok', '{"result": {"patient": "Zyxwvutsrq"')).status, 400);
  await t.drained();
  const { messageId } = (await (await t.post('/channels/ok', phiEvent('res_PHI_1'))).json()) as { messageId: string };
  await t.admin(`/api/messages/${messageId}`);
  // An unparseable HL7 message straight to the listener.
  const conn = await MllpClientConnection.connect({ host: '127.0.0.1', port: lis.mllpPort, connectTimeoutMs: 2000, maxFrameBytes: 1 << 20 });
  const ack = (await conn.request('MSH|^~\\&|X||||20261120||ORU^R01|CTL-9|P|2.5.1\rPID|1||MRN-PHI-777||Zyxwvutsrq\r\rbroken', 2000)).toString();
  await conn.close();
  assert.match(ack, /MSA\|AE\|CTL-9\r/);
  await new Promise((r) => setTimeout(r, 50));
  assertClean(t.logs, 'sending engine');
  assertClean(lis.logs, 'sandbox LIS');
  assertClean(refusing.logs, 'refusing LIS');
  assert.ok(t.logs.some((l) => l.includes('HL7_APPLICATION_ERROR')), 'failures are logged by code');
});

test('the logger censors health-data fields if a caller ever passes them', () => {
  const lines: string[] = [];
  const log = createLogger('info', new Writable({ write: (c, _e, cb) => { lines.push(String(c)); cb(); } }));
  log.info({ patient: { family: 'Zyxwvutsrq' }, payload: 'MSH|^~\\&', body: '{"x":1}', value: '987.654', nested: { rawInput: 'MRN-PHI-777' } }, 'oops');
  assertClean(lines, 'logger');
  assert.match(lines[0]!, /\[redacted\]/);
});
