/**
 * `fields:` of an oru-r01 mapping: each path form (whole field, component, subcomponent, first,
 * n-th and every repetition), literals and expressions (report-level and per observation),
 * every kind of value an expression gives, and escaping of what it gives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { OruR01Settings } from '../../src/encoders/oru-r01/settings.ts';
import { encodeWith, oruFromYaml } from './mapping-support.ts';
import { CTX, encode, observation, report } from './support.ts';

async function er7(yaml: string, r = report()) {
  return Hl7Message.parse((await encodeWith(yaml, r)).payload);
}

test('a literal sets a whole field: MSH-5 LABSYS', async () => {
  const m = await er7('fields:\n  MSH-5: LABSYS\n  MSH-6: 42\n  OBR-25: true\n');
  assert.equal(m.msh.raw(5), 'LABSYS');
  assert.equal(m.msh.raw(6), '42', 'numbers and booleans are text');
  assert.equal(m.segment('OBR')!.raw(25), 'true');
  assert.equal(m.controlId, CTX.controlId, 'the rest of MSH is as the encoder wrote it');
});

test('PID-3.4 sets a component of the first repetition only; the other stays', async () => {
  const pid = (await er7('fields:\n  PID-3.4: NORTHSIDE\n')).segment('PID')!;
  assert.equal(pid.raw(3), 'pat_19XK2^^^NORTHSIDE^PI~MRN-004211^^^MRN^MR');
});

test('PID-3[*].4 sets it in every repetition; PID-3[2].4 in the second only', async () => {
  assert.equal((await er7('fields:\n  PID-3[*].4: NORTHSIDE\n')).segment('PID')!.raw(3), 'pat_19XK2^^^NORTHSIDE^PI~MRN-004211^^^NORTHSIDE^MR');
  assert.equal((await er7('fields:\n  PID-3[2].4: NORTHSIDE\n')).segment('PID')!.raw(3), 'pat_19XK2^^^CATENIX^PI~MRN-004211^^^NORTHSIDE^MR');
});

test('a repetition, component or subcomponent beyond what is there is padded; trailing empties are trimmed', async () => {
  const pid = (await er7('fields:\n  PID-3[3].1: X-1\n  PID-3[3].4.2: 1.2.3\n  PID-11.7: H\n  PID-3[1].5: ""\n')).segment('PID')!;
  assert.equal(pid.raw(3), 'pat_19XK2^^^CATENIX~MRN-004211^^^MRN^MR~X-1^^^&1.2.3');
  assert.equal(pid.raw(11), '^^^^^^H');
});

test('PID-3[2] (no component) replaces that repetition; [*] on an empty field leaves it empty', async () => {
  const m = await er7('fields:\n  PID-3[2]: \'=["E-77", null, null, "EHR", "MR"]\'\n  PID-13[*]: "555"\n');
  assert.equal(m.segment('PID')!.raw(3), 'pat_19XK2^^^CATENIX^PI~E-77^^^EHR^MR');
  assert.equal(m.segment('PID')!.raw(13), '');
});

test('an expression sees { report, message } on report-level segments', async () => {
  const m = await er7("fields:\n  MSH-6: '=report.device.site'\n  ORC-12: '=message.controlId & \"/\" & $count(report.observations)'\n", report({ device: { id: 'd', site: 'Clinic North' } }));
  assert.equal(m.msh.raw(6), 'Clinic North');
  assert.equal(m.segment('ORC')!.raw(12), 'CTRL-0001/2');
});

test('an OBX expression is evaluated per observation with { report, observation, index }', async () => {
  const m = await er7("fields:\n  OBX-3: '=[observation.code.code, observation.code.display, \"99LAB\"]'\n  OBX-4: '=index'\n  OBX-17: '=report.id & \"-\" & (index + 1)'\n");
  const obx = m.all('OBX');
  assert.deepEqual(
    obx.map((s) => [s.raw(3), s.raw(4), s.raw(17)]),
    [
      ['GLU^Glucose^99LAB', '0', 'res_8F2C41-1'],
      ['K^Potassium^99LAB', '1', 'res_8F2C41-2'],
    ],
  );
});

test('OBX fields apply to the observations, not to the ED OBX of an attached document', async () => {
  const r = report({ attachments: [{ contentType: 'application/pdf', title: 'Printout', dataBase64: 'JVBERi0x' }] });
  const obx = (await er7('fields:\n  OBX-17: METHOD\n', r)).all('OBX');
  assert.deepEqual(
    obx.map((s) => s.raw(17)),
    ['METHOD', 'METHOD', ''],
  );
  assert.equal(obx[2]!.raw(2), 'ED');
});

test('OBX-3 from the analytes table with $lookup: the LOINC code as the primary triplet', async () => {
  const yaml = "fields:\n  OBX-3: '=[$lookup(\"analytes\", observation.code.code, \"loinc\"), $lookup(\"analytes\", observation.code.code, \"loinc_display\"), \"LN\"]'\n";
  const obx = (await er7(yaml)).all('OBX');
  assert.equal(obx[0]!.raw(3), '14743-9^Glucose [Moles/volume] in Capillary blood by Glucometer^LN');
  assert.equal(obx[1]!.raw(3), '6298-4^Potassium [Moles/volume] in Blood^LN');
});

test('{ repeat: [...] } sets a repeating field; an array of components or subcomponents sets those', async () => {
  const m = await er7(
    "fields:\n  OBX-8: '={\"repeat\": [\"H\", \"A\"]}'\n  PID-5: '=[\"Doe\", \"Jane\"]'\n  PID-3.4: '=[\"NS\", \"1.2.3\", \"ISO\"]'\n",
  );
  assert.deepEqual(
    m.all('OBX').map((s) => s.raw(8)),
    ['H~A', 'H~A'],
  );
  assert.equal(m.segment('PID')!.raw(5), 'Doe^Jane');
  assert.equal(m.segment('PID')!.raw(3), 'pat_19XK2^^^NS&1.2.3&ISO^PI~MRN-004211^^^MRN^MR');
});

test('no result keeps what the encoder wrote; null or an empty literal empties the field', async () => {
  const m = await er7("fields:\n  OBX-8: '=observation.flags[0] = \"H\" ? \"HH\" : undefined'\n  OBX-16: '=null'\n  OBX-18:\n  OBX-7: ''\n");
  const [glu, k] = m.all('OBX');
  assert.deepEqual([glu!.raw(8), k!.raw(8)], ['', 'HH']);
  assert.deepEqual([glu!.raw(16), glu!.raw(18), glu!.raw(7)], ['', '', '']);
});

test("a literal that starts with '=' is written '=='", async () => {
  assert.equal((await er7("fields:\n  OBR-13: '==5'\n")).segment('OBR')!.raw(13), '=5');
});

test('special characters an expression or literal gives are escaped by the encoder and read back as given', async () => {
  const nasty = 'a|b^c~d\\e&f';
  const r = report({ device: { id: 'd', site: nasty } });
  const m = await er7(`fields:\n  MSH-6: '=report.device.site'\n  OBR-13: '${nasty}'\n  PID-3.4: '=report.device.site'\n  OBX-17: '=[report.device.site, "x"]'\n  PID-11.1.2: '=report.device.site'\n`, r);
  assert.equal(m.msh.raw(6), 'a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f');
  assert.equal(m.msh.get(6), nasty);
  assert.equal(m.segment('OBR')!.get(13), nasty);
  assert.equal(m.segment('PID')!.get(3, 4), nasty);
  assert.equal(m.segment('PID')!.get(3, 1, 1, 1), 'MRN-004211', 'the other repetition is intact');
  assert.equal(m.all('OBX')[1]!.get(17, 1), nasty);
  assert.equal(m.all('OBX')[1]!.get(17, 2), 'x');
  assert.equal(m.segment('PID')!.get(11, 1, 2), nasty);
  assert.equal(m.segments.length, 7, 'no segment was split');
});

test('line breaks from an expression become \\.br\\, never a segment break', async () => {
  const m = await er7("fields:\n  OBR-13: '=\"line 1\\nline 2\"'\n");
  assert.equal(m.segment('OBR')!.raw(13), 'line 1\\.br\\line 2');
});

test('a segment the message does not have is left out: PID fields without a patient', async () => {
  const r = report({ patient: undefined, encounter: undefined });
  const m = await er7('fields:\n  PID-3.4: NORTHSIDE\n  PV1-2: E\n', r);
  assert.deepEqual(
    m.segments.map((s) => s.name),
    ['MSH', 'ORC', 'OBR', 'OBX', 'OBX'],
  );
});

test('without fields or segments (and without tables) the encoder stays synchronous and writes what the plain encoder writes', () => {
  const { encoder } = oruFromYaml('', { tables: new Map() });
  const out = encoder.encode(report(), CTX);
  assert.ok(!(out instanceof Promise));
  assert.equal((out as { payload: string }).payload, encode(report(), OruR01Settings.parse({})));
});

test('a value of the wrong kind fails the encoding, naming the field and the observation, never the value', async () => {
  const r = report({ observations: [observation(), observation({ code: { code: 'SECRET-CODE' } })] });
  const { encoder } = oruFromYaml("fields:\n  OBX-3.1: '=index = 1 ? {\"x\": observation.code.code} : \"ok\"'\n  OBX-4.1.1: '=[\"a\"]'\n");
  await assert.rejects(async () => encoder.encode(r, CTX), (e: Error) => {
    assert.equal(e.message, 'fields.OBX-3.1 (observation 2): the value is an object; expected text or an array of subcomponents');
    return true;
  });
  const sub = oruFromYaml("fields:\n  OBX-4.1.1: '=[\"a\"]'\n").encoder;
  await assert.rejects(async () => sub.encode(r, CTX), /^EditError: fields\.OBX-4\.1\.1 \(observation 1\): the value is an array; expected text$/);
  const rep = oruFromYaml("fields:\n  PID-3.1: '={\"repeat\": [\"a\"]}'\n").encoder;
  await assert.rejects(async () => rep.encode(r, CTX), /PID-3\.1: the value is \{ repeat: \[\.\.\.\] \}, which sets a whole field/);
});

test('an expression that fails at run time names the field and position, not the data', async () => {
  const r = report({ patient: { identifiers: [], given: [], family: 'Secret-Family' } });
  const { encoder } = oruFromYaml("fields:\n  PID-5: '=$number(report.patient.family)'\n");
  await assert.rejects(async () => encoder.encode(r, CTX), (e: Error) => {
    assert.match(e.message, /^fields\.PID-5: the expression failed at character \d+; preview the input to see why$/);
    assert.ok(!e.message.includes('Secret'));
    return true;
  });
});
