import type { CodeTables } from '../expressions/compile.ts';
import type { CodeTable } from './table.ts';

export * from './csv.ts';
export * from './files.ts';
export * from './table.ts';

/** The rows of each table by name, as `$lookup` reads them. */
export function codeTablesOf(tables: ReadonlyMap<string, CodeTable>): CodeTables {
  return new Map([...tables].map(([name, t]) => [name, t.rows]));
}
