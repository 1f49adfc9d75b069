/**
 * Issue 8 §2: a value whose text is not a plain FHIR decimal keeps its text. Surrounding
 * spaces make valueString exactly as sent; a '+' or leading zeros give valueQuantity with the
 * digits kept and the text as sent in the originalText extension; an exponent stays text. An
 * HL7 v2 NM is a number whatever its padding (the ORU^R01 sends it as NM too).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import type { Observation as CanonicalObservation } from '../../src/canonical/report.ts';
import { ORIGINAL_TEXT } from '../../src/encoders/fhir-bundle/values.ts';
import type { Encoded } from '../../src/encoders/types.ts';
import { fhirEncoder, repoTables } from './mapping-support.ts';
import { CTX, observation, report } from './support.ts';

function fhirObservation(o: Partial<CanonicalObservation>): { resource: Observation; json: string } {
  const out = fhirEncoder({}, repoTables()).encoder.encode(report({ observations: [observation(o)] }), CTX) as Encoded;
  const bundle = JSON.parse(out.payload) as Bundle;
  const resource = bundle.entry!.map((e) => e.resource!).find((x): x is Observation => x.resourceType === 'Observation')!;
  // The serialised digits, which JSON.parse would normalise (5.40 → 5.4).
  const json = /"resourceType":"Observation".*?"valueQuantity":\{.*?("value":[^,}]*)/.exec(out.payload)?.[1] ?? '';
  return { resource, json };
}
const originalText = (o: { extension?: Array<{ url?: string; valueString?: string }> } | undefined) => o?.extension?.find((e) => e.url === ORIGINAL_TEXT)?.valueString;

test('surrounding spaces: valueString exactly as sent, never trimmed into a number', () => {
  for (const text of [' 5.4', '5.40 ', ' 7 ', ' <0.5']) {
    const { resource } = fhirObservation({ value: text });
    assert.equal(resource.valueString, text, JSON.stringify(text));
    assert.equal(resource.valueQuantity, undefined);
  }
});

test('a plus sign or leading zeros: valueQuantity with the digits kept, the text as sent in originalText', () => {
  const cases: Array<[string, string]> = [
    ['+5', '5'],
    ['007', '7'],
    ['05.40', '5.40'],
    ['+0.50', '0.50'],
    ['-05', '-5'],
    ['.5', '0.5'],
    ['<+05', '5'],
  ];
  for (const [text, digits] of cases) {
    const { resource, json } = fhirObservation({ value: text });
    assert.match(json, new RegExp(`^"value":${digits.replace('.', '\\.')}$`), text);
    assert.equal(originalText(resource.valueQuantity), text, text);
  }
});

test('a plain decimal has no extension; a comparator with a space keeps its text', () => {
  const { resource, json } = fhirObservation({ value: '5.40' });
  assert.equal(json, '"value":5.40');
  assert.equal(resource.valueQuantity!.extension, undefined);
  const cmp = fhirObservation({ value: '< 0.5' }).resource.valueQuantity!;
  assert.deepEqual([cmp.comparator, originalText(cmp)], ['<', '< 0.5']);
  assert.equal(fhirObservation({ value: '<0.5' }).resource.valueQuantity!.extension, undefined);
});

test('an exponent, a trailing point or words stay text as sent', () => {
  for (const text of ['1e3', '1.5E-2', '5.', '+', 'NEGATIVE']) assert.equal(fhirObservation({ value: text }).resource.valueString, text, text);
});

test('an HL7 v2 NM with padding is a number, with the padded text in originalText', () => {
  const { resource, json } = fhirObservation({ value: '5.40 ', valueType: 'NM' });
  assert.equal(json, '"value":5.40');
  assert.equal(originalText(resource.valueQuantity), '5.40 ');
  assert.equal(fhirObservation({ value: ' 5.4', valueType: 'ST' }).resource.valueString, ' 5.4', 'declared text stays text');
});
