import { z } from 'zod';

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
      })
      .strict()
      .optional(),
  })
  .strict();
export type WebhookSourceConfig = z.infer<typeof WebhookSourceConfig>;
