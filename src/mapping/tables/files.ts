import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { type CodeTable, parseCodeTable, TABLE_EXTENSIONS, type TableIssue } from './table.ts';

/** A problem with a mapping file's `tables:` entry, reported in the mapping file at `path`. */
export interface TableRefIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code: string;
}

/** The tables a mapping file names, read and parsed. */
export interface MappingTables {
  /** By the name the mapping gives each table; `file` is the path as the mapping writes it. */
  readonly tables: ReadonlyMap<string, CodeTable>;
  /** Each table's name, path and content, for the mapping version. */
  readonly contents: ReadonlyArray<{ name: string; path: string; text: string }>;
}

/** Table names are what `$lookup('analytes', …)` uses: an identifier. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

interface ReadFile {
  text: string;
  table?: CodeTable;
}

/**
 * Reads the table files of one configuration load. A file used by several mappings is read
 * and checked once, and its problems are reported once, in the table file itself.
 */
export class TableFiles {
  private readonly files = new Map<string, ReadFile | undefined>();
  private readonly mappingsDir: string;
  private readonly display: (path: string) => string;
  /** Problems inside table files, each reported once. */
  readonly issues: TableIssue[] = [];

  /** `display` names a file in messages (the loader uses paths relative to the working directory). */
  constructor(mappingsDir: string, display: (path: string) => string) {
    this.mappingsDir = resolve(mappingsDir);
    this.display = display;
  }

  /**
   * Reads the tables of `refs` (name → path relative to the mappings directory). Problems with
   * the references come back to be reported in the mapping file; problems inside a table file
   * are added to `issues`. `tables` is undefined when any table cannot be used.
   */
  read(refs: Readonly<Record<string, string>>): { tables?: MappingTables; refIssues: TableRefIssue[] } {
    const refIssues: TableRefIssue[] = [];
    const tables = new Map<string, CodeTable>();
    const contents: Array<{ name: string; path: string; text: string }> = [];
    let usable = true;
    for (const [name, ref] of Object.entries(refs)) {
      const at = ['tables', name];
      if (!TABLE_NAME.test(name)) {
        refIssues.push({ path: at, code: 'table_name', message: `'${name}' is not a table name; expected letters, digits, _ or -, starting with a letter, e.g. analytes` });
        continue;
      }
      const abs = resolve(this.mappingsDir, ref);
      const inside = relative(this.mappingsDir, abs);
      if (isAbsolute(ref) || inside.startsWith('..') || isAbsolute(inside)) {
        // Files outside mappings/ would escape the reload watcher and the mapping's own history.
        refIssues.push({ path: at, code: 'table_path', message: `'${ref}' is outside the mappings directory; expected a path relative to it, e.g. tables/${name}.csv` });
        continue;
      }
      if (!TABLE_EXTENSIONS.some((e) => ref.toLowerCase().endsWith(e))) {
        refIssues.push({ path: at, code: 'table_path', message: `'${ref}' is not a table file; expected a ${TABLE_EXTENSIONS.join(', ')} file` });
        continue;
      }
      const file = this.file(abs);
      if (!file) {
        refIssues.push({ path: at, code: 'table_missing', message: `no table file '${ref}' in ${this.display(this.mappingsDir)}` });
        continue;
      }
      if (!file.table) {
        usable = false; // its problems are reported in the table file
        continue;
      }
      tables.set(name, { ...file.table, file: ref });
      contents.push({ name, path: ref, text: file.text });
    }
    if (refIssues.length > 0 || !usable) return { refIssues };
    return { tables: { tables, contents }, refIssues };
  }

  private file(abs: string): ReadFile | undefined {
    if (this.files.has(abs)) return this.files.get(abs);
    let read: ReadFile | undefined;
    if (existsSync(abs)) {
      const text = readFileSync(abs, 'utf8');
      const parsed = parseCodeTable(this.display(abs), text);
      this.issues.push(...parsed.issues);
      read = parsed.table ? { text, table: parsed.table } : { text };
    }
    this.files.set(abs, read);
    return read;
  }
}
