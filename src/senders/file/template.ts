/**
 * The fileName template of the file destination: literal text and placeholders. Values are
 * ids the engine makes (never message content), restricted to `[A-Za-z0-9._-]`, so a name
 * can carry no patient data and no path.
 */
export const PLACEHOLDERS = {
  /** The stored message's id (a ULID), the same on every attempt. */
  messageId: 'messageId',
  /** MSH-10 (or the id the receiver echoes) of this delivery, the same on every attempt. */
  controlId: 'controlId',
  destinationId: 'destinationId',
  /** The day the message was received, YYYYMMDD in UTC (from the message id: the same on every attempt). */
  date: 'date',
  /** From the content type: hl7 (ER7), json (FHIR and other JSON), xml, else txt. */
  ext: 'ext',
} as const;
export type Placeholder = keyof typeof PLACEHOLDERS;

export type TemplatePart = { readonly text: string } | { readonly placeholder: Placeholder };

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Parses and checks a template; throws TemplateError with what is wrong. */
export function parseFileNameTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  const re = /\{([^{}]*)\}|[{}]/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) parts.push({ text: template.slice(last, m.index) });
    if (m[1] === undefined) throw new TemplateError(`unbalanced '${m[0]}' at character ${m.index + 1}`);
    if (!Object.hasOwn(PLACEHOLDERS, m[1])) {
      throw new TemplateError(`unknown placeholder {${m[1]}}; expected ${Object.keys(PLACEHOLDERS).map((p) => `{${p}}`).join(', ')}`);
    }
    parts.push({ placeholder: m[1] as Placeholder });
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push({ text: template.slice(last) });
  if (parts.length === 0) throw new TemplateError('the template is empty');
  for (const p of parts) {
    if ('text' in p && /[/\\\0]/.test(p.text)) throw new TemplateError(`'${p.text}' holds a path separator or NUL: the template names a file in the directory`);
  }
  if (!parts.some((p) => 'placeholder' in p && (p.placeholder === 'messageId' || p.placeholder === 'controlId'))) {
    throw new TemplateError('the template holds neither {messageId} nor {controlId}: every message would overwrite the file of the one before');
  }
  const first = parts[0]!;
  if ('text' in first && first.text.startsWith('.')) throw new TemplateError('the name starts with a dot: a hidden file, which file drop readers skip as a write in progress');
  const lastPart = parts[parts.length - 1]!;
  if ('text' in lastPart && /\.(tmp|part)$/i.test(lastPart.text)) {
    throw new TemplateError('the name ends in .tmp or .part: file drop readers skip such names as writes in progress');
  }
  return parts;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The time encoded in the first 10 characters of a ULID, or undefined when it is not one. */
export function ulidTime(id: string): number | undefined {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/i.test(id)) return undefined;
  let t = 0;
  for (const c of id.slice(0, 10).toUpperCase()) t = t * 32 + CROCKFORD.indexOf(c);
  return t;
}

export function extensionOf(contentType: string): string {
  const type = contentType.toLowerCase().split(';')[0]!.trim();
  if (type.includes('hl7-v2') || type.endsWith('/hl7') || type.includes('er7')) return 'hl7';
  if (type.endsWith('json')) return 'json';
  if (type.endsWith('xml')) return 'xml';
  return 'txt';
}

export interface NameValues {
  readonly messageId: string;
  readonly controlId: string;
  readonly destinationId: string;
  readonly contentType: string;
}

/** The file name for one message: deterministic, so a resend overwrites the same file. */
export function renderFileName(parts: readonly TemplatePart[], v: NameValues, now = Date.now()): string {
  const day = new Date(ulidTime(v.messageId) ?? now).toISOString().slice(0, 10).replaceAll('-', '');
  const values: Record<Placeholder, string> = { messageId: v.messageId, controlId: v.controlId, destinationId: v.destinationId, date: day, ext: extensionOf(v.contentType) };
  return parts.map((p) => ('text' in p ? p.text : values[p.placeholder].replace(/[^A-Za-z0-9._-]/g, '_'))).join('');
}
