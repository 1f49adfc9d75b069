/**
 * YAML (and JSON) code tables: a list of rows or a map of key → row, with the same problems
 * named as for CSV, at their lines.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCodeTable, parseYamlTable, type TableIssue } from '../../../src/mapping/tables/index.ts';

function issuesOf(text: string): TableIssue[] {
  const r = parseYamlTable('tables/t.yaml', text);
  assert.equal(r.table, undefined, 'a table with problems is not usable');
  return [...r.issues];
}

test('a list of rows is keyed on the first column of the first row; missing columns read as empty text', () => {
  const { table, issues } = parseYamlTable('t.yaml', '# analytes\n- { code: GLU, loinc: 14743-9, unit: mmol/L }\n- code: K\n  loinc: 6298-4\n- { code: PH, loinc: 2744-1, ucum: "[pH]", ratio: 1.5 }\n');
  assert.deepEqual(issues, []);
  assert.deepEqual(table!.columns, ['code', 'loinc', 'unit', 'ucum', 'ratio']);
  assert.deepEqual(table!.rows.get('K'), { code: 'K', loinc: '6298-4', unit: '', ucum: '', ratio: '' });
  assert.equal(table!.rows.get('PH')!.ratio, '1.5', 'numbers are text');
});

test('a map of key → row names its key column `key`', () => {
  const { table, issues } = parseYamlTable('t.yaml', 'mmol/l: { ucum: mmol/L }\nmg/dl:\n  ucum: mg/dL\nnone:\n');
  assert.deepEqual(issues, []);
  assert.deepEqual(table!.columns, ['key', 'ucum']);
  assert.deepEqual(table!.rows.get('mg/dl'), { key: 'mg/dl', ucum: 'mg/dL' });
  assert.deepEqual(table!.rows.get('none'), { key: 'none', ucum: '' });
});

test('a .json file is read as a YAML table, a .csv file as CSV', () => {
  assert.deepEqual([...parseCodeTable('t.json', '[{"flag": "H", "hl7_0078": "H"}]').table!.rows.keys()], ['H']);
  assert.deepEqual([...parseCodeTable('t.CSV', 'flag,hl7_0078\nH,H\n').table!.rows.keys()], ['H']);
});

test('a duplicate key in a list is refused at its line, naming the first', () => {
  assert.deepEqual(issuesOf('- { code: GLU, loinc: 14743-9 }\n- { code: K, loinc: 6298-4 }\n- { code: GLU, loinc: 2345-7 }\n'), [
    { file: 'tables/t.yaml', line: 3, path: 'code', code: 'table_duplicate_key', message: "duplicate key 'GLU' in column 'code', first on line 1; expected each key once" },
  ]);
});

test('a duplicate key in a map is a YAML error at its line', () => {
  const [i] = issuesOf('GLU: { loinc: 14743-9 }\nGLU: { loinc: 2345-7 }\n');
  assert.equal(i!.line, 2);
  assert.equal(i!.code, 'table_syntax');
  assert.match(i!.message, /unique/);
});

test('a row without its key is refused', () => {
  assert.deepEqual(issuesOf('- { code: GLU, loinc: 14743-9 }\n- { loinc: 6298-4 }\n'), [
    { file: 'tables/t.yaml', line: 2, path: 'code', code: 'table_key', message: "row has no key; expected a value in the key column 'code'" },
  ]);
});

test('a row that is not a map, or a value that is a list, is refused at its line', () => {
  assert.deepEqual(issuesOf('- { code: GLU }\n- just text\n- code: K\n  loinc: [6298-4, 2823-3]\n'), [
    {
      file: 'tables/t.yaml', line: 2, path: '(row)', code: 'table_row',
      message: 'a row is not a map of column → value; expected a list of rows (- { code: GLU, loinc: 14743-9 }) or a map of key → row (GLU: { loinc: 14743-9 })',
    },
    { file: 'tables/t.yaml', line: 4, path: 'loinc', code: 'table_value', message: "column 'loinc' holds a list or map; expected text or a number" },
  ]);
});

test('a map of key → single value is refused: a row needs named columns', () => {
  assert.deepEqual(issuesOf('mmol/l: mmol/L\n'), [
    {
      file: 'tables/t.yaml', line: 1, path: '(row)', code: 'table_row',
      message: "key 'mmol/l' maps to a single value; expected a list of rows (- { code: GLU, loinc: 14743-9 }) or a map of key → row (GLU: { loinc: 14743-9 })",
    },
  ]);
});

test('an empty file or a scalar is not a table', () => {
  assert.match(issuesOf('# nothing\n')[0]!.message, /^the table is empty; expected a list of rows/);
  assert.deepEqual(
    issuesOf('\n42\n').map((i) => [i.line, i.path]),
    [[2, '(row)']],
  );
});

test('a YAML syntax error is refused with its line', () => {
  const [i] = issuesOf('- { code: GLU\n- { code: K }\n');
  assert.equal(i!.code, 'table_syntax');
  assert.ok(i!.line! >= 1);
});
