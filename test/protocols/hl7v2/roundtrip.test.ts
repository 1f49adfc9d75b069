/**
 * Lossless parse/serialise: an unchanged message serialises to exactly the bytes it was
 * parsed from, whatever the segment terminators, except for a leading BOM, which is dropped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeField, Hl7Message } from '../../../src/protocols/hl7v2/index.ts';
import { sharedSamplesPresent } from '../../support/shared-samples.ts';
import { fixture, type MessageFile, readFixtures, readSamples } from './support.ts';

const TERMINATORS = /\r\n|\r|\n/;

/** The segments of a message, however it ends its lines. */
function segmentsOf(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(TERMINATORS);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** The same segments with other terminators: one for all, or cycling through several. */
function variants(text: string): Array<{ label: string; text: string }> {
  const segs = segmentsOf(text);
  const join = (terms: string[], trailing: boolean): string =>
    segs.map((s, i) => (i < segs.length - 1 || trailing ? s + terms[i % terms.length] : s)).join('');
  const out: Array<{ label: string; text: string }> = [];
  for (const [label, terms] of [
    ['CR', ['\r']],
    ['LF', ['\n']],
    ['CRLF', ['\r\n']],
    ['mixed CR/LF/CRLF', ['\r', '\n', '\r\n']],
    ['mixed CRLF/CR', ['\r\n', '\r']],
  ] as const) {
    out.push({ label: `${label}, trailing terminator`, text: join([...terms], true) });
    out.push({ label: `${label}, no trailing terminator`, text: join([...terms], false) });
  }
  return out;
}

function assertRoundTrip(file: MessageFile): void {
  const message = Hl7Message.parse(file.text);
  assert.equal(message.toString(), file.text.replace(/^\uFEFF/, ''), `${file.name} does not serialise to its own bytes`);
  assert.deepEqual(
    message.segments.map((s) => s.toString()),
    segmentsOf(file.text),
    `${file.name}: segments differ from the lines of the file`,
  );
  for (const v of variants(file.text)) {
    const m = Hl7Message.parse(v.text);
    assert.equal(m.toString(), v.text, `${file.name} with ${v.label} terminators does not round-trip`);
    assert.deepEqual(
      m.segments.map((s) => s.toString()),
      message.segments.map((s) => s.toString()),
      `${file.name} with ${v.label} terminators parses to other segments`,
    );
  }
}

test('every real-world sample round-trips byte for byte, with any segment terminator', async (t) => {
  const samples = readSamples();
  if (!sharedSamplesPresent(t) || !samples) return;
  assert.ok(samples.length > 0, 'the samples folder holds no .hl7 file');
  for (const sample of samples) await t.test(sample.name, () => assertRoundTrip(sample));
});

test('every fixture round-trips byte for byte, with any segment terminator', async (t) => {
  const fixtures = readFixtures();
  assert.ok(fixtures.length >= 10);
  for (const f of fixtures) await t.test(f.name, () => assertRoundTrip(f));
});

test('CR, LF, CRLF and mixed files of one message give the same segments', () => {
  const crlf = Hl7Message.parse(fixture('adt-a01-crlf.hl7'));
  const lf = Hl7Message.parse(fixture('adt-a01-lf.hl7'));
  const mixed = Hl7Message.parse(fixture('adt-a01-mixed-eol.hl7'));
  const bom = Hl7Message.parse(fixture('adt-a01-bom.hl7'));
  const expected = ['MSH', 'EVN', 'PID', 'PV1'];
  for (const m of [crlf, lf, mixed, bom]) {
    assert.deepEqual(
      m.segments.map((s) => s.name),
      expected,
    );
    assert.equal(m.controlId, 'EOL-0001');
    assert.equal(m.segment('PID')?.get(5, 2), 'Ending');
    // A CR left over from CRLF must never end up inside the last field of a segment.
    assert.equal(m.segment('PV1')?.get(2), 'I');
    assert.equal(m.msh.get(12), '2.5.1');
  }
  assert.equal(crlf.toString(), fixture('adt-a01-crlf.hl7'));
  assert.equal(lf.toString(), fixture('adt-a01-lf.hl7'));
  assert.equal(mixed.toString(), fixture('adt-a01-mixed-eol.hl7'));
});

test('a leading BOM is dropped and everything after it is kept', () => {
  const withBom = fixture('adt-a01-bom.hl7');
  assert.equal(withBom.charCodeAt(0), 0xfeff);
  const m = Hl7Message.parse(withBom);
  assert.equal(m.toString(), withBom.slice(1));
  assert.equal(m.msh.name, 'MSH');
  assert.equal(m.delimiters.field, '|');
  const plain = fixture('oru-r01-escapes.hl7');
  assert.equal(Hl7Message.parse(`\uFEFF${plain}`).toString(), plain);
});

test('a single MSH, with or without its terminator, round-trips', () => {
  for (const text of ['MSH|^~\\&', 'MSH|^~\\&\r', 'MSH|^~\\&|A|B\r\n', 'MSH|^~\\&|||||||ACK|1|P|2.5.1\n']) {
    assert.equal(Hl7Message.parse(text).toString(), text);
  }
});

test('trailing empty fields, empty components and whitespace are kept as written', () => {
  const text = 'MSH|^~\\&|A||||\rPID|||^^^||  x  |~~|&&|\rZZ1\rOBX|1| \r';
  const m = Hl7Message.parse(text);
  assert.equal(m.toString(), text);
  assert.equal(m.segment('PID')?.get(5), '  x  ');
  assert.equal(m.segment('PID')?.length, 8);
  assert.equal(m.segment('ZZ1')?.length, 0);
  assert.equal(m.segment('OBX')?.get(2), ' ');
});

test('changing one field re-serialises that segment only; the others keep their bytes', () => {
  const text = fixture('oru-r01-escapes.hl7');
  const m = Hl7Message.parse(text);
  const obx = m.segment('OBX', 1)!;
  const d = m.delimiters;
  obx.setRaw(5, encodeField(['2.0 | new ^ value', 'x&y'], d));
  const lines = text.split('\r');
  const obxLine = lines.findIndex((l) => l.startsWith('OBX|2|'));
  const out = m.toString().split('\r');
  assert.equal(out.length, lines.length);
  for (const [i, line] of lines.entries()) {
    if (i === obxLine) continue;
    assert.equal(out[i], line, `segment ${i + 1} changed although it was not touched`);
  }
  assert.equal(out[obxLine], 'OBX|2|ST|5902-2^PT \\F\\ INR^LN||2.0 \\F\\ new \\S\\ value^x\\T\\y|{ratio}||||F');
  const again = Hl7Message.parse(m.toString());
  assert.equal(again.segment('OBX', 1)?.get(5, 1), '2.0 | new ^ value');
  assert.equal(again.segment('OBX', 1)?.get(5, 2), 'x&y');
  // setRaw past the end pads with empty fields.
  const pid = m.segment('PID')!;
  pid.setRaw(40, 'Z');
  assert.equal(pid.length, 40);
  assert.ok(pid.toString().endsWith(`^CH${'|'.repeat(40 - 11)}Z`), pid.toString());
  assert.throws(() => m.msh.setRaw(2, '^~'), RangeError);
  assert.throws(() => m.msh.setRaw(1, '#'), RangeError);
  assert.throws(() => pid.setRaw(0, 'PID'), RangeError);
});

test('changing an MSH field keeps MSH-1 and MSH-2', () => {
  const m = Hl7Message.parse('MSH|^~\\&|A|B|C|D|20250101||ADT^A01|1|P|2.5.1\rEVN|A01\r');
  m.msh.setRaw(10, 'NEW-ID');
  assert.equal(m.toString(), 'MSH|^~\\&|A|B|C|D|20250101||ADT^A01|NEW-ID|P|2.5.1\rEVN|A01\r');
  assert.equal(Hl7Message.parse(m.toString()).controlId, 'NEW-ID');
});
