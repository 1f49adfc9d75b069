import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GlobError, globToRegExp, isInProgressName } from '../../src/sources/file/glob.ts';

test('glob patterns match whole names, case-insensitively', () => {
  const cases: Array<[string, string[], string[]]> = [
    ['*', ['a.hl7', 'x', 'done.txt'], []],
    ['*.hl7', ['a.hl7', 'A.HL7', 'lab.result.hl7'], ['a.hl7.bak', 'a.json', 'hl7']],
    ['*.{hl7,txt}', ['a.hl7', 'b.TXT'], ['c.json', 'a.hl7x']],
    ['LAB_??.hl7', ['LAB_01.hl7', 'lab_ab.hl7'], ['LAB_1.hl7', 'LAB_001.hl7']],
    ['r[0-9]*', ['r1.hl7', 'R9'], ['ra.hl7']],
    ['r[!0-9]*', ['ra.hl7'], ['r1.hl7']],
    ['a+b(c).hl7', ['a+b(c).hl7'], ['aab(c).hl7', 'a+bc.hl7']],
    ['^$.hl7', ['^$.hl7'], ['.hl7']],
  ];
  for (const [pattern, yes, no] of cases) {
    const re = globToRegExp(pattern);
    for (const n of yes) assert.ok(re.test(n), `${pattern} should match ${n}`);
    for (const n of no) assert.ok(!re.test(n), `${pattern} should not match ${n}`);
  }
});

test('bad patterns say what is wrong', () => {
  const message = (p: string) => {
    try {
      globToRegExp(p);
    } catch (e) {
      assert.ok(e instanceof GlobError);
      return e.message;
    }
    return 'accepted';
  };
  assert.equal(message(''), 'the pattern is empty');
  assert.equal(message('a/*.hl7'), "'a/*.hl7' holds a path separator: the pattern matches names in the directory, not paths");
  assert.equal(message('*.{a,b'), "'{' in '*.{a,b' is not closed");
  assert.equal(message('*.a}'), "'}' at character 4 of '*.a}' has no '{'");
  assert.equal(message('[abc'), "'[' at character 1 of '[abc' is not closed");
});

test('names of writes in progress', () => {
  for (const n of ['.x.hl7', 'x.hl7.tmp', 'x.hl7.TMP', 'x.part', '.']) assert.ok(isInProgressName(n), n);
  for (const n of ['x.hl7', 'tmp.hl7', 'x.partial', 'x.tmp.hl7']) assert.ok(!isInProgressName(n), n);
});
