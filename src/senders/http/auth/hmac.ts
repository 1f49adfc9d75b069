import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { aroundBody, formatTimestamp, parseSignedContent, signsTimestamp, TimestampFormat } from '../../../http/signed-content.ts';

/** Defaults of HMAC body signing, as the webhook source verifies them (sources/webhook/config.ts). */
export const HMAC_DEFAULTS = Object.freeze({
  header: 'X-Signature',
  prefix: 'sha256=',
  encoding: 'hex',
  timestampHeader: 'X-Timestamp',
  timestampFormat: 'unix',
  signedContentWithTimestamp: '{timestamp}.{body}',
} as const);

/** Shortest secret accepted: 16 characters, as for inbound webhook signatures. */
const MIN_SECRET = 16;

const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name');

/** What the sender signs: {timestamp} and {body} only (it sends no other header a template could name). */
const SignedContent = z.string().superRefine((text, ctx) => {
  const parsed = parseSignedContent(text);
  if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
  else if (parsed.parts.some((p) => p.kind === 'header')) ctx.addIssue({ code: 'custom', message: 'a sender signs {timestamp} and {body} only' });
});

/**
 * HMAC-SHA256 of the exact bytes of each request body (RFC 2104), sent in one header as
 * `<prefix><digest>`, e.g. `X-Signature: sha256=<hex>`. A request without a body is signed
 * as the empty string. With `timestamp`, the time of sending goes in its header and is signed
 * too (`signedContent`, '{timestamp}.{body}' by default), as a webhook source with the same
 * `timestamp` and `signedContent` verifies it.
 */
export const hmacAuth = z
  .object({
    type: z.literal('hmac'),
    secret: z.string().min(MIN_SECRET, `expected a secret of at least ${MIN_SECRET} characters (reference it as $` + '{ENV_NAME})'),
    header: HeaderName.default(HMAC_DEFAULTS.header),
    /** Text before the digest in the header. */
    prefix: z.string().default(HMAC_DEFAULTS.prefix),
    encoding: z.enum(['hex', 'base64']).default(HMAC_DEFAULTS.encoding),
    timestamp: z
      .object({ header: HeaderName.default(HMAC_DEFAULTS.timestampHeader), format: TimestampFormat.default(HMAC_DEFAULTS.timestampFormat) })
      .strict()
      .optional(),
    signedContent: SignedContent.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.signedContent === undefined || !('parts' in parseSignedContent(c.signedContent))) return;
    if (signsTimestamp(c.signedContent) !== Boolean(c.timestamp)) {
      ctx.addIssue({
        code: 'custom',
        path: ['signedContent'],
        message: c.timestamp ? 'with timestamp the template must sign {timestamp}' : '{timestamp} needs timestamp, the header that carries it',
      });
    }
  });

export type HmacConfig = z.infer<typeof hmacAuth>;

/** The digest of `body` alone, in `encoding`. */
export function hmacSha256(secret: string, body: string | Uint8Array, encoding: HmacConfig['encoding']): string {
  return createHmac('sha256', secret).update(body).digest(encoding);
}

/** The header that signs `body`: `[name, prefix + digest]`. */
export function signatureHeader(config: Pick<HmacConfig, 'secret' | 'header' | 'prefix' | 'encoding'>, body: string | Uint8Array): [string, string] {
  return [config.header.toLowerCase(), `${config.prefix}${hmacSha256(config.secret, body, config.encoding)}`];
}

/**
 * The headers that sign one request sent at `now`: the signature and, with `timestamp`, the
 * timestamp header; names in lower case.
 */
export function signedHeaders(config: HmacConfig, body: string | Uint8Array, now: number = Date.now()): Record<string, string> {
  if (!config.timestamp && config.signedContent === undefined) return Object.fromEntries([signatureHeader(config, body)]);
  const template = config.signedContent ?? (config.timestamp ? HMAC_DEFAULTS.signedContentWithTimestamp : '{body}');
  const parsed = parseSignedContent(template);
  if ('error' in parsed) throw new Error(`signedContent: ${parsed.error}`);
  const timestamp = config.timestamp && formatTimestamp(now, config.timestamp.format);
  const around = aroundBody(parsed.parts, { ...(timestamp ? { timestamp } : {}), header: () => undefined });
  if ('missing' in around) throw new Error(`signedContent: ${around.missing} is not sent`);
  const digest = createHmac('sha256', config.secret).update(around.before).update(body).update(around.after).digest(config.encoding);
  return {
    [config.header.toLowerCase()]: `${config.prefix}${digest}`,
    ...(config.timestamp && timestamp ? { [config.timestamp.header.toLowerCase()]: timestamp } : {}),
  };
}

/** Whether `header` is a valid signature of `body`, compared in constant time. */
export function verifySignatureHeader(
  config: Pick<HmacConfig, 'secret' | 'prefix' | 'encoding'>,
  body: string | Uint8Array,
  header: string | undefined,
): boolean {
  if (header === undefined || !header.startsWith(config.prefix)) return false;
  const given = Buffer.from(header.slice(config.prefix.length).trim(), config.encoding);
  const expected = createHmac('sha256', config.secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}
