/**
 * OBX-2 and OBX-5 for a value as sent: NM for a number, SN for comparators, ranges and
 * ratios, ST for other text, TX for multi-line or long text. The text as sent is always
 * recoverable from OBX-5.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { typeValue } from '../../src/encoders/oru-r01/value-type.ts';
import type { Hl7Segment } from '../../src/protocols/hl7v2/index.ts';
import { encodeAndParse, observation, report } from './support.ts';

const CASES: Array<[string, 'NM' | 'SN' | 'ST' | 'TX', string[]]> = [
  // [value, OBX-2, OBX-5 components]
  ['5.4', 'NM', ['5.4']],
  ['-1', 'NM', ['-1']],
  ['.5', 'NM', ['.5']],
  ['+5', 'NM', ['+5']],
  ['5.', 'NM', ['5.']],
  ['007', 'NM', ['007']],
  ['1.50', 'NM', ['1.50']],
  ['<0.5', 'SN', ['<', '0.5']],
  ['>14.0', 'SN', ['>', '14.0']],
  ['<=0.02', 'SN', ['<=', '0.02']],
  ['>=20.0', 'SN', ['>=', '20.0']],
  ['<>3', 'SN', ['<>', '3']],
  ['=5', 'SN', ['=', '5']],
  ['<-1', 'SN', ['<', '-1']],
  ['1-10', 'SN', ['', '1', '-', '10']],
  ['-1-5', 'SN', ['', '-1', '-', '5']],
  ['1:128', 'SN', ['', '1', ':', '128']],
  ['1/2', 'SN', ['', '1', '/', '2']],
  ['2+3', 'SN', ['', '2', '+', '3']],
  ['POSITIVE', 'ST', ['POSITIVE']],
  ['see comment', 'ST', ['see comment']],
  ['1+', 'ST', ['1+']],
  ['TRACE', 'ST', ['TRACE']],
  ['5,4', 'ST', ['5,4']],
  ['1e3', 'ST', ['1e3']],
  ['', 'ST', []],
  // Spaces cannot be kept in NM or SN components: such values go out as ST, unchanged.
  [' 5.4', 'ST', [' 5.4']],
  ['5.4 ', 'ST', ['5.4 ']],
  ['< 0.5', 'ST', ['< 0.5']],
  ['1 - 10', 'ST', ['1 - 10']],
  ['1 : 128', 'ST', ['1 : 128']],
];

for (const [value, type] of CASES) {
  test(`typeValue(${JSON.stringify(value)}) is ${type}`, () => {
    assert.equal(typeValue(value).type, type);
  });
}

test('multi-line text is TX', () => {
  assert.equal(typeValue('line one\nline two').type, 'TX');
  assert.equal(typeValue('line one\r\nline two').type, 'TX');
  assert.equal(typeValue('trailing break\r').type, 'TX');
});

test('text up to 199 characters is ST; longer text is TX', () => {
  assert.equal(typeValue('x'.repeat(199)).type, 'ST');
  assert.equal(typeValue('x'.repeat(200)).type, 'TX');
  // A 200-digit number is still a number.
  assert.equal(typeValue('9'.repeat(200)).type, 'NM');
});

/** The value as sent, read back from an OBX: SN components joined, text with its line breaks. */
function valueFromObx(obx: Hl7Segment): string {
  if (obx.get(2) === 'SN') return obx.components(5).join('');
  return obx.get(5, 1, 1, 0, { formatting: 'text' });
}

test('every value is encoded with its OBX-2 and OBX-5 components, and the text as sent comes back from OBX-5', () => {
  const values = [...CASES.map(([v]) => v), 'line one\nline two', 'x'.repeat(250), 'a|b^c~d\\e&f', '<0.5 (below LoQ)', '≥ 10', 'Ümlaut 東京'];
  const m = encodeAndParse(report({ observations: values.map((value) => observation({ value })) }));
  const obx = m.all('OBX');
  assert.equal(obx.length, values.length);
  for (const [i, value] of values.entries()) {
    const expected = CASES[i];
    if (expected) {
      assert.equal(obx[i]!.get(2), expected[1], value);
      assert.deepEqual(obx[i]!.components(5), expected[2], value);
    }
    assert.equal(valueFromObx(obx[i]!), value, JSON.stringify(value));
  }
});

test('a TX value keeps its line breaks as \\.br\\ escapes on one segment', () => {
  const m = encodeAndParse(report({ observations: [observation({ value: 'Line one\nLine two\nLine three' })] }));
  const obx = m.segment('OBX')!;
  assert.equal(obx.get(2), 'TX');
  assert.equal(obx.raw(5), 'Line one\\.br\\Line two\\.br\\Line three');
  assert.equal(obx.get(5, 1, 1, 0, { formatting: 'text' }), 'Line one\nLine two\nLine three');
});
