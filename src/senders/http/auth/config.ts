import { z } from 'zod';

/** Defaults of the auth blocks, in one place, with their units. */
export const AUTH_DEFAULTS = Object.freeze({
  authMethod: 'client_secret_basic',
  algorithm: 'RS384',
  /** SMART App Launch 1.0 system scope; SMART 2.0 servers may want `system/*.cud` or narrower. */
  smartScope: 'system/*.write',
  /** 30 seconds: a token is renewed this long before it expires (at most half its lifetime). */
  tokenLifetimeLeewayS: 30,
} as const);

/** An http(s) URL. */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

const nonEmpty = (what: string) => z.string({ error: `expected ${what}` }).min(1, `expected ${what}`);

const leeway = z.number().int().min(0).default(AUTH_DEFAULTS.tokenLifetimeLeewayS);

/**
 * A private key: PEM text (PKCS#8 `BEGIN PRIVATE KEY`, or PKCS#1 / SEC1), normally from an
 * `${ENV}` reference; or `file:` followed by the path of a PEM file (relative paths from the
 * working directory; `file:///abs/key.pem` URLs work too), read when the sender is created.
 */
export const privateKeySource = z
  .string({ error: 'expected PEM text or file:<path>' })
  .refine((v) => v.startsWith('file:') ? v.length > 'file:'.length : /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v), {
    message: "expected PEM text ('-----BEGIN PRIVATE KEY-----…') or 'file:<path to a PEM file>'",
  });

const none = z.object({ type: z.literal('none') }).strict();

/** A fixed bearer token (an API key), e.g. `token: ${FHIR_TOKEN}`. */
const bearer = z.object({ type: z.literal('bearer'), token: nonEmpty('the token') }).strict();

/** OAuth 2.0 client credentials grant, RFC 6749 §4.4, with a client secret (§2.3.1). */
const clientCredentials = z
  .object({
    type: z.literal('oauth2-client-credentials'),
    tokenUrl: httpUrl,
    clientId: nonEmpty('the client id'),
    clientSecret: nonEmpty('the client secret'),
    /** Space-separated scopes; none sent when absent. */
    scope: z.string().min(1).optional(),
    /** HTTP Basic (the default RFC 6749 wants servers to support) or the secret in the form body. */
    authMethod: z.enum(['client_secret_basic', 'client_secret_post']).default(AUTH_DEFAULTS.authMethod),
    tokenLifetimeLeewayS: leeway,
  })
  .strict();

/**
 * SMART App Launch Backend Services: client credentials with a signed JWT assertion
 * (private_key_jwt, RFC 7523 §2.2), the server holding the client's public key (or JWKS URL).
 */
const smartBackend = z
  .object({
    type: z.literal('smart-backend'),
    tokenUrl: httpUrl,
    clientId: nonEmpty('the client id'),
    privateKey: privateKeySource,
    /** `kid` of the JWT header: the id of the matching public key in the JWKS registered with the server. */
    keyId: nonEmpty('the key id (kid) registered with the server'),
    /** SMART requires servers to support RS384 and ES384. */
    algorithm: z.enum(['RS384', 'ES384']).default(AUTH_DEFAULTS.algorithm),
    scope: z.string().min(1).default(AUTH_DEFAULTS.smartScope),
    tokenLifetimeLeewayS: leeway,
  })
  .strict();

/** How a destination authenticates; `none` when the block is absent. */
export const authConfig = z.discriminatedUnion('type', [none, bearer, clientCredentials, smartBackend], {
  error: (issue) =>
    issue.code === 'invalid_union' ? "expected auth.type 'none', 'bearer', 'oauth2-client-credentials' or 'smart-backend'" : undefined,
});

export type AuthConfig = z.infer<typeof authConfig>;
export type ClientCredentialsConfig = z.infer<typeof clientCredentials>;
export type SmartBackendConfig = z.infer<typeof smartBackend>;
