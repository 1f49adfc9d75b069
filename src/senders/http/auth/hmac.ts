import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** Defaults of HMAC body signing, as the webhook source verifies them (sources/webhook/config.ts). */
export const HMAC_DEFAULTS = Object.freeze({
  header: 'X-Signature',
  prefix: 'sha256=',
  encoding: 'hex',
} as const);

/** Shortest secret accepted: 16 characters, as for inbound webhook signatures. */
const MIN_SECRET = 16;

/**
 * HMAC-SHA256 of the exact bytes of each request body (RFC 2104), sent in one header as
 * `<prefix><digest>`, e.g. `X-Signature: sha256=<hex>`. A request without a body is signed
 * as the empty string.
 */
export const hmacAuth = z
  .object({
    type: z.literal('hmac'),
    secret: z.string().min(MIN_SECRET, `expected a secret of at least ${MIN_SECRET} characters (reference it as $` + '{ENV_NAME})'),
    header: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name').default(HMAC_DEFAULTS.header),
    /** Text before the digest in the header. */
    prefix: z.string().default(HMAC_DEFAULTS.prefix),
    encoding: z.enum(['hex', 'base64']).default(HMAC_DEFAULTS.encoding),
  })
  .strict();

export type HmacConfig = z.infer<typeof hmacAuth>;

/** The digest of `body` alone, in `encoding`. */
export function hmacSha256(secret: string, body: string | Uint8Array, encoding: HmacConfig['encoding']): string {
  return createHmac('sha256', secret).update(body).digest(encoding);
}

/** The header that signs `body`: `[name, prefix + digest]`. */
export function signatureHeader(config: Pick<HmacConfig, 'secret' | 'header' | 'prefix' | 'encoding'>, body: string | Uint8Array): [string, string] {
  return [config.header.toLowerCase(), `${config.prefix}${hmacSha256(config.secret, body, config.encoding)}`];
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
