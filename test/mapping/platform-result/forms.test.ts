/** The compact and full forms of platform events (shared/platform-events.md) → canonical report. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LabReport } from '../../../src/canonical/report.ts';
import { createPlatformResultMapping } from '../../../src/mapping/platform-result/map.ts';
import { platformEventNames } from '../../support/repo.ts';
import { mapped, SETTINGS, sample } from './support.ts';

test('the full form maps every field of the event', () => {
  const m = mapped(sample('full-bmp-panel'));
  assert.equal(m.sourceId, 'res_8F2C41');
  assert.equal(m.sourceVersion, '1');
  assert.deepEqual(m.report, {
    id: 'res_8F2C41',
    version: 1,
    correction: false,
    status: 'final',
    patient: {
      id: 'pat_19XK2',
      identifiers: [
        { value: 'pat_19XK2', system: 'CATENIX', type: 'PI' },
        { value: 'MRN-004211', system: 'MRN', type: 'MR' },
      ],
      family: 'Nguyen',
      given: ['Thi', 'Mai'],
      birthDate: '1984-03-07',
      sex: 'female',
    },
    encounter: { id: 'enc_3K9QX' },
    order: { id: 'ord_77120', accession: 'A2611200042' },
    device: { id: 'dev_AF2_0007', model: 'Afinion 2', serial: 'AF2-11873', site: 'Clinic North' },
    operator: { id: 'op_12', name: 'J. Okafor' },
    panel: { code: 'BMP-POC', display: 'Basic metabolic panel (point of care)', system: 'L' },
    observedAt: '2026-11-20T09:13:41+01:00',
    issuedAt: '2026-11-20T08:14:03Z',
    observations: [
      {
        code: { code: 'GLU', display: 'Glucose', system: 'L' },
        value: '5.4',
        unit: 'mmol/L',
        referenceRange: '3.9-5.5',
        flags: [],
        status: 'final',
        statusText: 'final',
        observedAt: '2026-11-20T09:13:41+01:00',
        comments: [],
      },
      {
        code: { code: 'K', display: 'Potassium', system: 'L' },
        value: '6.1',
        unit: 'mmol/L',
        referenceRange: '3.5-5.1',
        flags: ['H'],
        status: 'final',
        statusText: 'final',
        observedAt: '2026-11-20T09:13:41+01:00',
        comments: [],
      },
      {
        code: { code: 'HBA1C', display: 'Haemoglobin A1c', system: 'L' },
        value: '>14.0',
        unit: '%',
        flags: ['HH'],
        status: 'final',
        statusText: 'final',
        observedAt: '2026-11-20T09:13:41+01:00',
        comments: ['Above measuring range'],
      },
    ],
    attachments: [
      {
        contentType: 'application/pdf',
        title: 'Device printout',
        dataBase64: sample('full-bmp-panel').result.documents[0].data_base64,
      },
    ],
    provenance: { kind: 'platform-event', eventId: 'evt_01JD8X4M2W', eventType: 'result.created', occurredAt: '2026-11-20T08:14:03Z', tenant: 'northside-clinics' },
  });
});

test('the compact form becomes one observation with the result-level fields', () => {
  const m = mapped(sample('compact-glucose'));
  assert.equal(m.sourceId, 'res_7Q2M9');
  // No version in the compact form: the first version.
  assert.equal(m.sourceVersion, '1');
  assert.deepEqual(m.report, {
    id: 'res_7Q2M9',
    version: 1,
    correction: false,
    status: 'final',
    encounter: { id: 'enc_51KD2' },
    device: { id: 'dev_AF2_0007' },
    observations: [{ code: { code: 'GLU', system: 'L' }, value: '5.4', unit: 'mmol/L', flags: [], status: 'final', statusText: 'final', comments: [] }],
    attachments: [],
    provenance: { kind: 'platform-event', eventType: 'result.created' },
  });
});

test('the compact form carries its range, flags and observation time', () => {
  const e = sample('compact-glucose');
  Object.assign(e.result, { reference_range: '3.9-5.5', flags: ['H', 'A'], observed_at: '2026-11-20T09:13:41-03:30' });
  const [o] = mapped(e).report.observations;
  assert.equal(o!.referenceRange, '3.9-5.5');
  assert.deepEqual(o!.flags, ['H', 'A']);
  assert.equal(o!.observedAt, '2026-11-20T09:13:41-03:30');
});

test('a minimal event without patient, encounter, order or device has none of them', () => {
  const r = mapped(sample('minimal-no-patient')).report;
  for (const k of ['patient', 'encounter', 'order', 'device', 'operator', 'panel', 'observedAt', 'issuedAt']) assert.ok(!(k in r), k);
  assert.equal(r.observations[0]!.value, 'POSITIVE');
});

test('a patient with only an external id has one MR identifier and no platform id', () => {
  const e = sample('full-bmp-panel');
  e.result.patient = { external_id: 'MRN-1' };
  const p = mapped(e).report.patient!;
  assert.deepEqual(p, { identifiers: [{ value: 'MRN-1', system: 'MRN', type: 'MR' }], given: [] });
});

test('an order is kept when only its accession is known', () => {
  const e = sample('full-bmp-panel');
  delete e.result.order_ref;
  assert.deepEqual(mapped(e).report.order, { accession: 'A2611200042' });
});

test('device_ref alone becomes the device id; the device object wins over it', () => {
  const e = sample('compact-glucose');
  assert.deepEqual(mapped(e).report.device, { id: 'dev_AF2_0007' });
  e.result.device = { model: 'M', serial: 'S' };
  // The object has no id: the reference still names the device.
  assert.deepEqual(mapped(e).report.device, { id: 'dev_AF2_0007', model: 'M', serial: 'S' });
  e.result.device.id = 'dev_OBJ';
  assert.equal(mapped(e).report.device!.id, 'dev_OBJ');
});

test('issuedAt is the result issued_at, else the event occurred_at', () => {
  const e = sample('full-bmp-panel');
  assert.equal(mapped(e).report.issuedAt, '2026-11-20T08:14:03Z');
  e.result.issued_at = '2026-11-20T09:20:00+01:00';
  assert.equal(mapped(e).report.issuedAt, '2026-11-20T09:20:00+01:00');
});

test('an observation time of its own wins over the result time', () => {
  const e = sample('full-bmp-panel');
  e.result.observations[1].observed_at = '2026-11-20T09:15:00+01:00';
  const obs = mapped(e).report.observations;
  assert.equal(obs[0]!.observedAt, '2026-11-20T09:13:41+01:00');
  assert.equal(obs[1]!.observedAt, '2026-11-20T09:15:00+01:00');
});

test('documents become attachments in order; a documents-only event has no observations', () => {
  const e = sample('full-bmp-panel');
  delete e.result.observations;
  e.result.documents.push({ content_type: 'image/png', data_base64: 'iVBORw0KGgo=' });
  const r = mapped(e).report;
  assert.deepEqual(r.observations, []);
  assert.deepEqual(r.attachments, [
    { contentType: 'application/pdf', title: 'Device printout', dataBase64: e.result.documents[0].data_base64 },
    { contentType: 'image/png', dataBase64: 'iVBORw0KGgo=' },
  ]);
});

test('fields the platform adds later are ignored, not refused', () => {
  const e = sample('full-bmp-panel');
  e.schema_version = 7;
  e.result.new_field = { anything: true };
  e.result.observations[0].loinc_hint = '2345-7';
  assert.equal(mapped(e).report.observations.length, 3);
});

test('every sample event maps to a report that satisfies the canonical schema', () => {
  const names = platformEventNames();
  assert.ok(names.length >= 8);
  for (const f of names) {
    const r = mapped(sample(f)).report;
    const check = LabReport.safeParse(r);
    assert.ok(check.success, `${f}: ${JSON.stringify(check.error?.issues)}`);
  }
});

test('the mapping object parses the JSON text and gives one mapped input per event', () => {
  const mapping = createPlatformResultMapping('platform-result', SETTINGS);
  assert.equal(mapping.id, 'platform-result');
  assert.equal(mapping.format, 'json');
  const text = JSON.stringify(sample('compact-glucose'));
  const out = mapping.map({ text, format: 'json' });
  assert.equal(out.length, 1);
  assert.equal(out[0]!.report.id, 'res_7Q2M9');
});
