/**
 * Which report a message is, and in what state: report ids (what the FHIR encoder's
 * conditional creates use), sourceId and sourceVersion (intake idempotency), statuses from
 * tables 0085/0123 and corrections.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MSH, mapped, message, OBR, obx, ORC, oru, PID, report, settings } from './support.ts';

const order = (orc: string, obr: string) => report(message(MSH, PID, orc, obr, obx({})));

test('report id: filler (OBR-3, else ORC-3), else placer (OBR-2, else ORC-2), else MSH-10#n; EI-1 only', () => {
  assert.equal(order('ORC|RE|P-ORC^EHR|F-ORC^LAB', 'OBR|1|P-OBR^EHR|F-OBR^LAB^1.2.3^ISO|GLU^Glucose^L').id, 'F-OBR');
  assert.equal(order('ORC|RE|P-ORC|F-ORC', 'OBR|1|P-OBR||GLU^Glucose^L').id, 'F-ORC');
  assert.equal(order('ORC|RE|P-ORC', 'OBR|1|P-OBR||GLU^Glucose^L').id, 'P-OBR');
  assert.equal(order('ORC|RE|P-ORC', 'OBR|1|||GLU^Glucose^L').id, 'P-ORC');
  assert.equal(order('ORC|RE', 'OBR|1|^EHR|^LAB|GLU^Glucose^L').id, 'CTRL-1#1');
  assert.deepEqual(order('ORC|RE|P-ORC|F-ORC', 'OBR|1|||GLU^Glucose^L').order, { id: 'P-ORC', accession: 'F-ORC' });
  assert.equal(order('ORC|RE', 'OBR|1|||GLU^Glucose^L').order, undefined);
});

test('an ORC belongs to the OBR after it only: a second OBR without its own ORC does not inherit its numbers', () => {
  const out = mapped(message(MSH, PID, 'ORC|RE|P-1|F-1', 'OBR|1|||GLU^Glucose^L', obx({}), 'OBR|2|||K^Potassium^L', obx({})));
  assert.deepEqual(
    out.map((m) => m.report.id),
    ['F-1', 'CTRL-1#2'],
  );
});

test('orders of one message that share a number are told apart by their OBR-4 code, then by position', () => {
  const two = mapped(message(MSH, PID, ORC, OBR, obx({}), 'OBR|2|PLC-1|FIL-1|K^Potassium^L', obx({})));
  assert.deepEqual(
    two.map((m) => m.report.id),
    ['FIL-1/GLU', 'FIL-1/K'],
  );
  const same = mapped(message(MSH, PID, ORC, OBR, obx({}), OBR.replace('OBR|1', 'OBR|2'), obx({}), 'OBR|3|PLC-1|FIL-9|GLU^Glucose^L', obx({})));
  assert.deepEqual(
    same.map((m) => m.report.id),
    ['FIL-1/GLU/1', 'FIL-1/GLU/2', 'FIL-9'],
  );
  // order-and-service: every order number carries its OBR-4 code, so a later message with
  // only one of the tests still names the same report.
  const s = settings({ reportIdentity: 'order-and-service' });
  assert.equal(report(oru(obx({})), s).id, 'FIL-1/GLU');
  assert.equal(report(message(MSH, PID, 'ORC|RE', 'OBR|1|||GLU^Glucose^L', obx({})), s).id, 'CTRL-1#1');
});

test('sourceId is MSH-10, with #n for the n-th order when there are several', () => {
  assert.deepEqual(
    mapped(oru(obx({}))).map((m) => m.sourceId),
    ['CTRL-1'],
  );
  assert.deepEqual(
    mapped(message(MSH, PID, ORC, OBR, obx({}), 'ORC|RE|P-2|F-2', 'OBR|2|P-2|F-2|K^Potassium^L', obx({}))).map((m) => m.sourceId),
    ['CTRL-1#1', 'CTRL-1#2'],
  );
});

test('sourceVersion: a resend (same MSH-10 and body, whatever MSH-7 and line endings) is the same; a reused MSH-10 with new content is not', () => {
  const text = oru(obx({}), 'NTE|1|L|note');
  const version = (t: string) => mapped(t)[0]!.sourceVersion;
  assert.equal(version(text), version(text));
  assert.equal(version(text.replace('20261120091500+0100', '20261120093000+0100')), version(text));
  assert.equal(version(text.replaceAll('\r', '\r\n')), version(text));
  assert.equal(version(`${text}\r`), version(text));
  assert.notEqual(version(text.replace('|5.4|', '|5.5|')), version(text));
  assert.equal(mapped(text.replace('|5.4|', '|5.5|'))[0]!.sourceId, mapped(text)[0]!.sourceId);
});

test('OBX-11 through HL7 table 0085, kept as sent; settings add codes (unknown codes: unknown-status.test.ts)', () => {
  const expected: Record<string, string> = {
    A: 'amended', B: 'amended', C: 'corrected', D: 'entered-in-error', F: 'final', I: 'registered', N: 'cancelled',
    O: 'registered', P: 'preliminary', R: 'preliminary', S: 'preliminary', U: 'final', W: 'entered-in-error', X: 'cancelled',
  };
  for (const [code, status] of Object.entries(expected)) {
    const o = report(oru(obx({ 11: code }))).observations[0]!;
    assert.deepEqual([o.status, o.statusText], [status, code], code);
  }
  const z = report(oru(obx({ 11: 'Z' })), settings({ observationStatuses: { Z: 'final' } })).observations[0]!;
  assert.deepEqual([z.status, z.statusText], ['final', 'Z']);
});

test('OBR-25 through HL7 table 0123; an OBX without OBX-11 takes the report status', () => {
  const expected: Record<string, string> = {
    O: 'registered', I: 'registered', S: 'registered', A: 'preliminary', P: 'preliminary', R: 'preliminary', C: 'corrected', F: 'final', X: 'cancelled',
  };
  const withStatus = (s: string) => oru(obx({ 11: '' })).replace('0100|||F', `0100|||${s}`);
  for (const [code, status] of Object.entries(expected)) {
    const r = report(withStatus(code));
    assert.equal(r.status, status, code);
    assert.deepEqual([r.observations[0]!.status, r.observations[0]!.statusText], [status, undefined], code);
  }
  assert.deepEqual(Object.entries(report(withStatus('Q'), settings({ resultStatuses: { Q: 'final' } }))).filter(([k]) => k.startsWith('status')), [
    ['status', 'final'],
    ['statusText', 'Q'],
  ]);
});

test('without OBR-25 the report status comes from the observations', () => {
  const noObr25 = (...statuses: string[]) => report(oru(...statuses.map((s, i) => obx({ 1: String(i + 1), 11: s }))).replace('0100|||F', '0100|||'));
  assert.equal(noObr25('F', 'F').status, 'final');
  assert.equal(noObr25('I', 'I').status, 'registered');
  assert.equal(noObr25('F', 'P', 'I').status, 'preliminary');
  assert.equal(noObr25('F', 'X').status, 'final');
  assert.equal(noObr25('X', 'D').status, 'cancelled', 'nothing left to report');
  assert.equal(noObr25('F', '').observations[1]!.status, 'final', 'an OBX without OBX-11 takes the report status');
  const mixed = noObr25('C', 'F');
  assert.deepEqual([mixed.status, mixed.correction], ['corrected', true]);
});

test('a correction: OBR-25 C, or every OBX-11 C; only the corrected OBX say C', () => {
  const obr25c = report(oru(obx({ 11: 'C' }), obx({ 1: '2', 11: 'F' })).replace('0100|||F', '0100|||C'));
  assert.deepEqual([obr25c.correction, obr25c.status, obr25c.observations.map((o) => o.status)], [true, 'corrected', ['corrected', 'final']]);
  const allC = report(oru(obx({ 11: 'C' }), obx({ 1: '2', 11: 'C' })));
  assert.deepEqual([allC.correction, allC.status], [true, 'corrected']);
  const someC = report(oru(obx({ 11: 'C' }), obx({ 1: '2', 11: 'F' })));
  assert.deepEqual([someC.correction, someC.status], [false, 'final']);
  assert.equal(report(message(MSH, PID, ORC, OBR.replace('0100|||F', '0100|||C'))).correction, true, 'a corrected order without results');
  assert.equal(report(oru(obx({}))).version, 1);
});
