import jsonata from 'jsonata';
import type { z } from 'zod';
import { LabReport } from '../../canonical/report.ts';
import { type CodeTables, type CompiledExpression, compileExpression, ExpressionError } from '../expressions/index.ts';
import type { MappingContext, MappingIssue } from '../kinds.ts';
import { bare, describeValue, elementOf, fieldsOf, isOptional, type Step } from './canonical.ts';
import { inlineTables, type JsonataInboundSettings } from './settings.ts';
import { plainPath, type Source, sourceOf } from './sources.ts';

/**
 * Compiles a `jsonata` mapping file once, at load: every expression is parsed, checked (tables,
 * functions) and kept with where it reads from; the report tree is checked against the
 * canonical report (unknown fields, missing required ones, literals of the wrong type).
 */

/** One value of the mapping: an expression (`'=…'`) or a literal. */
export interface Leaf {
  /** Where it is in the mapping file's settings, e.g. `['report', 'observations']`. */
  readonly at: readonly Step[];
  readonly expression?: CompiledExpression;
  /** A path of plain names, read without JSONata (same result, a tenth of the time). */
  readonly plain?: readonly string[];
  readonly literal?: unknown;
  readonly source?: Source;
}

export type Template =
  | { readonly t: 'leaf'; readonly leaf: Leaf }
  /** `optional`: it has expressions and is left out when none of them gives a value (its literals alone do not make it). */
  | { readonly t: 'object'; readonly optional: boolean; readonly fields: ReadonlyArray<readonly [string, Template]> }
  | { readonly t: 'array'; readonly items: readonly Template[] };

export interface CompiledMapping {
  readonly sourceId?: Leaf;
  readonly sourceVersion?: Leaf;
  readonly reports?: Leaf;
  readonly report: Template;
}

/** A problem of the mapping file, at a path inside its `settings`. */
export interface SettingsIssue {
  readonly path: readonly Step[];
  readonly message: string;
  /** expression_syntax, table_missing, unknown_function, unknown_field, required, invalid_literal, invalid_shape. */
  readonly code: string;
}

/** JSONata 2.2's own functions (`$now` and `$millis` are bound per evaluation). */
export const JSONATA_FUNCTIONS: ReadonlySet<string> = new Set(
  (
    'sum count max min average string substring substringBefore substringAfter lowercase uppercase length trim pad match contains ' +
    'replace split join formatNumber formatBase formatInteger parseInteger number floor ceil round abs sqrt power random boolean not ' +
    'map zip filter single reduce sift keys lookup append exists spread merge reverse each error assert type sort shuffle distinct ' +
    'base64encode base64decode encodeUrlComponent encodeUrl decodeUrlComponent decodeUrl eval toMillis fromMillis clone now millis'
  ).split(' '),
);
/** Functions Conduit adds (src/mapping/expressions). */
export const CONDUIT_FUNCTIONS: readonly string[] = ['lookup', 'hl7dtm', 'fhirDateTime', 'identifier'];

export interface RawMapping {
  readonly sourceId?: string | undefined;
  readonly sourceVersion?: string | undefined;
  readonly reports?: string | undefined;
  readonly report: unknown;
}

/**
 * Compiles the settings with their own tables and the file's (`tables:`): the mapping, or every
 * problem, each at its path in the mapping file (`['settings', 'report', 'status']`).
 */
export function compileJsonataMapping(settings: JsonataInboundSettings, fileTables?: MappingContext['tables']): { mapping?: CompiledMapping; issues: MappingIssue[] } {
  const tables = new Map(inlineTables(settings.tables));
  const issues: MappingIssue[] = [];
  for (const [name, table] of fileTables ?? []) {
    if (tables.has(name)) issues.push({ path: ['tables', name], code: 'table_name', message: `table '${name}' is also defined in settings.tables` });
    tables.set(name, table.rows);
  }
  const compiled = compileMapping(settings, tables);
  issues.push(...compiled.issues.map((i) => ({ ...i, path: ['settings', ...i.path] })));
  return issues.length > 0 || !compiled.mapping ? { issues } : { mapping: compiled.mapping, issues };
}

/** Compiles the settings with the code tables `$lookup` may read. */
export function compileMapping(raw: RawMapping, tables: CodeTables): { mapping?: CompiledMapping; issues: SettingsIssue[] } {
  const issues: SettingsIssue[] = [];
  const leaf = (value: unknown, at: Step[], schema?: z.ZodType) => compileLeaf(value, at, schema, tables, issues);
  const sourceId = raw.sourceId === undefined ? undefined : leaf(raw.sourceId, ['sourceId']);
  const sourceVersion = raw.sourceVersion === undefined ? undefined : leaf(raw.sourceVersion, ['sourceVersion']);
  const reports = raw.reports === undefined ? undefined : leaf(raw.reports, ['reports']);
  const report = compileTree(raw.report, ['report'], LabReport, tables, issues);
  if (issues.length > 0 || !report) return { issues };
  return {
    mapping: {
      ...(sourceId ? { sourceId } : {}),
      ...(sourceVersion ? { sourceVersion } : {}),
      ...(reports ? { reports } : {}),
      report,
    },
    issues,
  };
}

function compileTree(value: unknown, at: Step[], schema: z.ZodType, tables: CodeTables, issues: SettingsIssue[]): Template | undefined {
  const fields = fieldsOf(schema);
  const element = elementOf(schema);
  if (Array.isArray(value)) {
    if (!element) {
      issues.push({ path: at, code: 'invalid_shape', message: `the canonical report has ${expected(schema)} here, not a list: write a literal or an '=' expression` });
      return undefined;
    }
    const items = value.map((v, i) => compileTree(v, [...at, i], element, tables, issues));
    return items.every((t) => t !== undefined) ? { t: 'array', items } : undefined;
  }
  if (value !== null && typeof value === 'object') {
    if (!fields) {
      issues.push({ path: at, code: 'invalid_shape', message: `the canonical report has ${expected(schema)} here, not an object: write a literal or an '=' expression` });
      return undefined;
    }
    const out: Array<readonly [string, Template]> = [];
    let ok = true;
    for (const [key, v] of Object.entries(value)) {
      const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
      if (!field) {
        issues.push({ path: [...at, key], code: 'unknown_field', message: `'${key}' is not a field of the canonical report here; expected one of ${Object.keys(fields).join(', ')}` });
        ok = false;
        continue;
      }
      const t = compileTree(v, [...at, key], field, tables, issues);
      if (t) out.push([key, t]);
      else ok = false;
    }
    for (const [key, field] of Object.entries(fields)) {
      if (!isOptional(field) && !Object.hasOwn(value, key)) {
        issues.push({ path: at, code: 'required', message: `'${key}' is required by the canonical report: set it with a literal or an '=' expression` });
        ok = false;
      }
    }
    // A required object is always made, even when only its literals have values (provenance.kind),
    // and so is an object of literals only.
    const optional = at.length > 1 && (isOptional(schema) || typeof at.at(-1) === 'number') && out.some(([, t]) => hasExpression(t));
    return ok ? { t: 'object', optional, fields: out } : undefined;
  }
  const l = compileLeaf(value, at, schema, tables, issues);
  return l ? { t: 'leaf', leaf: l } : undefined;
}

function hasExpression(t: Template): boolean {
  return t.t === 'leaf' ? t.leaf.expression !== undefined : t.t === 'object' ? t.fields.some(([, f]) => hasExpression(f)) : t.items.some(hasExpression);
}

function compileLeaf(value: unknown, at: Step[], schema: z.ZodType | undefined, tables: CodeTables, issues: SettingsIssue[]): Leaf | undefined {
  if (typeof value === 'string' && value.startsWith('=')) {
    const text = value.slice(1);
    try {
      const expression = compileExpression(text, tables);
      const ast = jsonata(text).ast();
      const unknown = unknownFunctions(ast);
      if (unknown.length > 0) {
        const { name, position } = unknown[0]!;
        issues.push({
          path: at,
          code: 'unknown_function',
          message: `unknown function $${name}${near(text, position)}; the functions are JSONata's own and Conduit's ${CONDUIT_FUNCTIONS.map((f) => `$${f}`).join(', ')}`,
        });
        return undefined;
      }
      const plain = plainPath(ast);
      const source = sourceOf(ast);
      return { at, expression, ...(plain ? { plain } : {}), ...(source ? { source } : {}) };
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
      const code = e.message.startsWith('$lookup of unknown table') ? 'table_missing' : 'expression_syntax';
      issues.push({ path: at, code, message: `invalid expression: ${e.message}${near(text, e.position)}` });
      return undefined;
    }
  }
  if (schema) {
    const r = schema.safeParse(value);
    if (!r.success) {
      const first = r.error.issues[0];
      const message =
        value === null || value === undefined
          ? `expected ${expected(schema)}: a literal, or an '=' expression; the file gives nothing`
          : first?.code === 'invalid_type' || first?.code === 'invalid_value'
            ? `expected ${expected(schema)}; the file gives ${first.code === 'invalid_value' ? 'another value' : describeValue(value)} (${typeof value !== 'string' && bare(schema).type === 'string' ? "quote it to make it text, or " : ''}start it with '=' for an expression)`
            : `${first?.message ?? 'not a valid value'} (a literal here; start it with '=' for an expression)`;
      issues.push({ path: at, code: 'invalid_literal', message });
      return undefined;
    }
  }
  return { at, literal: value };
}

function expected(schema: z.ZodType): string {
  const s = bare(schema);
  const type = (s as { type?: string }).type;
  if (fieldsOf(s)) return 'an object';
  if (elementOf(s)) return 'a list';
  if (type === 'enum') return `one of ${(s as unknown as { options: string[] }).options.join(', ')}`;
  return type === 'string' ? 'a string' : type === 'number' ? 'a number' : type === 'boolean' ? 'true or false' : (type ?? 'a value');
}

/**
 * ` (line 2 of the expression), near '"value": value ⟨here⟩ "status"'`: where a position is, for
 * a reader of the file. JSONata positions point just past the token they blame.
 */
function near(text: string, position: number | undefined): string {
  if (position === undefined) return '';
  const at = Math.min(Math.max(position, 0), text.length);
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const lineEnd = text.indexOf('\n', at) < 0 ? text.length : text.indexOf('\n', at);
  const before = text.slice(Math.max(lineStart, at - 30), at).trimStart();
  const after = text.slice(at, Math.min(lineEnd, at + 20)).trimEnd();
  const line = text.includes('\n') ? ` (line ${text.slice(0, at).split('\n').length} of the expression)` : '';
  return `${line}, near '${before}⟨here⟩${after}'`;
}

interface AstNode {
  type?: string;
  value?: unknown;
  position?: number;
  procedure?: AstNode;
  lhs?: AstNode;
  rhs?: AstNode;
  arguments?: AstNode[];
}

/** Functions called in the expression that neither JSONata, Conduit nor the expression itself defines. */
function unknownFunctions(ast: unknown): Array<{ name: string; position: number | undefined }> {
  const called: Array<{ name: string; position: number | undefined }> = [];
  const defined = new Set<string>();
  const seen = new Set<unknown>();
  const walk = (n: unknown): void => {
    if (n === null || typeof n !== 'object' || seen.has(n)) return;
    seen.add(n);
    if (Array.isArray(n)) {
      for (const x of n) walk(x);
      return;
    }
    const node = n as AstNode;
    if ((node.type === 'function' || node.type === 'partial') && node.procedure?.type === 'variable') {
      called.push({ name: String(node.procedure.value), position: node.procedure.position });
    }
    if (node.type === 'apply' && node.rhs?.type === 'variable') called.push({ name: String(node.rhs.value), position: node.rhs.position });
    if (node.type === 'bind' && node.lhs?.type === 'variable') defined.add(String(node.lhs.value));
    if (node.type === 'lambda') for (const a of node.arguments ?? []) defined.add(String(a.value));
    for (const v of Object.values(node)) walk(v);
  };
  walk(ast);
  return called.filter((c) => !JSONATA_FUNCTIONS.has(c.name) && !CONDUIT_FUNCTIONS.includes(c.name) && !defined.has(c.name));
}
