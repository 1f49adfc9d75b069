/**
 * CSV code tables: RFC 4180 (quoted fields with commas, quotes and line breaks), `#` comment
 * lines, a header row; every problem named with its file and line and what was expected.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCsv, parseCsvTable, type TableIssue } from '../../../src/mapping/tables/index.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');

function issuesOf(text: string): TableIssue[] {
  const r = parseCsvTable('tables/t.csv', text);
  assert.equal(r.table, undefined, 'a table with problems is not usable');
  return [...r.issues];
}

test('quoted fields hold commas, doubled quotes and line breaks; records keep the line they start on', () => {
  const text = '# comment, with "quotes"\ncode,display\r\nA,"x, y"\n\nB,"say ""hi"""\nC,"two\nlines"\nD,\n';
  assert.deepEqual(parseCsv(text), [
    { line: 2, fields: ['code', 'display'] },
    { line: 3, fields: ['A', 'x, y'] },
    { line: 5, fields: ['B', 'say "hi"'] },
    { line: 6, fields: ['C', 'two\nlines'] },
    { line: 8, fields: ['D', ''] },
  ]);
});

test('a # is a comment only where a record starts; elsewhere it is data', () => {
  const r = parseCsvTable('t.csv', 'code,note\n#skipped,row\nA,#1\n"#B",x\n');
  assert.deepEqual([...r.table!.rows.keys()], ['A', '#B']);
  assert.equal(r.table!.rows.get('A')!.note, '#1');
});

test('a BOM, CRLF and a missing final line break are fine; spaces are data', () => {
  const r = parseCsvTable('t.csv', '\uFEFFunit,ucum\r\nmm Hg,mm[Hg]\r\n mmol/L ,mmol/L');
  assert.deepEqual(r.table!.columns, ['unit', 'ucum']);
  assert.deepEqual([...r.table!.rows.keys()], ['mm Hg', ' mmol/L ']);
});

test('rows are keyed on the first column, whatever it is called, and frozen', () => {
  const { table } = parseCsvTable('t.csv', 'flag,hl7_0078\nH,H\nL,L\n');
  assert.deepEqual(table!.rows.get('H'), { flag: 'H', hl7_0078: 'H' });
  assert.ok(Object.isFrozen(table!.rows.get('H')));
});

test('an empty file, or one of comments only, has no header row', () => {
  for (const text of ['', '# only\n# comments\n', '\n\n']) {
    assert.deepEqual(issuesOf(text), [
      { file: 'tables/t.csv', path: '(header)', code: 'table_header', message: 'no header row; expected a first line naming the columns, key column first, e.g. code,display,loinc' },
    ]);
  }
});

test('a header column without a name, or named twice, is refused on the header line', () => {
  assert.deepEqual(issuesOf('# c\ncode,,loinc,code\nA,b,c,d\n'), [
    { file: 'tables/t.csv', line: 2, path: '(header)', code: 'table_header', message: 'column 2 of the header has no name; expected a name for every column' },
    { file: 'tables/t.csv', line: 2, path: '(header)', code: 'table_header', message: "column 'code' is named twice in the header; expected each column once" },
  ]);
});

test('a row with the wrong number of fields is refused with its line and the header', () => {
  assert.deepEqual(issuesOf('code,display,loinc\nGLU,Glucose,14743-9\nK,Potassium, serum,2823-3\nNA,Sodium\n'), [
    {
      file: 'tables/t.csv', line: 3, path: '(row)', code: 'table_columns',
      message: 'row has 4 fields; expected 3, as the header names (code,display,loinc); quote a field that holds a comma',
    },
    { file: 'tables/t.csv', line: 4, path: '(row)', code: 'table_columns', message: 'row has 2 fields; expected 3, as the header names (code,display,loinc); quote a field that holds a comma' },
  ]);
});

test('a duplicate key is refused at its line, naming the line of the first', () => {
  assert.deepEqual(issuesOf('code,loinc\n# GLU rows\nGLU,14743-9\nK,6298-4\nGLU,2345-7\n'), [
    { file: 'tables/t.csv', line: 5, path: 'code', code: 'table_duplicate_key', message: "duplicate key 'GLU' in column 'code', first on line 3; expected each key once" },
  ]);
});

test('a row without a key is refused', () => {
  assert.deepEqual(issuesOf('unit,ucum\n,mmol/L\n'), [
    { file: 'tables/t.csv', line: 2, path: 'unit', code: 'table_key', message: "row has no key; expected a value in the key column 'unit'" },
  ]);
});

test('line numbers count the line breaks inside quoted fields', () => {
  assert.deepEqual(issuesOf('code,note\nA,"one\r\ntwo\nthree"\nA,x\n').map((i) => [i.line, i.code]), [[5, 'table_duplicate_key']]);
});

test('an unclosed quote is refused at the line where it opens', () => {
  assert.deepEqual(issuesOf('code,display\nGLU,ok\nK,"Potassium\nNA,Sodium\n'), [
    { file: 'tables/t.csv', line: 3, path: '(syntax)', code: 'table_syntax', message: 'the quoted field opened on line 3 is never closed; expected a closing double quote' },
  ]);
});

test('text after a closing quote, or a quote inside an unquoted field, is refused with its line', () => {
  assert.deepEqual(issuesOf('code,display\nGLU,"Glucose" mmol\n'), [
    { file: 'tables/t.csv', line: 2, path: '(syntax)', code: 'table_syntax', message: 'unexpected " " after a closing double quote; expected a comma or the end of the line' },
  ]);
  assert.deepEqual(issuesOf('code,display\n\nGLU,5" tall\n'), [
    {
      file: 'tables/t.csv', line: 3, path: '(syntax)', code: 'table_syntax',
      message: 'a double quote inside an unquoted field; expected the whole field in double quotes, with "" for each quote in it',
    },
  ]);
});

test("the repository's starter tables parse without problems", () => {
  for (const [name, key, columns] of [
    ['analytes.csv', 'GLU', ['code', 'display', 'loinc', 'loinc_display', 'unit', 'ucum', 'specimen', 'checked']],
    ['units.csv', 'mmol/L', ['unit', 'ucum', 'checked']],
    ['flags.csv', 'HH', ['flag', 'hl7_0078', 'fhir_code', 'fhir_display', 'meaning']],
  ] as const) {
    const r = parseCsvTable(name, readFileSync(join(REPO, 'mappings', 'tables', name), 'utf8'));
    assert.deepEqual(r.issues, [], name);
    assert.deepEqual(r.table!.columns, columns);
    assert.ok(r.table!.rows.has(key), `${name} has ${key}`);
  }
});
