/**
 * The FHIR Bundle encoder with code tables: LOINC from the analytes table (settings.loinc still
 * overrides), UCUM from the units table (settings.ucumUnits still overrides), interpretations
 * from the flags table for flags that are not v3 codes, and warnings for what stays local.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import type { Encoded } from '../../src/encoders/types.ts';
import { fhirEncoder, repoTables, table } from './mapping-support.ts';
import { CTX, observation, report } from './support.ts';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

function encode(r = report(), settings: Record<string, unknown> = {}, tables = repoTables()): { out: Encoded; observations: Observation[]; bundle: Bundle } {
  const out = fhirEncoder(settings, tables).encoder.encode(r, CTX) as Encoded;
  const bundle = JSON.parse(out.payload) as Bundle;
  const observations = bundle.entry!.map((e) => e.resource!).filter((x): x is Observation => x.resourceType === 'Observation');
  return { out, observations, bundle };
}

test('Observation.code gets the LOINC coding of the analytes table before the local code', () => {
  const { out, observations } = encode();
  assert.deepEqual(observations[0]!.code.coding![0], { system: LOINC, code: '14743-9', display: 'Glucose [Moles/volume] in Capillary blood by Glucometer' });
  assert.equal(observations[0]!.code.coding![1]!.code, 'GLU');
  assert.deepEqual(observations[1]!.code.coding![0], { system: LOINC, code: '6298-4', display: 'Potassium [Moles/volume] in Blood' });
  assert.equal(out.warnings, undefined);
});

test('settings.loinc still overrides the table, and a LOINC the report carries wins over both', () => {
  const r = report({ observations: [observation(), observation({ code: { code: 'K' }, loinc: { code: '2823-3', system: 'LN' } })] });
  const { observations } = encode(r, { loinc: { GLU: { code: '2345-7', display: 'Glucose SerPl' }, K: { code: '6298-4' } } });
  assert.deepEqual(observations[0]!.code.coding![0], { system: LOINC, code: '2345-7', display: 'Glucose SerPl' });
  assert.equal(observations[1]!.code.coding![0]!.code, '2823-3');
});

test('valueQuantity and the reference range get UCUM from the units table; settings.ucumUnits overrides it', () => {
  const r = report({ observations: [observation({ unit: 'mmol/l' }), observation({ code: { code: 'WBC' }, value: '7.1', unit: '10^9/L', referenceRange: '4.0-11.0' })] });
  const { observations } = encode(r);
  assert.deepEqual(observations[0]!.valueQuantity, { value: 5.4, unit: 'mmol/l', system: UCUM, code: 'mmol/L' });
  assert.deepEqual(observations[1]!.referenceRange![0]!.low, { value: 4, unit: '10^9/L', system: UCUM, code: '10*9/L' });
  const over = encode(r, { ucumUnits: { 'mmol/l': 'mmol/dL' } }).observations;
  assert.equal(over[0]!.valueQuantity!.code, 'mmol/dL');
});

test('an analyte without LOINC is sent with its local code alone, with a warning naming the source', () => {
  const r = report({ observations: [observation({ code: { code: 'XYZ', display: 'Mystery' }, value: 'Nguyen' })] });
  const { out, observations } = encode(r);
  assert.deepEqual(observations[0]!.code.coding, [{ system: 'urn:conduit:code:local', code: 'XYZ', display: 'Mystery' }]);
  assert.deepEqual(out.warnings, ["analyte 'XYZ' has no LOINC code in tables/analytes.csv; sent with its local code only"]);
  const both = encode(r, { loinc: { GLU: { code: '2345-7' } } }).out;
  assert.deepEqual(both.warnings, ["analyte 'XYZ' has no LOINC code in settings.loinc or tables/analytes.csv; sent with its local code only"]);
});

test('a unit without UCUM goes as text alone, with a warning', () => {
  const r = report({ observations: [observation({ unit: 'mmol per litre' })] });
  const { out, observations } = encode(r);
  assert.deepEqual(observations[0]!.valueQuantity, { value: 5.4, unit: 'mmol per litre' });
  assert.deepEqual(out.warnings, ["unit 'mmol per litre' has no UCUM code in tables/units.csv; sent as text without a UCUM code"]);
});

test('without tables or settings there is no source to miss: local codes, no warnings', () => {
  const r = report({ observations: [observation({ code: { code: 'XYZ' }, unit: 'odd' })] });
  const { out, observations } = encode(r, {}, new Map());
  assert.equal(observations[0]!.code.coding!.length, 1);
  assert.equal(out.warnings, undefined);
});

test('a flag that is not a v3 code is coded from the flags table (fhir_code, fhir_display); others stay text', () => {
  const tables = repoTables();
  tables.set('flags', table('tables/flags.csv', 'flag,hl7_0078,fhir_code,fhir_display\n+,H,H,High\nQQ,,,\n'));
  const r = report({ observations: [observation({ flags: ['+', 'HH', 'QQ'] })] });
  assert.deepEqual(encode(r, {}, tables).observations[0]!.interpretation, [
    { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'H', display: 'High' }], text: '+' },
    { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'HH', display: 'Critical high' }], text: 'HH' },
    { text: 'QQ' },
  ]);
});

test('the repository flags table codes QCF, which the built-in v3 list does not', () => {
  const r = report({ observations: [observation({ flags: ['QCF'] })] });
  assert.deepEqual(encode(r).observations[0]!.interpretation![0]!.coding![0], {
    system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
    code: 'QCF',
    display: 'Quality control failure',
  });
});

test('a single-result DiagnosticReport gets the same LOINC as its observation', () => {
  const r = report({ panel: undefined, observations: [observation({ code: { code: 'CRP' }, unit: 'mg/L' })] });
  const dr = encode(r).bundle.entry!.map((e) => e.resource!).find((x) => x.resourceType === 'DiagnosticReport') as { code: { coding: Array<{ code: string }> } };
  assert.equal(dr.code.coding[0]!.code, '1988-5');
});

test('tables the FHIR encoder reads must have their columns', () => {
  const tables = repoTables();
  tables.set('flags', table('tables/flags.csv', 'flag,hl7_0078\n'));
  assert.deepEqual(fhirEncoder({}, tables).issues, [
    { path: ['tables', 'flags'], code: 'table_columns', message: "table 'flags' (tables/flags.csv) has no column 'fhir_code'; the fhir-bundle encoder reads fhir_code from it" },
  ]);
});
