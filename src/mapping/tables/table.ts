import { isMap, isNode, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { CsvSyntaxError, parseCsv } from './csv.ts';

/**
 * Code tables integrators edit beside their mappings: analyte → LOINC and UCUM, local unit →
 * UCUM, analyser flag → HL7 table 0078 and FHIR interpretation. A table is rows of named
 * columns, keyed on its first column; every value is text.
 */

export type TableRow = Readonly<Record<string, string>>;

export interface CodeTable {
  /** The file as the messages name it. */
  readonly file: string;
  /** Column names in order; the first is the key. */
  readonly columns: readonly string[];
  readonly rows: ReadonlyMap<string, TableRow>;
}

/** A problem in a table file: which file, which line, what was expected. */
export interface TableIssue {
  readonly file: string;
  readonly line?: number;
  /** What the problem is about: `(header)`, `(row)`, `(syntax)`, or a column name. */
  readonly path: string;
  readonly message: string;
  readonly code: string;
}

export type TableResult = { table: CodeTable; issues: readonly [] } | { table?: undefined; issues: readonly TableIssue[] };

/** The table formats, by file extension. */
export const TABLE_EXTENSIONS = ['.csv', '.yaml', '.yml', '.json'] as const;

/** Parses a table file by its extension (`.csv`, or `.yaml`/`.yml`/`.json`). */
export function parseCodeTable(file: string, text: string): TableResult {
  return /\.csv$/i.test(file) ? parseCsvTable(file, text) : parseYamlTable(file, text);
}

function result(file: string, columns: string[], rows: Map<string, TableRow>, issues: TableIssue[]): TableResult {
  return issues.length > 0 ? { issues } : { table: { file, columns, rows }, issues: [] };
}

/** A CSV table: a header row naming the columns, then one row per key. */
export function parseCsvTable(file: string, text: string): TableResult {
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text);
  } catch (e) {
    if (!(e instanceof CsvSyntaxError)) throw e;
    return { issues: [{ file, line: e.line, path: '(syntax)', message: e.message, code: 'table_syntax' }] };
  }
  const header = records[0];
  if (!header) {
    return { issues: [{ file, path: '(header)', message: 'no header row; expected a first line naming the columns, key column first, e.g. code,display,loinc', code: 'table_header' }] };
  }
  const issues: TableIssue[] = [];
  const columns = [...header.fields];
  checkColumns(file, header.line, columns, issues);
  const rows = new Map<string, TableRow>();
  const firstLine = new Map<string, number>();
  for (const r of records.slice(1)) {
    if (r.fields.length !== columns.length) {
      issues.push({
        file, line: r.line, path: '(row)', code: 'table_columns',
        message: `row has ${r.fields.length} field${r.fields.length === 1 ? '' : 's'}; expected ${columns.length}, as the header names (${columns.join(',')}); quote a field that holds a comma`,
      });
      continue;
    }
    const row: Record<string, string> = {};
    columns.forEach((c, i) => {
      row[c] = r.fields[i]!;
    });
    addRow(file, r.line, columns[0]!, row, rows, firstLine, issues);
  }
  return result(file, columns, rows, issues);
}

function checkColumns(file: string, line: number | undefined, columns: readonly string[], issues: TableIssue[]): void {
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (c.trim() === '') {
      issues.push({ file, line, path: '(header)', code: 'table_header', message: `column ${i + 1} of the header has no name; expected a name for every column` });
    } else if (seen.has(c)) {
      issues.push({ file, line, path: '(header)', code: 'table_header', message: `column '${c}' is named twice in the header; expected each column once` });
    }
    seen.add(c);
  });
}

function addRow(
  file: string,
  line: number | undefined,
  keyColumn: string,
  row: Record<string, string>,
  rows: Map<string, TableRow>,
  firstLine: Map<string, number | undefined>,
  issues: TableIssue[],
): void {
  const key = row[keyColumn] ?? '';
  if (key === '') {
    issues.push({ file, line, path: keyColumn, code: 'table_key', message: `row has no key; expected a value in the key column '${keyColumn}'` });
    return;
  }
  if (rows.has(key)) {
    const first = firstLine.get(key);
    issues.push({
      file, line, path: keyColumn, code: 'table_duplicate_key',
      message: `duplicate key '${key}' in column '${keyColumn}'${first ? `, first on line ${first}` : ''}; expected each key once`,
    });
    return;
  }
  rows.set(key, Object.freeze(row));
  firstLine.set(key, line);
}

/**
 * A YAML (or JSON) table, in one of two forms:
 * - a list of rows, each a map of column → value; the first column of the first row is the key
 *   (`- { code: GLU, loinc: 14743-9 }`);
 * - a map of key → row (`GLU: { loinc: 14743-9 }`); the key column is named `key`.
 */
export function parseYamlTable(file: string, text: string): TableResult {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      issues: doc.errors.map((e) => ({ file, line: counter.linePos(e.pos[0]).line, path: '(syntax)', message: e.message.split('\n')[0]!, code: 'table_syntax' })),
    };
  }
  const lineOf = (node: unknown): number | undefined => (isNode(node) && node.range ? counter.linePos(node.range[0]).line : undefined);
  const root = doc.contents;
  const issues: TableIssue[] = [];
  const rows = new Map<string, TableRow>();
  const firstLine = new Map<string, number | undefined>();
  const columns: string[] = [];
  const expectedForm = 'expected a list of rows (- { code: GLU, loinc: 14743-9 }) or a map of key → row (GLU: { loinc: 14743-9 })';

  /** Reads one row map; undefined (with an issue) when a value is not a scalar. */
  const readRow = (node: Node, into: Record<string, string>): boolean => {
    if (!isMap(node)) {
      issues.push({ file, line: lineOf(node), path: '(row)', code: 'table_row', message: `a row is not a map of column → value; ${expectedForm}` });
      return false;
    }
    let ok = true;
    for (const pair of node.items) {
      const column = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (pair.value !== null && !isScalar(pair.value)) {
        issues.push({ file, line: lineOf(pair.value ?? pair.key), path: column, code: 'table_value', message: `column '${column}' holds a list or map; expected text or a number` });
        ok = false;
        continue;
      }
      const v = isScalar(pair.value) ? pair.value.value : null;
      into[column] = v === null || v === undefined ? '' : String(v);
      if (!columns.includes(column)) columns.push(column);
    }
    return ok;
  };

  if (isSeq(root)) {
    for (const item of root.items) {
      const row: Record<string, string> = {};
      if (!readRow(item as Node, row)) continue;
      const keyColumn = columns[0];
      if (keyColumn === undefined) continue; // an empty first row: no columns yet
      addRow(file, lineOf(item), keyColumn, row, rows, firstLine, issues);
    }
  } else if (isMap(root)) {
    columns.push('key');
    for (const pair of root.items) {
      const key = isScalar(pair.key) ? String(pair.key.value ?? '') : String(pair.key);
      const row: Record<string, string> = { key };
      // `key:` with nothing after it is a row of empty columns.
      const empty = pair.value === null || (isScalar(pair.value) && pair.value.value === null);
      if (!empty && isScalar(pair.value)) {
        issues.push({ file, line: lineOf(pair.key), path: '(row)', code: 'table_row', message: `key '${key}' maps to a single value; ${expectedForm}` });
        continue;
      }
      if (!empty && !readRow(pair.value as Node, row)) continue;
      addRow(file, lineOf(pair.key), 'key', row, rows, firstLine, issues);
    }
  } else if (root === null || (isScalar(root) && root.value === null)) {
    return { issues: [{ file, line: 1, path: '(header)', code: 'table_header', message: `the table is empty; ${expectedForm}` }] };
  } else {
    return { issues: [{ file, line: lineOf(root), path: '(row)', code: 'table_row', message: `the table is neither a list nor a map; ${expectedForm}` }] };
  }
  // Rows of a YAML table may leave columns out; a missing one reads as empty text.
  const full = new Map<string, TableRow>();
  for (const [k, r] of rows) full.set(k, Object.freeze(Object.fromEntries(columns.map((c) => [c, r[c] ?? '']))));
  return result(file, columns, full, issues);
}
