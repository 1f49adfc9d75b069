/**
 * How a message is split into reports and what goes where: patients, notes, segments that
 * are ignored, times and their offsets.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MSH, mapped, message, OBR, obx, ORC, oru, PID, report, settings } from './support.ts';

test('several patients in one message: each order belongs to the PID (and PV1) before it', () => {
  const out = mapped(
    message(MSH, PID, ['PV1', '1', 'O', ...Array(16).fill(''), 'V-1'].join('|'), ORC, OBR, obx({}), 'PID|2||MRN-2^^^HOSP^MR||Roe^Rich', 'ORC|RE|P-2|F-2', 'OBR|1|P-2|F-2|K^Potassium^L', obx({})),
  );
  assert.deepEqual(
    out.map((m) => [m.report.id, m.report.patient?.id, m.report.encounter?.id]),
    [
      ['FIL-1', 'MRN-1', 'V-1'],
      ['F-2', 'MRN-2', undefined],
    ],
  );
});

test('an ORU^R01 without PID (where allowMissingPatient lets it in), or with an empty one, has no patient', () => {
  assert.equal(report(message(MSH, ORC, OBR, obx({})), settings({ allowMissingPatient: true })).patient, undefined);
  assert.equal(report(message(MSH, 'PID|1', ORC, OBR, obx({}))).patient, undefined);
});

test('NTEs: after OBR (or between ORC and OBR) → report; after OBX → that OBX; after PID or SPM → not carried', () => {
  const r = report(
    message(
      MSH,
      PID,
      'NTE|1|P|patient note',
      ORC,
      'NTE|1|L|order note',
      OBR,
      'NTE|1|L|report note 1',
      'NTE|2|L|report\\.br\\note 2~second repetition',
      'TQ1|1||||||20261120091000',
      obx({}),
      'NTE|1|L|on the first result',
      'ZXX|vendor data',
      'NTE|2|L|still the first result',
      'SPM|1|||BLD',
      'NTE|1|L|specimen note',
      obx({ 1: '2' }),
      'NTE|1|L|',
    ),
  );
  assert.deepEqual(r.comments, ['order note', 'report note 1', 'report\nnote 2\nsecond repetition']);
  assert.deepEqual(
    r.observations.map((o) => o.comments),
    [['on the first result', 'still the first result'], ['']],
  );
});

test('Z segments and segments the mapping does not read are ignored wherever they stand', () => {
  const plain = report(oru(obx({})));
  const busy = report(
    message(
      MSH,
      'ZPI|||secret',
      'SFT|Vendor|1.0|App|42',
      PID,
      'PD1||||Dr^Who',
      'NK1|1|Doe^John|SPO',
      'PV1|1|O',
      'PV2|||1^Sick',
      ORC,
      'ZOR|x',
      OBR,
      'TQ1|1',
      'CTD|C',
      'PRT|1|AD',
      obx({}),
      'PRT|1|AD',
      'SPM|1|||BLD',
      'ZZZ|end',
    ),
  );
  assert.deepEqual(busy.observations, plain.observations);
  assert.deepEqual(busy.patient, plain.patient);
});

test('repeated OBX set ids are separate results; an order without OBX is a report without observations', () => {
  assert.equal(report(oru(obx({ 1: '1' }), obx({ 1: '1' }), obx({ 1: '1' }))).observations.length, 3);
  const empty = report(message(MSH, PID, ORC, OBR.replace('0100|||F', '0100|||X')));
  assert.deepEqual([empty.observations, empty.status], [[], 'cancelled']);
});

test('patient: identifiers from PID-3 (skipping empty ones), systems renamed by settings, PID-2 when PID-3 is empty', () => {
  const pid = (p: string) => report(message(MSH, p, ORC, OBR, obx({}))).patient;
  assert.deepEqual(pid('PID|1||A1^^^HOSP&1.2.3&ISO^MR~^^^^Patient ID~B2^^^&2.16.840.1&ISO^PI~C3')?.identifiers, [
    { value: 'A1', system: 'urn:oid:1.2.3', type: 'MR', assigningAuthority: { namespace: 'HOSP', universalId: '1.2.3', universalIdType: 'ISO' } },
    { value: 'B2', system: 'urn:oid:2.16.840.1', type: 'PI', assigningAuthority: { universalId: '2.16.840.1', universalIdType: 'ISO' } },
    { value: 'C3' },
  ]);
  const s = settings({ patientIdentifierSystems: { HOSP: 'urn:oid:1.2.3', '2.16.840.1': 'https://example.org/pi' } });
  assert.deepEqual(
    report(message(MSH, 'PID|1||A1^^^HOSP^MR~B2^^^&2.16.840.1&ISO^PI', ORC, OBR, obx({})), s).patient?.identifiers.map((i) => i.system),
    ['urn:oid:1.2.3', 'https://example.org/pi'],
  );
  assert.deepEqual(pid('PID|1|EXT-9^^^OLDLIS||Doe^Jane')?.identifiers, [{ value: 'EXT-9', system: 'OLDLIS', assigningAuthority: { namespace: 'OLDLIS' } }]);
  assert.equal(pid('PID|1|EXT-9|A1||Doe^Jane')?.id, 'A1');
});

test('patient: the first PID-5 repetition with a name; given names as sent; birth date at its precision', () => {
  const pid = (p: string) => report(message(MSH, p, ORC, OBR, obx({}))).patient!;
  const animal = pid('PID|1||A1||^^^^^^L~Everyman^Fluffy^^^^^N||20070602|M');
  assert.deepEqual([animal.family, animal.given], ['Everyman', ['Fluffy']]);
  assert.deepEqual(pid('PID|1||A1||van der Berg&van der&Berg^Anna Maria^J').given, ['Anna Maria', 'J']);
  assert.equal(pid('PID|1||A1||van der Berg&van der&Berg^Anna').family, 'van der Berg');
  assert.equal(pid('PID|1||A1||Doe||1980').birthDate, '1980');
  assert.equal(pid('PID|1||A1||Doe||198002').birthDate, '1980-02');
  assert.equal(pid('PID|1||A1||Doe||19800229235900+0100').birthDate, '1980-02-29');
  assert.equal(pid('PID|1||A1||Doe||19800102^D').birthDate, '1980-01-02');
  const sexes = ['F', 'M', 'O', 'U', 'A', 'N'].map((c) => pid(`PID|1||A1||Doe|||${c}`).sex);
  assert.deepEqual(sexes, ['female', 'male', 'other', 'unknown', 'other', 'unknown']);
});

test('times keep their offset; a time without one stays local unless defaultTimezoneOffset is set; dates stay dates', () => {
  const text = oru(obx({ 14: '20261120090500' }), obx({ 1: '2', 14: '' }), obx({ 1: '3', 2: 'DT', 5: '20261119' })).replace('20261120091000+0100', '20261120091000');
  const local = report(text);
  assert.deepEqual(
    [local.observedAt, local.issuedAt, local.provenance.occurredAt],
    ['2026-11-20T09:10:00', '2026-11-20T09:14:00+01:00', '2026-11-20T09:15:00+01:00'],
  );
  assert.deepEqual(
    local.observations.map((o) => o.observedAt),
    ['2026-11-20T09:05:00', '2026-11-20T09:10:00', '2026-11-20T09:10:00'],
    'OBX-14, else OBR-7',
  );
  const zoned = report(text, settings({ defaultTimezoneOffset: '-05:00' }));
  assert.deepEqual([zoned.observedAt, zoned.issuedAt], ['2026-11-20T09:10:00-05:00', '2026-11-20T09:14:00+01:00']);
  assert.equal(zoned.observations[0]!.observedAt, '2026-11-20T09:05:00-05:00');
  assert.equal(zoned.observations[2]!.value, '2026-11-19', 'a DT value gets no offset');
  assert.equal(report(text, settings({ defaultTimezoneOffset: 'Z' })).observedAt, '2026-11-20T09:10:00Z');
  // Without OBR-7 the report's time is the first OBX-14.
  assert.equal(report(message(MSH, PID, ORC, 'OBR|1|P|F|GLU^Glucose^L', obx({ 14: '' }), obx({ 1: '2', 14: '202611200800+0100' }))).observedAt, '2026-11-20T08:00:00+01:00');
});

test('device and operator come from the first OBX that has OBX-18 / OBX-16', () => {
  const r = report(oru(obx({}), obx({ 1: '2', 16: '^Okafor^Jide', 18: 'SN-1^GLUCOMETER 7' }), obx({ 1: '3', 16: 'OP9^Other', 18: 'SN-2' })));
  assert.deepEqual(r.device, { id: 'SN-1', model: 'GLUCOMETER 7' });
  assert.deepEqual(r.operator, { name: 'Jide Okafor' });
  assert.deepEqual(report(oru(obx({ 16: 'OP1' }))).operator, { id: 'OP1' });
  assert.equal(report(oru(obx({}))).device, undefined);
});
