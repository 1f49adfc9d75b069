import type { Coding, CodedConcept, Highlighting } from '../../canonical/report.ts';
import type { Hl7Location, InputIssue } from '../../errors.ts';
import { dtmToIso, HL7_NULL, type Hl7Segment, unescapeText } from '../../protocols/hl7v2/index.ts';

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
  /**
   * At the MLLP source, `required` becomes ERR-3 101 (required field missing),
   * `segment_missing` 100 (segment sequence error: required segments are missing), other codes 102.
   */
  add(where: Hl7Path | string, code: 'required' | 'segment_missing' | 'invalid_value' | 'unsupported', message: string): void {
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
 * Repetitions as text, joined with newlines, and the highlighting escapes (`\H\`, `\N\`)
 * where they stood in that text. Escape sequences are read in order, so `\E\H\E\` (the
 * text `\H\`) is not taken for one.
 */
export function textAndHighlighting(reps: string[], seg: Hl7Segment): { value: string; highlighting?: Highlighting } {
  const e = seg.delimiters.escape;
  const highlighting: Highlighting = [];
  let value = '';
  reps.forEach((raw, r) => {
    if (r > 0) value += '\n';
    let piece = '';
    let i = 0;
    while (e !== '' && i < raw.length) {
      const start = raw.indexOf(e, i);
      const end = start === -1 ? -1 : raw.indexOf(e, start + 1);
      if (end === -1) break;
      const body = raw.slice(start + 1, end);
      if (body === 'H' || body === 'N') {
        value += repetitionText(piece + raw.slice(i, start), seg);
        piece = '';
        highlighting.push({ at: value.length, escape: body });
      } else piece += raw.slice(i, end + 1);
      i = end + 1;
    }
    value += repetitionText(piece + raw.slice(i), seg);
  });
  return { value, ...(highlighting.length > 0 ? { highlighting } : {}) };
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
  // The HL7 null in a component is no value there, not the text `""`.
  return raw === '' || raw === HL7_NULL ? undefined : repetitionText(raw, segment);
}

/** The components of a field (1-based; first subcomponent) sent as the HL7 null `""`. */
export function nullComponents(segment: Hl7Segment, field: number, repetition = 0): number[] {
  const separator = segment.delimiters.subcomponent;
  return (components(segment, field, repetition) ?? []).flatMap((c, i) =>
    (separator === '' ? c : c.split(separator)[0]) === HL7_NULL ? [i + 1] : [],
  );
}

/** The highlighting in a leaf (first subcomponent), as `textAndHighlighting` finds it. */
export function leafHighlighting(segment: Hl7Segment, field: number, component: number, repetition: number): Highlighting | undefined {
  const c = components(segment, field, repetition)?.[component - 1];
  if (c === undefined || c === '') return undefined;
  const separator = segment.delimiters.subcomponent;
  return textAndHighlighting([separator === '' ? c : c.split(separator)[0]!], segment).highlighting;
}

/**
 * A CE/CWE/CNE as sent. The components are read by position, which means the same from
 * v2.3 to v2.7.1 (later versions only add components at the end):
 *
 * | components | v2.3-2.5.1 CE | CWE/CNE (v2.3-2.6)                   | CWE/CNE v2.7+ adds                        |
 * |------------|---------------|--------------------------------------|-------------------------------------------|
 * | 1-3        | identifier ^ text ^ coding system (the primary triplet)                                           |
 * | 4-6        | the alternate triplet                                                                           |
 * | 7, 8       | -             | coding system version of 1-3, of 4-6 |                                           |
 * | 9          | -             | original text                        |                                           |
 * | 10-12, 13  |               |                                      | the second alternate triplet, its version |
 *
 * The OIDs and value sets of v2.7 (components 14-22) are not read.
 */
export interface Coded {
  /** The triplets that have an identifier, in the order sent: primary, alternate, second alternate. */
  readonly triplets: Coding[];
  readonly originalText?: string;
  readonly originalTextHighlighting?: Highlighting;
  /** Components sent as the HL7 null (1-based). */
  readonly nullComponents?: number[];
}

function triplet(
  code: string | undefined, display: string | undefined, system: string | undefined, version: string | undefined, displayHighlighting: Highlighting | undefined,
): Coding | undefined {
  if (code === undefined) return undefined;
  return {
    code, ...(display !== undefined ? { display } : {}), ...(system !== undefined ? { system } : {}), ...(version !== undefined ? { version } : {}),
    ...(displayHighlighting ? { displayHighlighting } : {}),
  };
}

export function coded(segment: Hl7Segment, field: number, repetition = 0): Coded {
  const c = (n: number) => leaf(segment, field, n, 1, repetition);
  const h = (n: number) => leafHighlighting(segment, field, n, repetition);
  const triplets = [triplet(c(1), c(2), c(3), c(7), h(2)), triplet(c(4), c(5), c(6), c(8), h(5)), triplet(c(10), c(11), c(12), c(13), h(11))].filter(
    (t): t is Coding => t !== undefined,
  );
  const originalText = c(9);
  const originalTextHighlighting = h(9);
  const nulls = isHl7Null(segment, field) ? [] : nullComponents(segment, field, repetition);
  return {
    triplets, ...(originalText !== undefined ? { originalText } : {}), ...(originalTextHighlighting ? { originalTextHighlighting } : {}),
    ...(nulls.length > 0 ? { nullComponents: nulls } : {}),
  };
}

/**
 * The concept a CE/CWE names: its first triplet with an identifier (the primary, else an
 * alternate), the other triplets as its alternates, and the original text.
 */
export function conceptOf(c: Coded): CodedConcept | undefined {
  const [first, ...rest] = c.triplets;
  if (!first) return undefined;
  return {
    ...first, ...(rest.length > 0 ? { alternates: rest } : {}), ...(c.originalText !== undefined ? { originalText: c.originalText } : {}),
    ...(c.originalTextHighlighting ? { originalTextHighlighting: c.originalTextHighlighting } : {}),
    ...(c.nullComponents ? { nullComponents: c.nullComponents } : {}),
  };
}

/**
 * A CE/CWE as `conceptOf` gives it, or, where it has text but no code at all (`^Few colonies`),
 * that text as a `textOnly` concept with its coding system, so that it keeps its place.
 */
export function conceptOrText(segment: Hl7Segment, field: number, repetition = 0): CodedConcept | undefined {
  const c = coded(segment, field, repetition);
  const concept = conceptOf(c);
  const text = leaf(segment, field, 2, 1, repetition);
  if (concept || text === undefined) return concept;
  const system = leaf(segment, field, 3, 1, repetition);
  const displayHighlighting = leafHighlighting(segment, field, 2, repetition);
  return {
    code: text, textOnly: true, ...(system !== undefined ? { system } : {}), ...(displayHighlighting ? { displayHighlighting } : {}),
    ...(c.originalText !== undefined ? { originalText: c.originalText } : {}), ...(c.originalTextHighlighting ? { originalTextHighlighting: c.originalTextHighlighting } : {}),
    ...(c.nullComponents ? { nullComponents: c.nullComponents } : {}),
  };
}

const LOINC = new Set(['LN', 'LOINC', 'HTTP://LOINC.ORG', '2.16.840.1.113883.6.1']);
const UCUM = new Set(['UCUM', 'HTTP://UNITSOFMEASURE.ORG', '2.16.840.1.113883.6.8']);

export const isLoinc = (system: string | undefined): boolean => system !== undefined && LOINC.has(system.toUpperCase());
export const isUcum = (system: string | undefined): boolean => system !== undefined && UCUM.has(system.toUpperCase());

/** The first LOINC triplet of a CE/CWE, with the system written `LN`. */
export function loincOf(c: Coded): Coding | undefined {
  const l = c.triplets.find((t) => isLoinc(t.system));
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

/** A whole field sent as the HL7 null: like an empty one, it gives no value here. */
export const isHl7Null = (segment: Hl7Segment, field: number): boolean => segment.raw(field) === HL7_NULL;

/**
 * A TS/DTM field (its first component: v2.3-2.5 TS carries a precision in the second) as
 * ISO 8601, keeping its precision and offset; `defaultOffset` only when none was sent. The
 * HL7 null gives none (the caller records it).
 */
export function dateTime(s: Located, field: number, issues: Issues, defaultOffset: string | undefined): string | undefined {
  const raw = s.segment.get(field, 1);
  return raw === '' || isHl7Null(s.segment, field) ? undefined : dtmText(raw, at(s, field), `${s.segment.name}-${field}`, issues, defaultOffset);
}

export function dtmText(raw: string, path: Hl7Path | string, field: string, issues: Issues, defaultOffset: string | undefined): string | undefined {
  const problem = dtmProblem(raw);
  if (problem) {
    issues.add(path, 'invalid_value', `${field} is not an HL7 date/time: ${problem}`);
    return undefined;
  }
  return dtmToIso(raw, defaultOffset);
}
