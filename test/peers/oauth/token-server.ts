import { createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, decodeJwt, decodeProtectedHeader, errors, type JWK, jwtVerify } from 'jose';
import { applyScripted, readBody, type Script } from '../fhir-server/script.ts';

/** RFC 7523 §2.2. */
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** SMART Backend Services: the assertion's exp is at most five minutes ahead. */
const MAX_ASSERTION_LIFETIME_S = 300;

export type SecretAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** A client authenticating with a secret (RFC 6749 §2.3.1). */
export interface SecretClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Methods accepted for this client; both by default. */
  readonly authMethods?: readonly SecretAuthMethod[];
  /** Scopes it may ask for; any when absent. */
  readonly scopes?: readonly string[];
}

/** A SMART backend client authenticating with a signed JWT (private_key_jwt, RFC 7523). */
export interface JwtClient {
  readonly clientId: string;
  /** Its public key: SPKI PEM, JWK, KeyObject or CryptoKey. */
  readonly publicKey: string | JWK | KeyObject | CryptoKey;
  /** The `kid` its assertions must carry, when given. */
  readonly keyId?: string;
  /** Accepted `alg`s; RS384 and ES384 by default. */
  readonly algorithms?: readonly string[];
  readonly scopes?: readonly string[];
}

export type RegisteredClient = SecretClient | JwtClient;

export interface TokenServerOptions {
  readonly clients: readonly RegisteredClient[];
  /** `expires_in` of the tokens issued, in seconds; default 3600. */
  readonly expiresInS?: number;
  /** Serves HTTPS with these options (cert, key); tokenUrl is then https://. */
  readonly tls?: HttpsOptions;
}

export interface TokenRequestRecord {
  readonly clientId: string | undefined;
  readonly authMethod: SecretAuthMethod | 'private_key_jwt' | undefined;
  readonly status: number;
  /** The RFC 6749 §5.2 error code answered, if any. */
  readonly error?: string;
  readonly scope?: string;
}

export interface TokenServer {
  readonly tokenUrl: string;
  /** Tokens issued so far. */
  readonly issued: number;
  /** Every token request answered by the server itself (scripted answers are not recorded). */
  readonly requests: readonly TokenRequestRecord[];
  /** `expires_in` of the next tokens, in seconds. */
  expiresInS: number;
  /** Whether `token` was issued here, has not expired and was not revoked. */
  isValid(token: string): boolean;
  /** Forgets every token issued so far: a resource server asking `isValid` then answers 401. */
  revokeAll(): void;
  /** Decides, before anything else, what happens to each token request. */
  script(fn: Script | undefined): void;
  close(): Promise<void>;
}

class OAuthError extends Error {
  readonly error: string;
  readonly status: number;
  constructor(error: string, description: string, status = 400) {
    super(description);
    this.error = error;
    this.status = status;
  }
}

/** RFC 6749 Appendix B: form decoding of the parts of a Basic credential. */
function formDecode(v: string): string {
  return decodeURIComponent(v.replaceAll('+', ' '));
}

function isJwtClient(c: RegisteredClient): c is JwtClient {
  return 'publicKey' in c;
}

function publicKeyOf(client: JwtClient): KeyObject | CryptoKey | JWK {
  return typeof client.publicKey === 'string' ? createPublicKey(client.publicKey) : client.publicKey;
}

/**
 * An OAuth 2.0 token endpoint on loopback for the client credentials grant (RFC 6749 §4.4),
 * with clients authenticated by secret (Basic or in the body, §2.3.1) or by a signed JWT
 * (RFC 7523, as SMART Backend Services uses it): the signature is verified with jose against
 * the registered public key, and iss = sub = client id, aud = this token URL, exp within five
 * minutes and an unused jti are required. Tokens are opaque random strings.
 */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const clients = new Map(options.clients.map((c) => [c.clientId, c]));
  const tokens = new Map<string, { clientId: string; expiresAt: number }>();
  const seenJti = new Set<string>();
  const requests: TokenRequestRecord[] = [];
  let issued = 0;
  let script: Script | undefined;
  let tokenUrl = '';
  const state = { expiresInS: options.expiresInS ?? 3600 };

  const authenticateSecret = (clientId: string, secret: string | undefined, method: SecretAuthMethod): SecretClient => {
    const client = clients.get(clientId);
    if (!client || isJwtClient(client) || secret !== client.clientSecret) throw new OAuthError('invalid_client', 'client authentication failed', 401);
    if (!(client.authMethods ?? ['client_secret_basic', 'client_secret_post']).includes(method)) {
      throw new OAuthError('invalid_client', `${method} is not allowed for this client`, 401);
    }
    return client;
  };

  const authenticateJwt = async (assertion: string): Promise<JwtClient> => {
    let iss: unknown;
    let kid: unknown;
    try {
      iss = decodeJwt(assertion).iss;
      kid = decodeProtectedHeader(assertion).kid;
    } catch {
      throw new OAuthError('invalid_client', 'client_assertion is not a JWT', 401);
    }
    const client = typeof iss === 'string' ? clients.get(iss) : undefined;
    if (!client || !isJwtClient(client)) throw new OAuthError('invalid_client', 'unknown client', 401);
    if (client.keyId !== undefined && kid !== client.keyId) throw new OAuthError('invalid_client', 'unknown kid', 401);
    try {
      const { payload } = await jwtVerify(assertion, publicKeyOf(client), {
        issuer: client.clientId,
        subject: client.clientId,
        audience: tokenUrl,
        algorithms: [...(client.algorithms ?? ['RS384', 'ES384'])],
        requiredClaims: ['exp', 'jti'],
      });
      if ((payload.exp ?? 0) - Math.floor(Date.now() / 1000) > MAX_ASSERTION_LIFETIME_S) {
        throw new OAuthError('invalid_client', 'client_assertion exp is more than five minutes ahead', 401);
      }
      const jti = `${client.clientId}\u0000${String(payload.jti)}`;
      if (seenJti.has(jti)) throw new OAuthError('invalid_client', 'client_assertion jti was already used', 401);
      seenJti.add(jti);
    } catch (err) {
      if (err instanceof OAuthError) throw err;
      const code = err instanceof errors.JOSEError ? err.code : 'ERR_UNKNOWN';
      throw new OAuthError('invalid_client', `client_assertion rejected (${code})`, 401);
    }
    return client;
  };

  const grant = async (req: IncomingMessage, body: string, record: { clientId?: string; authMethod?: TokenRequestRecord['authMethod']; scope?: string }) => {
    if (req.method !== 'POST') throw new OAuthError('invalid_request', 'token requests are POSTs', 405);
    if (!/^application\/x-www-form-urlencoded\b/.test(req.headers['content-type'] ?? '')) {
      throw new OAuthError('invalid_request', 'expected application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(body);
    const basic = /^Basic (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const methods = [basic !== undefined, form.has('client_secret'), form.has('client_assertion')].filter(Boolean).length;
    // RFC 6749 §2.3: one authentication method per request.
    if (methods > 1) throw new OAuthError('invalid_request', 'more than one client authentication method');
    let client: RegisteredClient;
    if (basic !== undefined) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new OAuthError('invalid_client', 'malformed Basic credentials', 401);
      record.authMethod = 'client_secret_basic';
      record.clientId = formDecode(decoded.slice(0, colon));
      client = authenticateSecret(record.clientId, formDecode(decoded.slice(colon + 1)), 'client_secret_basic');
    } else if (form.has('client_assertion')) {
      record.authMethod = 'private_key_jwt';
      if (form.get('client_assertion_type') !== JWT_BEARER) throw new OAuthError('invalid_client', 'unsupported client_assertion_type', 401);
      client = await authenticateJwt(form.get('client_assertion') ?? '');
      record.clientId = client.clientId;
    } else if (form.has('client_secret')) {
      record.authMethod = 'client_secret_post';
      record.clientId = form.get('client_id') ?? '';
      client = authenticateSecret(record.clientId, form.get('client_secret') ?? undefined, 'client_secret_post');
    } else {
      throw new OAuthError('invalid_client', 'no client authentication', 401);
    }
    if (form.get('grant_type') !== 'client_credentials') throw new OAuthError('unsupported_grant_type', 'only client_credentials is supported');
    const scope = form.get('scope') ?? undefined;
    if (scope !== undefined) record.scope = scope;
    if (isJwtClient(client) && scope === undefined) throw new OAuthError('invalid_scope', 'SMART backend clients must ask for a scope');
    const wanted = scope?.split(' ').filter(Boolean) ?? [];
    if (client.scopes && wanted.some((s) => !client.scopes!.includes(s))) throw new OAuthError('invalid_scope', 'scope not allowed for this client');
    const token = randomBytes(32).toString('base64url');
    tokens.set(token, { clientId: client.clientId, expiresAt: Date.now() + state.expiresInS * 1000 });
    issued += 1;
    return { access_token: token, token_type: 'Bearer', expires_in: state.expiresInS, ...(scope === undefined ? {} : { scope }) };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    if (script) {
      const answer = await script({ index: requests.length, method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body });
      if (applyScripted(answer, req, res, 'application/json')) return;
    }
    const record: { clientId?: string; authMethod?: TokenRequestRecord['authMethod']; scope?: string } = {};
    // RFC 6749 §5.1: token answers must not be cached.
    const headers = { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' };
    try {
      const granted = await grant(req, body, record);
      requests.push({ clientId: record.clientId, authMethod: record.authMethod, status: 200, ...(record.scope ? { scope: record.scope } : {}) });
      res.writeHead(200, headers);
      res.end(JSON.stringify(granted));
    } catch (err) {
      const e = err instanceof OAuthError ? err : new OAuthError('server_error', 'unexpected error', 500);
      requests.push({ clientId: record.clientId, authMethod: record.authMethod, status: e.status, error: e.error });
      const challenge: Record<string, string> = e.status === 401 && req.headers.authorization ? { 'www-authenticate': 'Basic realm="token"' } : {};
      res.writeHead(e.status, { ...headers, ...challenge });
      res.end(JSON.stringify({ error: e.error, error_description: e.message }));
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => res.destroy());
  };
  const server = options.tls ? createHttpsServer(options.tls, listener) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tokenUrl = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`;

  return {
    tokenUrl,
    get issued() {
      return issued;
    },
    requests,
    get expiresInS() {
      return state.expiresInS;
    },
    set expiresInS(s: number) {
      state.expiresInS = s;
    },
    isValid: (token) => {
      const t = tokens.get(token);
      return t !== undefined && Date.now() < t.expiresAt;
    },
    revokeAll: () => tokens.clear(),
    script: (fn) => {
      script = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
