/**
 * Character sets (issue 13 rule 1): MSH-18 read from the bytes of MSH before decoding, the
 * values of HL7 table 0211 that Node decodes, and strict decoding (no U+FFFD).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CharsetError, charsetOf, SUPPORTED_CHARSETS, sniffMsh18 } from '../../../src/protocols/hl7v2/index.ts';

const msh = (msh18: string, rest = ''): Buffer => Buffer.from(`MSH|^~\\&|A|B|C|D|20250101||ORU^R01|1|P|2.5.1||||||${msh18}\r${rest}`, 'latin1');

test('MSH-18 is read from the bytes, before decoding', () => {
  assert.equal(sniffMsh18(msh('8859/1')), '8859/1');
  assert.equal(sniffMsh18(msh('UNICODE UTF-8|EN')), 'UNICODE UTF-8');
  assert.equal(sniffMsh18(msh(' 8859/15 ')), '8859/15');
  assert.equal(sniffMsh18(msh('8859/1~ISO IR87')), '8859/1', 'the first repetition is the default character set');
  assert.equal(sniffMsh18(msh('')), '');
  assert.equal(sniffMsh18(Buffer.from('MSH|^~\\&|A|B|C|D|20250101||ORU^R01|1|P|2.5.1\rPID|1|2|3|4|5|6|7|8|9|10|11|12|13|14|15|16|17|UTF-X\r')), '', 'a later segment is not MSH');
  assert.equal(sniffMsh18(Buffer.from('MSH#^~\\&#A#B#C#D#1##ORU^R01#1#P#2.5.1######8859/2\r')), '8859/2', 'any field separator');
  assert.equal(sniffMsh18(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), msh('UNICODE UTF-8')])), 'UNICODE UTF-8', 'after a BOM');
  // Non-ASCII bytes in earlier fields (a Latin-1 facility name) do not move the count.
  assert.equal(sniffMsh18(Buffer.from('MSH|^~\\&|A|Gen\xe8ve|C|D|1||ORU^R01|1|P|2.5.1||||||8859/1\r', 'latin1')), '8859/1');
  assert.equal(sniffMsh18(Buffer.from('PID|1')), '');
});

test('table 0211 names map to strict decoders', () => {
  for (const name of SUPPORTED_CHARSETS) assert.equal(charsetOf(name)?.name, name);
  assert.equal(charsetOf('unicode utf-8')?.name, 'UNICODE UTF-8', 'case-insensitive');
  assert.equal(charsetOf('UTF-8')?.name, 'UNICODE UTF-8', 'a common alias');
  assert.equal(charsetOf('8859')?.name, '8859/1', 'a bare 8859, as Sysmex MOLIS writes it');
  assert.equal(charsetOf('UNICODE UTF-16'), undefined, 'ER7 over MLLP needs an ASCII-compatible encoding');
  assert.equal(charsetOf('EBCDIC'), undefined);
  assert.equal(charsetOf('8859/1')!.decode(Buffer.from([0x47, 0x65, 0x6e, 0xe8, 0x76, 0x65])), 'Genève');
  assert.equal(charsetOf('8859/1')!.decode(Buffer.from([0x80])), '\u0080', 'ISO 8859-1 itself, not windows-1252');
  assert.equal(charsetOf('8859/2')!.decode(Buffer.from([0xb3, 0xf3, 0x64, 0xbc])), 'łódź');
  assert.equal(charsetOf('8859/15')!.decode(Buffer.from([0xa4])), '€');
  assert.equal(charsetOf('8859/5')!.decode(Buffer.from([0xdc, 0xde, 0xe1, 0xda, 0xd2, 0xd0])), 'москва');
  assert.equal(charsetOf('UNICODE UTF-8')!.decode(Buffer.from('Nguyễn 王')), 'Nguyễn 王');
  assert.equal(charsetOf('GB 18030-2000')!.decode(Buffer.from([0xcd, 0xf5])), '王');
  assert.equal(charsetOf('KS X 1001')!.decode(Buffer.from([0xc7, 0xd1])), '한');
  assert.equal(charsetOf('BIG-5')!.decode(Buffer.from([0xa4, 0xa4])), '中');
});

test('bytes that do not decode are refused, never replaced by U+FFFD', () => {
  const utf8 = charsetOf('UNICODE UTF-8')!;
  assert.throws(
    () => utf8.decode(Buffer.from([0x41, 0x42, 0xe9, 0x43])),
    (e: unknown) => e instanceof CharsetError && e.byteOffset === 2 && /not valid UNICODE UTF-8/.test(e.message),
  );
  assert.throws(() => utf8.decode(Buffer.from([0xed, 0xa0, 0x80])), CharsetError, 'an encoded lone surrogate is invalid UTF-8');
  assert.throws(
    () => charsetOf('ASCII')!.decode(Buffer.from([0x41, 0xc3, 0xa9])),
    (e: unknown) => e instanceof CharsetError && e.byteOffset === 1,
  );
  assert.throws(() => charsetOf('BIG-5')!.decode(Buffer.from([0xa4])), CharsetError, 'a cut multi-byte character');
});

test('acknowledgements are encoded back in the sender\'s character set', () => {
  assert.deepEqual([...charsetOf('8859/1')!.encode('Genève')], [0x47, 0x65, 0x6e, 0xe8, 0x76, 0x65]);
  assert.deepEqual([...charsetOf('8859/2')!.encode('łódź')], [0xb3, 0xf3, 0x64, 0xbc]);
  assert.equal(charsetOf('UNICODE UTF-8')!.encode('王').toString('utf8'), '王');
  assert.equal(charsetOf('ASCII')!.encode('é').toString('latin1'), '?');
});
