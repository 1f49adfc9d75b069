import { InputError, type InputIssue } from '../../errors.ts';

/** One message of an HL7 v2 file, as written (its own segment terminators kept). */
export interface FileMessage {
  readonly text: string;
  /** 1-based line of its MSH in the file, for error reports. */
  readonly line: number;
}

/** The batch envelope segments (HL7 v2.5.1 section 2.10.3): file header and trailer, batch header and trailer. */
const ENVELOPE = new Set(['FHS', 'BHS', 'BTS', 'FTS']);
/** MLLP start block (VT) and end block (FS): some senders write framed messages to files. */
const MLLP_BLOCKS = /[\x0b\x1c]/g;
/** Problems listed one by one; past these a count stands for the rest, so junk makes a short report. */
export const MAX_LISTED_PROBLEMS = 100;
/** The issue code of the count that stands for the problems not listed. */
export const MORE_PROBLEMS = 'more_problems';

/**
 * Splits the text of an HL7 v2 file into its messages: one message, several messages one
 * after the other, or a batch file (HL7 v2.5.1 section 2.10.3: `[FHS] {[BHS] {MSH…} [BTS]} [FTS]`).
 * Each MSH starts a message; envelope segments and blank lines end one and are dropped.
 * Segments may end with CR (the standard), LF or CRLF. BTS-1 (batch message count) and FTS-1
 * (file batch count), when given, must match what the file holds: a mismatch usually means a
 * truncated file, so the whole file is refused.
 *
 * Pure; throws `InputError` FILE_BATCH_INVALID (or HL7_PARSE_FAILED when there is no MSH at all).
 */
export function splitHl7File(text: string): FileMessage[] {
  let body = text.replace(MLLP_BLOCKS, '');
  if (body.charCodeAt(0) === 0xfeff) body = body.slice(1);
  const messages: FileMessage[] = [];
  const issues: InputIssue[] = [];
  let unlisted = 0;
  const problem = (issue: InputIssue) => {
    if (issues.length < MAX_LISTED_PROBLEMS) issues.push(issue);
    else unlisted++;
  };
  let start = -1;
  let end = 0;
  let startLine = 0;
  let inBatch = 0;
  let batches = 0;
  const close = () => {
    if (start >= 0) messages.push({ text: body.slice(start, end), line: startLine });
    start = -1;
  };
  const terminator = /\r\n|\r|\n/g;
  let pos = 0;
  let lineNo = 0;
  while (pos < body.length) {
    terminator.lastIndex = pos;
    const m = terminator.exec(body);
    const lineEnd = m ? m.index : body.length;
    const next = m ? m.index + m[0].length : body.length;
    const line = body.slice(pos, lineEnd);
    lineNo++;
    const name = line.slice(0, 3);
    if (line.trim() === '') {
      close();
    } else if (name === 'MSH') {
      close();
      start = pos;
      startLine = lineNo;
      end = next;
      inBatch++;
    } else if (ENVELOPE.has(name) && (line.length === 3 || !/[A-Z0-9]/.test(line.charAt(3)))) {
      close();
      const count = line.length === 3 ? '' : (line.split(line.charAt(3))[1]?.trim() ?? '');
      if (name === 'BHS') {
        batches++;
        inBatch = 0;
      } else if (name === 'BTS' && count !== '' && Number(count) !== inBatch) {
        problem({ path: `BTS (line ${lineNo})`, code: 'count_mismatch', message: `BTS-1 says ${count} message(s), the batch holds ${inBatch}: the file may be truncated` });
      } else if (name === 'FTS' && count !== '') {
        // Messages without a BHS make one implicit batch.
        const held = batches > 0 ? batches : messages.length > 0 ? 1 : 0;
        if (Number(count) !== held) {
          problem({ path: `FTS (line ${lineNo})`, code: 'count_mismatch', message: `FTS-1 says ${count} batch(es), the file holds ${held}: the file may be truncated` });
        }
      }
    } else if (start < 0) {
      problem({
        path: `line ${lineNo}`,
        code: 'outside_message',
        message: `${/^[A-Z][A-Z0-9]{2}$/.test(name) ? `segment ${name}` : 'a line that is no segment'} is outside any message: each message starts with MSH`,
      });
    } else {
      end = next;
    }
    pos = next;
  }
  close();
  if (unlisted > 0) issues.push({ path: '(file)', code: MORE_PROBLEMS, message: `${unlisted} more problem(s) of the same kinds, not listed` });
  if (issues.length > 0) throw new InputError('FILE_BATCH_INVALID', issues);
  if (messages.length === 0) {
    throw new InputError('HL7_PARSE_FAILED', [{ path: 'MSH', code: 'required', message: 'no MSH segment: the file holds no HL7 v2 message' }]);
  }
  return messages;
}
