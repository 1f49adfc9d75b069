import { z } from 'zod';
import { InputError } from '../errors.ts';
import { CharsetError, charsetOf, type Hl7Charset, SUPPORTED_CHARSETS, sniffMsh18 } from '../protocols/hl7v2/index.ts';

/**
 * Bytes to text at intake, strictly: a byte that does not decode is refused (INPUT_TEXT_INVALID,
 * 422 / AE with ERR), never replaced by U+FFFD.
 *
 * HL7 v2 (MLLP, file drop, Kafka, `conduit preview`): MSH-18, read from the bytes, says how
 * the message is written (HL7 table 0211). When MSH-18 is empty, the source's `encoding`
 * setting applies (`utf-8` by default, or `latin1`). A declared character set always wins
 * over the setting; one this engine cannot decode is refused, naming MSH-18.
 */

/** The channel settings' names for the character set used when MSH-18 is empty. */
export type SourceEncoding = 'utf-8' | 'latin1';

const SETTING_CHARSET: Readonly<Record<SourceEncoding, string>> = { 'utf-8': 'UNICODE UTF-8', latin1: '8859/1' };

/** The character set a source's `encoding` setting stands for (used when MSH-18 is empty). */
export function settingCharset(encoding: SourceEncoding): Hl7Charset {
  return charsetOf(SETTING_CHARSET[encoding])!;
}

const MSH_18 = { segment: 'MSH', sequence: 1, field: 18 } as const;

/** Offset of the first MSH segment: 0 for a message; after FHS/BHS (or a VT) in a batch file. */
function firstMsh(bytes: Uint8Array): number {
  for (let at = bytes.indexOf(0x4d); at !== -1; at = bytes.indexOf(0x4d, at + 1)) {
    const before = at === 0 ? undefined : bytes[at - 1];
    if (bytes[at + 1] === 0x53 && bytes[at + 2] === 0x48 && (before === undefined || before === 0x0d || before === 0x0a || before === 0x0b || before === 0xbf)) return at;
  }
  return 0;
}

/** MSH-18 of the first message in the bytes ('' when empty or absent). */
function declaredCharset(bytes: Uint8Array): string {
  return sniffMsh18(bytes.subarray(firstMsh(bytes)));
}

/**
 * A source's `charsets` setting: the MSH-18 values (HL7 table 0211) it accepts, as table
 * names (`8859/1`, `UNICODE UTF-8`); absent, every one this engine decodes. An MSH-18 outside
 * the list is refused, naming MSH-18 and the setting; an empty MSH-18 always means `encoding`.
 */
export const AcceptedCharsets = z
  .array(z.string())
  .min(1)
  .superRefine((names, ctx) => {
    for (const [i, n] of names.entries()) {
      if (!charsetOf(n)) ctx.addIssue({ code: 'custom', path: [i], message: `'${n}' is not a character set this engine decodes; expected one of ${SUPPORTED_CHARSETS.join(', ')} (HL7 table 0211)` });
    }
  })
  .transform((names) => [...new Set(names.map((n) => charsetOf(n)!.name))]);

/** How a source reads HL7 v2 bytes: `encoding` when MSH-18 is empty, and the MSH-18 values it accepts. */
export interface Hl7TextSettings {
  readonly encoding: SourceEncoding;
  readonly charsets?: readonly string[] | undefined;
}

/** The character set of an HL7 v2 message: its MSH-18, else the setting. Throws InputError when MSH-18 names one Node cannot decode or the source does not accept. */
export function hl7Charset(bytes: Uint8Array, settings: SourceEncoding | Hl7TextSettings): Hl7Charset {
  const { encoding, charsets } = typeof settings === 'string' ? { encoding: settings, charsets: undefined } : settings;
  const declared = declaredCharset(bytes);
  if (declared === '') return settingCharset(encoding);
  const charset = charsetOf(declared);
  if (!charset) {
    throw new InputError('INPUT_TEXT_INVALID', [
      {
        path: 'MSH-18',
        hl7: MSH_18,
        code: 'table_value',
        message: `MSH-18 (character set) '${declared}' is not one this engine decodes; expected one of ${SUPPORTED_CHARSETS.join(', ')} (HL7 table 0211), or MSH-18 empty to use the channel's encoding (${encoding})`,
      },
    ]);
  }
  if (charsets && !charsets.includes(charset.name)) {
    throw new InputError('INPUT_TEXT_INVALID', [
      {
        path: 'MSH-18',
        hl7: MSH_18,
        code: 'table_value',
        message: `MSH-18 (character set) '${declared}' is not one this channel accepts; its charsets setting allows ${charsets.join(', ')} (or MSH-18 empty for the channel's encoding, ${encoding})`,
      },
    ]);
  }
  return charset;
}

/** The text of one HL7 v2 message (or file of messages) and the character set it was read in; see `hl7Charset`. */
export function decodeHl7v2(bytes: Uint8Array, settings: SourceEncoding | Hl7TextSettings): { text: string; charset: Hl7Charset } {
  const charset = hl7Charset(bytes, settings);
  const encoding = typeof settings === 'string' ? settings : settings.encoding;
  try {
    return { text: charset.decode(bytes), charset };
  } catch (e) {
    if (!(e instanceof CharsetError)) throw e;
    const declared = declaredCharset(bytes);
    const where = e.byteOffset === undefined ? '' : ` (byte offset ${e.byteOffset})`;
    const why =
      declared === ''
        ? `MSH-18 is empty, so the channel's encoding setting (${encoding}) applies, and the message is not valid ${charset.name}${where}: declare the character set in MSH-18, or set the channel's encoding`
        : `the message is not valid ${charset.name}${where}, the character set MSH-18 declares (the channel's encoding setting, ${encoding}, applies only when MSH-18 is empty)`;
    throw new InputError('INPUT_TEXT_INVALID', [{ path: 'MSH-18', hl7: MSH_18, code: 'invalid_value', message: why }]);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A JSON body (RFC 8259 requires UTF-8) or other UTF-8 text; a byte order mark is dropped. */
export function decodeUtf8(bytes: Uint8Array, path = '(body)'): string {
  try {
    return utf8.decode(bytes);
  } catch {
    // The decoder that reports where: only on the error path, so valid bodies pay nothing.
    let offset: number | undefined;
    try {
      charsetOf('UNICODE UTF-8')!.decode(bytes);
    } catch (e) {
      if (e instanceof CharsetError) offset = e.byteOffset;
    }
    throw new InputError('INPUT_TEXT_INVALID', [
      { path, code: 'invalid_value', message: `not valid UTF-8${offset === undefined ? '' : ` (byte offset ${offset})`}: JSON must be sent in UTF-8` },
    ]);
  }
}

/**
 * The text of one input as a source reads it: HL7 v2 in its MSH-18 character set (else the
 * setting), JSON as UTF-8, or as Latin-1 where the setting says so.
 */
export function decodeInput(bytes: Uint8Array, format: 'json' | 'hl7v2', settings: SourceEncoding | Hl7TextSettings, path = '(body)'): string {
  const encoding = typeof settings === 'string' ? settings : settings.encoding;
  if (format === 'hl7v2') {
    const { text } = decodeHl7v2(bytes, settings);
    refuseHl7ControlCharacters(text);
    return text;
  }
  return encoding === 'latin1' ? Buffer.from(bytes).toString('latin1') : decodeUtf8(bytes, path);
}

/** C0 controls an HL7 v2 field may not hold raw (TAB is text; CR and LF end segments): see `hl7ControlCharacters`. */
const HL7_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;

/**
 * Refuses an HL7 v2 message holding a raw C0 control character (NUL, BEL, VT, FS, ESC…) in a
 * field: FHIR strings cannot carry it and HL7 v2 wants it as a hex escape (`\X07\`, v2.5.1
 * section 2.7.5). The issue names the segment and field, located by counting separators.
 */
export function refuseHl7ControlCharacters(text: string): void {
  const found = HL7_CONTROL.exec(text);
  if (!found) return;
  const at = found.index;
  const lineStart = Math.max(text.lastIndexOf('\r', at), text.lastIndexOf('\n', at)) + 1;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const separator = body.startsWith('MSH') ? body.charAt(3) : '|';
  const line = text.slice(lineStart, at);
  const name = line.slice(0, 3);
  const separators = line.split(separator).length - 1;
  const code = found[0].charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
  const message = `holds the control character U+00${code} raw: HL7 v2 text may hold TAB, other control characters only as a hex escape (\\X${code}\\)`;
  if (!/^[A-Z][A-Z0-9]{2}$/.test(name) || separators === 0) {
    throw new InputError('INPUT_TEXT_INVALID', [{ path: '(message)', code: 'invalid_text', message: `the message ${message}` }]);
  }
  const sequence = text
    .slice(0, lineStart)
    .split(/\r\n|\r|\n/)
    .filter((l) => l.startsWith(name + separator)).length;
  // MSH-1 is the separator itself, so the n-th separator of MSH starts MSH-(n+1).
  const field = name === 'MSH' ? separators + 1 : separators;
  const path = name === 'MSH' ? `MSH-${field}` : `${name}[${sequence}]-${field}`;
  throw new InputError('INPUT_TEXT_INVALID', [{ path, hl7: { segment: name, sequence: sequence + 1, field }, code: 'invalid_text', message: `${name}-${field} ${message}` }]);
}
