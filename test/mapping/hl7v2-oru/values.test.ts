/**
 * OBX-5 per value type, and the fields around it (code, LOINC, unit, UCUM, range, flags,
 * sub-id): the text as sent, never recalculated.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { obx, observation, oru, report } from './support.ts';

const value = (type: string, v: string, extra: Record<number, string> = {}) => observation(oru(obx({ 2: type, 5: v, ...extra })));

test('NM is the text as sent: no trimming, no number formatting; repetitions become lines', () => {
  for (const v of ['5.4', '007', '+5', '1.50', '-0.0', ' 5.4 ', '1e3', '5,4', '<0.5']) assert.equal(value('NM', v).value, v);
  assert.equal(value('NM', '27~25').value, '27\n25');
  assert.equal(value('NM', '5.4').valueType, 'NM');
});

test('SN components are rejoined as the sender meant them read', () => {
  const cases: Array<[string, string]> = [
    ['<^0.5', '<0.5'],
    ['>^14.0', '>14.0'],
    ['<=^0.02', '<=0.02'],
    ['>=^20', '>=20'],
    ['<>^3', '<>3'],
    ['=^7', '=7'],
    ['^182', '182'],
    ['^1^:^128', '1:128'],
    ['^10^-^20', '10-20'],
    ['^-2^-^-1', '-2--1'],
    ['^2^+', '2+'],
    ['^1^/^2', '1/2'],
    ['^3^.^5', '3.5'],
  ];
  for (const [sent, text] of cases) assert.equal(value('SN', sent).value, text, sent);
});

test('ST, TX and FT: escapes decoded, formatting turned into plain text, repetitions as lines, stray separators kept', () => {
  assert.equal(value('ST', 'A\\F\\B\\S\\C\\R\\D\\T\\E\\E\\F').value, 'A|B^C~D&E\\F');
  assert.equal(value('FT', 'line 1\\.br\\line 2\\X0D0A\\line 3\\.sp\\end').value, 'line 1\nline 2\nline 3\nend');
  assert.equal(value('FT', 'pH \\H\\7.28\\N\\ low').value, 'pH 7.28 low');
  assert.equal(value('TX', 'one~two~~four~').value, 'one\ntwo\n\nfour\n');
  // A component separator left unescaped in free text is part of the text.
  assert.equal(value('ST', 'see ^ comment').value, 'see ^ comment');
  // An escape this codec does not know, or a lone escape character, stays as written.
  assert.equal(value('ST', 'a \\Zvendor\\ b').value, 'a \\Zvendor\\ b');
  assert.equal(value('ST', 'back\\slash').value, 'back\\slash');
  assert.equal(value('ST', '  padded  ').value, '  padded  ');
  assert.equal(value('ST', 'Ærø µmol Ω 中文 😀').value, 'Ærø µmol Ω 中文 😀');
});

test('CE/CWE/CNE: the text, else the code; valueCoding keeps the code', () => {
  const full = value('CWE', '260373001^Detected^SCT^DET^Detected (local)^L^20200901');
  assert.equal(full.value, 'Detected');
  assert.deepEqual(full.valueCoding, {
    code: '260373001',
    display: 'Detected',
    system: 'SCT',
    version: '20200901',
    alternates: [{ code: 'DET', display: 'Detected (local)', system: 'L' }],
  });
  const codeOnly = value('CE', 'POS');
  assert.deepEqual([codeOnly.value, codeOnly.valueCoding], ['POS', { code: 'POS' }]);
  const textOnly = value('CE', '^Bordetella pertussis^SNM');
  assert.deepEqual([textOnly.value, textOnly.valueCoding], ['Bordetella pertussis', { code: 'Bordetella pertussis', system: 'SNM', textOnly: true }]);
  const alternate = value('CWE', '^^^NEG^Negative^L');
  assert.deepEqual([alternate.value, alternate.valueCoding], ['Negative', { code: 'NEG', display: 'Negative', system: 'L' }]);
  assert.equal(value('CWE', '^^^^^^^^Original text only').value, 'Original text only');
  assert.equal(value('CNE', 'Y^Yes^HL70136').value, 'Yes');
  const two = value('CWE', '44169009^Loss of smell^SCT~426000000^Fever^SCT');
  assert.deepEqual([two.value, two.valueCoding?.code], ['Loss of smell\nFever', '44169009']);
  assert.equal(value('CWE', 'A\\T\\B^Gram \\S\\ stain^L').value, 'Gram ^ stain');
});

test('IS, ID and TM are text as sent; DT, TS and DTM become ISO 8601 at their precision', () => {
  assert.equal(value('IS', 'Y').value, 'Y');
  assert.equal(value('ID', 'N').value, 'N');
  assert.equal(value('TM', '1230').value, '1230');
  assert.equal(value('DT', '20261120').value, '2026-11-20');
  assert.equal(value('DT', '202611').value, '2026-11');
  assert.equal(value('TS', '20261120101500^S').value, '2026-11-20T10:15:00');
  assert.equal(value('DTM', '20261120101500.25-0500').value, '2026-11-20T10:15:00.25-05:00');
  assert.equal(value('DTM', '2026112010').value, '2026-11-20T10:00:00');
});

test('ED: one attachment per repetition, media type from ED-2/ED-3, title from OBX-3, data as sent', () => {
  const ed = (data: string) => report(oru(obx({ 2: 'ED', 3: 'PRINT^Device printout^L', 5: data }))).attachments;
  assert.deepEqual(ed('^AP^PDF^Base64^JVBERi0xLjQK'), [{ contentType: 'application/pdf', title: 'Device printout', dataBase64: 'JVBERi0xLjQK' }]);
  const types: Array<[string, string]> = [
    ['^IM^JPEG^Base64^/9j/4AAQ', 'image/jpeg'],
    ['ID&2.1.3.4&ISO^BINARY^JPEG^Base64^/9j/4AAQ', 'image/jpeg'],
    ['^Application^pdf^Base64^JVBERi0x', 'application/pdf'],
    ['^AP^application/pdf^Base64^JVBERi0x', 'application/pdf'],
    ['^application/pdf^^Base64^JVBERi0x', 'application/pdf'],
    ['^TEXT^XML^Base64^PHg+', 'application/xml'],
    ['^TEXT^RTF^BASE64^e1xydGY=', 'application/rtf'],
    ['^NS^Octet-stream^Base64^AAEC', 'application/octet-stream'],
    ['^AP^x-vendor-log^Base64^AAEC', 'application/x-vendor-log'],
    ['^^^Base64^AAEC', 'application/octet-stream'],
    ['^IM^^Base64^AAEC', 'application/octet-stream'],
  ];
  for (const [data, type] of types) assert.equal(ed(data)[0]!.contentType, type, data);
  // Line breaks inside the Base64 (escaped as \.br\ or \X0D0A\) are kept; decoders skip them.
  assert.equal(ed('^AP^PDF^Base64^JVBE\\.br\\Ri0x\\X0D0A\\LjQK')[0]!.dataBase64, 'JVBE\nRi0x\nLjQK');
  assert.equal(ed('^AP^PDF^Base64^JVBERi0x~^IM^PNG^Base64^iVBORw0K').length, 2);
  const r = report(oru(obx({}), obx({ 1: '2', 2: 'ED', 3: 'PRINT^Device printout^L', 5: '^AP^PDF^Base64^JVBERi0x' }), 'NTE|1|L|Printed at the bedside.'));
  assert.equal(r.observations.length, 1, 'an ED is an attachment, not an observation');
  assert.deepEqual(r.comments, ['Printed at the bedside.'], 'the notes of an ED go to the report');
  assert.equal(report(oru(obx({ 2: 'ED', 3: 'PRINT^^L', 5: '^AP^PDF^Base64^JVBERi0x' }))).attachments[0]!.title, 'PRINT');
});

test('OBX-3: code, text and coding system as sent; LOINC taken from the primary or the alternate triplet', () => {
  const local = observation(oru(obx({ 3: 'K^Potassium^99LAB^2823-3^Potassium SerPl-sCnc^LN' })));
  assert.deepEqual(local.code, { code: 'K', display: 'Potassium', system: '99LAB', alternates: [{ code: '2823-3', display: 'Potassium SerPl-sCnc', system: 'LN' }] });
  assert.deepEqual(local.loinc, { code: '2823-3', display: 'Potassium SerPl-sCnc', system: 'LN' });
  const primary = observation(oru(obx({ 3: '2823-3^Potassium^LN^K^Kalium^L' })));
  assert.deepEqual([primary.code.system, primary.loinc?.code], ['LN', '2823-3']);
  assert.equal(observation(oru(obx({ 3: 'SARS2^SARS-CoV-2^LAB^94500-6^^LOINC' }))).loinc?.code, '94500-6');
  assert.equal(observation(oru(obx({ 3: 'GLU^Glucose^L' }))).loinc, undefined);
  assert.equal(observation(oru(obx({ 3: 'GLU^Glucose' }))).code.system, undefined);
});

test('units: CE identifier (else its text); UCUM only when the coding system says so', () => {
  const unit = (u: string) => {
    const o = observation(oru(obx({ 6: u })));
    return [o.unit, o.ucum];
  };
  assert.deepEqual(unit('mmol/L'), ['mmol/L', undefined]);
  assert.deepEqual(unit('mmol/L^millimole per liter^UCUM'), ['mmol/L', 'mmol/L']);
  assert.deepEqual(unit('mmol/l^^L^mmol/L^^UCUM'), ['mmol/l', 'mmol/L']);
  assert.deepEqual(unit('^per high power field'), ['per high power field', undefined]);
  assert.deepEqual(unit('10\\S\\9/L'), ['10^9/L', undefined]);
  assert.deepEqual(unit(''), [undefined, undefined]);
});

test('reference range, flags and sub-id are verbatim', () => {
  const o = observation(oru(obx({ 4: '1a', 7: '3.9 - 5.5 \\T\\ fasting', 8: 'H~~HH~A^Abnormal^HL70078~PL^Y' })));
  assert.equal(o.referenceRange, '3.9 - 5.5 & fasting');
  assert.deepEqual(o.flags, ['H', 'HH', 'A', 'PL^Y']);
  assert.equal(o.subId, '1a');
  assert.equal(observation(oru(obx({ 7: '^^10.000000' }))).referenceRange, '^^10.000000');
  assert.deepEqual(observation(oru(obx({ 8: '' }))).flags, []);
  assert.equal(observation(oru(obx({ 2: 'nm' }))).valueType, 'nm', 'OBX-2 is read case-blind and kept as sent');
});
