import type { LabReport, Observation } from '../../canonical/report.ts';
import {
  type ComponentInput,
  type Delimiters,
  encodeField,
  escapeText,
  type FieldInput,
  Hl7Message,
  Hl7Segment,
  type RepetitionInput,
} from '../../protocols/hl7v2/index.ts';
import type { EncodeContext } from '../types.ts';
import type { AddedSegment, FieldEdit, FieldTarget, OruEdits } from './edits.ts';

/**
 * Applies `fields:` and `segments:` to an encoded ORU^R01: the message is parsed with our
 * codec, edited field by field and written again, so the encoder itself stays as it is.
 * Values are plain text; every one is escaped here, never by the mapping author.
 */

/** What an expression sees: the report (with table codes filled in), and per observation that observation and its 0-based index. */
interface Scope {
  report: LabReport;
  observation?: Observation;
  index?: number;
  message: { controlId: string; createdAt: string };
}

/** An expression's result that leaves the encoder's value in place. */
const KEEP = Symbol('keep');
type Level = 'field' | 'repetition' | 'component' | 'subcomponent';

function levelOf(t: FieldTarget): Level {
  if (t.subcomponent !== undefined) return 'subcomponent';
  if (t.component !== undefined) return 'component';
  return t.repetition === undefined ? 'field' : 'repetition';
}

const EXPECTED: Record<Level, string> = {
  field: 'text, an array of components or { repeat: [...] }',
  repetition: 'text or an array of components',
  component: 'text or an array of subcomponents',
  subcomponent: 'text',
};

class EditError extends Error {
  override readonly name = 'EditError';
}

function leaf(v: unknown): string | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/**
 * An expression's result as codec input for its level. Only the kind of a bad value is named
 * in errors, never the value: it may be patient data.
 */
function toInput(v: unknown, level: Level, name: string): FieldInput | typeof KEEP {
  // undefined (no match) keeps what the encoder wrote; null or '' empties it.
  if (v === undefined) return KEEP;
  const fail = (what: string) => new EditError(`${name}: the value is ${what}; expected ${EXPECTED[level]}`);
  const l = leaf(v);
  if (l !== undefined) return l;
  if (Array.isArray(v)) {
    if (level === 'subcomponent') throw fail('an array');
    return v.map((c): ComponentInput => {
      const cl = leaf(c);
      if (cl !== undefined) return cl;
      if (level === 'component' || !Array.isArray(c)) throw fail('an array holding a list or object at too deep a level');
      return c.map((s) => {
        const sl = leaf(s);
        if (sl === undefined) throw fail('an array holding a list or object at too deep a level');
        return sl;
      });
    });
  }
  if (typeof v === 'object' && Array.isArray((v as { repeat?: unknown }).repeat)) {
    if (level !== 'field') throw fail('{ repeat: [...] }, which sets a whole field (write the path without [n] or a component)');
    return { repeat: (v as { repeat: unknown[] }).repeat.map((r) => toInput(r, 'repetition', name) as RepetitionInput) };
  }
  throw fail(`an ${typeof v}`);
}

function trimJoin(parts: string[], separator: string): string {
  let end = parts.length;
  while (end > 0 && parts[end - 1] === '') end--;
  return parts.slice(0, end).join(separator);
}

/** Escaped text of a component given as text or subcomponents. */
function encodeComponent(v: ComponentInput, d: Delimiters): string {
  if (v == null) return '';
  if (typeof v === 'string') return escapeText(v, d);
  return trimJoin(
    v.map((s) => (s == null ? '' : escapeText(s, d))),
    d.subcomponent,
  );
}

function setInRepetition(rep: string, t: FieldTarget, v: FieldInput, d: Delimiters): string {
  const comps = rep === '' ? [] : rep.split(d.component);
  const c = t.component! - 1;
  while (comps.length <= c) comps.push('');
  if (t.subcomponent === undefined) comps[c] = encodeComponent(v as ComponentInput, d);
  else {
    const subs = comps[c] === '' ? [] : comps[c]!.split(d.subcomponent);
    while (subs.length < t.subcomponent) subs.push('');
    subs[t.subcomponent - 1] = escapeText((v as string | null) ?? '', d);
    comps[c] = trimJoin(subs, d.subcomponent);
  }
  return trimJoin(comps, d.component);
}

/** Writes a value at its target: the whole field, one or every repetition, a component or a subcomponent. */
export function writeField(seg: Hl7Segment, t: FieldTarget, v: FieldInput): void {
  const d = seg.delimiters;
  if (t.repetition === undefined && t.component === undefined) {
    seg.setRaw(t.field, encodeField(v, d));
    return;
  }
  const raw = seg.raw(t.field);
  const reps = raw === '' ? [] : d.repetition === '' ? [raw] : raw.split(d.repetition);
  // `[*]` sets every repetition the field has; a field without any is left as it is.
  const indices = t.repetition === '*' ? reps.map((_, i) => i) : [(t.repetition ?? 1) - 1];
  for (const i of indices) {
    while (reps.length <= i) reps.push('');
    reps[i] = t.component === undefined ? encodeField(v as RepetitionInput, d) : setInRepetition(reps[i]!, t, v, d);
  }
  if (indices.length > 0) seg.setRaw(t.field, trimJoin(reps, d.repetition));
}

async function evaluateEdit(edit: FieldEdit, scope: Scope, where: string): Promise<FieldInput | typeof KEEP> {
  const level = levelOf(edit.target);
  if ('literal' in edit.value) return edit.value.literal;
  const name = `${edit.name}${where}`;
  let v: unknown;
  try {
    v = await edit.value.expression.evaluate(scope);
  } catch (e) {
    // JSONata's and the functions' messages may quote values from the report: only the place is named.
    const at = (e as { position?: number }).position;
    throw new EditError(`${name}: the expression failed${at !== undefined ? ` at character ${at + 1}` : ''}; preview the input to see why`);
  }
  return toInput(v, level, name);
}

async function applyEdit(seg: Hl7Segment, edit: FieldEdit, scope: Scope, where = ''): Promise<void> {
  const v = await evaluateEdit(edit, scope, where);
  if (v !== KEEP) writeField(seg, edit.target, v);
}

export async function applyEdits(payload: string, report: LabReport, ctx: EncodeContext, edits: OruEdits): Promise<string> {
  const msg = Hl7Message.parse(payload);
  const message = { controlId: ctx.controlId, createdAt: ctx.createdAt };
  // The encoder writes the observations' OBX segments first, then one per attached document.
  const results = msg.all('OBX').slice(0, report.observations.length);
  const perObservation = (i: number): Scope => ({ report, observation: report.observations[i]!, index: i, message });

  for (const edit of edits.fields) {
    if (edit.segment === 'OBX') {
      for (const [i, seg] of results.entries()) await applyEdit(seg, edit, perObservation(i), ` (observation ${i + 1})`);
    } else {
      const seg = msg.segment(edit.segment);
      if (seg) await applyEdit(seg, edit, { report, message });
    }
  }

  // After a segment means after it and its NTE notes, and after segments added there before.
  const lastAdded = new Map<Hl7Segment, Hl7Segment>();
  const insertAfter = (anchor: Hl7Segment, seg: Hl7Segment) => {
    const prev = lastAdded.get(anchor);
    let at = msg.segments.indexOf(prev ?? anchor) + 1;
    if (!prev) while (msg.segments[at]?.name === 'NTE') at++;
    msg.segments.splice(at, 0, seg);
    lastAdded.set(anchor, seg);
  };
  /** Added per-observation segments by name, indexed by observation, so a later one can follow each. */
  const addedPer = new Map<string, Hl7Segment[]>();
  for (const spec of edits.segments) {
    const last = () => msg.segments.findLast((s) => s.name === spec.after);
    if (spec.per === 'report') {
      const anchor = last();
      if (!anchor) continue; // e.g. after PID in a report without a patient
      insertAfter(anchor, await build(spec, { report, message }, msg));
      continue;
    }
    const instances: Hl7Segment[] = [];
    for (let i = 0; i < report.observations.length; i++) {
      const anchor = spec.after === 'OBX' ? results[i] : (addedPer.get(spec.after)?.[i] ?? last());
      const seg = await build(spec, perObservation(i), msg, ` (observation ${i + 1})`);
      instances.push(seg);
      if (anchor) insertAfter(anchor, seg);
    }
    addedPer.set(spec.name, instances);
  }
  return msg.toString();
}

async function build(spec: AddedSegment, scope: Scope, msg: Hl7Message, where = ''): Promise<Hl7Segment> {
  const seg = new Hl7Segment(spec.name, [spec.name], msg.delimiters);
  for (const edit of spec.fields) await applyEdit(seg, edit, scope, where);
  return seg;
}
