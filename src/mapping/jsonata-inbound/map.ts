import { LabReport } from '../../canonical/report.ts';
import { ConduitError, type ErrorCode, InputError, type InputIssue } from '../../errors.ts';
import { ExpressionError } from '../expressions/index.ts';
import { formatPath } from '../issues.ts';
import { parseJson } from '../json-input.ts';
import type { MappingContext } from '../kinds.ts';
import type { InboundInput, InboundMapping, MappedInput } from '../types.ts';
import { describeValue, normalize, reportIssue, type Step, valueAt } from './canonical.ts';
import { type CompiledMapping, compileJsonataMapping, type Leaf, type Template } from './compile.ts';
import type { JsonataInboundSettings } from './settings.ts';
import { type Bases, originOf } from './sources.ts';

/**
 * The `jsonata` inbound mapping at run time: JSON in, the mapping's expressions evaluated,
 * values that are undefined dropped, the result checked by the canonical schema. Nothing is
 * converted: a value of the wrong type is refused, naming the report field and, where the
 * expression read it from a path, the input field.
 */
export function createJsonataInboundMapping(id: string, settings: JsonataInboundSettings, context?: Pick<MappingContext, 'tables' | 'report'>): InboundMapping {
  const { mapping, issues } = compileJsonataMapping(settings, context?.tables);
  if (issues.length > 0) {
    // The loader drops a mapping with problems; used without one, they are thrown.
    if (!context) throw new ConduitError('CONFIG_INVALID', issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; '));
    for (const i of issues) context.report(i);
  }
  return {
    id,
    format: 'json',
    map: (input: InboundInput) => {
      if (!mapping) throw new ConduitError('CONFIG_INVALID', `mapping ${id} has problems; see the configuration issues`);
      return mapEvent(parseJson(input.text), mapping);
    },
  };
}

/** One evaluation: the event, the context item, and what each leaf gave (for naming origins). */
interface Run {
  readonly event: unknown;
  readonly context: unknown;
  readonly bases: Bases;
  readonly bindings: Record<string, unknown>;
  readonly produced: Map<Leaf, unknown>;
  /** For each list of the tree, which of its items gave a value (the others are left out). */
  readonly kept: Map<Template, number[]>;
  readonly failures: InputIssue[];
  /** `report` or `reports[2]`: how paths in issues begin. */
  readonly prefix: string;
}

export async function mapEvent(event: unknown, mapping: CompiledMapping): Promise<MappedInput[]> {
  const issues: InputIssue[] = [];
  const items: Array<{ context: unknown; input: readonly Step[] | undefined; prefix: string }> = [];
  if (mapping.reports) {
    const run = newRun(event, event, [], 'reports');
    const list = await evaluateLeaf(mapping.reports, run);
    if (run.failures.length > 0) throw new InputError(codeOf(run.failures), run.failures);
    const values = list === undefined ? [] : Array.isArray(list) ? list : [list];
    if (values.length === 0) {
      const path = originOf(mapping.reports.source, [], list, undefined, run.bases);
      throw new InputError('INPUT_INVALID', [{ path: 'reports', code: 'required', message: `the mapping gave no reports${path ? `: ${formatPath(path)} is not in the input` : ''}` }]);
    }
    // Items read from a path of the event keep that path; built items have none.
    const at = mapping.reports.source?.t === 'path' && mapping.reports.source.of !== 'event' ? mapping.reports.source.steps : undefined;
    const listInInput = at === undefined ? undefined : valueAt(event, at);
    values.forEach((v, i) => {
      const input = at === undefined ? undefined : Array.isArray(listInInput) ? [...at, i] : listInInput === v ? at : undefined;
      items.push({ context: v, input, prefix: `reports[${i}]` });
    });
  } else items.push({ context: event, input: [], prefix: 'report' });

  const out: MappedInput[] = [];
  for (const item of items) {
    const run = newRun(event, item.context, item.input, item.prefix);
    const [raw] = await evaluate(mapping.report, run);
    const sourceId = mapping.sourceId ? await evaluateLeaf(mapping.sourceId, run) : undefined;
    const sourceVersion = mapping.sourceVersion ? await evaluateLeaf(mapping.sourceVersion, run) : undefined;
    // With the report's problems, those of every expression that failed, the key's included.
    const report = check(raw, mapping, run, issues);
    // The key is checked once the report is good: a missing result id would otherwise be reported twice.
    if (!report) continue;
    const where = (name: string) => (mapping.reports ? `${item.prefix}.${name}` : name);
    const id = keyPart(mapping.sourceId, sourceId, where('sourceId'), report.id, run, issues);
    const version = keyPart(mapping.sourceVersion, sourceVersion, where('sourceVersion'), String(report.version), run, issues);
    if (id !== undefined && version !== undefined) out.push({ report, sourceId: id, sourceVersion: version });
  }
  if (issues.length > 0) throw new InputError(codeOf(issues), issues);
  return out;
}

/** A part of the idempotency key: text the mapping gave, or the report's own without an expression. */
function keyPart(leaf: Leaf | undefined, value: unknown, path: string, fallback: string, run: Run, issues: InputIssue[]): string | undefined {
  if (!leaf) return fallback;
  if (typeof value === 'string' && value !== '') return value;
  const origin = originOf(leaf.source, [], value, value, run.bases);
  const from = origin ? formatPath(origin) : undefined;
  issues.push(
    value === undefined
      ? { path, code: 'required', message: `required, but the mapping gave nothing${from ? `: ${from} is not in the input` : ''}` }
      : { path, code: 'invalid_type', message: `expected a non-empty string; the mapping gave ${describeValue(value)}${from ? ` from ${from}` : ''} (write $string(…) to make text of a number)` },
  );
  return undefined;
}

function codeOf(failures: readonly InputIssue[]): ErrorCode {
  return failures.every((f) => f.code === 'expression_failed') ? 'MAPPING_FAILED' : 'INPUT_INVALID';
}

function newRun(event: unknown, context: unknown, input: readonly Step[] | undefined, prefix: string): Run {
  return {
    event,
    context,
    bases: { event, input },
    bindings: { event },
    produced: new Map(),
    kept: new Map(),
    failures: [],
    prefix,
  };
}

/** The canonical report, or undefined with its issues pushed. */
function check(raw: unknown, mapping: CompiledMapping, run: Run, issues: InputIssue[]): LabReport | undefined {
  const unknownKeys: Step[][] = [];
  const value = normalize(raw, LabReport, [], unknownKeys);
  const found: InputIssue[] = unknownKeys.map((p) => ({
    path: formatPath(p, run.prefix),
    code: 'unrecognized_keys',
    message: `'${String(p.at(-1))}' is not a field of the canonical report; the mapping gave it, so it would be lost`,
  }));
  const parsed = LabReport.safeParse(value);
  if (parsed.success && found.length === 0 && run.failures.length === 0) return parsed.data;
  for (const i of parsed.success ? [] : parsed.error.issues) {
    const path = i.path as Step[];
    const given = valueAt(value, path);
    const at = leafAt(mapping.report, path, run);
    const origin = at === 'unmapped' ? { unmapped: true } : at ? inputOrigin(at.leaf, at.rest, given, run) : {};
    found.push(reportIssue(i, formatPath(path, run.prefix), given, origin));
  }
  // A field whose expression failed is reported by that failure, not again as missing.
  const failed = (path: string) => run.failures.some((f) => path === f.path || path.startsWith(`${f.path}.`) || path.startsWith(`${f.path}[`));
  issues.push(...run.failures, ...found.filter((i) => !failed(i.path)));
  return undefined;
}

function inputOrigin(leaf: Leaf, rest: readonly Step[], given: unknown, run: Run): { input?: string } {
  const p = originOf(leaf.source, rest, run.produced.get(leaf), given, run.bases);
  return p ? { input: formatPath(p) } : {};
}

/** The leaf of the tree that made the value at `path`, and the path inside its value; 'unmapped' when the tree has nothing there. */
function leafAt(t: Template, path: readonly Step[], run: Run): { leaf: Leaf; rest: readonly Step[] } | 'unmapped' | undefined {
  const [head, ...rest] = path;
  switch (t.t) {
    case 'leaf':
      return { leaf: t.leaf, rest: path };
    case 'object': {
      if (head === undefined) return undefined;
      const field = t.fields.find(([k]) => k === head);
      return field ? leafAt(field[1], rest, run) : 'unmapped';
    }
    case 'array': {
      const index = typeof head === 'number' ? run.kept.get(t)?.[head] : undefined;
      return index === undefined ? undefined : leafAt(t.items[index]!, rest, run);
    }
    default:
      return t satisfies never;
  }
}

/**
 * The value of a tree node, and whether an expression in it gave something. Undefined values
 * are dropped; an optional object of the tree whose expressions all give nothing (or empty
 * lists) is left out, its literals alone do not make it: an absent `panel` makes no panel.
 */
async function evaluate(t: Template, run: Run): Promise<[value: unknown, given: boolean]> {
  switch (t.t) {
    case 'leaf': {
      const v = await evaluateLeaf(t.leaf, run);
      // An empty list gives nothing either: `[id ? {…}, mrn ? {…}]` makes [] without a patient.
      return [v, t.leaf.expression !== undefined && v !== undefined && !(Array.isArray(v) && v.length === 0)];
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      let given = false;
      for (const [key, field] of t.fields) {
        const [v, g] = await evaluate(field, run);
        if (v !== undefined) out[key] = v;
        given ||= g;
      }
      return [t.optional && !given ? undefined : out, given];
    }
    case 'array': {
      const out: unknown[] = [];
      const kept: number[] = [];
      let given = false;
      for (const [i, item] of t.items.entries()) {
        const [v, g] = await evaluate(item, run);
        given ||= g;
        if (v === undefined) continue;
        out.push(v);
        kept.push(i);
      }
      run.kept.set(t, kept);
      return [out.length > 0 ? out : undefined, given];
    }
    default:
      return t satisfies never;
  }
}

function evaluateLeaf(leaf: Leaf, run: Run): unknown {
  if (!leaf.expression) return leaf.literal;
  if (leaf.plain) {
    const v = readPlain(run.context, leaf.plain);
    if (v !== FALLBACK) {
      run.produced.set(leaf, v);
      return v;
    }
  }
  return leaf.expression.evaluate(run.context, run.bindings).then(
    (v) => {
      run.produced.set(leaf, v);
      return v;
    },
    (e: unknown) => {
      if (!(e instanceof ExpressionError)) throw e;
      run.failures.push(failure(leaf, e, run));
      return undefined;
    },
  );
}

const FALLBACK = Symbol('fallback');

/**
 * A path of plain names read directly, as JSONata reads it where every step is an object;
 * anything else (a list on the way or at the end) is left to JSONata and its sequence rules.
 */
function readPlain(context: unknown, names: readonly string[]): unknown {
  let v = context;
  for (const name of names) {
    if (v === undefined) return undefined;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return FALLBACK;
    v = Object.hasOwn(v, name) ? (v as Record<string, unknown>)[name] : undefined;
  }
  return Array.isArray(v) ? FALLBACK : v;
}

/** An expression that threw: `$error("…")` / `$assert` in the mapping say why the input is refused; anything else is the mapping's failure. */
function failure(leaf: Leaf, e: ExpressionError, run: Run): InputIssue {
  const [first, ...rest] = leaf.at;
  // report.x / reports[1].x for the tree; sourceId, or reports[1].sourceId; reports itself.
  const path = first === 'report' ? formatPath(rest, run.prefix) : first === 'reports' || run.prefix === 'report' ? String(first) : `${run.prefix}.${String(first)}`;
  const before = e.position === undefined ? '' : e.expression.slice(0, e.position);
  // JSONata puts the position of a failed call at its '(' (or just before it).
  if (/\$(error|assert)\s*\(?$/.test(before)) {
    return { path, code: 'invalid', message: e.message.replace(/ at character \d+( \('[^']*'\))?$/, '') };
  }
  return { path, code: 'expression_failed', message: `the mapping's expression failed: ${e.message}` };
}
