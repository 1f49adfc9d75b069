import { z } from 'zod';
import { RateLimitConfig } from '../../http/rate-limit.ts';
import { ClientCertificateConfig } from '../client-certificate.ts';

const Secret = z.string().min(16, 'expected a token of at least 16 characters (reference it as $' + '{ENV_NAME})');
const HeaderName = z.string().regex(/^[A-Za-z0-9-]+$/, 'expected an HTTP header name');

/** How submitters authenticate: static tokens from the environment, compared in constant time. */
export const RestAuthConfig = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('none') }).strict(),
    /** `Authorization: Bearer <token>`, one of `tokens` (several, so a token can be rotated without downtime). */
    z.object({ type: z.literal('bearer'), tokens: z.array(Secret).min(1, 'expected at least one token') }).strict(),
    /** `<header>: <key>`, one of `keys` (seed 001 style: x-api-key). */
    z.object({ type: z.literal('api-key'), header: HeaderName.default('x-api-key'), keys: z.array(Secret).min(1, 'expected at least one key') }).strict(),
  ],
  { error: "expected auth type 'none', 'bearer' or 'api-key'" },
);
export type RestAuthConfig = z.infer<typeof RestAuthConfig>;

export const RestSourceConfig = z
  .object({
    /** POST submissions here, GET <path>/<submissionId> for their status; defaults to /channels/<channel id>/submissions. */
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9/_.-]*[A-Za-z0-9_.-]$/, 'expected a path starting with / and not ending with /')
      .optional(),
    /** Largest accepted body; larger requests get 413. Base64 PDFs are a third larger than the file. */
    maxBodyBytes: z.number().int().positive().default(10 * 1_048_576),
    /** What the body is: JSON (the platform event, or anything the channel's inbound mapping reads). */
    format: z.literal('json', { error: "expected 'json'" }).default('json'),
    auth: RestAuthConfig.default({ type: 'none' }),
    /** Requests (submissions and status reads) accepted per window, counted before anything is read; over it 429 with Retry-After. */
    rateLimit: RateLimitConfig.optional(),
    /** Submitters authenticate with a client certificate (HTTPS with --tls-client-ca); checked before `auth` and before the body is read. */
    clientCertificate: ClientCertificateConfig.optional(),
  })
  .strict();
export type RestSourceConfig = z.infer<typeof RestSourceConfig>;
