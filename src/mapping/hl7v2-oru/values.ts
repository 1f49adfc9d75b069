import type { Attachment, CodedConcept, Observation } from '../../canonical/report.ts';
import { type Hl7Segment, unescapeText } from '../../protocols/hl7v2/index.ts';
import { at, conceptOrText, dtmText, type Issues, type Located, leaf, repetitionText, textAndHighlighting } from './fields.ts';

/**
 * OBX-5 as the canonical value: the text as sent, never recalculated. Repetitions are
 * joined with newlines (TX/FT lines). Which OBX-2 value types are read, and how:
 *
 * | OBX-2                   | value                                                           |
 * |-------------------------|-----------------------------------------------------------------|
 * | NM, ST, TX, FT, IS, ID, TM | the repetition as text (`\.br\` → newline, escapes decoded)  |
 * | SN                      | its components rejoined: `<^0.5` → `<0.5`, `^1^:^128` → `1:128` |
 * | CE, CWE, CNE            | the text (component 2), else the code; `valueCoding` keeps the code |
 * | DT, TS, DTM             | ISO 8601 with the precision and offset sent                     |
 * | ED                      | an attachment (Base64 only), no observation                     |
 *
 * Anything else (RP, CX, XCN, NA, MA …) is refused, naming the type.
 */
export const VALUE_TYPES = ['NM', 'SN', 'ST', 'TX', 'FT', 'CE', 'CWE', 'CNE', 'IS', 'ID', 'DT', 'TM', 'TS', 'DTM', 'ED'] as const;

/** Free text: an empty OBX-5 is a blank line, not a missing result. */
export const TEXT_TYPES: ReadonlySet<string> = new Set(['ST', 'TX', 'FT']);

export interface ObxValue {
  value: string;
  highlighting?: NonNullable<Observation['highlighting']>;
  valueCoding?: CodedConcept;
  /** The further repetitions of a coded value, each its own concept. */
  moreValueCodings?: CodedConcept[];
  attachments: Attachment[];
  /** Nothing was sent: no text, no code, no document. */
  empty: boolean;
}

export function readValue(obx: Located, type: string, title: string, issues: Issues, defaultOffset: string | undefined): ObxValue | undefined {
  const seg = obx.segment;
  const reps = seg.repetitions(5);
  const textOf = (values: string[]): ObxValue => {
    const value = values.join('\n');
    return { value, attachments: [], empty: value === '' };
  };
  switch (type) {
    case 'ST':
    case 'TX':
    case 'FT':
      return highlightedText(reps, seg);
    case 'NM':
    case 'IS':
    case 'ID':
    case 'TM':
      return textOf(reps.map((r) => repetitionText(r, seg)));
    case 'SN':
      // Comparator, number, separator/suffix, number (v2.5.1 section 2.A.75), written back
      // to back as the sender meant them to be read.
      return textOf(reps.map((r) => splitComponents(r, seg.delimiters.component).map((c) => repetitionText(c, seg)).join('')));
    case 'CE':
    case 'CWE':
    case 'CNE': {
      const texts = reps.map((_, i) => {
        const c = (n: number) => leaf(seg, 5, n, 1, i) ?? '';
        return c(2) || c(1) || c(5) || c(4) || c(9);
      });
      const [valueCoding, ...more] = reps.map((_, i) => conceptOrText(seg, 5, i)).filter((c): c is CodedConcept => c !== undefined);
      const value = texts.join('\n');
      return {
        value,
        ...(valueCoding ? { valueCoding } : {}),
        ...(more.length > 0 ? { moreValueCodings: more } : {}),
        attachments: [],
        empty: value === '' && !valueCoding,
      };
    }
    case 'DT':
    case 'TS':
    case 'DTM':
      return textOf(
        reps.map((_, i) => {
          const first = seg.get(5, 1, 1, i);
          return first === '' ? '' : (dtmText(first, at(obx, 5), 'OBX-5', issues, type === 'DT' ? undefined : defaultOffset) ?? '');
        }),
      );
    case 'ED':
      return readDocuments(obx, reps, title, issues);
    default:
      issues.add(at(obx, 2), 'unsupported', `OBX-2 value type '${type}' is not supported; expected one of ${VALUE_TYPES.join(', ')}`);
      return undefined;
  }
}

/** Text values: the text and its highlighting, see `textAndHighlighting`. */
function highlightedText(reps: string[], seg: Hl7Segment): ObxValue {
  const { value, highlighting } = textAndHighlighting(reps, seg);
  return { value, ...(highlighting ? { highlighting } : {}), attachments: [], empty: value === '' };
}

function splitComponents(raw: string, separator: string): string[] {
  return separator === '' ? [raw] : raw.split(separator);
}

/** ED (v2.5.1 section 2.A.24): source application ^ type of data ^ subtype ^ encoding ^ data. */
function readDocuments(obx: Located, reps: string[], title: string, issues: Issues): ObxValue {
  const seg = obx.segment;
  const attachments: Attachment[] = [];
  for (const raw of reps) {
    const [, type = '', subtype = '', encoding = '', data = ''] = splitComponents(raw, seg.delimiters.component).map((c) =>
      unescapeText(c, seg.delimiters, { formatting: 'text' }),
    );
    if (data === '') continue;
    if (encoding.toUpperCase() !== 'BASE64') {
      issues.add(at(obx, 5, 4), 'unsupported', `OBX-5.4 ED encoding '${encoding}' is not supported; only Base64 is accepted`);
      continue;
    }
    if (!isBase64(data)) {
      issues.add(at(obx, 5, 5), 'invalid_value', 'OBX-5.5 ED data is not valid Base64');
      continue;
    }
    attachments.push({ contentType: mediaType(type, subtype), ...(title ? { title } : {}), dataBase64: data });
  }
  return { value: '', attachments, empty: attachments.length === 0 };
}

/** Base64 (RFC 4648 section 4), line breaks allowed, padding optional. */
function isBase64(data: string): boolean {
  const s = data.replace(/\s+/g, '');
  if (s === '' || s.length % 4 === 1 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return false;
  return !s.includes('=') || s.length % 4 === 0;
}

/** HL7 table 0291 subtypes with their media type. */
const SUBTYPES: Readonly<Record<string, string>> = {
  PDF: 'application/pdf',
  RTF: 'application/rtf',
  POSTSCRIPT: 'application/postscript',
  MSWORD: 'application/msword',
  DICOM: 'application/dicom',
  'OCTET-STREAM': 'application/octet-stream',
  XML: 'application/xml',
  HTML: 'text/html',
  PLAIN: 'text/plain',
  JPEG: 'image/jpeg',
  JPG: 'image/jpeg',
  PNG: 'image/png',
  GIF: 'image/gif',
  TIFF: 'image/tiff',
  BMP: 'image/bmp',
};

/** HL7 table 0191 types of data with their top-level media type. */
const TYPES: Readonly<Record<string, string>> = {
  AP: 'application',
  APPLICATION: 'application',
  IM: 'image',
  IMAGE: 'image',
  SI: 'image',
  NS: 'image',
  TEXT: 'text',
  TX: 'text',
  AU: 'audio',
  AUDIO: 'audio',
  MULTIPART: 'multipart',
};

/** ED-2/ED-3 → media type: a MIME type as sent, a known subtype, type/subtype, else octet-stream. */
export function mediaType(type: string, subtype: string): string {
  for (const t of [subtype, type]) if (/^[a-z]+\/[\w.+-]+$/i.test(t)) return t.toLowerCase();
  const known = SUBTYPES[subtype.toUpperCase()];
  if (known) return known;
  const major = TYPES[type.toUpperCase()];
  return major && /^[\w.+-]+$/.test(subtype) ? `${major}/${subtype.toLowerCase()}` : 'application/octet-stream';
}
