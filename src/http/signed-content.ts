import { z } from 'zod';

/**
 * What an HMAC signature covers, as a template: `{body}` (the raw body bytes), `{timestamp}`
 * (the timestamp header's value as sent) and `{header:<Name>}` (another header's value as
 * sent, e.g. a message id), with literal text around them. The platforms' schemes:
 * `{body}` (plain), `{timestamp}.{body}` (Stripe), `v0:{timestamp}:{body}` (Slack),
 * `{header:webhook-id}.{timestamp}.{body}` (Svix, Standard Webhooks).
 */
export type SignedPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'body' }
  | { readonly kind: 'header'; readonly name: string };

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PLACEHOLDERS = '{timestamp}, {body} or {header:<Name>}';

/** The parts of `template`, or what is wrong with it. */
export function parseSignedContent(template: string): { parts: SignedPart[] } | { error: string } {
  const parts: SignedPart[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c === '}') return { error: `unmatched '}' at character ${i + 1}; placeholders are ${PLACEHOLDERS}` };
    if (c !== '{') {
      text += c;
      i += 1;
      continue;
    }
    const end = template.indexOf('}', i);
    if (end === -1 || template.lastIndexOf('{', end) !== i) return { error: `unmatched '{' at character ${i + 1}; placeholders are ${PLACEHOLDERS}` };
    const name = template.slice(i + 1, end);
    let part: SignedPart;
    if (name === 'timestamp' || name === 'body') part = { kind: name };
    else if (name.startsWith('header:')) {
      const header = name.slice('header:'.length);
      if (!HEADER_NAME.test(header)) return { error: `'{${name}}': expected an HTTP header name after 'header:'` };
      part = { kind: 'header', name: header.toLowerCase() };
    } else return { error: `unknown placeholder '{${name}}'; expected ${PLACEHOLDERS}` };
    if (text) parts.push({ kind: 'text', text });
    text = '';
    parts.push(part);
    i = end + 1;
  }
  if (text) parts.push({ kind: 'text', text });
  if (parts.filter((p) => p.kind === 'body').length !== 1) return { error: 'expected {body} exactly once: the raw body is what is signed' };
  return { parts };
}

/** Whether a valid template signs the timestamp. */
export function signsTimestamp(template: string): boolean {
  const parsed = parseSignedContent(template);
  return 'parts' in parsed && parsed.parts.some((p) => p.kind === 'timestamp');
}

/**
 * The bytes signed before and after the body: template text as UTF-8, header values as the
 * bytes sent (node reads header values as latin1, one character per byte). Undefined, with the
 * header's name, when a header of the template is missing.
 */
export function aroundBody(
  parts: readonly SignedPart[],
  values: { readonly timestamp?: string; header(name: string): string | undefined },
): { before: Buffer; after: Buffer } | { missing: string } {
  const chunks: { before: Buffer[]; after: Buffer[] } = { before: [], after: [] };
  let side: 'before' | 'after' = 'before';
  for (const p of parts) {
    switch (p.kind) {
      case 'body':
        side = 'after';
        break;
      case 'text':
        chunks[side].push(Buffer.from(p.text, 'utf8'));
        break;
      case 'timestamp':
        if (values.timestamp === undefined) return { missing: 'timestamp' };
        chunks[side].push(Buffer.from(values.timestamp, 'latin1'));
        break;
      case 'header': {
        const v = values.header(p.name);
        if (v === undefined) return { missing: p.name };
        chunks[side].push(Buffer.from(v, 'latin1'));
        break;
      }
      default:
        return p satisfies never;
    }
  }
  return { before: Buffer.concat(chunks.before), after: Buffer.concat(chunks.after) };
}

/** How the timestamp header is written. */
export const TimestampFormat = z.enum(['unix', 'unix-ms', 'iso8601'], { error: "expected 'unix', 'unix-ms' or 'iso8601'" });
export type TimestampFormat = z.infer<typeof TimestampFormat>;

/** What each format looks like, for the 401 of a timestamp that does not parse. */
export function describeTimestampFormat(format: TimestampFormat): string {
  switch (format) {
    case 'unix':
      return 'Unix time in whole seconds, e.g. 1767225600';
    case 'unix-ms':
      return 'Unix time in whole milliseconds, e.g. 1767225600000';
    case 'iso8601':
      return 'an ISO 8601 date-time with its offset, e.g. 2026-01-01T00:00:00Z';
    default:
      return format satisfies never;
  }
}

/** RFC 3339 date-time (ISO 8601 profile): the offset is required, so the instant is not the reader's guess. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** The instant (ms since the epoch) a timestamp header names, or undefined when it is not one of `format`. */
export function parseTimestamp(text: string, format: TimestampFormat): number | undefined {
  switch (format) {
    case 'unix':
      return /^\d{1,11}$/.test(text) ? Number(text) * 1000 : undefined;
    case 'unix-ms':
      return /^\d{1,14}$/.test(text) ? Number(text) : undefined;
    case 'iso8601': {
      if (!ISO_8601.test(text)) return undefined;
      const ms = Date.parse(text);
      return Number.isNaN(ms) ? undefined : ms;
    }
    default:
      return format satisfies never;
  }
}

/** The timestamp header's value for the instant `ms`. */
export function formatTimestamp(ms: number, format: TimestampFormat): string {
  switch (format) {
    case 'unix':
      return String(Math.floor(ms / 1000));
    case 'unix-ms':
      return String(Math.floor(ms));
    case 'iso8601':
      return new Date(ms).toISOString();
    default:
      return format satisfies never;
  }
}
