import jsonata from 'jsonata';
import { type CodeTables, type CompiledExpression, compileExpression } from '../../mapping/expressions/index.ts';
import { formatPath } from '../../mapping/issues.ts';

/**
 * JSON templates: a YAML tree whose string leaves starting with `=` are JSONata expressions and
 * whose other leaves are literals, as in the `jsonata` inbound mappings. A literal text that
 * starts with `=` is written as an expression: `'="=A"'`.
 *
 * - A key whose expression gives nothing is left out, and so is an array item.
 * - An object holding expressions is left out when none of them gives anything (its literals
 *   alone do not make it); the root is always there.
 * - JSONata gives one match as a value, not a list of one: write `[…]` around a path that must
 *   give a list.
 */

export type Step = string | number;

export type Template =
  | { readonly t: 'literal'; readonly value: unknown }
  | { readonly t: 'expr'; readonly expr: CompiledExpression; readonly at: readonly Step[] }
  | { readonly t: 'object'; readonly optional: boolean; readonly fields: ReadonlyArray<readonly [string, Template, boolean]> }
  | { readonly t: 'array'; readonly items: readonly Template[] };

/** A problem at a path of the mapping file's settings. */
export interface TemplateIssue {
  readonly path: readonly Step[];
  readonly message: string;
}

export function isExpression(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith('=');
}

/** The JSONata source of a leaf written `=…`. */
export function expressionSource(leaf: string): string {
  return leaf.slice(1);
}

/** A JSONata syntax problem of `source`, as a message; undefined when it parses. */
export function syntaxProblem(source: string): string | undefined {
  try {
    jsonata(source);
    return undefined;
  } catch (e) {
    const j = e as { message?: string; position?: number; token?: string };
    return `not a valid JSONata expression: ${j.message ?? String(e)}${j.position !== undefined ? ` (at character ${j.position})` : ''}`;
  }
}

/** Every leaf of a tree with its path, for checks before compiling. */
export function* leaves(value: unknown, at: readonly Step[]): Generator<{ at: readonly Step[]; value: unknown }> {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* leaves(value[i], [...at, i]);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) yield* leaves(v, [...at, k]);
  } else yield { at, value };
}

function hasExpression(t: Template): boolean {
  switch (t.t) {
    case 'literal':
      return false;
    case 'expr':
      return true;
    case 'object':
      return t.fields.some(([, , e]) => e);
    case 'array':
      return t.items.some(hasExpression);
    default:
      return t satisfies never;
  }
}

/** Compiles a tree once, at load. Expression problems (tables `$lookup` names) go to `issues`. */
export function compileTemplate(value: unknown, tables: CodeTables, at: readonly Step[], issues: TemplateIssue[], root = true): Template {
  if (isExpression(value)) {
    try {
      return { t: 'expr', expr: compileExpression(expressionSource(value), tables), at };
    } catch (e) {
      issues.push({ path: at, message: (e as Error).message });
      return { t: 'literal', value: undefined };
    }
  }
  if (Array.isArray(value)) return { t: 'array', items: value.map((v, i) => compileTemplate(v, tables, [...at, i], issues, false)) };
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).map(([k, v]): [string, Template, boolean] => {
      const t = compileTemplate(v, tables, [...at, k], issues, false);
      return [k, t, hasExpression(t)];
    });
    return { t: 'object', optional: !root && fields.some(([, , e]) => e), fields };
  }
  return { t: 'literal', value };
}

/** JSONata's results as plain JSON: functions dropped, sequences as arrays. */
function plain(v: unknown): unknown {
  if (typeof v === 'function') return undefined;
  if (Array.isArray(v)) return v.map(plain).filter((x) => x !== undefined);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = plain(x);
      if (p !== undefined) out[k] = p;
    }
    return out;
  }
  return v;
}

/** Evaluates a compiled tree. Throws an Error naming the path of an expression that failed. */
export async function evaluateTemplate(t: Template, input: unknown, bindings: Record<string, unknown>): Promise<unknown> {
  switch (t.t) {
    case 'literal':
      return t.value;
    case 'expr': {
      try {
        return plain(await t.expr.evaluate(input, bindings));
      } catch (e) {
        throw new Error(`${formatPath(t.at, 'settings')}: ${(e as Error).message}`);
      }
    }
    case 'array': {
      const out: unknown[] = [];
      for (const item of t.items) {
        const v = await evaluateTemplate(item, input, bindings);
        if (v !== undefined) out.push(v);
      }
      return out;
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      let gave = false;
      for (const [k, field, expr] of t.fields) {
        const v = await evaluateTemplate(field, input, bindings);
        if (v === undefined) continue;
        out[k] = v;
        if (expr) gave = true;
      }
      return t.optional && !gave ? undefined : out;
    }
    default:
      return t satisfies never;
  }
}
