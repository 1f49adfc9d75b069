/** ORC, OBR, OBX, NTE and the ED OBX of attachments. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResultStatus } from '../../src/canonical/report.ts';
import { OruR01Settings } from '../../src/encoders/oru-r01/settings.ts';
import { encodeAndParse, names, observation, report } from './support.ts';

test('ORC and OBR: placer is the order id, filler the accession; times keep their offsets', () => {
  const m = encodeAndParse(report());
  const orc = m.segment('ORC')!;
  assert.deepEqual([orc.get(1), orc.get(2), orc.get(3), orc.get(9)], ['RE', 'ord_77120', 'A2611200042', '20261120081403+0000']);
  const obr = m.segment('OBR')!;
  assert.deepEqual([obr.get(1), obr.get(2), obr.get(3)], ['1', 'ord_77120', 'A2611200042']);
  assert.equal(obr.get(7), '20261120091341+0100');
  assert.equal(obr.get(22), '20261120081403+0000');
});

test('without an accession the filler number is the result id; without an order there is no placer number', () => {
  const m = encodeAndParse(report({ order: undefined }));
  assert.deepEqual([m.segment('ORC')!.raw(2), m.segment('ORC')!.get(3)], ['', 'res_8F2C41']);
  assert.deepEqual([m.segment('OBR')!.raw(2), m.segment('OBR')!.get(3)], ['', 'res_8F2C41']);
});

test('OBR-4 is the panel; else the only observation (with LOINC as alternate); else the default service', () => {
  assert.deepEqual(encodeAndParse(report()).segment('OBR')!.components(4), ['BMP-POC', 'Basic metabolic panel', 'L']);
  const single = report({
    panel: undefined,
    observations: [observation({ loinc: { code: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma' } })],
  });
  assert.deepEqual(encodeAndParse(single).segment('OBR')!.components(4), ['GLU', 'Glucose', 'L', '2345-7', 'Glucose [Mass/volume] in Serum or Plasma', 'LN']);
  assert.deepEqual(encodeAndParse(report({ panel: undefined })).segment('OBR')!.components(4), ['POCT', 'Point-of-care testing', 'L']);
  const custom = OruR01Settings.parse({ defaultService: { code: 'CHEM', display: 'Chemistry', system: '99LAB' } });
  assert.deepEqual(encodeAndParse(report({ panel: undefined }), custom).segment('OBR')!.components(4), ['CHEM', 'Chemistry', '99LAB']);
});

test('OBR-7 falls back to the first observation time when the report has none', () => {
  const r = report({ observedAt: undefined, observations: [observation({ observedAt: '2026-11-20T07:00:00-08:00' })] });
  assert.equal(encodeAndParse(r).segment('OBR')!.get(7), '20261120070000-0800');
});

test('OBX: set id, code (local system from the settings), value, unit, range, flags, status, time, operator, device', () => {
  const r = report({ observations: [observation({ observedAt: '2026-11-20T09:13:41+01:00', flags: ['H'] })] });
  const obx = encodeAndParse(r, OruR01Settings.parse({ localCodingSystem: '99POC' })).segment('OBX')!;
  assert.equal(obx.get(1), '1');
  assert.equal(obx.get(2), 'NM');
  assert.deepEqual(obx.components(3), ['GLU', 'Glucose', '99POC']);
  assert.equal(obx.get(5), '5.4');
  assert.deepEqual(obx.components(6), ['mmol/L']);
  assert.equal(obx.get(7), '3.9-5.5');
  assert.deepEqual(obx.repetitions(8), ['H']);
  assert.equal(obx.get(11), 'F');
  assert.equal(obx.get(14), '20261120091341+0100');
  assert.deepEqual(obx.components(16), ['op_12', 'J. Okafor']);
  assert.deepEqual(obx.components(18), ['AF2-11873', 'Afinion 2']);
});

test('OBX-3 keeps a non-local coding system and adds LOINC as the alternate triplet', () => {
  const r = report({
    observations: [observation({ code: { code: '2345-7', display: 'Glucose', system: 'LN' } }), observation({ loinc: { code: '2345-7', display: 'Glucose SerPl' } })],
  });
  const obx = encodeAndParse(r).all('OBX');
  assert.deepEqual(obx[0]!.components(3), ['2345-7', 'Glucose', 'LN']);
  assert.deepEqual(obx[1]!.components(3), ['GLU', 'Glucose', 'L', '2345-7', 'Glucose SerPl', 'LN']);
});

test('OBX-6 is the unit as sent, or UCUM code^unit^UCUM when known; empty when there is none', () => {
  const r = report({ observations: [observation({ unit: 'mmol/L', ucum: 'mmol/L' }), observation({ unit: '' }), observation({ unit: undefined }), observation({ unit: 'x10*9/L' })] });
  const obx = encodeAndParse(r).all('OBX');
  assert.deepEqual(obx[0]!.components(6), ['mmol/L', 'mmol/L', 'UCUM']);
  assert.equal(obx[1]!.raw(6), '');
  assert.equal(obx[2]!.raw(6), '');
  assert.deepEqual(obx[3]!.components(6), ['x10*9/L']);
});

test('OBX-8 abnormal flags are copied verbatim, one repetition each, in order', () => {
  const r = report({ observations: [observation({ flags: ['HH', 'A', 'h', '>'] }), observation({ flags: [] })] });
  const obx = encodeAndParse(r).all('OBX');
  assert.deepEqual(obx[0]!.repetitions(8), ['HH', 'A', 'h', '>']);
  assert.equal(obx[0]!.raw(8), 'HH~A~h~>');
  assert.equal(obx[1]!.raw(8), '');
});

test('OBX-11 (table 0085) and OBR-25 (table 0123) follow the canonical status (unknown: unknown-status.test.ts)', () => {
  const table: Array<[ResultStatus, string, string]> = [
    ['registered', 'I', 'I'],
    ['preliminary', 'P', 'P'],
    ['final', 'F', 'F'],
    ['corrected', 'C', 'C'],
    ['amended', 'C', 'C'],
    ['cancelled', 'X', 'X'],
    ['entered-in-error', 'W', 'C'],
  ];
  for (const [status, obx11, obr25] of table) {
    const m = encodeAndParse(report({ status, observations: [observation({ status })] }));
    assert.equal(m.segment('OBX')!.get(11), obx11, status);
    assert.equal(m.segment('OBR')!.get(25), obr25, status);
  }
});

test('a correction goes out as C in OBR-25 and in each corrected OBX-11; other observations keep theirs', () => {
  const r = report({
    correction: true,
    version: 2,
    status: 'corrected',
    observations: [observation({ status: 'corrected', value: '4.6' }), observation({ status: 'preliminary' })],
  });
  const m = encodeAndParse(r);
  assert.equal(m.segment('OBR')!.get(25), 'C');
  assert.deepEqual(
    m.all('OBX').map((o) => o.get(11)),
    ['C', 'P'],
  );
});

test('each comment becomes an NTE right after the OBX it comments, numbered from 1 per OBX', () => {
  const r = report({
    observations: [observation({ comments: ['first', 'second'] }), observation({ comments: [] }), observation({ comments: ['third'] })],
  });
  const m = encodeAndParse(r);
  assert.deepEqual(names(m).slice(5), ['OBX', 'NTE', 'NTE', 'OBX', 'OBX', 'NTE']);
  const nte = m.all('NTE');
  assert.deepEqual(
    nte.map((n) => [n.get(1), n.get(2), n.get(3)]),
    [
      ['1', 'L', 'first'],
      ['2', 'L', 'second'],
      ['1', 'L', 'third'],
    ],
  );
  assert.deepEqual(
    m.all('OBX').map((o) => o.get(1)),
    ['1', '2', '3'],
  );
});

test('a multi-line comment stays in one NTE with \\.br\\ line breaks', () => {
  const m = encodeAndParse(report({ observations: [observation({ comments: ['Line one\nLine two'] })] }));
  const nte = m.segment('NTE')!;
  assert.equal(nte.raw(3), 'Line one\\.br\\Line two');
  assert.equal(nte.get(3, 1, 1, 0, { formatting: 'text' }), 'Line one\nLine two');
});

test('a PDF attachment is an ED OBX after the results: ^AP^PDF^Base64^data, numbered on', () => {
  const data = 'JVBERi0xLjQKJSVFT0YK';
  const m = encodeAndParse(report({ attachments: [{ contentType: 'application/pdf', title: 'Device printout', dataBase64: data }] }));
  const obx = m.all('OBX');
  assert.equal(obx.length, 3);
  const ed = obx[2]!;
  assert.equal(ed.get(1), '3');
  assert.equal(ed.get(2), 'ED');
  assert.deepEqual(ed.components(3), ['DOC', 'Device printout', 'L']);
  assert.equal(ed.raw(5), `^AP^PDF^Base64^${data}`);
  assert.deepEqual(ed.components(5), ['', 'AP', 'PDF', 'Base64', data]);
  assert.equal(ed.get(11), 'F');
});

test('attachment media types: image → IM, text → TEXT, audio → AU; parameters dropped; line breaks removed from the data', () => {
  const m = encodeAndParse(
    report({
      observations: [],
      attachments: [
        { contentType: 'image/png', dataBase64: 'iVBORw0K\r\nGgo=' },
        { contentType: 'text/plain; charset=utf-8', title: 'Note', dataBase64: 'aGVsbG8=' },
        { contentType: 'audio/wav', dataBase64: 'UklGRg==' },
      ],
    }),
  );
  const obx = m.all('OBX');
  assert.deepEqual(obx[0]!.components(5), ['', 'IM', 'PNG', 'Base64', 'iVBORw0KGgo=']);
  assert.deepEqual(obx[0]!.components(3), ['DOC', 'Attached document', 'L']);
  assert.deepEqual(obx[1]!.components(5), ['', 'TEXT', 'PLAIN', 'Base64', 'aGVsbG8=']);
  assert.deepEqual(obx[2]!.components(5), ['', 'AU', 'WAV', 'Base64', 'UklGRg==']);
});

test('a corrected report sends its attachment with status C', () => {
  const m = encodeAndParse(report({ status: 'corrected', observations: [], attachments: [{ contentType: 'application/pdf', dataBase64: 'QQ==' }] }));
  assert.equal(m.segment('OBX')!.get(11), 'C');
});

test('without operator or device, OBX-16 and OBX-18 are empty; a device without serial is named by its id', () => {
  const bare = encodeAndParse(report({ operator: undefined, device: undefined })).segment('OBX')!;
  assert.deepEqual([bare.raw(16), bare.raw(18)], ['', '']);
  const byId = encodeAndParse(report({ device: { id: 'dev_7', model: 'M1' } })).segment('OBX')!;
  assert.deepEqual(byId.components(18), ['dev_7', 'M1']);
  const modelOnly = encodeAndParse(report({ device: { model: 'M1' } })).segment('OBX')!;
  assert.equal(modelOnly.raw(18), '');
});
