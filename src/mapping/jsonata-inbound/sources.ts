import type jsonata from 'jsonata';
import { type Step, valueAt } from './canonical.ts';

/**
 * Where a JSONata expression reads its value, read from the expression's syntax tree, so that
 * an issue with the mapped report can also name the input field it came from. Best effort:
 * paths of plain names and fixed indexes (`result.observations[1].value`), object and array
 * constructors, `cond ? a : b`, `a ?: b`, `a ?? b`, a path mapped over a list
 * (`result.observations.{ "value": value }`), variables bound in a block, and function
 * arguments are followed. Every claim is checked against the
 * input before it is made: a path is named only when the input holds the very value there.
 */
export type Source =
  /** Read from `steps`, relative to the context (`of: 'context'`), the expression's input (`$$`) or the event (`$event`). */
  | { readonly t: 'path'; readonly of: Base; readonly steps: readonly Step[] }
  | { readonly t: 'object'; readonly fields: ReadonlyMap<string, Source> }
  | { readonly t: 'array'; readonly items: ReadonlyArray<Source | undefined> }
  /** Item i of the result is built by `item` from item i of the list at the path. */
  | { readonly t: 'each'; readonly of: Base; readonly steps: readonly Step[]; readonly item: Source }
  /** One of these, whichever the input confirms. */
  | { readonly t: 'either'; readonly options: readonly Source[] };

type Base = 'context' | 'input' | 'event';

/** The syntax tree nodes followed here (jsonata's typings leave `path` out). */
interface Node {
  type: string;
  value?: unknown;
  steps?: Node[];
  stages?: Node[];
  expr?: Node;
  expressions?: Node[];
  lhs?: unknown;
  then?: Node;
  else?: Node;
  group?: unknown;
  keepArray?: boolean;
  rhs?: Node;
  arguments?: Node[];
}

/** Sources of the variables bound so far (`$s := result.status`). */
type Scope = ReadonlyMap<string, Source | undefined>;

export function sourceOf(ast: jsonata.ExprNode | Node | undefined, scope: Scope = new Map()): Source | undefined {
  const node = ast as Node | undefined;
  if (!node) return undefined;
  switch (node.type) {
    case 'path':
      return pathSource(node.steps ?? [], scope);
    case 'variable':
      return pathSource([node], scope);
    case 'unary':
      if (node.value === '{') return objectSource(node, scope);
      if (node.value === '[') return { t: 'array', items: (node.expressions ?? []).map((e) => sourceOf(e, scope)) };
      return undefined;
    case 'condition':
      return either([node.then, node.else].map((n) => sourceOf(n, scope)));
    case 'block': {
      // `( $s := …; … )`: the last expression, with the variables bound before it.
      const inner = new Map(scope);
      const expressions = node.expressions ?? [];
      for (const e of expressions.slice(0, -1)) if (e.type === 'bind' && e.lhs && typeof e.lhs === 'object') inner.set(String((e.lhs as Node).value), sourceOf(e.rhs, inner));
      return sourceOf(expressions.at(-1), inner);
    }
    case 'function':
    case 'partial':
      // Made from its arguments (`$lowercase(sex)`, `$lookup('t', key, 'c')`): named only where the
      // input confirms it, so `$string(version)` is not said to come from a number.
      return either((node.arguments ?? []).map((a) => sourceOf(a, scope)));
    case 'apply':
      return sourceOf(node.lhs as Node, scope);
    default:
      return undefined;
  }
}

function either(sources: ReadonlyArray<Source | undefined>): Source | undefined {
  const options = sources.filter((s): s is Source => s !== undefined);
  return options.length === 0 ? undefined : options.length === 1 ? options[0] : { t: 'either', options };
}

function objectSource(node: Node, scope: Scope): Source | undefined {
  if (node.group !== undefined) return undefined;
  const fields = new Map<string, Source>();
  for (const [key, value] of (node.lhs ?? []) as Array<[Node, Node]>) {
    const s = key.type === 'string' ? sourceOf(value, scope) : undefined;
    if (s) fields.set(String(key.value), s);
  }
  return { t: 'object', fields };
}

function pathSource(steps: Node[], scope: Scope): Source | undefined {
  let of: Base = 'context';
  const out: Step[] = [];
  for (const [k, s] of steps.entries()) {
    if (s.group !== undefined || s.keepArray) return undefined;
    if (k === 0 && s.type === 'variable') {
      if (s.stages?.length) return undefined;
      const name = String(s.value);
      if (scope.has(name)) return steps.length === 1 ? scope.get(name) : undefined;
      // `$` is the context, `$$` (value '$') the expression's input, `$event` the whole event.
      if (name === '$') of = 'input';
      else if (name === 'event') of = 'event';
      else if (name !== '') return undefined;
      continue;
    }
    if (s.type === 'name') {
      out.push(String(s.value));
      for (const stage of s.stages ?? []) {
        const index = stage.type === 'filter' && stage.expr?.type === 'number' ? Number(stage.expr.value) : Number.NaN;
        if (!Number.isInteger(index) || index < 0) return undefined;
        out.push(index);
      }
      continue;
    }
    if (k === steps.length - 1 && s.type === 'unary' && s.value === '{') {
      const item = objectSource(s, scope);
      return item ? { t: 'each', of, steps: out, item } : undefined;
    }
    return undefined;
  }
  return { t: 'path', of, steps: out };
}

/** The plain names of a path that can be read without JSONata (`result.patient.id`), else undefined. */
export function plainPath(ast: jsonata.ExprNode): readonly string[] | undefined {
  const node = ast as Node;
  if (node.type !== 'path') return undefined;
  const names: string[] = [];
  for (const s of node.steps ?? []) {
    if (s.type !== 'name' || s.stages?.length || s.group !== undefined || s.keepArray || typeof s.value !== 'string') return undefined;
    names.push(s.value);
  }
  return names;
}

/** The paths an expression's value is read from, in the input as the sender sent it. */
export interface Bases {
  /** The expression's context and input (`$$`): the event, or the item of `reports`; undefined when that item was built, not read. */
  readonly input: readonly Step[] | undefined;
  readonly event: unknown;
}

/**
 * The input path of the value at `rest` inside what `source` produced, confirmed against the
 * event: `given` is the value the report has there (undefined when it has none).
 */
export function originOf(source: Source | undefined, rest: readonly Step[], produced: unknown, given: unknown, bases: Bases): readonly Step[] | undefined {
  const found = candidates(source, rest, produced, bases.input, bases);
  return found.find((p) => Object.is(valueAt(bases.event, p), given) && (given !== undefined || parentExists(bases.event, p)));
}

function parentExists(root: unknown, path: readonly Step[]): boolean {
  const parent = valueAt(root, path.slice(0, -1));
  return parent !== null && typeof parent === 'object';
}

function candidates(source: Source | undefined, rest: readonly Step[], produced: unknown, context: readonly Step[] | undefined, bases: Bases): Step[][] {
  if (!source) return [];
  const base = (of: Base) => (of === 'event' ? [] : of === 'input' ? bases.input : context);
  switch (source.t) {
    case 'path': {
      const b = base(source.of);
      return b === undefined ? [] : [[...b, ...source.steps, ...rest]];
    }
    case 'object': {
      const [head, ...tail] = rest;
      const field = typeof head === 'string' ? source.fields.get(head) : undefined;
      return field ? candidates(field, tail, valueAt(produced, [head!]), context, bases) : [];
    }
    case 'array': {
      // `[path]` and `[path.{…}]` are the path's own list (an array constructor flattens it).
      const only = source.items.length === 1 ? source.items[0] : undefined;
      if (only?.t === 'each' || only?.t === 'path') return candidates(only, rest, produced, context, bases);
      const [head, ...tail] = rest;
      // Items that give nothing leave the list shorter: then the positions no longer match.
      if (typeof head !== 'number' || !Array.isArray(produced) || produced.length !== source.items.length) return [];
      return candidates(source.items[head], tail, produced[head], context, bases);
    }
    case 'each': {
      const b = base(source.of);
      if (b === undefined) return [];
      const list = [...b, ...source.steps];
      const inInput = valueAt(bases.event, list);
      const [head, ...tail] = rest;
      if (typeof head === 'number') {
        // One item matched gives that item, not a list of it: item 0 is the object itself.
        const itemPath = Array.isArray(inInput) ? [...list, head] : head === 0 && inInput !== undefined ? list : undefined;
        return itemPath ? candidates(source.item, tail, Array.isArray(produced) ? produced[head] : produced, itemPath, bases) : [];
      }
      // `result.{ … }` over one object: the value is that one item's.
      if (Array.isArray(inInput) || Array.isArray(produced) || inInput === undefined) return [];
      return candidates(source.item, rest, produced, list, bases);
    }
    case 'either':
      return source.options.flatMap((o) => candidates(o, rest, produced, context, bases));
    default:
      return source satisfies never;
  }
}
