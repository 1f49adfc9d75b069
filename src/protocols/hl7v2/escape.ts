import { charsetOf } from './charset.ts';
import type { Delimiters } from './delimiters.ts';

/**
 * HL7 v2 escape sequences (v2.5.1 section 2.7). Delimiter escapes (\F\ \S\ \T\ \R\ \E\ \P\)
 * stand for a delimiter character; formatting and hexadecimal escapes (\.br\, \H\, \N\,
 * \Xhh\, \Zxx\, \Cxxyy\, \Mxxyyzz\) carry meaning for the receiver: they are passed through
 * intact in 'keep' mode, and read as plain text in 'text' mode.
 */

const escapeCache = new WeakMap<Delimiters, RegExp>();

function specialCharacters(d: Delimiters): RegExp {
  let re = escapeCache.get(d);
  if (!re) {
    const chars = [d.escape, d.field, d.component, d.repetition, d.subcomponent, d.truncation ?? '']
      .filter((c) => c !== '')
      .map((c) => c.replace(/[\\\]^-]/g, '\\$&'))
      .join('');
    // C0 controls other than TAB, CR and LF (line breaks), and DEL: see escapeText.
    re = new RegExp(`[${chars}]|\\r\\n|\\r|\\n|[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]`, 'g');
    escapeCache.set(d, re);
  }
  return re;
}

/**
 * Escapes text for a leaf (component or subcomponent) value. Line breaks become \.br\,
 * the formatting escape receivers render as a new line; a bare CR would end the segment.
 * Other control characters but TAB (NUL, BEL, VT, FS, ESC, DEL…) become hexadecimal escapes
 * (v2.5.1 section 2.7.5, `\X07\`): raw, VT and FS would break MLLP framing and the others
 * are not text a receiver can be trusted to keep, while the escape carries them verbatim.
 */
export function escapeText(value: string, d: Delimiters): string {
  const re = specialCharacters(d);
  re.lastIndex = 0;
  if (!re.test(value)) return value;
  re.lastIndex = 0;
  const e = d.escape;
  return value.replace(re, (c) => {
    switch (c) {
      case d.escape:
        return `${e}E${e}`;
      case d.field:
        return `${e}F${e}`;
      case d.component:
        return `${e}S${e}`;
      case d.repetition:
        return `${e}R${e}`;
      case d.subcomponent:
        return `${e}T${e}`;
      case d.truncation:
        return `${e}P${e}`;
      case '\r\n':
      case '\r':
      case '\n':
        return `${e}.br${e}`;
      default:
        return `${e}X${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}${e}`;
    }
  });
}

export interface UnescapeOptions {
  /**
   * 'keep' (default) leaves formatting and hex escapes as written (`\.br\`, `\X0D\`);
   * 'text' reads them as plain text, for consumers such as FHIR strings: line-break escapes
   * (\.br\, \.sp\, CR, LF or CR LF as hex, `\X0D\\X0A\` included) become one "\n" each,
   * other hex escapes are decoded in the message's character set (MSH-18), highlighting
   * (\H\, \N\) and the other formatting commands are dropped.
   */
  formatting?: 'keep' | 'text';
}

/** Reads escaped leaf text back to the characters it stands for. */
export function unescapeText(raw: string, d: Delimiters, options?: UnescapeOptions): string {
  const e = d.escape;
  if (e === '' || raw.indexOf(e) === -1) return raw;
  const asText = options?.formatting === 'text';
  let out = '';
  // Adjacent hex escapes are one byte sequence (`\XC3\\XA9\` is one 'é' in UTF-8, `\X0D\\X0A\` one CR LF).
  let hex = '';
  let hexRaw = '';
  const flush = (): void => {
    if (hexRaw === '') return;
    // CR LF and CR alone are one line break each, whether in one escape or in adjacent ones.
    out += decodeHex(hex, d.charset)?.replace(/\r\n?/g, '\n') ?? hexRaw;
    hex = '';
    hexRaw = '';
  };
  let i = 0;
  while (i < raw.length) {
    const start = raw.indexOf(e, i);
    if (start === -1) {
      flush();
      out += raw.slice(i);
      break;
    }
    if (start > i) flush();
    out += raw.slice(i, start);
    const end = raw.indexOf(e, start + 1);
    if (end === -1) {
      // A lone escape character with no closing one: keep it as written.
      flush();
      out += raw.slice(start);
      break;
    }
    const body = raw.slice(start + 1, end);
    if (asText && HEX.test(body)) {
      hex += body.slice(1);
      hexRaw += raw.slice(start, end + 1);
    } else {
      flush();
      out += decodeSequence(body, d, asText) ?? raw.slice(start, end + 1);
    }
    i = end + 1;
  }
  flush();
  return out;
}

const HEX = /^X(?:[0-9A-Fa-f]{2})+$/;
/** Controls other than TAB, CR and LF: FHIR strings cannot carry them, so their escape is kept as written. */
const UNCARRIED_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;

/**
 * The text of hex-escaped bytes, in the character set MSH-18 declares; without one, ASCII
 * (the HL7 default) or else UTF-8. Undefined, so the escape is kept as written, when the
 * bytes do not decode or stand for a control character FHIR strings cannot carry.
 */
function decodeHex(hex: string, charset: string | undefined): string | undefined {
  const bytes = Buffer.from(hex, 'hex');
  const set = charsetOf(charset || (bytes.every((b) => b < 0x80) ? 'ASCII' : 'UNICODE UTF-8'));
  if (!set) return undefined;
  try {
    const text = set.decode(bytes);
    return UNCARRIED_CONTROL.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

function decodeSequence(body: string, d: Delimiters, asText: boolean): string | undefined {
  switch (body) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    // A separator the message does not have ('' or undefined) keeps its escape as written.
    case 'T':
      return d.subcomponent || undefined;
    case 'R':
      return d.repetition || undefined;
    case 'E':
      return d.escape;
    case 'P':
      return d.truncation || undefined;
  }
  if (!asText) return undefined;
  if (body === '.br' || body === '.sp' || /^\.sp\d*$/.test(body)) return '\n';
  if (/^(H|N|\.[a-z]{2}[+-]?\d*|\.fi|\.nf)$/.test(body)) return '';
  return undefined;
}
