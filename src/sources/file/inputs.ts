import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { InputError } from '../../errors.ts';
import type { InboundInput } from '../../mapping/types.ts';
import { charsetOf, Hl7Message, Hl7ParseError } from '../../protocols/hl7v2/index.ts';
import { decodeHl7v2, refuseHl7ControlCharacters } from '../text.ts';
import type { FileSourceConfig } from './config.ts';
import { splitHl7File } from './hl7-file.ts';

/** One input a file becomes, with its idempotency key and how to name it in an error report. */
export interface FileInput {
  /** 0-based position of the message in the file. */
  readonly index: number;
  readonly input: InboundInput;
  /** For channels without an inbound mapping (a mapping derives its own key from the content). */
  readonly sourceId: string;
  /** 'message 2 of 3 (line 14, MSH-10 CTL-2)', or 'the file' when it holds one message. */
  readonly label: string;
}

/** A message of a file that cannot be parsed: refused on its own, the others still go in. */
export interface UnparsedMessage {
  readonly index: number;
  readonly label: string;
  readonly error: InputError;
}

const BY_EXTENSION: Record<string, InboundInput['format']> = { '.hl7': 'hl7v2', '.er7': 'hl7v2', '.txt': 'hl7v2', '.json': 'json' };

function refuse(code: 'FILE_EMPTY' | 'FILE_ENCODING_INVALID' | 'FILE_FORMAT_UNKNOWN' | 'INPUT_INVALID_JSON', message: string): InputError {
  return new InputError(code, [{ path: '(file)', code: code === 'INPUT_INVALID_JSON' ? 'invalid_json' : 'invalid', message }]);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of a JSON file; a byte order mark is dropped. Throws InputError FILE_ENCODING_INVALID. */
export function decodeFile(bytes: Uint8Array, encoding: FileSourceConfig['encoding']): string {
  if (encoding === 'latin1') return Buffer.from(bytes).toString('latin1');
  try {
    return utf8.decode(bytes);
  } catch {
    throw refuse('FILE_ENCODING_INVALID', 'the file is not valid UTF-8; if its sender writes Latin-1 (ISO 8859-1), set encoding: latin1');
  }
}

/**
 * The text of an HL7 v2 file, in the character set the MSH-18 of its first message declares,
 * or the `encoding` setting when that is empty (src/sources/text.ts). Throws InputError
 * FILE_ENCODING_INVALID naming MSH-18 and the setting.
 */
function decodeHl7File(bytes: Uint8Array, settings: Pick<FileSourceConfig, 'encoding' | 'charsets'>): { text: string; charset: string } {
  try {
    const { text, charset } = decodeHl7v2(bytes, settings);
    return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, charset: charset.name };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new InputError('FILE_ENCODING_INVALID', [...e.issues]);
  }
}

/** The first characters of a file, for telling its format: ASCII in every supported encoding. */
function head(bytes: Uint8Array): string {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return Buffer.from(bytes.subarray(bom, bom + 1024)).toString('latin1');
}

/**
 * The format of a file: the configured one, or with `auto` its extension (.hl7, .er7 and
 * .txt are HL7 v2, .json is JSON, case-insensitive), else its first characters.
 */
export function formatOf(name: string, text: string, configured: FileSourceConfig['format']): InboundInput['format'] {
  if (configured !== 'auto') return configured;
  const byName = BY_EXTENSION[extname(name).toLowerCase()];
  if (byName) return byName;
  const head = text.replace(/^[\s\x0b\ufeff]+/, '').slice(0, 3);
  if (head === 'MSH' || head === 'FHS' || head === 'BHS') return 'hl7v2';
  if (head.startsWith('{') || head.startsWith('[')) return 'json';
  throw refuse('FILE_FORMAT_UNKNOWN', `cannot tell the format of a '${extname(name) || '(no extension)'}' file that starts with neither MSH, FHS, BHS nor '{': name it .hl7 or .json, or set format`);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * What one file becomes: one JSON input, or one input per HL7 v2 message (batch files hold
 * several). Pure. Throws InputError when the file as a whole is refused; messages that
 * cannot be parsed come back in `unparsed`, so the others still go in.
 *
 * Idempotency keys, for channels without a mapping: MSH-10 for HL7 v2 (the message's SHA-256
 * when MSH-10 is empty, so a re-read is still recognised); the file name and the SHA-256 of
 * the content for JSON, so dropping the same file again is a duplicate.
 */
export function fileInputs(name: string, bytes: Uint8Array, config: Pick<FileSourceConfig, 'encoding' | 'format'>): { inputs: FileInput[]; unparsed: UnparsedMessage[] } {
  if (bytes.length === 0) throw refuse('FILE_EMPTY', 'the file is empty');
  if (Buffer.from(bytes).toString('latin1').trim() === '') throw refuse('FILE_EMPTY', 'the file holds only white space');
  const format = formatOf(name, head(bytes), config.format);
  if (format === 'json') {
    const text = decodeFile(bytes, config.encoding);
    try {
      JSON.parse(text);
    } catch (e) {
      throw refuse('INPUT_INVALID_JSON', `not valid JSON: ${(e as Error).message}`);
    }
    return { inputs: [{ index: 0, input: { text, format }, sourceId: `${name}#${sha256(text).slice(0, 16)}`, label: 'the file' }], unparsed: [] };
  }
  const { text, charset } = decodeHl7File(bytes, config);
  const messages = splitHl7File(text);
  const inputs: FileInput[] = [];
  const unparsed: UnparsedMessage[] = [];
  messages.forEach((m, i) => {
    const where = messages.length === 1 ? 'the message' : `message ${i + 1} of ${messages.length} (line ${m.line}`;
    try {
      refuseHl7ControlCharacters(m.text);
      const message = Hl7Message.parse(m.text);
      const controlId = message.controlId;
      const label = messages.length === 1 ? where : `${where}, MSH-10 ${controlId || '(empty)'})`;
      const declared = message.msh.get(18);
      if (declared !== '' && charsetOf(declared)?.name !== charset) {
        const error = new InputError('FILE_ENCODING_INVALID', [
          {
            path: 'MSH-18',
            hl7: { segment: 'MSH', sequence: 1, field: 18 },
            code: 'invalid_value',
            message: `MSH-18 declares '${declared}', but the file was read as ${charset} (the first message's MSH-18, or the encoding setting): the messages of one file must share one character set`,
          },
        ]);
        unparsed.push({ index: i, label, error });
        return;
      }
      inputs.push({ index: i, input: { text: m.text, format }, sourceId: controlId || `sha256:${sha256(m.text)}`, label });
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      const label = messages.length === 1 ? where : `${where})`;
      if (e instanceof InputError) {
        unparsed.push({ index: i, label, error: e });
        return;
      }
      const location = e instanceof Hl7ParseError ? e.location : 'MSH';
      unparsed.push({ index: i, label, error: new InputError('HL7_PARSE_FAILED', [{ path: location, code: 'invalid_value', message: e.message }]) });
    }
  });
  return { inputs, unparsed };
}
