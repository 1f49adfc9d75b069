import { ErrorCodes, type InputError } from '../../errors.ts';

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
 * the file it describes, so it may quote the file; it is never logged.
 */
export function errorReport(o: { channelId: string; name: string; at: Date; refused: readonly Refusal[]; stored: readonly StoredPart[] }): string {
  const lines = [`Conduit refused this file: nothing refused was stored.`, `channel: ${o.channelId}`, `file: ${o.name}`, `refused at: ${o.at.toISOString()}`, ''];
  for (const r of [...o.refused].sort((a, b) => (a.index ?? -1) - (b.index ?? -1))) {
    lines.push(`${r.label}: ${r.error.code} (${ErrorCodes[r.error.code].text})`);
    for (const i of r.error.issues) lines.push(`  ${i.path}: ${i.message}`);
    lines.push('');
  }
  if (o.stored.length > 0) {
    lines.push('Stored all the same (dropping the corrected file again stores only what is new; these are recognised as duplicates):');
    for (const s of o.stored) lines.push(`  ${s.label}: ${s.messageIds.join(', ')}${s.duplicate ? ' (already stored before)' : ''}`);
    lines.push('');
  }
  return lines.join('\n');
}
