/**
 * Property tests with a seeded PRNG and bounded iterations: random leaves heavy in delimiters,
 * backslashes, line breaks and non-ASCII go through encodeSegment → formatMessage →
 * Hl7Message.parse, and every leaf comes back. Replay a failure with HL7_PROPERTY_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DelimiterError, escapeText, Hl7Message, Hl7ParseError, unescapeText } from '../../../src/protocols/hl7v2/index.ts';
import { pick, prng } from '../../support/prng.ts';
import {
  DELIMITER_SETS,
  inputLeaf,
  inputPositions,
  keptLeaf,
  randomLeaf,
  randomMessage,
  readFixtures,
  textLeaf,
  where,
} from './support.ts';

const SEED = Number(process.env.HL7_PROPERTY_SEED ?? 20250102);
const MESSAGES_PER_SET = 250;

test('escapeText then unescapeText gives every random string back', () => {
  for (const [k, { label, delimiters }] of DELIMITER_SETS.entries()) {
    const rand = prng(SEED + k);
    for (let i = 0; i < 2000; i++) {
      const value = randomLeaf(rand, 16);
      const escaped = escapeText(value, delimiters);
      const why = `seed ${SEED + k}, ${label}, string ${i}: ${JSON.stringify(value)} → ${JSON.stringify(escaped)}`;
      assert.ok(!/[\r\n]/.test(escaped), `${why}: a raw line break was written`);
      for (const sep of [delimiters.field, delimiters.component, delimiters.repetition, delimiters.subcomponent]) {
        assert.ok(!escaped.includes(sep), `${why}: separator '${sep}' was left raw`);
      }
      assert.equal(unescapeText(escaped, delimiters), keptLeaf(value, delimiters), why);
      assert.equal(unescapeText(escaped, delimiters, { formatting: 'text' }), textLeaf(value), why);
    }
  }
});

test('random messages: every leaf read back by get, and re-serialising is byte-identical', (t) => {
  let leaves = 0;
  for (const [k, { label, delimiters }] of DELIMITER_SETS.entries()) {
    const rand = prng(SEED + 100 + k);
    for (let i = 0; i < MESSAGES_PER_SET; i++) {
      const { text, segments } = randomMessage(rand, delimiters);
      const why = `seed ${SEED + 100 + k}, ${label}, message ${i}`;
      const m = Hl7Message.parse(text);
      assert.equal(m.toString(), text, `${why}: not byte-identical`);
      assert.deepEqual(m.delimiters, delimiters, why);
      assert.deepEqual(
        m.segments.map((s) => s.name),
        segments.map((s) => s.name),
        why,
      );
      for (const [s, input] of segments.entries()) {
        const seg = m.segments[s]!;
        for (let field = input.name === 'MSH' ? 3 : 1; field < input.fields.length; field++) {
          const fieldInput = input.fields[field];
          for (const at of inputPositions(field, fieldInput)) {
            const expected = inputLeaf(fieldInput, at);
            const loc = `${why}, ${where({ name: input.name, ...at })}`;
            assert.equal(seg.get(at.field, at.component, at.subcomponent, at.repetition), keptLeaf(expected, delimiters), loc);
            assert.equal(seg.get(at.field, at.component, at.subcomponent, at.repetition, { formatting: 'text' }), textLeaf(expected), loc);
            leaves++;
          }
        }
        // Past the last field written, everything reads as empty.
        assert.equal(seg.get(Math.max(input.fields.length, input.name === 'MSH' ? 3 : 1)), '', why);
      }
      // A second parse of the serialised text is the same message again.
      assert.equal(Hl7Message.parse(m.toString()).toString(), text, why);
    }
  }
  t.diagnostic(`${DELIMITER_SETS.length * MESSAGES_PER_SET} messages, ${leaves} leaf positions checked (seed ${SEED})`);
});

test('random damage to real messages either parses losslessly or fails with a codec error', (t) => {
  // Parsers get fuzzed: inserting, deleting or replacing characters in a valid message must
  // never throw anything but Hl7ParseError / DelimiterError, and whatever parses round-trips.
  const fixtures = readFixtures();
  const rand = prng(SEED + 200);
  const noise = ['|', '^', '~', '\\', '&', '\r', '\n', '\r\n', 'M', 'S', 'H', 'a', ' ', 'é', '😀', '\uFEFF', '#'];
  let parsed = 0;
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const base = pick(rand, fixtures).text;
    let text = base;
    const edits = 1 + Math.floor(rand() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rand() * (text.length + 1));
      const op = rand();
      if (op < 0.4) text = text.slice(0, at) + pick(rand, noise) + text.slice(at);
      else if (op < 0.7) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(rand() * 4));
      else text = text.slice(0, at) + pick(rand, noise) + text.slice(at + 1);
    }
    try {
      const m = Hl7Message.parse(text);
      assert.equal(m.toString(), text.replace(/^\uFEFF/, ''), `seed ${SEED + 200}, case ${i}: ${JSON.stringify(text)}`);
      parsed++;
    } catch (e) {
      assert.ok(e instanceof Hl7ParseError || e instanceof DelimiterError, `seed ${SEED + 200}, case ${i}: ${String(e)} for ${JSON.stringify(text)}`);
      assert.ok(e.message.length > 10);
      refused++;
    }
  }
  t.diagnostic(`${parsed} damaged messages parsed losslessly, ${refused} refused with a codec error`);
  assert.ok(parsed > 0 && refused > 0);
});
