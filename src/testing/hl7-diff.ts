import { align } from './align.ts';
import { excerpts, truncate } from './excerpt.ts';

/**
 * Differences between two HL7 v2 messages in ER7 (segments on lines or CR-separated), by
 * segment and field, one line each:
 *
 *   OBX[2]-5: expected '6.1', got '6.2'
 *   OBX[3]-5.2: expected '14.0', got '14.1'         one component of a field
 *   PID[1]-3(2): missing 'MRN-004211^^^MRN^MR'     a repetition (counted from 1)
 *   NTE[2]: added 'NTE|2|L|Repeat in 2 h'          a segment
 *
 * `OBX[2]` is the second OBX of the message (MSH, always the first, has no number). Values
 * are shown as written, escapes included. A field is reported at its component, or that
 * component's subcomponent, when only that one differs, else as a whole.
 */

interface Separators {
  readonly field: string;
  readonly repetition: string;
  /** Component, then subcomponent. */
  readonly parts: readonly string[];
}

interface Segment {
  readonly name: string;
  readonly text: string;
  /** `fields[n]` is field n; for MSH, fields[1] is the field separator and fields[2] MSH-2. */
  readonly fields: readonly string[];
  /** `OBX[2]`: the segment's number among those of its type; `MSH` for the first MSH. */
  readonly label: string;
}

const DEFAULT: Separators = { field: '|', repetition: '~', parts: ['^', '&'] };

function separators(first: string | undefined): Separators {
  if (!first?.startsWith('MSH') || first.length < 5) return DEFAULT;
  const field = first[3]!;
  const end = first.indexOf(field, 4);
  const enc = first.slice(4, end === -1 ? undefined : end);
  return { field, repetition: enc[1] ?? '', parts: [enc[0] ?? '', enc[3] ?? ''] };
}

function parse(text: string): { segments: Segment[]; seps: Separators } {
  const lines = text.split(/\r\n|\r|\n/).filter((l) => l !== '');
  const seps = separators(lines[0]);
  const seen = new Map<string, number>();
  const segments = lines.map((line) => {
    const name = line.slice(0, 3);
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    const fields = name === 'MSH' ? [name, seps.field, ...line.slice(4).split(seps.field)] : line.split(seps.field);
    return { name, text: line, fields, label: name === 'MSH' && n === 1 ? 'MSH' : `${name}[${n}]` };
  });
  return { segments, seps };
}

/** Share of fields that differ: 0 for equal segments, Infinity for segments of different types. */
function distance(a: Segment, b: Segment): number {
  if (a.name !== b.name) return Number.POSITIVE_INFINITY;
  if (a.text === b.text) return 0;
  const n = Math.max(a.fields.length, b.fields.length);
  let differing = 0;
  for (let f = 1; f < n; f++) if ((a.fields[f] ?? '') !== (b.fields[f] ?? '')) differing++;
  return differing / (n - 1);
}

export function diffHl7(expectedText: string, actualText: string): string[] {
  const expected = parse(expectedText);
  const actual = parse(actualText);
  const out: string[] = [];
  for (const [i, j] of align(expected.segments, actual.segments, distance)) {
    const a = i === undefined ? undefined : expected.segments[i]!;
    const b = j === undefined ? undefined : actual.segments[j]!;
    if (a && b) diffSegment(a, b, expected.seps, actual.seps, out);
    else if (a) out.push(`${a.label}: missing '${truncate(a.text)}'`);
    else if (b) out.push(`${b.label}: added '${truncate(b.text)}'`);
  }
  return out;
}

function diffSegment(a: Segment, b: Segment, sa: Separators, sb: Separators, out: string[]): void {
  if (a.text === b.text) return;
  const n = Math.max(a.fields.length, b.fields.length);
  for (let f = 1; f < n; f++) {
    const x = a.fields[f] ?? '';
    const y = b.fields[f] ?? '';
    if (x === y) continue;
    const at = `${a.label}-${f}`;
    // MSH-1 and MSH-2 are the separators themselves, not split by them.
    if (a.name === 'MSH' && f <= 2) {
      out.push(changed(at, x, y));
      continue;
    }
    const rx = split(x, sa.repetition);
    const ry = split(y, sb.repetition);
    if (rx.length <= 1 && ry.length <= 1) {
      diffParts(at, x, y, sa.parts, sb.parts, out);
      continue;
    }
    for (let r = 0; r < Math.max(rx.length, ry.length); r++) {
      const rep = `${at}(${r + 1})`;
      const p = rx[r];
      const q = ry[r];
      if (p === q) continue;
      if (p === undefined) out.push(`${rep}: added '${truncate(q!)}'`);
      else if (q === undefined) out.push(`${rep}: missing '${truncate(p)}'`);
      else diffParts(rep, p, q, sa.parts, sb.parts, out);
    }
  }
}

/**
 * Where two field repetitions differ: the component, or that component's subcomponent, when
 * only that one differs (and the other parts line up), else the whole repetition.
 */
function diffParts(at: string, x: string, y: string, px: readonly string[], py: readonly string[], out: string[]): void {
  const where = locate(x, y, px, py);
  out.push(changed(at + where.suffix, where.x, where.y));
}

function locate(x: string, y: string, px: readonly string[], py: readonly string[]): { suffix: string; x: string; y: string } {
  const [sepX, ...restX] = px;
  const [sepY, ...restY] = py;
  if (!sepX || !sepY) return { suffix: '', x, y };
  const a = split(x, sepX);
  const b = split(y, sepY);
  if (a.length <= 1 && b.length <= 1) {
    // One part on both sides: `.1` only where a deeper level is named (OBR-32.1.3).
    const inner = locate(x, y, restX, restY);
    return inner.suffix === '' ? inner : { ...inner, suffix: `.1${inner.suffix}` };
  }
  const differing: number[] = [];
  for (let k = 0; k < Math.max(a.length, b.length); k++) if ((a[k] ?? '') !== (b[k] ?? '')) differing.push(k);
  const k = differing[0]!;
  // A separator that appeared inside a part ('\S\' become '^') splits it: show the whole.
  if (differing.length !== 1 || (a.length !== b.length && k < Math.min(a.length, b.length))) return { suffix: '', x, y };
  const inner = locate(a[k] ?? '', b[k] ?? '', restX, restY);
  return { ...inner, suffix: `.${k + 1}${inner.suffix}` };
}

function split(text: string, separator: string): string[] {
  if (text === '') return [];
  return separator === '' ? [text] : text.split(separator);
}

function changed(at: string, expected: string, actual: string): string {
  const [x, y] = excerpts(expected, actual);
  return `${at}: expected '${x}', got '${y}'`;
}
