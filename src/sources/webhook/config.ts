import { z } from 'zod';
import { RateLimitConfig } from '../../http/rate-limit.ts';
import { ClientCertificateConfig } from '../client-certificate.ts';
import { parseSignedContent, signsTimestamp, TimestampFormat } from '../../http/signed-content.ts';

/** Defaults of signature timestamps, with their units. */
export const SIGNATURE_DEFAULTS = Object.freeze({
  timestampHeader: 'X-Timestamp',
  timestampFormat: 'unix',
  /** 5 minutes either side of the engine's clock, as Stripe, Slack and Standard Webhooks use. */
  toleranceSeconds: 300,
  signedContent: '{body}',
  /** Stripe's order: the timestamp, a dot, the body. */
  signedContentWithTimestamp: '{timestamp}.{body}',
} as const);

const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name');

const SignatureTimestamp = z
  .object({
    header: HeaderName.default(SIGNATURE_DEFAULTS.timestampHeader),
    format: TimestampFormat.default(SIGNATURE_DEFAULTS.timestampFormat),
    /** How far (seconds) the timestamp may be from the engine's clock, either way. */
    toleranceSeconds: z.number().int().min(1).max(86_400).default(SIGNATURE_DEFAULTS.toleranceSeconds),
  })
  .strict();

const isTemplate = (text: string): boolean => 'parts' in parseSignedContent(text);

const SignedContentTemplate = z.string().superRefine((text, ctx) => {
  const parsed = parseSignedContent(text);
  if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
});

export const WebhookSourceConfig = z
  .object({
    /** Route on the engine's HTTP port; defaults to /channels/<channel id>. */
    path: z.string().regex(/^\/[A-Za-z0-9/_.-]*$/, 'expected a path starting with /').optional(),
    /** Largest accepted body; larger requests get 413. */
    maxBodyBytes: z.number().int().positive().default(1_048_576),
    /** Optional HMAC-SHA256 signature of the raw body; requests without a valid one get 401. */
    hmac: z
      .object({
        header: z.string().min(1).default('X-Signature'),
        secret: z.string().min(16, 'expected a secret of at least 16 characters (reference it as $' + '{ENV_NAME})'),
        /** Text before the digest in the header, e.g. 'sha256='. */
        prefix: z.string().default('sha256='),
        encoding: z.enum(['hex', 'base64']).default('hex'),
        /** The sender's clock in a header: stale, future and reused signatures are refused. */
        timestamp: SignatureTimestamp.optional(),
        /** What is signed (see http/signed-content.ts); '{body}' by default, '{timestamp}.{body}' with a timestamp. */
        signedContent: SignedContentTemplate.optional(),
      })
      .strict()
      .superRefine((hmac, ctx) => {
        if (hmac.signedContent === undefined || !isTemplate(hmac.signedContent)) return;
        const signed = signsTimestamp(hmac.signedContent);
        if (signed && !hmac.timestamp) {
          ctx.addIssue({ code: 'custom', path: ['signedContent'], message: '{timestamp} needs hmac.timestamp, the header that carries it' });
        } else if (!signed && hmac.timestamp) {
          ctx.addIssue({
            code: 'custom',
            path: ['signedContent'],
            message: 'with hmac.timestamp the template must sign {timestamp}: an unsigned timestamp could be replaced, and an old request replayed as new',
          });
        }
      })
      .optional(),
    /** Requests accepted per window, counted before the body is read; over it 429 with Retry-After. */
    rateLimit: RateLimitConfig.optional(),
    /** Callers authenticate with a client certificate (HTTPS with --tls-client-ca); checked before the body is read. */
    clientCertificate: ClientCertificateConfig.optional(),
  })
  .strict();
export type WebhookSourceConfig = z.infer<typeof WebhookSourceConfig>;
export type WebhookHmacConfig = NonNullable<WebhookSourceConfig['hmac']>;

/** The signed-content template in force: the configured one, else '{timestamp}.{body}' with a timestamp, else '{body}'. */
export function signedContentOf(hmac: WebhookHmacConfig): string {
  return hmac.signedContent ?? (hmac.timestamp ? SIGNATURE_DEFAULTS.signedContentWithTimestamp : SIGNATURE_DEFAULTS.signedContent);
}
