/**
 * Delimiters from MSH-1/MSH-2 (v2.5.1 section 2.5.4; v2.7 adds a fifth, truncation character)
 * and the errors a message that cannot be framed into segments gives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_DELIMITERS,
  DelimiterError,
  encodeSegment,
  encodingCharacters,
  formatMessage,
  Hl7Message,
  Hl7ParseError,
  readDelimiters,
  unescapeText,
} from '../../../src/protocols/hl7v2/index.ts';
import { fixture } from './support.ts';

test('standard MSH-2 ^~\\& gives the default delimiters', () => {
  assert.deepEqual(readDelimiters('MSH|^~\\&|APP'), DEFAULT_DELIMITERS);
  assert.equal(encodingCharacters(DEFAULT_DELIMITERS), '^~\\&');
});

test('five-character MSH-2 declares the v2.7 truncation character', () => {
  const d = readDelimiters('MSH|^~\\&#|NIST');
  assert.deepEqual({ ...d }, { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&', truncation: '#' });
  assert.equal(encodingCharacters(d), '^~\\&#');
  const m = Hl7Message.parse(fixture('oru-r01-msh2-5chars.hl7'));
  assert.equal(m.msh.get(2), '^~\\&#');
  assert.equal(m.msh.get(3, 1), 'NIST Test Lab APP');
  assert.equal(m.segment('PID')?.get(3, 4, 2), '2.16.840.1.113883.3.72.5.30.2');
  assert.equal(m.segment('OBX')?.get(5), 'Long text cut here#');
  assert.equal(m.segment('OBX')?.get(6), '%');
  // A raw '#' is not a separator when reading; only writing escapes it.
  assert.equal(m.segment('NTE')?.get(3), 'Literal # in text and # escaped');
  assert.equal(encodeSegment('NTE', [null, '1', null, 'Literal # in text'], m.delimiters), 'NTE|1||Literal \\P\\ in text');
});

test('three-character MSH-2: the missing subcomponent separator falls back to & when free', () => {
  const m = Hl7Message.parse(fixture('oru-r01-msh2-3chars.hl7'));
  assert.deepEqual({ ...m.delimiters }, { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' });
  assert.equal(m.msh.get(2), '^~\\');
  assert.equal(m.segment('PID')?.get(3, 4, 2), '1.2.3');
  assert.equal(m.segment('OBX')?.get(5, 1, 1), 'a & b ');
  assert.equal(m.segment('OBX')?.get(5, 1, 2), ' c');
  assert.equal(m.toString(), fixture('oru-r01-msh2-3chars.hl7'));
});

test("three-character MSH-2 '^~&' is read by position: '&' is the escape character, no subcomponents", () => {
  // As in the ruby-hl7 copy of the HL7 ELR example (shared sample 23), where the backslash was
  // lost. Section 2.5.4 fixes the order (component, repetition, escape, subcomponent), so the
  // third character is the escape; '&' cannot be the subcomponent separator as well.
  const text = 'MSH|^~&|Lab1^1234^CLIA|||||ORU^R01|1|P|2.5.1\rPID|1||X^^^A&1.2&ISO^MR||N&T&Y\r';
  const m = Hl7Message.parse(text);
  assert.deepEqual({ ...m.delimiters }, { field: '|', component: '^', repetition: '~', escape: '&', subcomponent: '' });
  assert.equal(m.segment('PID')?.get(3, 4, 1), 'A&1.2&ISO', 'no subcomponent split; &1.2& is not an escape sequence, kept');
  assert.equal(m.segment('PID')?.get(3, 4, 2), '');
  // Regression: &T& stands for a subcomponent separator this message does not have; it was
  // decoded to '' and the text lost. It is kept as written, like any unknown sequence.
  assert.equal(m.segment('PID')?.get(5), 'N&T&Y');
  assert.equal(m.segment('PID')?.get(5, 1, 1, 0, { formatting: 'text' }), 'N&T&Y');
  assert.equal(m.toString(), text);
});

test('one- and two-character MSH-2 fill in the standard delimiters that do not clash', () => {
  assert.deepEqual({ ...readDelimiters('MSH|^|') }, { ...DEFAULT_DELIMITERS });
  assert.deepEqual({ ...readDelimiters('MSH|^~|') }, { ...DEFAULT_DELIMITERS });
  assert.deepEqual({ ...readDelimiters('MSH|&|') }, { field: '|', component: '&', repetition: '~', escape: '\\', subcomponent: '' });
});

test('custom delimiters and field separators are read from MSH', () => {
  assert.deepEqual({ ...readDelimiters('MSH|$%@!|') }, { field: '|', component: '$', repetition: '%', escape: '@', subcomponent: '!' });
  assert.deepEqual({ ...readDelimiters('MSH#^~\\&#X') }, { ...DEFAULT_DELIMITERS, field: '#' });
  assert.deepEqual({ ...readDelimiters('MSH_^~\\&_X') }, { ...DEFAULT_DELIMITERS, field: '_' });
  assert.deepEqual({ ...readDelimiters('MSH|^~\\$|') }, { ...DEFAULT_DELIMITERS, subcomponent: '$' });
  // Batch and file headers carry the same two fields.
  assert.deepEqual(readDelimiters('FHS|^~\\&|'), DEFAULT_DELIMITERS);
  assert.deepEqual(readDelimiters('BHS|^~\\&|'), DEFAULT_DELIMITERS);
});

test('MSH-2 ends at the segment terminator when MSH has no further fields', () => {
  // Regression: the field separator of the next segment was taken for the end of MSH-2.
  for (const term of ['\r', '\n', '\r\n']) {
    const text = `MSH|^~\\&${term}PID|1||X${term}`;
    const m = Hl7Message.parse(text);
    assert.deepEqual(m.delimiters, DEFAULT_DELIMITERS);
    assert.equal(m.segment('PID')?.get(3), 'X');
    assert.equal(m.toString(), text);
  }
  const text = formatMessage([encodeSegment('MSH', [], DEFAULT_DELIMITERS), 'EVN|A01']);
  assert.equal(text, 'MSH|^~\\&\rEVN|A01\r');
  assert.equal(Hl7Message.parse(text).toString(), text);
  assert.deepEqual({ ...readDelimiters('MSH|^~\\&#\rNTE|x') }, { ...DEFAULT_DELIMITERS, truncation: '#' });
});

test('without a repetition separator a field has one repetition', () => {
  // Regression: MSH-2 '~' makes '~' the component separator and leaves no repetition
  // separator; an empty separator split fields into single characters.
  const m = Hl7Message.parse('MSH|~|A\rPID|x~y|a~b~c\r');
  assert.equal(m.delimiters.repetition, '');
  const pid = m.segment('PID')!;
  assert.equal(pid.get(1, 1), 'x');
  assert.equal(pid.get(1, 2), 'y');
  assert.equal(pid.get(1, 1, 1, 1), '');
  assert.deepEqual(pid.repetitions(2), ['a~b~c']);
  assert.deepEqual(pid.components(2), ['a', 'b', 'c']);
  // \R\ stands for a separator this message does not have: kept as written.
  assert.equal(unescapeText('a\\R\\b', m.delimiters), 'a\\R\\b');
});

function assertDelimiterError(text: string, message: RegExp): void {
  assert.throws(
    () => Hl7Message.parse(text),
    (e: unknown) => {
      assert.ok(e instanceof DelimiterError, `expected a DelimiterError for ${JSON.stringify(text)}, got ${String(e)}`);
      assert.equal(e.name, 'DelimiterError');
      assert.match(e.message, message);
      return true;
    },
  );
}

test('a message that does not start with MSH is refused', () => {
  assertDelimiterError('', /does not start with an MSH segment/);
  assertDelimiterError('PID|1||X\r', /does not start with an MSH segment/);
  assertDelimiterError(' MSH|^~\\&|A\r', /does not start with an MSH segment/);
  assertDelimiterError('\rMSH|^~\\&|A\r', /does not start with an MSH segment/);
  assertDelimiterError('msh|^~\\&|A\r', /does not start with an MSH segment/);
  assertDelimiterError('<hl7>MSH|^~\\&|</hl7>', /does not start with an MSH segment/);
});

test('a missing field separator or bad MSH-2 is refused with what is wrong', () => {
  assertDelimiterError('MSH', /MSH-1 \(field separator\) is missing/);
  assertDelimiterError('MSH\rPID|1', /MSH-1 \(field separator\) is missing/);
  assertDelimiterError('MSH||A|B\r', /MSH-2 \(encoding characters\) must have 1 to 5 characters, found 0/);
  assertDelimiterError('MSH|\rPID|1\r', /MSH-2 .* found 0/);
  assertDelimiterError('MSH|^~\\&#!|A\r', /MSH-2 .* found 6/);
  assertDelimiterError('MSH|^^\\&|A\r', /invalid or repeated delimiter '\^'/);
  assertDelimiterError('MSH|^~\\~|A\r', /invalid or repeated delimiter '~'/);
  assertDelimiterError('MSH|^~A&|A\r', /invalid or repeated delimiter 'A'/);
  assertDelimiterError('MSH|1234|A\r', /invalid or repeated delimiter '1'/);
});

function assertParseError(text: string, message: RegExp, location: string): void {
  assert.throws(
    () => Hl7Message.parse(text),
    (e: unknown) => {
      assert.ok(e instanceof Hl7ParseError, `expected an Hl7ParseError for ${JSON.stringify(text)}, got ${String(e)}`);
      assert.equal(e.name, 'Hl7ParseError');
      assert.match(e.message, message);
      assert.equal(e.location, location);
      assert.equal(e.errorCode, '100', 'table 0357: segment sequence error');
      return true;
    },
  );
}

test('bad segment names are refused with the segment number', () => {
  assertParseError('MSH|^~\\&|A\rpid|1\r', /segment 2 does not start with a segment name followed by '\|'/, 'segment 2');
  assertParseError('MSH|^~\\&|A\rPI|1\r', /segment 2 /, 'segment 2');
  assertParseError('MSH|^~\\&|A\rPIDX|1\r', /segment 2 /, 'segment 2');
  assertParseError('MSH|^~\\&|A\r1ID|1\r', /segment 2 /, 'segment 2');
  assertParseError('MSH|^~\\&|A\rPID|1\rOB\r', /segment 3 /, 'segment 3');
  assertParseError('MSH|^~\\&|A\rPID 1\r', /segment 2 /, 'segment 2');
  assertParseError('MSH|^~\\&|A\r PID|1\r', /segment 2 /, 'segment 2');
  // With '#' as field separator, a '|' after the name is not a separator.
  assertParseError('MSH#^~\\&#A\rPID|1\r', /segment 2 does not start with a segment name followed by '#'/, 'segment 2');
  // Digits are allowed after the first letter (Z segments, OBX-like custom ids).
  assert.equal(Hl7Message.parse('MSH|^~\\&|A\rZ01|1\rZZ9\r').segments.length, 3);
});

test('empty segments and messages whose first segment is not MSH are refused', () => {
  assertParseError('MSH|^~\\&|A\r\rPID|1\r', /empty segment at line 2/, 'segment 2');
  assertParseError('MSH|^~\\&|A\n\nPID|1\n', /empty segment at line 2/, 'segment 2');
  assertParseError('MSH|^~\\&|A\r\r', /empty segment at line 2/, 'segment 2');
  assert.throws(() => Hl7Message.parse('FHS|^~\\&|A\rMSH|^~\\&|B\r'), (e: unknown) => {
    assert.ok(e instanceof Hl7ParseError);
    assert.match(e.message, /first segment is not MSH/);
    assert.equal(e.location, 'MSH');
    return true;
  });
});
