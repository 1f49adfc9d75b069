/**
 * Escaping (HL7 v2.5.1 section 2.7): delimiter escapes are written by `escapeText` /
 * `encodeField` and read back by `Hl7Segment.get`; formatting and hexadecimal escapes pass
 * through intact in 'keep' mode and become plain text in 'text' mode.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_DELIMITERS,
  type Delimiters,
  encodeField,
  encodeSegment,
  escapeText,
  formatMessage,
  Hl7Message,
  readDelimiters,
  unescapeText,
} from '../../../src/protocols/hl7v2/index.ts';
import { DELIMITER_SETS, fixture } from './support.ts';

const d = DEFAULT_DELIMITERS;

test('escapeText writes each special character as its escape sequence', () => {
  assert.equal(escapeText('|', d), '\\F\\');
  assert.equal(escapeText('^', d), '\\S\\');
  assert.equal(escapeText('~', d), '\\R\\');
  assert.equal(escapeText('\\', d), '\\E\\');
  assert.equal(escapeText('&', d), '\\T\\');
  assert.equal(escapeText('a|b^c~d\\e&f', d), 'a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f');
  assert.equal(escapeText('\\F\\', d), '\\E\\F\\E\\', 'text that looks like an escape is itself escaped');
  assert.equal(escapeText('plain text 123', d), 'plain text 123');
  assert.equal(escapeText('', d), '');
  // Line breaks cannot be written raw (a CR ends the segment): they become \.br\.
  assert.equal(escapeText('a\rb\nc\r\nd', d), 'a\\.br\\b\\.br\\c\\.br\\d');
  // '#' is data unless MSH-2 declares it as the v2.7 truncation character.
  assert.equal(escapeText('#', d), '#');
  assert.equal(escapeText('#', readDelimiters('MSH|^~\\&#|')), '\\P\\');
});

test('escapeText uses the message delimiters, whatever they are', () => {
  const custom = readDelimiters('MSH|$%@!|');
  assert.equal(escapeText('$%@!|', custom), '@S@@R@@E@@T@@F@');
  assert.equal(escapeText('^~\\&', custom), '^~\\&', 'the standard characters are plain data under other delimiters');
  assert.equal(escapeText('line\nbreak', custom), 'line@.br@break');
  const hash = readDelimiters('MSH#^~\\&#');
  assert.equal(escapeText('a#b|c', hash), 'a\\F\\b|c');
  const dollar = readDelimiters('MSH|^~\\$|');
  assert.equal(escapeText('a$b&c', dollar), 'a\\T\\b&c');
});

test('names, comments and values with every special character are read back by get', () => {
  const specials = ['|', '^', '~', '\\', '&'];
  const name = "O'Brien|Smith^Jr~II\\III&Co";
  const given = 'Anne^Marie & Jo|Jo';
  const comment = `All of them: ${specials.join(' ')} and doubled ${specials.map((c) => c + c).join('')}`;
  const value = '<5 | >10 ^ ~3 & \\7';
  const text = formatMessage([
    encodeSegment('MSH', [null, null, null, 'APP|1', 'FAC^2', null, null, null, null, ['ORU', 'R01', 'ORU_R01'], 'ID~&1', 'P', '2.5.1'], d),
    encodeSegment('PID', [null, '1', null, { repeat: [['MRN|1', null, null, ['Auth&1', '1.2.3', 'ISO'], 'MR'], ['X^2']] }, null, [name, given]], d),
    encodeSegment('NTE', [null, '1', 'L', comment], d),
    encodeSegment('OBX', [null, '1', 'ST', ['1234-5', 'Code ^ with | all & five ~ \\', 'LN'], null, value], d),
  ]);
  const m = Hl7Message.parse(text);
  assert.equal(m.toString(), text);
  assert.equal(m.msh.get(3), 'APP|1');
  assert.equal(m.msh.get(4), 'FAC^2');
  assert.equal(m.controlId, 'ID~&1');
  assert.equal(m.messageType, 'ORU^R01');
  const pid = m.segment('PID')!;
  assert.equal(pid.get(3, 1, 1, 0), 'MRN|1');
  assert.equal(pid.get(3, 4, 1, 0), 'Auth&1');
  assert.equal(pid.get(3, 4, 2, 0), '1.2.3');
  assert.equal(pid.get(3, 5, 1, 0), 'MR');
  assert.equal(pid.get(3, 1, 1, 1), 'X^2');
  assert.equal(pid.get(5, 1), name);
  assert.equal(pid.get(5, 2), given);
  assert.deepEqual(pid.components(5), [name, given]);
  assert.equal(m.segment('NTE')?.get(3), comment);
  assert.equal(m.segment('OBX')?.get(3, 2), 'Code ^ with | all & five ~ \\');
  assert.equal(m.segment('OBX')?.get(5), value);
  // Nothing special is left raw: the only delimiters in the text are structural.
  assert.equal(m.segment('OBX')?.raw(5), '<5 \\F\\ >10 \\S\\ \\R\\3 \\T\\ \\E\\7');
});

test('the escapes fixture reads back to the values it encodes', () => {
  const m = Hl7Message.parse(fixture('oru-r01-escapes.hl7'));
  assert.equal(m.msh.get(4, 1), 'Main Lab & Clinics');
  assert.equal(m.msh.get(6), 'Ward 3 | ICU');
  assert.equal(m.controlId, 'MSG|ESC^0001');
  const pid = m.segment('PID')!;
  assert.equal(pid.get(3, 1, 1, 0), 'MRN|001');
  assert.equal(pid.get(3, 4, 1, 0), 'Main Lab');
  assert.equal(pid.get(3, 4, 2, 0), '2.16.840.1.113883.3.999.2');
  assert.equal(pid.get(3, 1, 1, 1), 'NHS^42');
  assert.equal(pid.get(3, 5, 1, 1), 'NH');
  assert.equal(pid.get(5, 1), 'O\\Brien^Smith');
  assert.equal(pid.get(5, 2), 'Nguyễn Văn');
  assert.equal(pid.get(11, 1), '1 Rue de l\\Église');
  assert.equal(pid.get(11, 3), 'Genève');
  assert.equal(m.segment('ORC')?.get(2), 'ORD&1');
  assert.equal(m.segment('ORC')?.get(3), 'FIL~1');
  assert.equal(m.segment('OBR')?.get(4, 2), 'CBC panel & differential ^ automated');
  const obx = m.all('OBX');
  assert.equal(obx[0]?.get(3, 2), 'Hemoglobin & indices');
  assert.equal(obx[1]?.get(3, 2), 'PT | INR');
  assert.equal(obx[1]?.get(5), '1.2 ^ ratio ~ approx');
  assert.equal(obx[2]?.get(5, 1, 1, 1), 'Second repetition & more');
  assert.equal(obx[3]?.get(5, 2), 'Negative ^ not detected');
  assert.equal(obx[3]?.get(5, 7), '2.0');
  assert.equal(obx[4]?.get(5, 1), '\\');
  assert.equal(obx[4]?.get(5, 2), '100');
  assert.equal(m.all('NTE')[1]?.get(3), 'Percent 100\\ |^&~\\ all five in a row');
});

test("'keep' mode passes formatting and hexadecimal escapes through intact", () => {
  const m = Hl7Message.parse(fixture('oru-r01-formatting-escapes.hl7'));
  const [ft1, ft2, st] = m.all('OBX');
  assert.equal(ft1?.get(5), 'pH : \\H\\7.28\\N\\ (7.38-7.43)\\.br\\\\.sp2\\pCO2\\.in+4\\ 61\\.ce\\ mmHg\\X0D0A\\end\\X41\\');
  assert.equal(ft2?.get(5), 'Vendor \\Zvendor1\\ and charset \\C2842\\ \\M244241\\ markers\\.sp\\x\\X0D\\y\\X0A\\z');
  // 'keep' is the default: the same as asking for it.
  assert.equal(ft1?.get(5, 1, 1, 0, { formatting: 'keep' }), ft1?.get(5));
  // Whatever is kept is the raw text of the leaf: nothing lost, nothing added.
  assert.equal(ft1?.get(5), ft1?.raw(5));
  assert.equal(ft2?.get(5), ft2?.raw(5));
  // A stray escape character pairs with the next one, so the text between them is kept as
  // written and the \E\ after it is no longer a sequence (node-hl7-client reads it the same way).
  assert.equal(st?.get(5), 'lone \\ escape and \\E\\ done');
});

test("'text' mode turns line-break escapes into \\n and drops other formatting commands", () => {
  const m = Hl7Message.parse(fixture('oru-r01-formatting-escapes.hl7'));
  const [ft1, ft2] = m.all('OBX');
  const text = { formatting: 'text' } as const;
  // \H\ \N\ (highlighting), \.in+4\ (indent) and \.ce\ (centre) carry no text: dropped.
  // \.br\, \.sp2\ and \X0D0A\ are line breaks. \X41\ is the character 0x41.
  assert.equal(ft1?.get(5, 1, 1, 0, text), 'pH : 7.28 (7.38-7.43)\n\npCO2 61 mmHg\nendA');
  // Vendor (\Z..\) and character-set (\C..\, \M..\) escapes are kept; \X0D\ and \X0A\ are line breaks.
  assert.equal(ft2?.get(5, 1, 1, 0, text), 'Vendor \\Zvendor1\\ and charset \\C2842\\ \\M244241\\ markers\nx\ny\nz');
  assert.equal(unescapeText('a\\.br\\b', d, text), 'a\nb');
  assert.equal(unescapeText('a\\X0D0A0D0A\\b', d, text), 'a\n\nb');
  assert.equal(unescapeText('a\\X0A0D\\b', d, text), 'a\n\nb');
  // An escaped backslash followed by ".br" is text, not a line break, in either mode.
  assert.equal(unescapeText('\\E\\.br\\E\\', d, text), '\\.br\\');
  assert.equal(unescapeText('\\E\\.br\\E\\', d), '\\.br\\');
  const nte = Hl7Message.parse(fixture('oru-r01-escapes.hl7')).segment('NTE')!;
  assert.equal(
    nte.get(3, 1, 1, 0, text),
    'Comment with | pipe, ^ caret, ~ tilde, \\ backslash and & ampersand.\nSecond line \\.br\\ literal.',
  );
  assert.equal(
    nte.get(3),
    'Comment with | pipe, ^ caret, ~ tilde, \\ backslash and & ampersand.\\.br\\Second line \\.br\\ literal.',
  );
});

test('unescapeText edge cases', () => {
  assert.equal(unescapeText('', d), '');
  assert.equal(unescapeText('\\', d), '\\');
  assert.equal(unescapeText('\\\\', d), '\\\\', 'an empty escape sequence is kept');
  assert.equal(unescapeText('\\F\\\\S\\\\T\\\\R\\\\E\\', d), '|^&~\\');
  assert.equal(unescapeText('end\\E\\', d), 'end\\');
  assert.equal(unescapeText('\\E\\start', d), '\\start');
  assert.equal(unescapeText('a\\F\\b\\', d), 'a|b\\', 'a trailing lone escape is kept');
  assert.equal(unescapeText('\\Fx\\', d), '\\Fx\\', 'only the exact sequences of section 2.7 are decoded');
  assert.equal(unescapeText('\\f\\', d), '\\f\\', 'escape codes are upper case');
  // \P\ is the truncation character only when MSH-2 declares one.
  assert.equal(unescapeText('\\P\\', d), '\\P\\');
  assert.equal(unescapeText('\\P\\', readDelimiters('MSH|^~\\&#|')), '#');
  // With no escape character (it clashed with the field separator), nothing is unescaped.
  const noEscape: Delimiters = { ...d, field: '\\', escape: '' };
  assert.equal(unescapeText('\\F\\', noEscape), '\\F\\');
});

test('non-ASCII text survives escaping, parsing and serialising unchanged', () => {
  const text = fixture('oru-r01-non-ascii.hl7');
  const m = Hl7Message.parse(text);
  assert.equal(m.toString(), text);
  const pid = m.segment('PID')!;
  assert.equal(pid.get(3, 4), 'BV Bạch Mai');
  assert.deepEqual(
    [0, 1, 2].map((r) => `${pid.get(5, 1, 1, r)} ${pid.get(5, 2, 1, r)}`),
    ['Nguyễn Thị Minh Khai', 'Αλέξανδρος Παπαδόπουλος', '王 小明'],
  );
  assert.equal(pid.get(11, 1), 'Số 78 Đường Giải Phóng');
  assert.equal(pid.get(11, 3), 'Hà Nội');
  const nte = m.segment('NTE')!.get(3);
  assert.ok(nte.includes('Cafe\u0301 vs Café'), 'combining marks are not normalised');
  assert.ok(nte.includes('🧪🩸👩🏽‍⚕️'));
  assert.ok(nte.includes('𝔘𝔫𝔦𝔠𝔬𝔡𝔢'));
  assert.ok(nte.includes('שלום عربى'));
  assert.equal(m.segment('OBX')?.get(3, 2), 'Glucose – nüchtern');
  assert.equal(m.segment('OBX')?.get(5), 'Ergebnis: 5,4 mmol/L µ ± ≥ ≤ ° §');
  const values = ['Nguyễn Văn Ánh | ^', 'Ελληνικά & ~', '中文 \\ 汉字', 'emoji 😀🧬 \n next'];
  for (const v of values) {
    const leaf = escapeText(v, d);
    assert.equal(unescapeText(leaf, d, { formatting: 'text' }), v);
    const seg = Hl7Message.parse(formatMessage(['MSH|^~\\&', encodeSegment('NTE', [null, '1', null, v], d)])).segment('NTE')!;
    assert.equal(seg.get(3, 1, 1, 0, { formatting: 'text' }), v);
  }
});

test('custom delimiters: MSH|$%@! reads and writes with $ % @ !', () => {
  const text = fixture('adt-a01-custom-delimiters.hl7');
  const m = Hl7Message.parse(text);
  const cd = m.delimiters;
  assert.deepEqual({ ...cd }, { field: '|', component: '$', repetition: '%', escape: '@', subcomponent: '!' });
  assert.equal(m.messageType, 'ADT^A01');
  assert.equal(m.msh.get(3, 2), 'FAC');
  const pid = m.segment('PID')!;
  assert.equal(pid.get(3, 1, 1, 0), 'A1');
  assert.equal(pid.get(3, 4, 1, 0), 'HOSP');
  assert.equal(pid.get(3, 4, 2, 0), '1.2.3');
  assert.equal(pid.get(3, 4, 3, 0), 'ISO');
  assert.equal(pid.get(3, 5, 1, 1), 'PI');
  assert.equal(pid.get(5, 1), 'Smith$Jones');
  assert.equal(pid.get(5, 2), 'Anne^Marie~\\&', 'the standard delimiters are plain data here');
  assert.equal(m.segment('NTE')?.get(3), 'Delimiters as data: | $ % @ ! and plain ^ ~ \\ & here');
  // Writing with the same delimiters gives the same segment back.
  assert.equal(
    encodeSegment('NTE', [null, '1', null, 'Delimiters as data: | $ % @ ! and plain ^ ~ \\ & here'], cd),
    text.split('\r')[3],
  );
  assert.equal(encodeField({ repeat: [['A1', null, null, ['HOSP', '1.2.3', 'ISO'], 'MR'], ['B2', null, null, 'OTHER', 'PI']] }, cd), pid.raw(3));
});

test("custom delimiters: '#' as field separator", () => {
  const m = Hl7Message.parse(fixture('oru-r01-hash-field-separator.hl7'));
  assert.equal(m.delimiters.field, '#');
  assert.equal(m.msh.get(1), '#');
  assert.equal(m.msh.get(2), '^~\\&');
  assert.equal(m.controlId, 'HASH-0001');
  assert.equal(m.version, '2.5.1');
  assert.equal(m.segment('PID')?.get(5, 1), 'Pipe|Person');
  assert.equal(m.segment('OBX')?.get(3, 2), 'Hash # test');
  assert.equal(m.segment('OBX')?.get(5), 'value # with hash and | pipe');
  assert.equal(m.segment('OBX')?.get(11), 'F');
  const hash = m.delimiters;
  assert.equal(encodeSegment('OBX', [null, '1', 'ST', ['1234-5', 'Hash # test', 'LN'], null, 'value # with hash and | pipe', null, null, null, null, null, 'F'], hash), m.segment('OBX')?.toString());
});

test("custom delimiters: '$' as subcomponent separator, as in a real v2.3.1 sample", () => {
  const m = Hl7Message.parse(fixture('oru-r01-dollar-subcomponent.hl7'));
  assert.equal(m.delimiters.subcomponent, '$');
  const pid = m.segment('PID')!;
  assert.equal(pid.get(3, 4, 1), 'DH');
  assert.equal(pid.get(3, 4, 2), '1.2.3');
  assert.equal(pid.get(3, 4, 3), 'ISO');
  const obx = m.segment('OBX')!;
  // \T\ stands for the subcomponent separator of this message, '$'; '&' is plain data.
  assert.equal(obx.get(5, 1, 1), 'Ref $ range & more');
  assert.equal(obx.get(5, 1, 2), 'sub2');
  assert.equal(escapeText('Ref $ range & more', m.delimiters), obx.getRaw(5, 1, 1));
});

test('every escape sequence follows the delimiter set of its message', () => {
  for (const { label, delimiters } of DELIMITER_SETS) {
    const { field, component, repetition, escape: e, subcomponent, truncation } = delimiters;
    const all = field + component + repetition + e + subcomponent + (truncation ?? '');
    const expected = ['F', 'S', 'R', 'E', 'T', ...(truncation ? ['P'] : [])].map((code) => e + code + e).join('');
    assert.equal(escapeText(all, delimiters), expected, label);
    assert.equal(unescapeText(expected, delimiters), all, label);
  }
});
