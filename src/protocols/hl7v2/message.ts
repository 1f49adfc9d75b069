import type { Hl7Location } from '../../errors.ts';
import { type Delimiters, readDelimiters } from './delimiters.ts';
import { type UnescapeOptions, unescapeText } from './escape.ts';

/**
 * The HL7 null (v2.5.1 section 2.5.3): `""` tells the receiver to delete the value it holds,
 * while an empty field only means "not sent".
 */
export const HL7_NULL = '""';

/**
 * A parsed HL7 v2 message that keeps every field exactly as it was written, so that
 * serialising an unchanged message gives back the same bytes. Fields are split eagerly;
 * repetitions, components and subcomponents are split when read.
 *
 * Field numbering follows the standard: `segment.fields[n]` is field n. For MSH,
 * fields[1] is the field separator and fields[2] the encoding characters.
 */
export class Hl7Segment {
  readonly name: string;
  readonly delimiters: Delimiters;
  private readonly fields: string[];
  /** The segment as written, kept until a field is changed so unchanged segments serialise verbatim. */
  private text: string | undefined;

  constructor(name: string, fields: string[], delimiters: Delimiters, text?: string) {
    this.name = name;
    this.fields = fields;
    this.delimiters = delimiters;
    this.text = text;
  }

  /** The same segment read with other delimiters (the same separators, another MSH-18). */
  withDelimiters(d: Delimiters): Hl7Segment {
    return new Hl7Segment(this.name, this.fields, d, this.text);
  }

  /** Replaces field n with already-escaped text (see `encodeField`). */
  setRaw(field: number, raw: string): void {
    if (field < 1 || (this.name === 'MSH' && field <= 2)) throw new RangeError(`${this.name}-${field} cannot be set`);
    while (this.fields.length <= field) this.fields.push('');
    this.fields[field] = raw;
    this.text = undefined;
  }

  /** Raw (escaped) text of field n, '' when absent. */
  raw(field: number): string {
    return this.fields[field] ?? '';
  }

  /** Number of the last field present. */
  get length(): number {
    return this.fields.length - 1;
  }

  /** Repetitions of field n, each still escaped. */
  repetitions(field: number): string[] {
    const raw = this.raw(field);
    if (raw === '') return [];
    // No repetition separator (a one-character MSH-2 that clashes with '~'): one repetition.
    if ((this.name === 'MSH' && field <= 2) || this.delimiters.repetition === '') return [raw];
    return raw.split(this.delimiters.repetition);
  }

  /**
   * Unescaped text of a leaf. `component` and `subcomponent` are 1-based; `repetition` is
   * 0-based, as in the location notation `PID-3[0].4.2` used in errors.
   */
  get(field: number, component = 1, subcomponent = 1, repetition = 0, options?: UnescapeOptions): string {
    return unescapeText(this.getRaw(field, component, subcomponent, repetition), this.delimiters, options);
  }

  getRaw(field: number, component = 1, subcomponent = 1, repetition = 0): string {
    const raw = this.raw(field);
    if (raw === '') return '';
    if (this.name === 'MSH' && field <= 2) return component === 1 && subcomponent === 1 ? raw : '';
    const d = this.delimiters;
    const rep = nth(raw, d.repetition, repetition);
    const comp = nth(rep, d.component, component - 1);
    return nth(comp, d.subcomponent, subcomponent - 1);
  }

  /** Components of one repetition, each unescaped (subcomponents left joined, escaped separators decoded). */
  components(field: number, repetition = 0, options?: UnescapeOptions): string[] {
    const rep = this.repetitions(field)[repetition] ?? '';
    if (rep === '') return [];
    return rep.split(this.delimiters.component).map((c) => unescapeText(c, this.delimiters, options));
  }

  toString(): string {
    if (this.text !== undefined) return this.text;
    const fs = this.delimiters.field;
    if (this.name === 'MSH') return `MSH${this.fields[1] ?? fs}${this.fields.slice(2).join(fs)}`;
    return this.fields.join(fs);
  }
}

function nth(text: string, separator: string, index: number): string {
  if (separator === '' || text.indexOf(separator) === -1) return index === 0 ? text : '';
  return text.split(separator)[index] ?? '';
}

export class Hl7ParseError extends Error {
  override readonly name = 'Hl7ParseError';
  /** HL7 table 0357 code that an ERR segment reports for this failure. */
  readonly errorCode: string;
  readonly location: string;
  /** The location as ERR-2 data, when the failure is at a known segment. */
  readonly hl7: Hl7Location | undefined;
  constructor(message: string, location: string, errorCode = '100', hl7?: Hl7Location) {
    super(message);
    this.location = location;
    this.errorCode = errorCode;
    this.hl7 = hl7;
  }
}

/** Segment ids are three characters: an upper-case letter, then upper-case letters or digits. */
function isSegmentName(line: string): boolean {
  if (line.length < 3) return false;
  const a = line.charCodeAt(0);
  if (a < 65 || a > 90) return false;
  for (let i = 1; i < 3; i++) {
    const c = line.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57))) return false;
  }
  return true;
}

export class Hl7Message {
  readonly delimiters: Delimiters;
  readonly segments: Hl7Segment[];
  /** Segment terminators as written: one string for all, or one per segment when mixed. */
  private readonly terminators: string | string[];
  /** Whether the text ended with a terminator after the last segment. */
  private readonly trailing: boolean;

  private constructor(delimiters: Delimiters, segments: Hl7Segment[], terminators: string | string[], trailing: boolean) {
    this.delimiters = delimiters;
    this.segments = segments;
    this.terminators = terminators;
    this.trailing = trailing;
  }

  /** Parses ER7 text. Segments may end with CR (the standard), LF or CRLF. */
  static parse(text: string): Hl7Message {
    let body = text;
    if (body.charCodeAt(0) === 0xfeff) body = body.slice(1);
    const d = readDelimiters(body);
    let lines: string[];
    let terminators: string | string[];
    if (body.indexOf('\n') === -1) {
      lines = body.split('\r');
      terminators = '\r';
    } else {
      const parts = body.split(/(\r\n|\r|\n)/);
      lines = [];
      const seps: string[] = [];
      for (let i = 0; i < parts.length; i += 2) {
        lines.push(parts[i]!);
        if (i + 1 < parts.length) seps.push(parts[i + 1]!);
      }
      terminators = seps.every((s) => s === seps[0]) ? (seps[0] ?? '\r') : seps;
    }
    let trailing = false;
    if (lines.length > 1 && lines[lines.length - 1] === '') {
      lines.pop();
      trailing = true;
    }
    const segments: Hl7Segment[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === '') {
        throw new Hl7ParseError(`empty segment at line ${i + 1}`, `segment ${i + 1}`);
      }
      const name = line.slice(0, 3);
      if (!isSegmentName(line) || (line.length > 3 && line.charAt(3) !== d.field)) {
        throw new Hl7ParseError(`segment ${i + 1} does not start with a segment name followed by '${d.field}'`, `segment ${i + 1}`);
      }
      if (name === 'MSH' || name === 'FHS' || name === 'BHS') {
        const rest = line.slice(4).split(d.field);
        segments.push(new Hl7Segment(name, [name, d.field, ...rest], d, line));
      } else {
        segments.push(new Hl7Segment(name, line.split(d.field), d, line));
      }
    }
    if (segments[0]?.name !== 'MSH') throw new Hl7ParseError('first segment is not MSH', 'MSH', '100', { segment: 'MSH', sequence: 1 });
    const charset = segments[0].repetitions(18)[0]?.trim();
    if (charset) {
      // Every segment reads its hex escapes in the declared character set.
      const withCharset: Delimiters = { ...d, charset };
      return new Hl7Message(withCharset, segments.map((s) => s.withDelimiters(withCharset)), terminators, trailing);
    }
    return new Hl7Message(d, segments, terminators, trailing);
  }

  get msh(): Hl7Segment {
    return this.segments[0]!;
  }

  /** MSH-10, the message control id that MSA-2 of the acknowledgement must echo. */
  get controlId(): string {
    return this.msh.get(10);
  }

  /** MSH-9 as `ORU^R01`. */
  get messageType(): string {
    return [this.msh.get(9, 1), this.msh.get(9, 2)].filter((s) => s !== '').join('^');
  }

  get version(): string {
    return this.msh.get(12);
  }

  segment(name: string, index = 0): Hl7Segment | undefined {
    let seen = 0;
    for (const s of this.segments) {
      if (s.name === name && seen++ === index) return s;
    }
    return undefined;
  }

  all(name: string): Hl7Segment[] {
    return this.segments.filter((s) => s.name === name);
  }

  toString(): string {
    const t = this.terminators;
    if (typeof t === 'string') {
      const joined = this.segments.map((s) => s.toString()).join(t);
      return this.trailing ? joined + t : joined;
    }
    let out = '';
    for (let i = 0; i < this.segments.length; i++) {
      out += this.segments[i]!.toString();
      if (i < t.length) out += t[i];
    }
    return out;
  }
}
