/**
 * Issue 13, rule 2: a CE/CWE/CNE keeps every coding as sent (primary, alternate and the
 * v2.7 second alternate triplet, their coding system versions, the original text) in OBX-3,
 * coded OBX-5 values and OBR-4.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MSH, message, OBR, obx, ORC, observation, oru, PID, report } from './support.ts';

test('OBX-3: a local code beside LOINC keeps both triplets, in the order sent', () => {
  const loincFirst = observation(oru(obx({ 3: '2345-7^Glucose SerPl-mCnc^LN^GLU^Glucose^L' })));
  assert.deepEqual(loincFirst.code, { code: '2345-7', display: 'Glucose SerPl-mCnc', system: 'LN', alternates: [{ code: 'GLU', display: 'Glucose', system: 'L' }] });
  assert.deepEqual(loincFirst.loinc, { code: '2345-7', display: 'Glucose SerPl-mCnc', system: 'LN' });
  const localFirst = observation(oru(obx({ 3: 'GLU^Glucose^99LAB^2345-7^Glucose SerPl-mCnc^LN' })));
  assert.deepEqual(localFirst.code, { code: 'GLU', display: 'Glucose', system: '99LAB', alternates: [{ code: '2345-7', display: 'Glucose SerPl-mCnc', system: 'LN' }] });
});

test('CWE: coding system versions (CWE-7, CWE-8) and the original text (CWE-9) are kept', () => {
  const o = observation(oru(obx({ 3: '2345-7^Glucose^LN^GLU^Glucose^L^2.77^v3^Blood sugar' })));
  assert.deepEqual(o.code, {
    code: '2345-7',
    display: 'Glucose',
    system: 'LN',
    version: '2.77',
    alternates: [{ code: 'GLU', display: 'Glucose', system: 'L', version: 'v3' }],
    originalText: 'Blood sugar',
  });
});

test('CWE v2.7: the second alternate triplet (CWE-10..12) and its version (CWE-13) are kept; OIDs (CWE-14+) are not read', () => {
  const v27 = (text: string) => text.replace('|P|2.5.1', '|P|2.7.1');
  const o = observation(v27(oru(obx({ 3: '2951-2^Sodium SerPl-sCnc^LN^NA^Sodium^L^2.77^^Na+^NA-ISE^Sodium ISE^99ANA^4^2.16.840.1.113883.6.1' }))));
  assert.deepEqual(o.code.alternates, [
    { code: 'NA', display: 'Sodium', system: 'L' },
    { code: 'NA-ISE', display: 'Sodium ISE', system: '99ANA', version: '4' },
  ]);
  assert.equal(o.code.originalText, 'Na+');
});

test('coded OBX-5: the alternate codes of the value are kept with the value text', () => {
  const o = observation(oru(obx({ 2: 'CWE', 5: '10828004^Positive^SCT^POS^Positive^99MIC^^^POSITIVE (reactive)', 6: '' })));
  assert.equal(o.value, 'Positive');
  assert.deepEqual(o.valueCoding, {
    code: '10828004',
    display: 'Positive',
    system: 'SCT',
    alternates: [{ code: 'POS', display: 'Positive', system: '99MIC' }],
    originalText: 'POSITIVE (reactive)',
  });
  const ce = observation(oru(obx({ 2: 'CE', 5: 'NEG^Negative^L^260385009^Negative^SCT', 6: '' })));
  assert.deepEqual(ce.valueCoding, { code: 'NEG', display: 'Negative', system: 'L', alternates: [{ code: '260385009', display: 'Negative', system: 'SCT' }] });
});

test('an empty primary triplet: the alternate is the code, nothing is invented', () => {
  const o = observation(oru(obx({ 3: '^^^GLU^Glucose^L' })));
  assert.deepEqual(o.code, { code: 'GLU', display: 'Glucose', system: 'L' });
});

test('OBR-4: the panel keeps its alternate triplet', () => {
  const r = report(message(MSH, PID, ORC, OBR.replace('GLU^Glucose^L', 'BMP^Basic metabolic panel^99LAB^51990-0^Basic metabolic panel - Blood^LN'), obx({})));
  assert.deepEqual(r.panel, {
    code: 'BMP',
    display: 'Basic metabolic panel',
    system: '99LAB',
    alternates: [{ code: '51990-0', display: 'Basic metabolic panel - Blood', system: 'LN' }],
  });
});
