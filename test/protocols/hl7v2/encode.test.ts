/**
 * Building segments: `encodeField` / `encodeSegment` take plain text and escape every leaf;
 * `fields[n]` is field n, so call sites read like the standard's field tables.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_DELIMITERS,
  encodeField,
  encodeSegment,
  type FieldInput,
  formatMessage,
  Hl7Message,
  readDelimiters,
} from '../../../src/protocols/hl7v2/index.ts';

const d = DEFAULT_DELIMITERS;

test('a string is a field with one component; null and undefined are empty', () => {
  assert.equal(encodeField('abc', d), 'abc');
  assert.equal(encodeField('', d), '');
  assert.equal(encodeField(null, d), '');
  assert.equal(encodeField(undefined, d), '');
  assert.equal(encodeField('a|b', d), 'a\\F\\b');
  // The HL7 explicit null "" is ordinary text to the encoder: written as given.
  assert.equal(encodeField('""', d), '""');
});

test('an array is the components of one repetition; a nested array is subcomponents', () => {
  assert.equal(encodeField(['Smith', 'Anne', 'M'], d), 'Smith^Anne^M');
  assert.equal(encodeField(['MRN1', null, null, ['Lab', '1.2.3', 'ISO'], 'MR'], d), 'MRN1^^^Lab&1.2.3&ISO^MR');
  assert.equal(encodeField([['a&b', 'c^d']], d), 'a\\T\\b&c\\S\\d');
  assert.equal(encodeField([], d), '');
  assert.equal(encodeField([[]], d), '');
});

test('{ repeat } is a repeating field', () => {
  assert.equal(encodeField({ repeat: ['a', 'b~c'] }, d), 'a~b\\R\\c');
  assert.equal(encodeField({ repeat: [['1', null, null, 'A'], ['2', null, null, 'B']] }, d), '1^^^A~2^^^B');
  assert.equal(encodeField({ repeat: [] }, d), '');
  assert.equal(encodeField({ repeat: [null, 'x'] }, d), '~x', 'an empty first repetition is kept');
});

test('trailing empty components, subcomponents, repetitions and fields are trimmed; inner ones kept', () => {
  assert.equal(encodeField(['a', '', null, undefined], d), 'a');
  assert.equal(encodeField(['', 'b', ''], d), '^b');
  assert.equal(encodeField([['x', '', null]], d), 'x');
  assert.equal(encodeField([['', 'y']], d), '&y');
  assert.equal(encodeField({ repeat: ['a', '', null] }, d), 'a');
  assert.equal(encodeField({ repeat: [['', '']] }, d), '');
  assert.equal(encodeSegment('OBX', [null, '1', 'ST', null, null, null, ''], d), 'OBX|1|ST');
  assert.equal(encodeSegment('NTE', [null, null, null, 'x'], d), 'NTE|||x');
  assert.equal(encodeSegment('NTE', [], d), 'NTE');
  assert.equal(encodeSegment('NTE', [null, null], d), 'NTE');
});

test('fields[n] is field n; holes in the array are empty fields', () => {
  const fields: FieldInput[] = [];
  fields[1] = '1';
  fields[5] = ['Doe', 'Jane'];
  fields[8] = 'F';
  const seg = encodeSegment('PID', fields, d);
  assert.equal(seg, 'PID|1||||Doe^Jane|||F');
  const parsed = Hl7Message.parse(formatMessage(['MSH|^~\\&', seg])).segment('PID')!;
  assert.equal(parsed.get(1), '1');
  assert.equal(parsed.get(5, 2), 'Jane');
  assert.equal(parsed.get(8), 'F');
  // fields[0] is ignored: the name is the first argument.
  assert.equal(encodeSegment('PID', ['IGNORED', '1'], d), 'PID|1');
});

test('MSH: MSH-1 and MSH-2 come from the delimiters; fields start at MSH-3', () => {
  const fields: FieldInput[] = [];
  fields[1] = 'ignored';
  fields[2] = 'ignored';
  fields[3] = 'APP';
  fields[9] = ['ORU', 'R01', 'ORU_R01'];
  fields[10] = 'CTRL|1';
  fields[12] = '2.5.1';
  const msh = encodeSegment('MSH', fields, d);
  assert.equal(msh, 'MSH|^~\\&|APP||||||ORU^R01^ORU_R01|CTRL\\F\\1||2.5.1');
  const m = Hl7Message.parse(formatMessage([msh]));
  assert.equal(m.msh.get(3), 'APP');
  assert.equal(m.messageType, 'ORU^R01');
  assert.equal(m.controlId, 'CTRL|1');
  assert.equal(m.version, '2.5.1');
  assert.equal(encodeSegment('MSH', [], d), 'MSH|^~\\&');
  assert.equal(encodeSegment('MSH', fields, readDelimiters('MSH|^~\\&#|')), 'MSH|^~\\&#|APP||||||ORU^R01^ORU_R01|CTRL\\F\\1||2.5.1');
  assert.equal(encodeSegment('MSH', fields, readDelimiters('MSH#$%@!#')), 'MSH#$%@!#APP######ORU$R01$ORU_R01#CTRL|1##2.5.1');
});

test('formatMessage ends every segment with CR', () => {
  assert.equal(formatMessage(['MSH|^~\\&', 'PID|1']), 'MSH|^~\\&\rPID|1\r');
  assert.equal(formatMessage(['MSH|^~\\&']), 'MSH|^~\\&\r');
});

test('an encoded message parses back to the same values at the same positions', () => {
  const custom = readDelimiters('MSH|$%@!|');
  for (const delims of [d, custom, readDelimiters('MSH#^~\\&#'), readDelimiters('MSH|^~\\&#|')]) {
    const pid: FieldInput[] = [];
    pid[1] = '1';
    pid[3] = { repeat: [['A|1', null, null, ['Auth&', '1.2', 'ISO'], 'MR'], ['B^2']] };
    pid[5] = [['Smith$', 'Jones%'], 'Anne@', 'Q#'];
    pid[11] = ['Line 1\nLine 2', null, 'Zürich'];
    const text = formatMessage([encodeSegment('MSH', [null, null, null, 'APP', null, null, null, null, null, ['ADT', 'A01']], delims), encodeSegment('PID', pid, delims)]);
    const m = Hl7Message.parse(text);
    assert.equal(m.toString(), text);
    assert.deepEqual(m.delimiters, delims);
    const p = m.segment('PID')!;
    assert.equal(p.get(3, 1, 1, 0), 'A|1');
    assert.equal(p.get(3, 4, 1, 0), 'Auth&');
    assert.equal(p.get(3, 4, 3, 0), 'ISO');
    assert.equal(p.get(3, 5, 1, 0), 'MR');
    assert.equal(p.get(3, 1, 1, 1), 'B^2');
    assert.equal(p.get(5, 1, 1), 'Smith$');
    assert.equal(p.get(5, 1, 2), 'Jones%');
    assert.equal(p.get(5, 2), 'Anne@');
    assert.equal(p.get(5, 3), 'Q#');
    assert.equal(p.get(11, 1), `Line 1${delims.escape}.br${delims.escape}Line 2`);
    assert.equal(p.get(11, 1, 1, 0, { formatting: 'text' }), 'Line 1\nLine 2');
    assert.equal(p.get(11, 3), 'Zürich');
    assert.equal(m.messageType, 'ADT^A01');
  }
});
