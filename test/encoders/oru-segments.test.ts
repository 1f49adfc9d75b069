/**
 * `segments:` of an oru-r01 mapping: added segments (a ZRS …) per report or per observation,
 * placed after a segment and its notes, with literal and expression fields.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { encodeWith } from './mapping-support.ts';
import { observation, report } from './support.ts';

const withComments = () =>
  report({
    comments: ['report note'],
    device: { id: 'dev_1', model: 'Afinion 2', serial: 'AF2-11873', site: 'Clinic North' },
    observations: [observation({ comments: ['glucose note'] }), observation({ code: { code: 'K', display: 'Potassium' }, value: '6.1', flags: ['H'] })],
  });

async function lines(yaml: string, r = withComments()): Promise<string[]> {
  return Hl7Message.parse((await encodeWith(yaml, r)).payload).segments.map((s) => s.toString());
}

test('a ZRS per report after OBR goes after the OBR and its notes, its fields from the report', async () => {
  const out = await lines("segments:\n  - name: ZRS\n    after: OBR\n    per: report\n    fields:\n      1: '=report.device.site'\n      2: POC\n      3: '=[report.device.model, report.device.serial]'\n");
  assert.deepEqual(
    out.map((l) => l.slice(0, 3)),
    ['MSH', 'PID', 'PV1', 'ORC', 'OBR', 'NTE', 'ZRS', 'OBX', 'NTE', 'OBX'],
  );
  assert.equal(out[6], 'ZRS|Clinic North|POC|Afinion 2^AF2-11873');
});

test('per defaults to report; after OBX it goes at the end of the order group, after any document OBX', async () => {
  const r = withComments();
  r.attachments = [{ contentType: 'application/pdf', dataBase64: 'JVBERi0x' }];
  const out = await lines('segments:\n  - { name: ZRS, after: OBX, fields: { 2: POC } }\n', r);
  assert.deepEqual(
    out.map((l) => l.slice(0, 3)),
    ['MSH', 'PID', 'PV1', 'ORC', 'OBR', 'NTE', 'OBX', 'NTE', 'OBX', 'OBX', 'ZRS'],
  );
  assert.equal(out.at(-1), 'ZRS||POC');
});

test('per observation after OBX: one after each observation and its notes, with { observation, index }', async () => {
  const out = await lines("segments:\n  - name: ZOB\n    after: OBX\n    per: observation\n    fields:\n      1: '=index + 1'\n      2.2: '=observation.code.code'\n");
  assert.deepEqual(
    out.map((l) => l.slice(0, 3)),
    ['MSH', 'PID', 'PV1', 'ORC', 'OBR', 'NTE', 'OBX', 'NTE', 'ZOB', 'OBX', 'ZOB'],
  );
  assert.deepEqual(
    out.filter((l) => l.startsWith('ZOB')),
    ['ZOB|1|^GLU', 'ZOB|2|^K'],
  );
});

test('per observation after another segment: all of them there, in observation order', async () => {
  const out = await lines("segments:\n  - { name: ZOB, after: ORC, per: observation, fields: { 1: '=observation.code.code' } }\n");
  assert.deepEqual(out.slice(3, 7), ['ORC|RE|ord_77120|A2611200042||||||20261120081403+0000', 'ZOB|GLU', 'ZOB|K', out[6]]);
  assert.match(out[6]!, /^OBR\|/);
});

test('segments at the same place keep the order of the file; one may follow another added segment', async () => {
  const yaml = [
    'segments:',
    '  - { name: ZA1, after: PID, fields: { 1: a } }',
    '  - { name: ZA2, after: PID, fields: { 1: b } }',
    '  - { name: ZOB, after: OBX, per: observation, fields: { 1: "=index" } }',
    '  - { name: ZOC, after: ZOB, per: observation, fields: { 1: "=index" } }',
    '  - { name: ZED, after: ZA1 }',
  ].join('\n');
  const out = await lines(yaml);
  assert.deepEqual(
    out.map((l) => l.slice(0, 3)),
    ['MSH', 'PID', 'ZA1', 'ZED', 'ZA2', 'PV1', 'ORC', 'OBR', 'NTE', 'OBX', 'NTE', 'ZOB', 'ZOC', 'OBX', 'ZOB', 'ZOC'],
  );
  assert.deepEqual(
    out.filter((l) => l.startsWith('ZO')),
    ['ZOB|0', 'ZOC|0', 'ZOB|1', 'ZOC|1'],
  );
});

test('a segment whose anchor is missing is left out: after PID without a patient', async () => {
  const r = withComments();
  r.patient = undefined;
  r.encounter = undefined;
  const out = await lines('segments:\n  - { name: ZPI, after: PID, fields: { 1: x } }\n  - { name: ZRS, after: OBR }\n', r);
  assert.deepEqual(
    out.map((l) => l.slice(0, 3)),
    ['MSH', 'ORC', 'OBR', 'NTE', 'ZRS', 'OBX', 'NTE', 'OBX'],
  );
  assert.equal(out[4], 'ZRS', 'a segment without fields is its name alone');
});

test('added segments take every path form, and what their expressions give is escaped', async () => {
  const r = withComments();
  r.device!.site = 'North|Wing^2&3~4\\5';
  const out = await lines("segments:\n  - name: ZRS\n    after: OBR\n    fields:\n      1: '=report.device.site'\n      2[2].3: x\n      3.1.2: '=report.device.site'\n      4: '={\"repeat\": [\"a\", [\"b\", \"c\"]]}'\n", r);
  const zrs = Hl7Message.parse(`${out.join('\r')}\r`).segment('ZRS')!;
  assert.equal(zrs.get(1), 'North|Wing^2&3~4\\5');
  assert.equal(zrs.raw(2), '~^^x');
  assert.equal(zrs.get(3, 1, 2), 'North|Wing^2&3~4\\5');
  assert.equal(zrs.raw(4), 'a~b^c');
});
