/**
 * parseJson refuses text no destination could carry; most bodies skip the walk of their values
 * (no `\b`, `\f` or `\u` escape, well-formed text), so each way such text can get into a parsed
 * string is checked here, in values and in names.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { parseJson } from '../../src/mapping/json-input.ts';

const refusal = (text: string): InputError => {
  try {
    parseJson(text);
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e;
  }
  assert.fail(`accepted: ${text}`);
};

describe('parseJson', () => {
  test('plain text, TAB, LF and CR escapes, DEL and non-ASCII letters: parsed as they are', () => {
    assert.deepEqual(parseJson('{"a":"x\\ty\\nz\\r","b":["\u007f","Ærø 𝄞"],"c":{"d":4.10}}'), { a: 'x\ty\nz\r', b: ['\u007f', 'Ærø 𝄞'], c: { d: 4.1 } });
  });

  test('an escaped backslash before u, b or f is text, not an escape', () => {
    assert.deepEqual(parseJson('{"path":"C:\\\\users\\\\bob\\\\files"}'), { path: 'C:\\users\\bob\\files' });
  });

  for (const [jsonEscape, what] of [
    ['\\b', 'U+0008 (BS)'],
    ['\\f', 'U+000C (FF)'],
    ['\\u0000', 'U+0000 (NUL)'],
    ['\\u001B', 'U+001B (ESC)'],
  ] as const) {
    test(`a control character made by ${jsonEscape}: INPUT_TEXT_INVALID naming the field`, () => {
      const e = refusal(`{"result":{"note":"a${jsonEscape}b"}}`);
      assert.equal(e.code, 'INPUT_TEXT_INVALID');
      assert.equal(e.issues[0]!.path, 'result.note');
      assert.match(e.issues[0]!.message, new RegExp(what.replace(/[()+]/g, '\\$&')));
    });
  }

  test('a lone surrogate escaped, or raw in the text: refused', () => {
    assert.match(refusal('{"a":"half \\ud800 pair"}').issues[0]!.message, /lone surrogate/);
    assert.match(refusal('{"a":"half \ud800 pair"}').issues[0]!.message, /lone surrogate/);
  });

  test('a name that holds a control character: refused as the name', () => {
    const e = refusal('{"ok":1,"bad\\u0007":2}');
    assert.match(e.issues[0]!.message, /^the name holds the control character U\+0007 \(BEL\)/);
  });

  test('not JSON: INPUT_INVALID_JSON naming the body', () => {
    const e = refusal('{"a":');
    assert.equal(e.code, 'INPUT_INVALID_JSON');
    assert.equal(e.issues[0]!.path, '(body)');
  });
});
