import { z } from 'zod';

/** RFC 9110 token: the characters a header name may hold. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** How a secret is written in a channel file (env-refs.ts); a plain string so that no linter takes it for a template. */
const ENV_REF = '$' + '{PARTNER_API_KEY}';

/** Headers an API key scheme must not take over: the transport and the body set them. */
const NOT_KEYS: ReadonlySet<string> = new Set(['content-type', 'content-length', 'host', 'transfer-encoding', 'connection']);

/**
 * Fixed credentials in request headers, as many partner APIs hand them out at onboarding
 * (e.g. the reference lab's `x-api-key`, `x-team-id` and `x-auth-key`): header name → value,
 * each value normally an `${ENV}` reference.
 */
export const apiKeyHeadersAuth = z
  .object({
    type: z.literal('api-key-headers'),
    headers: z
      .record(
        z.string().regex(HEADER_NAME, 'expected an HTTP header name'),
        z.string({ error: `expected the header value, e.g. ${ENV_REF}` }).min(1, `expected the header value, e.g. ${ENV_REF}`),
      )
      .superRefine((h, ctx) => {
        if (Object.keys(h).length === 0) ctx.addIssue({ code: 'custom', message: `expected at least one header, e.g. x-api-key: ${ENV_REF}` });
        for (const name of Object.keys(h)) {
          if (NOT_KEYS.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: [name], message: `header '${name}' cannot carry a credential` });
        }
      }),
  })
  .strict();

export type ApiKeyHeadersConfig = z.infer<typeof apiKeyHeadersAuth>;

/** The headers to add to every request, names in lower case. */
export function apiKeyHeaders(config: ApiKeyHeadersConfig): Readonly<Record<string, string>> {
  return Object.freeze(Object.fromEntries(Object.entries(config.headers).map(([k, v]) => [k.toLowerCase(), v])));
}
