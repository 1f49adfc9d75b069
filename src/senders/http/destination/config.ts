import { z } from 'zod';
import { ClientTlsConfig } from '../../../config/tls.ts';
import { apiKeyHeadersAuth } from '../auth/api-key-headers.ts';
import { authConfig, httpUrl } from '../auth/config.ts';
import { hmacAuth } from '../auth/hmac.ts';

/** Defaults of the HTTP destination, in one place, with their units. */
export const HTTP_DESTINATION_DEFAULTS = Object.freeze({
  timeoutMs: 30_000, // 30 seconds for each HTTP exchange (token request or one request of a plan), body included
} as const);

/** RFC 9110 token: the characters a header name may hold. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers the destination sets itself; `auth` is the way to send credentials. */
export const RESERVED_HEADERS: Readonly<Record<string, string>> = {
  authorization: 'set credentials with auth',
  'content-type': 'set by the body: application/json, multipart/form-data, or the payload type',
  'content-length': 'computed from the body',
  host: 'taken from baseUrl',
  'transfer-encoding': 'chosen by the HTTP client',
  connection: 'managed by the HTTP client',
};

const headerName = z.string().regex(HEADER_NAME, 'expected an HTTP header name');

const headers = z.record(headerName, z.string({ error: 'expected a header value (text)' })).superRefine((h, ctx) => {
  for (const name of Object.keys(h)) {
    const why = RESERVED_HEADERS[name.toLowerCase()];
    if (why) ctx.addIssue({ code: 'custom', path: [name], message: `header '${name}' cannot be set here: ${why}` });
  }
});

/** How the destination authenticates: an Authorization header (the shared schemes), header API keys, or a body signature. */
export const httpDestinationAuth = z.discriminatedUnion('type', [authConfig, apiKeyHeadersAuth, hmacAuth], {
  error: (issue) =>
    issue.code === 'invalid_union'
      ? "expected auth.type 'none', 'bearer', 'api-key-headers', 'oauth2-client-credentials', 'smart-backend' or 'hmac'"
      : undefined,
});
export type HttpDestinationAuth = z.infer<typeof httpDestinationAuth>;

const pattern = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
  }
});

/**
 * What the partner's answers mean beyond the HTTP defaults (2xx delivered, 401/403/other 4xx
 * refused, 408/429/5xx retried).
 */
const responses = z
  .object({
    /**
     * 4xx statuses that mean "already there" for this API (409 for most), so a repeat after a
     * lost answer or a restart counts as delivered: the request's `saveAs` is read from that
     * answer too (the id of the existing patient).
     */
    duplicateStatuses: z.array(z.number().int().min(400).max(499)).default([]),
    /** Only answers whose body matches this regular expression are duplicates; other ones stay refusals. */
    duplicateBodyPattern: pattern.optional(),
  })
  .strict();

/**
 * Configuration of one HTTP destination (`type: http`): a partner's REST API. A `json-template`
 * mapping gives the requests (method, path under baseUrl, JSON or multipart body); any other
 * payload is POSTed to baseUrl as it is. Unknown keys are errors.
 */
export const httpDestinationConfig = z
  .object({
    /** The API's base URL; each request's path is appended to it (`https://api.example/v1` + `/patients`). */
    baseUrl: httpUrl,
    timeoutMs: z.number().int().positive().default(HTTP_DESTINATION_DEFAULTS.timeoutMs),
    /** Static headers sent with every request (not with token requests). */
    headers: headers.optional(),
    auth: httpDestinationAuth.default({ type: 'none' }),
    responses: responses.default({ duplicateStatuses: [] }),
    /**
     * Sends `<controlId>-<request number>` in this header (e.g. `Idempotency-Key`), the same on
     * every attempt, for APIs that deduplicate on it.
     */
    idempotencyKeyHeader: headerName.optional(),
    /** CA, client certificate (mutual TLS) and servername of https:// connections; token requests to another host use its CA only. */
    tls: ClientTlsConfig.optional(),
  })
  .strict();

export type HttpDestinationConfig = z.infer<typeof httpDestinationConfig>;
