import { type Delimiters, encodingCharacters } from './delimiters.ts';
import { escapeText } from './escape.ts';

/**
 * Values for building segments. Every leaf is plain text and is escaped here: mapping
 * authors and encoders never escape by hand.
 *
 * - a string (or null/undefined for empty) is a field with one component;
 * - an array is the components of one repetition; a component given as an array is
 *   its subcomponents;
 * - `{ repeat: [...] }` is a repeating field, each entry one repetition.
 */
export type Leaf = string | null | undefined;
export type ComponentInput = Leaf | Leaf[];
export type RepetitionInput = Leaf | ComponentInput[];
export type FieldInput = RepetitionInput | { repeat: RepetitionInput[] };

function joinTrimmed(parts: string[], separator: string): string {
  let end = parts.length;
  while (end > 0 && parts[end - 1] === '') end--;
  return end === parts.length ? parts.join(separator) : parts.slice(0, end).join(separator);
}

function encodeComponent(c: ComponentInput, d: Delimiters): string {
  if (c == null) return '';
  if (typeof c === 'string') return escapeText(c, d);
  return joinTrimmed(
    c.map((s) => (s == null ? '' : escapeText(s, d))),
    d.subcomponent,
  );
}

function encodeRepetition(r: RepetitionInput, d: Delimiters): string {
  if (r == null) return '';
  if (typeof r === 'string') return escapeText(r, d);
  return joinTrimmed(
    r.map((c) => encodeComponent(c, d)),
    d.component,
  );
}

export function encodeField(f: FieldInput, d: Delimiters): string {
  if (f != null && typeof f === 'object' && !Array.isArray(f)) {
    return joinTrimmed(
      f.repeat.map((r) => encodeRepetition(r, d)),
      d.repetition,
    );
  }
  return encodeRepetition(f, d);
}

/**
 * Encodes one segment. `fields[n]` is field n (index 0 unused), so call sites read like the
 * standard's field table. For MSH, fields 1 and 2 are written from the delimiters.
 */
export function encodeSegment(name: string, fields: FieldInput[], d: Delimiters): string {
  const out: string[] = [];
  const first = name === 'MSH' ? 3 : 1;
  for (let i = first; i < fields.length; i++) out.push(encodeField(fields[i], d));
  const body = joinTrimmed(out, d.field);
  if (name === 'MSH') return `MSH${d.field}${encodingCharacters(d)}${body === '' ? '' : d.field + body}`;
  return body === '' ? name : `${name}${d.field}${body}`;
}

/** Joins encoded segments with the standard CR terminator (HL7 v2.5.1 section 2.5.3). */
export function formatMessage(segments: string[]): string {
  return `${segments.join('\r')}\r`;
}
