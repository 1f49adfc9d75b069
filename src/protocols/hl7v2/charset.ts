/**
 * Character sets of HL7 v2 messages: MSH-18 (HL7 table 0211) read from the bytes of the MSH
 * segment, and strict decoding, so that a byte which does not decode is refused instead of
 * becoming U+FFFD. ER7 needs an ASCII-compatible encoding (the delimiters, segment names and
 * MLLP block characters are single ASCII bytes), so UTF-16 and UTF-32 are not supported.
 */

/** Node decoders (WHATWG labels) for the values of HL7 table 0211 that Node can decode. */
const TABLE_0211: Readonly<Record<string, string>> = {
  ASCII: 'ascii',
  '8859/1': 'latin1',
  '8859/2': 'iso-8859-2',
  '8859/3': 'iso-8859-3',
  '8859/4': 'iso-8859-4',
  '8859/5': 'iso-8859-5',
  '8859/6': 'iso-8859-6',
  '8859/7': 'iso-8859-7',
  '8859/8': 'iso-8859-8',
  // WHATWG decodes ISO 8859-9 as its superset windows-1254 (they differ only in 0x80–0x9F, C1 controls in 8859-9).
  '8859/9': 'iso-8859-9',
  '8859/15': 'iso-8859-15',
  'ISO IR87': 'iso-2022-jp',
  'GB 18030-2000': 'gb18030',
  'KS X 1001': 'euc-kr',
  'BIG-5': 'big5',
  'UNICODE UTF-8': 'utf-8',
};

/**
 * Names senders write for table 0211 values. A bare `8859` (Sysmex MOLIS, for one) is read as
 * 8859/1, the part those senders mean.
 */
const ALIASES: Readonly<Record<string, string>> = { 'UTF-8': 'UNICODE UTF-8', UTF8: 'UNICODE UTF-8', 'ISO-8859-1': '8859/1', LATIN1: '8859/1', '8859': '8859/1' };

/** The MSH-18 values a message may declare, for error messages. */
export const SUPPORTED_CHARSETS: readonly string[] = Object.keys(TABLE_0211);

export class CharsetError extends Error {
  override readonly name = 'CharsetError';
  /** Offset of the first byte that does not decode; undefined when the character set itself is unknown. */
  readonly byteOffset: number | undefined;
  constructor(message: string, byteOffset?: number) {
    super(message);
    this.byteOffset = byteOffset;
  }
}

export interface Hl7Charset {
  /** The table 0211 name, e.g. `UNICODE UTF-8`, `8859/1`. */
  readonly name: string;
  /** Strict: throws CharsetError at the first byte that is not valid in this character set. */
  decode(bytes: Uint8Array): string;
  /** Text in this character set; a character it cannot carry becomes '?' (for acknowledgements only). */
  encode(text: string): Buffer;
}

const cache = new Map<string, Hl7Charset>();

/** The character set an MSH-18 value (or a channel's `encoding`) names; undefined when Node cannot decode it. */
export function charsetOf(declared: string): Hl7Charset | undefined {
  const key = declared.trim().toUpperCase();
  const name = Object.hasOwn(TABLE_0211, key) ? key : ALIASES[key];
  if (name === undefined) return undefined;
  let c = cache.get(name);
  if (!c) {
    c = makeCharset(name, TABLE_0211[name]!);
    cache.set(name, c);
  }
  return c;
}

function makeCharset(name: string, label: string): Hl7Charset {
  if (label === 'ascii') {
    return {
      name,
      decode(bytes) {
        const at = bytes.findIndex((b) => b > 0x7f);
        if (at !== -1) throw new CharsetError(`byte 0x${bytes[at]!.toString(16).toUpperCase()} at offset ${at} is not ASCII`, at);
        return Buffer.from(bytes).toString('latin1');
      },
      encode: (text) => Buffer.from(text.replace(/[^\x00-\x7f]/g, '?'), 'latin1'),
    };
  }
  if (label === 'latin1') {
    // Buffer's latin1 is ISO 8859-1 itself (every byte one character); WHATWG's 'iso-8859-1' is windows-1252.
    return { name, decode: (bytes) => Buffer.from(bytes).toString('latin1'), encode: (text) => Buffer.from(text.replace(/[^\x00-\xff]/g, '?'), 'latin1') };
  }
  const decoder = new TextDecoder(label, { fatal: true, ignoreBOM: false });
  const decode = (bytes: Uint8Array): string => {
    try {
      return decoder.decode(bytes);
    } catch {
      const at = firstInvalidByte(bytes, label);
      throw new CharsetError(`the bytes are not valid ${name}${at === undefined ? '' : ` (first invalid byte at offset ${at})`}`, at);
    }
  };
  if (label === 'utf-8') return { name, decode, encode: (text) => Buffer.from(text, 'utf8') };
  return { name, decode, encode: singleByteEncoder(label) };
}

/** Offset of the character where decoding fails: the longest prefix a streaming decoder takes, found by bisection. */
function firstInvalidByte(bytes: Uint8Array, label: string): number | undefined {
  const takes = (n: number, stream: boolean): boolean => {
    try {
      new TextDecoder(label, { fatal: true }).decode(bytes.subarray(0, n), { stream });
      return true;
    } catch {
      return false;
    }
  };
  let good = bytes.length;
  if (!takes(good, true)) {
    good = 0;
    let bad = bytes.length;
    while (bad - good > 1) {
      const mid = (good + bad) >>> 1;
      if (takes(mid, true)) good = mid;
      else bad = mid;
    }
  }
  // The streaming decoder may hold the first bytes of the failing character: step back to its start.
  for (let start = good; start >= Math.max(0, good - 4); start--) if (takes(start, false)) return start;
  return undefined;
}

/**
 * An encoder for the acknowledgement, which echoes MSH-3 to MSH-6 in the sender's character set.
 * Single-byte sets are inverted from their decoder; in multi-byte ones only ASCII is written.
 */
function singleByteEncoder(label: string): (text: string) => Buffer {
  const table = new Map<string, number>();
  const d = new TextDecoder(label);
  for (let b = 0; b < 256; b++) {
    const c = d.decode(Uint8Array.of(b));
    if (c !== '\ufffd' && !table.has(c)) table.set(c, b);
  }
  const singleByte = table.size > 128 && label.startsWith('iso-8859');
  return (text) => {
    const out: number[] = [];
    for (const ch of text) {
      const code = ch.codePointAt(0)!;
      if (code < 0x80) out.push(code);
      else out.push(singleByte ? (table.get(ch) ?? 0x3f) : 0x3f);
    }
    return Buffer.from(out);
  };
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * MSH-18 (its first repetition, trimmed) read from the bytes of the first MSH segment, before
 * anything is decoded: MSH-1, MSH-2 and the separators are ASCII in every supported character set.
 * '' when the message has no MSH-18 or does not start with MSH.
 */
export function sniffMsh18(bytes: Uint8Array): string {
  let start = 0;
  if (UTF8_BOM.every((b, i) => bytes[i] === b)) start = 3;
  if (bytes[start] !== 0x4d || bytes[start + 1] !== 0x53 || bytes[start + 2] !== 0x48) return '';
  const field = bytes[start + 3];
  if (field === undefined || field === 0x0d || field === 0x0a) return '';
  const repetition = bytes[start + 5];
  // n: the field being read, from MSH-2 (which starts right after MSH-1).
  let n = 2;
  let from = start + 4;
  for (let i = from; i <= bytes.length; i++) {
    const b = bytes[i];
    if (b === undefined || b === 0x0d || b === 0x0a || b === field) {
      if (n === 18) {
        let value = bytes.subarray(from, i);
        const rep = repetition === undefined ? -1 : value.indexOf(repetition);
        if (rep !== -1) value = value.subarray(0, rep);
        return Buffer.from(value).toString('latin1').trim();
      }
      if (b !== field) return '';
      n++;
      from = i + 1;
    }
  }
  return '';
}

/**
 * Text as bytes for the wire or a file. An HL7 v2 message is written in the character set its
 * MSH-18 declares; other text, and a message whose MSH-18 is empty, in `fallback` (a table 0211
 * name). Throws CharsetError when MSH-18 names a set Node cannot write, or the text holds a
 * character the set cannot carry: never written as bytes of another set than the one declared,
 * never replaced.
 */
export function encodeHl7v2(text: string, fallback: string): { bytes: Buffer; charset: Hl7Charset } {
  const declared = sniffMsh18(Buffer.from(text.slice(0, 4096), 'latin1'));
  const charset = charsetOf(declared || fallback);
  if (!charset) throw new CharsetError(`MSH-18 declares '${declared || fallback}', a character set this engine cannot write`);
  if (charset.name === 'UNICODE UTF-8') return { bytes: Buffer.from(text, 'utf8'), charset };
  const bytes = charset.encode(text);
  if (charset.decode(bytes) !== text) throw new CharsetError(`the text holds a character that ${charset.name}${declared ? ' (its MSH-18)' : ''} cannot carry`);
  return { bytes, charset };
}
