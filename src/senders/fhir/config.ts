import { z } from 'zod';
import { ClientTlsConfig } from '../../config/tls.ts';
import { authConfig, httpUrl } from '../http/auth/config.ts';

/** Defaults of the FHIR destination, in one place, with their units. */
export const FHIR_DESTINATION_DEFAULTS = Object.freeze({
  timeoutMs: 30_000, // 30 seconds for each HTTP exchange (token request or Bundle POST), body included
} as const);

/** RFC 9110 token: the characters a header name may hold. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers the sender sets itself; `auth` is the way to send credentials. */
const RESERVED_HEADERS: Readonly<Record<string, string>> = {
  authorization: 'set credentials with auth (type bearer for a fixed token)',
  'content-type': 'the sender always sends application/fhir+json',
  'content-length': 'computed from the payload',
  host: 'taken from baseUrl',
  'transfer-encoding': 'chosen by the HTTP client',
  connection: 'managed by the HTTP client',
};

const headers = z
  .record(z.string().regex(HEADER_NAME, 'expected an HTTP header name'), z.string({ error: 'expected a header value (text)' }))
  .superRefine((h, ctx) => {
    for (const name of Object.keys(h)) {
      const why = RESERVED_HEADERS[name.toLowerCase()];
      if (why) ctx.addIssue({ code: 'custom', path: [name], message: `header '${name}' cannot be set here: ${why}` });
    }
  });

/**
 * Configuration of one FHIR destination (`type: fhir`): transaction or batch Bundles POSTed to
 * the server's base URL. Unknown keys are errors.
 */
export const fhirDestinationConfig = z
  .object({
    /** The FHIR base URL ([base] in the spec); Bundles are POSTed to it as given. */
    baseUrl: httpUrl,
    timeoutMs: z.number().int().positive().default(FHIR_DESTINATION_DEFAULTS.timeoutMs),
    /** Extra static headers sent with every Bundle (not with token requests), e.g. `Prefer: return=minimal`. */
    headers: headers.optional(),
    auth: authConfig.default({ type: 'none' }),
    /** CA, client certificate (mutual TLS) and servername of https:// connections; token requests to another host use its CA only. */
    tls: ClientTlsConfig.optional(),
  })
  .strict();

export type FhirDestinationConfig = z.infer<typeof fhirDestinationConfig>;
