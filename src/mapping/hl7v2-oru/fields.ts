import type { Coding } from '../../canonical/report.ts';
import type { Hl7Location, InputIssue } from '../../errors.ts';
import { dtmToIso, type Hl7Segment, unescapeText } from '../../protocols/hl7v2/index.ts';

/**
 * Reading HL7 v2 fields for the canonical report: locations in the form the MLLP source
 * turns into ERR-2 (`OBX[3]-5.4`: segment, 0-based index among segments of that type,
 * field, component), text as sent, coded elements and date-times. Issue messages name the
 * field and what was expected; they never repeat a patient's data.
 */

/** A segment and its 0-based index among the message's segments of the same type. */
export interface Located {
  readonly segment: Hl7Segment;
  readonly index: number;
}

/**
 * Where a problem is: the path for display (`OBX[3]-5.4`; MSH, which a message has once,
 * without an index: `MSH-9`), and the same location as data for ERR-2, so that no one has
 * to parse the path back. Spread into an InputIssue it gives both.
 */
export class Hl7Path {
  readonly path: string;
  readonly hl7: Hl7Location;
  constructor(path: string, hl7: Hl7Location) {
    this.path = path;
    this.hl7 = hl7;
  }
  toString(): string {
    return this.path;
  }
}

export function at(s: Located, field?: number, component?: number): Hl7Path {
  let out = s.segment.name === 'MSH' ? 'MSH' : `${s.segment.name}[${s.index}]`;
  if (field !== undefined) out += `-${field}`;
  if (component !== undefined) out += `.${component}`;
  return new Hl7Path(out, {
    segment: s.segment.name,
    sequence: s.index + 1,
    ...(field !== undefined ? { field } : {}),
    ...(component !== undefined ? { component } : {}),
  });
}

/** A segment the message lacks: ERR-2 names the segment id only. */
export function missingSegment(name: string): Hl7Path {
  return new Hl7Path(name, { segment: name });
}

/** Problems found while mapping, all reported at once. */
export class Issues {
  readonly list: InputIssue[] = [];
  /** `required` becomes ERR-3 101 (required field missing) at the MLLP source; other codes 102. */
  add(where: Hl7Path | string, code: 'required' | 'invalid_value' | 'unsupported', message: string): void {
    this.list.push(typeof where === 'string' ? { path: where, code, message } : { path: where.path, hl7: where.hl7, code, message });
  }
}

/**
 * One repetition of a field as text: the whole repetition, separators included, with escapes
 * decoded and formatting escapes turned into plain text (`\.br\` → newline), so a
 * component separator a sender left unescaped in free text stays part of the text.
 */
export function repetitionText(raw: string, segment: Hl7Segment): string {
  return unescapeText(raw, segment.delimiters, { formatting: 'text' });
}

/** Every repetition of a text field, joined with newlines (TX/FT lines, NTE-3). */
export function fieldText(segment: Hl7Segment, field: number): string {
  return segment
    .repetitions(field)
    .map((r) => repetitionText(r, segment))
    .join('\n');
}

/**
 * Fields split into repetitions and components (still escaped) once per segment: the mapping
 * reads a dozen leaves of each OBX, and splitting the field again for each of them was most
 * of its time.
 */
const split = new WeakMap<Hl7Segment, Map<number, string[][]>>();

function components(segment: Hl7Segment, field: number, repetition: number): string[] | undefined {
  let fields = split.get(segment);
  if (!fields) {
    fields = new Map();
    split.set(segment, fields);
  }
  let f = fields.get(field);
  if (!f) {
    const separator = segment.delimiters.component;
    f = segment.repetitions(field).map((r) => (separator === '' ? [r] : r.split(separator)));
    fields.set(field, f);
  }
  return f[repetition];
}

/** A leaf (component, subcomponent) as plain text, like `repetitionText`; undefined when empty. */
export function leaf(segment: Hl7Segment, field: number, component = 1, subcomponent = 1, repetition = 0): string | undefined {
  const c = components(segment, field, repetition)?.[component - 1];
  if (c === undefined || c === '') return undefined;
  const separator = segment.delimiters.subcomponent;
  const at = separator === '' ? -1 : c.indexOf(separator);
  const raw = at === -1 ? (subcomponent === 1 ? c : '') : (c.split(separator)[subcomponent - 1] ?? '');
  return raw === '' ? undefined : repetitionText(raw, segment);
}

/** A CE/CWE/CNE: the primary triplet (components 1-3), the alternate one (4-6), CWE-9 original text. */
export interface Coded {
  readonly primary?: Coding;
  readonly alternate?: Coding;
  readonly originalText?: string;
}

function triplet(code: string | undefined, display: string | undefined, system: string | undefined): Coding | undefined {
  return code === undefined ? undefined : { code, ...(display !== undefined ? { display } : {}), ...(system !== undefined ? { system } : {}) };
}

export function coded(segment: Hl7Segment, field: number, repetition = 0): Coded {
  const c = (n: number) => leaf(segment, field, n, 1, repetition);
  const primary = triplet(c(1), c(2), c(3));
  const alternate = triplet(c(4), c(5), c(6));
  const originalText = c(9);
  return { ...(primary ? { primary } : {}), ...(alternate ? { alternate } : {}), ...(originalText !== undefined ? { originalText } : {}) };
}

/** The code a CE/CWE names: its primary triplet, or the alternate one when the primary is empty. */
export function codingOf(c: Coded): Coding | undefined {
  return c.primary ?? c.alternate;
}

const LOINC = new Set(['LN', 'LOINC', 'HTTP://LOINC.ORG', '2.16.840.1.113883.6.1']);
const UCUM = new Set(['UCUM', 'HTTP://UNITSOFMEASURE.ORG', '2.16.840.1.113883.6.8']);

export const isLoinc = (system: string | undefined): boolean => system !== undefined && LOINC.has(system.toUpperCase());
export const isUcum = (system: string | undefined): boolean => system !== undefined && UCUM.has(system.toUpperCase());

/** The LOINC triplet of a CE/CWE (primary or alternate), with the system written `LN`. */
export function loincOf(c: Coded): Coding | undefined {
  const l = isLoinc(c.primary?.system) ? c.primary : isLoinc(c.alternate?.system) ? c.alternate : undefined;
  return l ? { ...l, system: 'LN' } : undefined;
}

const DTM = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$/;

/**
 * What is wrong with a DTM (v2.5.1 section 2.A.22), or undefined when it is valid. Values
 * are checked in range, since the text goes on to FHIR and HL7 receivers as it is.
 */
export function dtmProblem(dtm: string): string | undefined {
  const m = DTM.exec(dtm.trim());
  if (!m) return 'expected YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]';
  const [, y, mo, da, h, mi, s, , zone] = m;
  if (mo !== undefined && (+mo < 1 || +mo > 12)) return `month ${mo} is out of range`;
  if (mo !== undefined && da !== undefined) {
    const last = new Date(Date.UTC(+y!, +mo, 0)).getUTCDate();
    if (+da < 1 || +da > last) return `day ${da} is out of range for the month`;
  }
  if (h !== undefined && +h > 23) return `hour ${h} is out of range`;
  if (mi !== undefined && +mi > 59) return `minute ${mi} is out of range`;
  if (s !== undefined && +s > 60) return `second ${s} is out of range`;
  if (zone !== undefined && (+zone.slice(1, 3) > 23 || +zone.slice(3) > 59)) return `UTC offset ${zone} is out of range`;
  return undefined;
}

/**
 * A TS/DTM field (its first component: v2.3-2.5 TS carries a precision in the second) as
 * ISO 8601, keeping its precision and offset; `defaultOffset` only when none was sent.
 */
export function dateTime(s: Located, field: number, issues: Issues, defaultOffset: string | undefined): string | undefined {
  const raw = s.segment.get(field, 1);
  return raw === '' ? undefined : dtmText(raw, at(s, field), `${s.segment.name}-${field}`, issues, defaultOffset);
}

export function dtmText(raw: string, path: Hl7Path | string, field: string, issues: Issues, defaultOffset: string | undefined): string | undefined {
  const problem = dtmProblem(raw);
  if (problem) {
    issues.add(path, 'invalid_value', `${field} is not an HL7 date/time: ${problem}`);
    return undefined;
  }
  return dtmToIso(raw, defaultOffset);
}
