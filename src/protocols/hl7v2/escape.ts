import type { Delimiters } from './delimiters.ts';

/**
 * HL7 v2 escape sequences (v2.5.1 section 2.7). Delimiter escapes (\F\ \S\ \T\ \R\ \E\ \P\)
 * stand for a delimiter character; formatting and hexadecimal escapes (\.br\, \H\, \N\,
 * \Xhh\, \Zxx\, \Cxxyy\, \Mxxyyzz\) carry meaning for the receiver and are passed through
 * intact when text is read, so that nothing a sender wrote is lost.
 */

const escapeCache = new WeakMap<Delimiters, RegExp>();

function specialCharacters(d: Delimiters): RegExp {
  let re = escapeCache.get(d);
  if (!re) {
    const chars = [d.escape, d.field, d.component, d.repetition, d.subcomponent, d.truncation ?? '']
      .filter((c) => c !== '')
      .map((c) => c.replace(/[\\\]^-]/g, '\\$&'))
      .join('');
    re = new RegExp(`[${chars}]|\\r\\n|\\r|\\n`, 'g');
    escapeCache.set(d, re);
  }
  return re;
}

/**
 * Escapes text for a leaf (component or subcomponent) value. Line breaks become \.br\,
 * the formatting escape receivers render as a new line; a bare CR would end the segment.
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
      default:
        return `${e}.br${e}`;
    }
  });
}

export interface UnescapeOptions {
  /**
   * 'keep' (default) leaves formatting and hex escapes as written (`\.br\`, `\X0D\`);
   * 'text' turns line-break escapes (\.br\, \.sp\, \X0D\, \X0A\, \X0D0A\) into "\n"
   * and drops the other formatting commands, for plain-text consumers such as FHIR strings.
   */
  formatting?: 'keep' | 'text';
}

/** Reads escaped leaf text back to the characters it stands for. */
export function unescapeText(raw: string, d: Delimiters, options?: UnescapeOptions): string {
  const e = d.escape;
  if (e === '' || raw.indexOf(e) === -1) return raw;
  const asText = options?.formatting === 'text';
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const start = raw.indexOf(e, i);
    if (start === -1) {
      out += raw.slice(i);
      break;
    }
    out += raw.slice(i, start);
    const end = raw.indexOf(e, start + 1);
    if (end === -1) {
      // A lone escape character with no closing one: keep it as written.
      out += raw.slice(start);
      break;
    }
    const body = raw.slice(start + 1, end);
    out += decodeSequence(body, d, asText) ?? raw.slice(start, end + 1);
    i = end + 1;
  }
  return out;
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
  if (/^X([0-9A-Fa-f]{2})+$/.test(body)) {
    const hex = body.slice(1).toUpperCase();
    if (/^(0D0A|0D|0A)+$/.test(hex)) return '\n'.repeat(hex.replace(/0D0A/g, 'N').replace(/0D|0A/g, 'N').length);
    return undefined;
  }
  if (/^(H|N|\.[a-z]{2}[+-]?\d*|\.fi|\.nf)$/.test(body)) return '';
  return undefined;
}
