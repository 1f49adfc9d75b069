import { z } from 'zod';
import { type CodeTables, type CompiledExpression, compileExpression, ExpressionError } from '../../mapping/expressions/compile.ts';
import type { MappingIssue } from '../../mapping/kinds.ts';

/**
 * The `fields:` and `segments:` sections of an oru-r01 mapping file: field values on top of
 * what the encoder writes, and added segments (a ZRS …). Everything is checked and every
 * expression compiled when the file is loaded; nothing here runs per message.
 *
 * ```yaml
 * fields:
 *   MSH-5: LABSYS                 # a literal
 *   PID-3[*].4: NORTHSIDE         # CX-4 of every PID-3 repetition
 *   OBX-3: '=[observation.code.code, observation.code.display, "99LAB"]'   # per observation
 * segments:
 *   - { name: ZRS, after: OBR, per: report, fields: { 1: '=report.device.site', 2: POC } }
 * ```
 */

/** A value as written: text, or a JSONata expression when it starts with `=` (`==` for a literal `=`). */
const Value = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: "expected a literal value or a JSONata expression starting with '='",
});

const SegmentSpec = z
  .object({
    /** The segment id: three upper-case letters or digits, e.g. ZRS. */
    name: z.string({ error: 'expected a segment name such as ZRS' }),
    /** The segment it goes after (with that segment's NTE notes): MSH, PID, PV1, ORC, OBR, OBX, or one added above. */
    after: z.string({ error: 'expected the segment it follows, e.g. OBR' }),
    /** One segment per report, or one per observation. */
    per: z.enum(['report', 'observation']).default('report'),
    /** Field number (`1`, `2.1`, `3[2].1`) → value. */
    fields: z.record(z.string(), z.unknown(), { error: 'expected a map of field number → value, e.g. 1: POC' }).default({}),
  });

/**
 * The sections' outer shape only: each field value and each segment is checked on its own by
 * `compileOruEdits`, so that every problem of the file shows in one pass.
 */
export const OruR01Sections = z.object({
  /** HL7 field path → value, on top of what the encoder writes. */
  fields: z.record(z.string(), z.unknown(), { error: 'expected a map of field path → value, e.g. MSH-5: LABSYS' }).optional(),
  /** Segments added to the message. */
  segments: z.array(z.unknown(), { error: 'expected a list of segments, e.g. - { name: ZRS, after: OBR, fields: { 1: POC } }' }).optional(),
});
export type OruR01Sections = z.infer<typeof OruR01Sections>;

/** Where a value goes: field n of a segment, a repetition of it (1-based, or every one), a component, a subcomponent. */
export interface FieldTarget {
  readonly field: number;
  /** Undefined: the whole field, or (with a component) its first repetition. */
  readonly repetition: number | '*' | undefined;
  readonly component: number | undefined;
  readonly subcomponent: number | undefined;
}

export type EditValue = { readonly literal: string } | { readonly expression: CompiledExpression };

export interface FieldEdit {
  /** The key in the mapping file, for messages: `fields.OBX-3`. */
  readonly name: string;
  readonly target: FieldTarget;
  readonly value: EditValue;
}

export interface SegmentEdit extends FieldEdit {
  readonly segment: string;
}

export interface AddedSegment {
  readonly name: string;
  readonly after: string;
  readonly per: 'report' | 'observation';
  readonly fields: readonly FieldEdit[];
  /** For messages: `segments[0]`. */
  readonly at: string;
}

export interface OruEdits {
  readonly fields: readonly SegmentEdit[];
  readonly segments: readonly AddedSegment[];
}

/** The segments the encoder writes once per report or per observation: the ones `fields:` may set. */
export const EDITABLE_SEGMENTS = ['MSH', 'PID', 'PV1', 'ORC', 'OBR', 'OBX'] as const;

/** MSH fields that carry the message's own machinery. */
const RESERVED: Record<string, string> = {
  'MSH-1': 'MSH-1 and MSH-2 are the delimiters the encoder writes',
  'MSH-2': 'MSH-1 and MSH-2 are the delimiters the encoder writes',
  'MSH-9': 'MSH-9 is the message type, ORU^R01^ORU_R01',
  'MSH-10': 'MSH-10 is the control id the acknowledgement must echo (MSA-2)',
};

const SEGMENT_NAME = /^[A-Z][A-Z0-9]{2}$/;
const PATH = /^(?:([^-]+)-)?(\d+)(?:\[(\d+|\*)\])?(?:\.(\d+)(?:\.(\d+))?)?$/;
const PATH_FORMS = 'e.g. PID-3.4 (first repetition), PID-3[*].4 (every repetition) or PID-3[2].4 (the second)';

/** Parses `SEG-n[.c[.s]]` (with `segment`) or `n[.c[.s]]`; a string is what is wrong. */
export function parseFieldPath(key: string, withSegment: boolean): { segment: string | undefined; target: FieldTarget } | string {
  const m = PATH.exec(key);
  if (!m || (withSegment && m[1] === undefined) || (!withSegment && m[1] !== undefined)) {
    return withSegment
      ? `'${key}' is not a field path; expected SEG-n[.c[.s]], ${PATH_FORMS}`
      : `'${key}' is not a field of this segment; expected n[.c[.s]], e.g. 1, 2.1 or 3[2].1`;
  }
  const [, segment, field, rep, comp, sub] = m;
  if (segment !== undefined && !SEGMENT_NAME.test(segment)) {
    return `'${segment}' in '${key}' is not a segment name; expected three upper-case letters or digits, e.g. PID`;
  }
  const numbers = [field, rep === '*' ? undefined : rep, comp, sub].filter((n) => n !== undefined).map(Number);
  if (numbers.some((n) => n < 1)) return `'${key}': fields, repetitions, components and subcomponents count from 1`;
  return {
    segment,
    target: {
      field: Number(field),
      repetition: rep === undefined ? undefined : rep === '*' ? '*' : Number(rep),
      component: comp === undefined ? undefined : Number(comp),
      subcomponent: sub === undefined ? undefined : Number(sub),
    },
  };
}

/**
 * JSONata counts characters of the expression, after the '='; the author counts from the start
 * of the value, so the position moves by one, and a multi-line expression also gets its line.
 */
function whereInValue(e: ExpressionError, value: string): string {
  if (e.position === undefined || !/at character \d+/.test(e.message)) return e.message;
  const at = e.position + 1;
  const line = value.slice(0, at).split('\n').length;
  return e.message.replace(/at character \d+/, `at character ${at}${value.includes('\n') ? ` (line ${line} of the expression)` : ''}`);
}

function compileValue(raw: unknown, tables: CodeTables, at: PropertyKey[], report: (i: MappingIssue) => void): EditValue | undefined {
  const v = Value.safeParse(raw);
  if (!v.success) {
    report({ path: at, code: 'invalid_union', message: v.error.issues[0]!.message });
    return undefined;
  }
  if (raw === null) return { literal: '' };
  if (typeof raw !== 'string') return { literal: String(raw) };
  if (raw.startsWith('==')) return { literal: raw.slice(1) };
  if (!raw.startsWith('=')) return { literal: raw };
  try {
    return { expression: compileExpression(raw.slice(1), tables) };
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    report({ path: at, code: 'expression', message: `bad JSONata expression: ${whereInValue(e, raw)}` });
    return undefined;
  }
}

/** Checks the sections and compiles their expressions; problems go to `report`, with their path. */
export function compileOruEdits(sections: OruR01Sections, tables: CodeTables, report: (i: MappingIssue) => void): OruEdits {
  const fields: SegmentEdit[] = [];
  for (const [key, raw] of Object.entries(sections.fields ?? {})) {
    const at = ['fields', key];
    const parsed = parseFieldPath(key, true);
    if (typeof parsed === 'string') {
      report({ path: at, code: parsed.includes('segment name') ? 'segment_name' : 'field_path', message: parsed });
      continue;
    }
    const segment = parsed.segment!;
    const fieldKey = `${segment}-${parsed.target.field}`;
    if (!(EDITABLE_SEGMENTS as readonly string[]).includes(segment)) {
      report({
        path: at, code: 'field_segment',
        message: `fields: cannot set ${segment} segments; expected a path in one of ${EDITABLE_SEGMENTS.join(', ')} (add other segments under segments:)`,
      });
      continue;
    }
    if (Object.hasOwn(RESERVED, fieldKey)) {
      report({ path: at, code: 'field_reserved', message: `${fieldKey} cannot be set: ${RESERVED[fieldKey]}` });
      continue;
    }
    const value = compileValue(raw, tables, at, report);
    if (value) fields.push({ name: `fields.${key}`, segment, target: parsed.target, value });
  }

  const segments: AddedSegment[] = [];
  const known = new Set<string>(EDITABLE_SEGMENTS);
  known.add('NTE');
  (sections.segments ?? []).forEach((raw, i) => {
    const at: PropertyKey[] = ['segments', i];
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      report({ path: at, code: 'invalid_type', message: 'expected a segment such as { name: ZRS, after: OBR, per: report, fields: { 1: POC } }' });
      return;
    }
    // Each key is checked on its own, so that every problem of the segment shows in one pass.
    const r = raw as Record<string, unknown>;
    let ok = true;
    for (const key of Object.keys(r)) {
      if (Object.hasOwn(SegmentSpec.shape, key)) continue;
      report({ path: [...at, key], code: 'unrecognized_keys', message: `unknown key '${key}'; expected ${Object.keys(SegmentSpec.shape).join(', ')}` });
      ok = false;
    }
    const part = <K extends keyof typeof SegmentSpec.shape>(key: K): z.infer<(typeof SegmentSpec.shape)[K]> | undefined => {
      const p = SegmentSpec.shape[key].safeParse(r[key]);
      if (p.success) return p.data as z.infer<(typeof SegmentSpec.shape)[K]>;
      for (const issue of zodMappingIssues(p.error, [...at, key])) report(issue);
      ok = false;
      return undefined;
    };
    const name = part('name');
    const after = part('after');
    const per = part('per');
    const values = part('fields') ?? {};
    if (name !== undefined && !SEGMENT_NAME.test(name)) {
      report({ path: [...at, 'name'], code: 'segment_name', message: `'${name}' is not a segment name; expected three upper-case letters or digits starting with a letter, e.g. ZRS` });
      ok = false;
    } else if (name === 'MSH') {
      report({ path: [...at, 'name'], code: 'segment_name', message: 'a message has one MSH; expected another segment name, e.g. ZRS' });
      ok = false;
    }
    if (after !== undefined && !known.has(after)) {
      report({
        path: [...at, 'after'], code: 'segment_after',
        message: `'${after}' is not a segment of the message; expected one of ${[...known].join(', ')} or a segment added above`,
      });
      ok = false;
    }
    const edits: FieldEdit[] = [];
    for (const [key, value] of Object.entries(values)) {
      const fat = [...at, 'fields', key];
      const parsed = parseFieldPath(key, false);
      if (typeof parsed === 'string') {
        report({ path: fat, code: 'field_path', message: parsed });
        ok = false;
        continue;
      }
      const compiled = compileValue(value, tables, fat, report);
      if (compiled) edits.push({ name: `segments[${i}].fields.${key}`, target: parsed.target, value: compiled });
      else ok = false;
    }
    if (name !== undefined && SEGMENT_NAME.test(name)) known.add(name);
    if (ok && name !== undefined && after !== undefined && per !== undefined) segments.push({ name, after, per, fields: edits, at: `segments[${i}]` });
  });
  return { fields, segments };
}

/** Zod issues as mapping issues under `prefix`; an unknown key is reported at the key itself. */
function zodMappingIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): MappingIssue[] {
  return error.issues.flatMap((i): MappingIssue[] =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((key) => ({ path: [...prefix, ...i.path, key], message: `unknown key '${key}'`, code: i.code }))
      : [{ path: [...prefix, ...i.path], message: i.message, code: i.code }],
  );
}
