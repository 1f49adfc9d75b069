/**
 * HL7 v2 delimiters, read from MSH-1 (field separator) and MSH-2 (encoding characters).
 * HL7 v2.5.1 section 2.5.4: MSH-2 holds component, repetition, escape and subcomponent
 * characters in that order; v2.7 adds a fifth, the truncation character.
 */
export interface Delimiters {
  readonly field: string;
  readonly component: string;
  readonly repetition: string;
  readonly escape: string;
  readonly subcomponent: string;
  /** v2.7 truncation character, when MSH-2 has five characters. */
  readonly truncation?: string;
  /**
   * MSH-18 as the message declares it (HL7 table 0211, e.g. `8859/1`), set by `Hl7Message.parse`:
   * the character set `\Xhh\` escapes are decoded in. Not a delimiter, but read with them.
   */
  readonly charset?: string;
}

export const DEFAULT_DELIMITERS: Delimiters = Object.freeze({
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
});

/** The MSH-2 value for a set of delimiters. */
export function encodingCharacters(d: Delimiters): string {
  return d.component + d.repetition + d.escape + d.subcomponent + (d.truncation ?? '');
}

export class DelimiterError extends Error {
  override readonly name = 'DelimiterError';
}

/**
 * Reads the delimiters from the start of a message. MSH-2 may be shorter than four
 * characters in the wild (three-character MSH-2 leaves the subcomponent separator
 * undefined); the missing ones fall back to the defaults only when they do not clash.
 */
export function readDelimiters(message: string): Delimiters {
  if (!message.startsWith('MSH') && !message.startsWith('FHS') && !message.startsWith('BHS')) {
    throw new DelimiterError('message does not start with an MSH segment');
  }
  const field = message.charAt(3);
  if (field === '' || field === '\r' || field === '\n') {
    throw new DelimiterError('MSH-1 (field separator) is missing');
  }
  // MSH-2 ends at the next field separator or, when MSH has no further fields, at the
  // segment terminator; a field separator in a later segment must not be taken for it.
  let end = 4;
  while (end < message.length) {
    const c = message.charAt(end);
    if (c === field || c === '\r' || c === '\n') break;
    end++;
  }
  const msh2 = message.slice(4, end);
  if (msh2.length < 1 || msh2.length > 5) {
    throw new DelimiterError(`MSH-2 (encoding characters) must have 1 to 5 characters, found ${msh2.length}`);
  }
  const chars = [...msh2];
  const seen = new Set([field]);
  for (const c of chars) {
    if (seen.has(c) || /[A-Za-z0-9\r\n]/.test(c)) {
      throw new DelimiterError(`MSH-2 (encoding characters) has an invalid or repeated delimiter '${c}'`);
    }
    seen.add(c);
  }
  const pick = (i: number, fallback: string): string => {
    const c = chars[i];
    if (c !== undefined) return c;
    if (seen.has(fallback)) return '';
    seen.add(fallback);
    return fallback;
  };
  const d: Delimiters = {
    field,
    component: pick(0, '^'),
    repetition: pick(1, '~'),
    escape: pick(2, '\\'),
    subcomponent: pick(3, '&'),
    ...(chars[4] !== undefined ? { truncation: chars[4] } : {}),
  };
  return d;
}
