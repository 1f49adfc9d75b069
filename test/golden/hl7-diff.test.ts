/** The segment-and-field diff of two ER7 messages that `conduit test` prints for HL7 outputs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffHl7 } from '../../src/testing/hl7-diff.ts';

const MSH = 'MSH|^~\\&|CONDUIT|POC-PLATFORM|LIS|LAB|20260101000000.000+0000||ORU^R01^ORU_R01|T0001|P|2.5.1';
const PID = 'PID|1||pat_19XK2^^^CATENIX^PI~MRN-004211^^^MRN^MR||Nguyen^Thi^Mai||19840307|F';
const OBX1 = 'OBX|1|NM|GLU^Glucose^L||5.4|mmol/L|3.9-5.5||||F';
const OBX2 = 'OBX|2|NM|K^Potassium^L||6.1|mmol/L|3.5-5.1|H|||F';
const OBX3 = 'OBX|3|SN|HBA1C^Haemoglobin A1c^L||>^14.0|%||HH|||F';
const NTE = 'NTE|1|L|Above measuring range';

const message = (...segments: string[]) => `${segments.join('\n')}\n`;
const base = message(MSH, PID, OBX1, OBX2, OBX3, NTE);

test('equal messages: no differences, whatever the segment terminator', () => {
  assert.deepEqual(diffHl7(base, base), []);
  assert.deepEqual(diffHl7(base, base.replace(/\n/g, '\r')), []);
  assert.deepEqual(diffHl7(base, base.replace(/\n/g, '\r\n')), []);
});

test('a changed field: segment (numbered among its type, from 1) and field, both values', () => {
  const actual = base.replace(OBX2, OBX2.replace('||6.1|', '||6.2|'));
  assert.deepEqual(diffHl7(base, actual), ["OBX[2]-5: expected '6.1', got '6.2'"]);
});

test('MSH has no number; MSH-1 and MSH-2 compare as written', () => {
  assert.deepEqual(diffHl7(base, base.replace('|T0001|', '|T0009|')), ["MSH-10: expected 'T0001', got 'T0009'"]);
  assert.deepEqual(diffHl7(base, base.replace('MSH|^~\\&|', 'MSH|^~\\&#|')), ["MSH-2: expected '^~\\&', got '^~\\&#'"]);
});

test('a field that appears or empties: the empty side is shown as empty', () => {
  assert.deepEqual(diffHl7(base, base.replace(OBX1, `${OBX1}|||20261120091341+0100`)), ["OBX[1]-14: expected '', got '20261120091341+0100'"]);
  assert.deepEqual(diffHl7(base, base.replace(OBX2, OBX2.replace('|H|', '||'))), ["OBX[2]-8: expected 'H', got ''"]);
});

test('one component differs: reported at the component', () => {
  assert.deepEqual(diffHl7(base, base.replace('>^14.0', '>^14.1')), ["OBX[3]-5.2: expected '14.0', got '14.1'"]);
  assert.deepEqual(diffHl7(base, base.replace('Nguyen^Thi^Mai', 'Nguyen^Thi^May')), ["PID[1]-5.3: expected 'Mai', got 'May'"]);
});

test('several components differ, or a simple value becomes composite: reported as the whole field', () => {
  assert.deepEqual(diffHl7(base, base.replace('GLU^Glucose^L', '14743-9^Glucose [Moles/volume] in Capillary blood^LN')), [
    "OBX[1]-3: expected 'GLU^Glucose^L', got '14743-9^Glucose [Moles/volume] in Capillary blood^LN'",
  ]);
  assert.deepEqual(diffHl7(base, base.replace('||6.1|', '||>^6.1|')), ["OBX[2]-5: expected '6.1', got '>^6.1'"]);
});

test('one subcomponent differs: reported at the subcomponent', () => {
  const exp = message(MSH, `OBR|1|ord_1|A1|BMP^Panel^L${'|'.repeat(28)}op_12&Okafor&J`);
  const act = exp.replace('op_12&Okafor&J', 'op_12&Okafor&K');
  assert.deepEqual(diffHl7(exp, act), ["OBR[1]-32.1.3: expected 'J', got 'K'"]);
});

test('repetitions: a changed one by its number, from 1; one added or missing as such', () => {
  assert.deepEqual(diffHl7(base, base.replace('MRN-004211^^^MRN^MR', 'MRN-004212^^^MRN^MR')), ["PID[1]-3(2).1: expected 'MRN-004211', got 'MRN-004212'"]);
  assert.deepEqual(diffHl7(base, base.replace('~MRN-004211^^^MRN^MR', '')), ["PID[1]-3(2): missing 'MRN-004211^^^MRN^MR'"]);
  assert.deepEqual(diffHl7(base, base.replace('^MR||', '^MR~X-1^^^NHS^NH||')), ["PID[1]-3(3): added 'X-1^^^NHS^NH'"]);
});

test('a segment added or missing in the middle shows as that, not as changes to every later segment', () => {
  const extra = 'OBX|2|NM|NA^Sodium^L||140|mmol/L|135-145||||F';
  const renumbered = message(MSH, PID, OBX1, extra, OBX2.replace('OBX|2|', 'OBX|3|'), OBX3.replace('OBX|3|', 'OBX|4|'), NTE);
  assert.deepEqual(diffHl7(base, renumbered), [
    `OBX[2]: added '${extra}'`,
    "OBX[2]-1: expected '2', got '3'",
    "OBX[3]-1: expected '3', got '4'",
  ]);
  assert.deepEqual(diffHl7(base, message(MSH, PID, OBX1, OBX2, OBX3)), [`NTE[1]: missing '${NTE}'`]);
  assert.deepEqual(diffHl7(message(MSH, PID, OBX1, OBX2, OBX3), base), [`NTE[1]: added '${NTE}'`]);
});

test('segments of different types are never compared field by field', () => {
  const exp = message(MSH, PID, 'PV1|1|O');
  const act = message(MSH, 'PV1|1|O');
  assert.deepEqual(diffHl7(exp, act), [`PID[1]: missing '${PID}'`]);
});

test('long values (Base64 documents) are shown around where they differ', () => {
  const pdf = 'JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK';
  const exp = message(MSH, `OBX|4|ED|DOC^Device printout^L||^AP^PDF^Base64^${pdf}||||||F`);
  const act = exp.replace('dHJhaWxlcgo8', 'dHJhaWxlcgo9');
  const [line] = diffHl7(exp, act);
  assert.match(line!, /^OBX\[1\]-5\.5: expected '…[A-Za-z0-9+/]+…?', got '…[A-Za-z0-9+/]+…?'$/);
  assert.ok(line!.length < 200, line);
  assert.ok(line!.includes('dHJhaWxlcgo8') && line!.includes('dHJhaWxlcgo9'), line);
});

test('escapes are shown as written; a separator no longer escaped shows the whole field', () => {
  const exp = message(MSH, 'NTE|1|L|Pipes \\F\\ carets \\S\\');
  assert.deepEqual(diffHl7(exp, exp.replace('\\S\\', '^')), ["NTE[1]-3: expected 'Pipes \\F\\ carets \\S\\', got 'Pipes \\F\\ carets ^'"]);
  assert.deepEqual(diffHl7(exp, exp.replace('\\F\\', '\\T\\')), ["NTE[1]-3: expected 'Pipes \\F\\ carets \\S\\', got 'Pipes \\T\\ carets \\S\\'"]);
});

test('a component added at the end is named', () => {
  assert.deepEqual(diffHl7(base, base.replace('|mmol/L|3.9', '|mmol/L^^UCUM|3.9')), ["OBX[1]-6.3: expected '', got 'UCUM'"]);
});
