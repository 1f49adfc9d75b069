import { ErrorCodes, type InputError } from '../../errors.ts';
import { MAX_LISTED_PROBLEMS, MORE_PROBLEMS } from './hl7-file.ts';

export interface Refusal {
  /** Position of the message in the file; absent for the file as a whole. */
  readonly index?: number;
  /** 'the file', 'the message', 'message 2 of 3 (line 9, MSH-10 CTL-2)'. */
  readonly label: string;
  readonly error: InputError;
}

export interface StoredPart {
  readonly label: string;
  readonly messageIds: readonly string[];
  readonly duplicate: boolean;
}

/**
 * The `<name>.error.txt` written beside a refused file: what was refused, each issue with its
 * location (`OBX[1]-5`, `line 12`), and what of the file was stored anyway. It sits next to
 * the file it describes, so it may quote the file; it is never logged. Bounded: the first
 * MAX_LISTED_PROBLEMS problems and stored messages are listed, then a count of the rest.
 */
export function errorReport(o: { channelId: string; name: string; at: Date; refused: readonly Refusal[]; stored: readonly StoredPart[] }): string {
  const lines = [`Conduit refused this file: nothing refused was stored.`, `channel: ${o.channelId}`, `file: ${o.name}`, `refused at: ${o.at.toISOString()}`, ''];
  let listed = 0;
  let unlisted = 0;
  for (const r of [...o.refused].sort((a, b) => (a.index ?? -1) - (b.index ?? -1))) {
    if (listed >= MAX_LISTED_PROBLEMS && !r.error.issues.every((i) => i.code === MORE_PROBLEMS)) {
      unlisted += r.error.issues.length;
      continue;
    }
    lines.push(`${r.label}: ${r.error.code} (${ErrorCodes[r.error.code].text})`);
    for (const i of r.error.issues) {
      // A count of problems not listed (a junk file's) is listed whatever its place.
      if (i.code === MORE_PROBLEMS) lines.push(`  ${i.path}: ${i.message}`);
      else if (listed >= MAX_LISTED_PROBLEMS) unlisted++;
      else {
        lines.push(`  ${i.path}: ${i.message}`);
        listed++;
      }
    }
    lines.push('');
  }
  if (unlisted > 0) lines.push(`… and ${unlisted} more problem(s), not listed: the first ${MAX_LISTED_PROBLEMS} are above.`, '');
  if (o.stored.length > 0) {
    lines.push('Stored all the same (dropping the corrected file again stores only what is new; these are recognised as duplicates):');
    for (const s of o.stored.slice(0, MAX_LISTED_PROBLEMS)) lines.push(`  ${s.label}: ${s.messageIds.join(', ')}${s.duplicate ? ' (already stored before)' : ''}`);
    if (o.stored.length > MAX_LISTED_PROBLEMS) lines.push(`  … and ${o.stored.length - MAX_LISTED_PROBLEMS} more message(s), not listed`);
    lines.push('');
  }
  return lines.join('\n');
}
