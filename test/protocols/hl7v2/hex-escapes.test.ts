/**
 * Hexadecimal escapes and control characters (HL7 v2.5.1 section 2.7.5, issue 13 rule 6):
 * `\X0D\\X0A\` is one line break, hex bytes are decoded in the MSH-18 character set, every
 * escape in every component reads back, and control characters are written as `\Xhh\`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DELIMITERS, encodeSegment, escapeText, formatMessage, Hl7Message, readDelimiters, unescapeText } from '../../../src/protocols/hl7v2/index.ts';

const d = DEFAULT_DELIMITERS;
const text = { formatting: 'text' } as const;

test('CR LF written as two hex escapes is one line break, as CR LF in one escape is', () => {
  assert.equal(unescapeText('line 1\\X0D\\\\X0A\\line 2', d, text), 'line 1\nline 2');
  assert.equal(unescapeText('line 1\\X0D0A\\line 2', d, text), 'line 1\nline 2');
  assert.equal(unescapeText('a\\X0D\\b\\X0A\\c', d, text), 'a\nb\nc', 'CR and LF apart are a break each');
  assert.equal(unescapeText('a\\X0A\\\\X0D\\b', d, text), 'a\n\nb', 'LF then CR is two breaks');
  assert.equal(unescapeText('a\\X0D\\\\X0A\\\\X0D\\\\X0A\\b', d, text), 'a\n\nb');
  assert.equal(unescapeText('a\\X0D\\\\.br\\b', d, text), 'a\n\nb', 'a hex CR and a \\.br\\ are two breaks');
  // 'keep' mode still gives the escapes back as written.
  assert.equal(unescapeText('a\\X0D\\\\X0A\\b', d), 'a\\X0D\\\\X0A\\b');
});

test('hex escapes are decoded in the character set MSH-18 declares', () => {
  const msg = (msh18: string, obx5: string): Hl7Message =>
    Hl7Message.parse(`MSH|^~\\&|A|B|C|D|20250101||ORU^R01|1|P|2.5.1||||||${msh18}\rOBX|1|ST|X||${obx5}\r`);
  assert.equal(msg('8859/1', 'caf\\XE9\\').segment('OBX')?.get(5, 1, 1, 0, text), 'café');
  assert.equal(msg('8859/7', '\\XE1\\').segment('OBX')?.get(5, 1, 1, 0, text), 'α');
  assert.equal(msg('UNICODE UTF-8', 'caf\\XC3A9\\').segment('OBX')?.get(5, 1, 1, 0, text), 'café');
  // One UTF-8 character split over two adjacent escapes is still one character.
  assert.equal(msg('UNICODE UTF-8', 'caf\\XC3\\\\XA9\\').segment('OBX')?.get(5, 1, 1, 0, text), 'café');
  // Without MSH-18: ASCII, and bytes above 0x7F as UTF-8.
  assert.equal(msg('', 'A\\X41\\\\XC3A9\\').segment('OBX')?.get(5, 1, 1, 0, text), 'AAé');
  // Bytes that are not valid in the declared set are kept as written, never turned into U+FFFD.
  assert.equal(msg('UNICODE UTF-8', 'x\\XE9\\y').segment('OBX')?.get(5, 1, 1, 0, text), 'x\\XE9\\y');
  assert.equal(msg('ASCII', 'x\\XE9\\y').segment('OBX')?.get(5, 1, 1, 0, text), 'x\\XE9\\y');
  assert.equal(msg('8859/1', 'x').delimiters.charset, '8859/1');
});

test('control characters a FHIR string cannot carry keep their escape; TAB and DEL are decoded', () => {
  assert.equal(unescapeText('bell\\X07\\', d, text), 'bell\\X07\\');
  assert.equal(unescapeText('nul\\X00\\vt\\X0B\\fs\\X1C\\esc\\X1B\\', d, text), 'nul\\X00\\vt\\X0B\\fs\\X1C\\esc\\X1B\\');
  assert.equal(unescapeText('a\\X09\\b\\X7F\\', d, text), 'a\tb\x7f');
});

test('escapeText writes control characters as hex escapes, so none reaches the wire raw', () => {
  assert.equal(escapeText('a\x00b\x07c\x0bd\x1ce\x1bf\x7f', d), 'a\\X00\\b\\X07\\c\\X0B\\d\\X1C\\e\\X1B\\f\\X7F\\');
  assert.equal(escapeText('tab\tkept', d), 'tab\tkept', 'TAB is text in HL7 v2 and in FHIR');
  assert.equal(escapeText('a\r\nb', d), 'a\\.br\\b', 'line breaks stay \\.br\\');
  const custom = readDelimiters('MSH|^~@&|');
  assert.equal(escapeText('x\x07', custom), 'x@X07@');
  const seg = encodeSegment('OBX', [null, '1', 'ST', 'X', null, 'v\x0b\x1c\x00'], d);
  assert.ok(!/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(seg), seg);
  // Every C0 control but TAB, CR and LF, and DEL.
  for (let c = 0; c < 0x80; c++) {
    const ch = String.fromCharCode(c);
    const escaped = escapeText(ch, d);
    if (c < 0x20 || c === 0x7f) {
      if (c === 0x09) assert.equal(escaped, '\t');
      else if (c === 0x0a || c === 0x0d) assert.equal(escaped, '\\.br\\');
      else assert.equal(escaped, `\\X${c.toString(16).toUpperCase().padStart(2, '0')}\\`);
    }
  }
});

test('every escape in every component reads back: \\P\\ truncation, \\H\\ \\N\\ highlighting, delimiters', () => {
  const five = readDelimiters('MSH|^~\\&#|');
  const msg = Hl7Message.parse(
    formatMessage([
      'MSH|^~\\&#|A|B|C|D|20250101||ORU^R01|1|P|2.7',
      'OBX|1|CWE|C1\\P\\^\\H\\High\\N\\ name^L\\F\\N||v1\\P\\^\\H\\v2\\N\\^x\\S\\y\\T\\z\\R\\w\\E\\e\\X0D\\\\X0A\\end',
    ]),
  );
  assert.deepEqual(msg.delimiters.truncation, five.truncation);
  const obx = msg.segment('OBX')!;
  // 'keep': delimiter escapes (\P\ included) decoded, formatting kept.
  assert.deepEqual([1, 2, 3].map((c) => obx.get(3, c)), ['C1#', '\\H\\High\\N\\ name', 'L|N']);
  assert.deepEqual([1, 2, 3].map((c) => obx.get(5, c)), ['v1#', '\\H\\v2\\N\\', 'x^y&z~w\\e\\X0D\\\\X0A\\end']);
  // 'text': highlighting dropped, hex CR LF one break.
  assert.deepEqual([1, 2, 3].map((c) => obx.get(3, c, 1, 0, text)), ['C1#', 'High name', 'L|N']);
  assert.deepEqual([1, 2, 3].map((c) => obx.get(5, c, 1, 0, text)), ['v1#', 'v2', 'x^y&z~w\\e\nend']);
  assert.deepEqual(obx.components(5, 0, text), ['v1#', 'v2', 'x^y&z~w\\e\nend']);
});
