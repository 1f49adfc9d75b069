import { createPrivateKey, type KeyObject, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { ConduitError } from '../../../errors.ts';
import type { SmartBackendConfig } from './config.ts';
import type { AuthDeps } from './index.ts';
import { CachedTokenProvider } from './token-cache.ts';
import { requestToken } from './token-endpoint.ts';

/** RFC 7523 §2.2: how a client assertion is named in a token request. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Lifetime of a client assertion. SMART Backend Services: `exp` "no more than five minutes in
 * the future"; a minute less leaves room for clocks that disagree.
 */
const ASSERTION_LIFETIME_S = 240;

/** Smallest RSA modulus SMART allows (RS384 with 2048-bit keys or more). */
const MIN_RSA_BITS = 2048;

function invalid(message: string, cause?: unknown): ConduitError {
  return new ConduitError('CONFIG_INVALID', `auth.privateKey: ${message}`, { location: 'auth.privateKey', cause });
}

/**
 * Reads the private key of `auth.privateKey` (PEM text, or `file:<path>`) and checks that it fits
 * the algorithm: an RSA key of 2048 bits or more for RS384, a P-384 EC key for ES384. PEM text
 * whose line breaks arrived as the two characters `\n` (a common way to put a PEM into one
 * environment variable) is accepted. Throws CONFIG_INVALID.
 */
export function loadPrivateKey(source: string, algorithm: SmartBackendConfig['algorithm']): KeyObject {
  let pem = source;
  if (source.startsWith('file:')) {
    const path = source.startsWith('file://') ? fileURLToPath(source) : source.slice('file:'.length);
    try {
      pem = readFileSync(path, 'utf8');
    } catch (err) {
      throw invalid(`cannot read '${path}' (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`, err);
    }
  } else if (!pem.includes('\n') && pem.includes('\\n')) {
    pem = pem.replaceAll('\\n', '\n');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    // The parser's message names the problem, never the key material.
    throw invalid(`not a readable PEM private key (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err);
  }
  const details = key.asymmetricKeyDetails;
  if (algorithm === 'RS384') {
    if (key.asymmetricKeyType !== 'rsa') throw invalid(`RS384 needs an RSA key, got ${key.asymmetricKeyType}`);
    if ((details?.modulusLength ?? 0) < MIN_RSA_BITS) throw invalid(`RS384 needs an RSA key of ${MIN_RSA_BITS} bits or more, got ${details?.modulusLength}`);
  } else {
    if (key.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'secp384r1') {
      throw invalid(`ES384 needs an EC key on P-384, got ${key.asymmetricKeyType}${details?.namedCurve ? ` ${details.namedCurve}` : ''}`);
    }
  }
  return key;
}

/**
 * A signed client assertion (RFC 7523 §3, SMART Backend Services "authentication JWT"):
 * iss = sub = client id, aud = the token URL, a fresh jti, exp within five minutes.
 */
export function clientAssertion(config: SmartBackendConfig, key: KeyObject, nowMs: number = Date.now()): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: config.algorithm, kid: config.keyId, typ: 'JWT' })
    .setIssuer(config.clientId)
    .setSubject(config.clientId)
    .setAudience(config.tokenUrl)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + ASSERTION_LIFETIME_S)
    .sign(key);
}

/** The form of a SMART backend token request (client credentials with a JWT assertion). */
export async function smartBackendRequest(config: SmartBackendConfig, key: KeyObject): Promise<URLSearchParams> {
  return new URLSearchParams({
    grant_type: 'client_credentials',
    scope: config.scope,
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: await clientAssertion(config, key),
  });
}

/** SMART Backend Services tokens, cached and shared. Throws CONFIG_INVALID for an unusable key. */
export function smartBackendProvider(config: SmartBackendConfig, deps: AuthDeps): CachedTokenProvider {
  const key = loadPrivateKey(config.privateKey, config.algorithm);
  const dispatcher = deps.dispatcherFor?.(config.tokenUrl);
  return new CachedTokenProvider(
    async (signal) => requestToken(config.tokenUrl, await smartBackendRequest(config, key), {}, deps.timeoutMs, signal, dispatcher),
    { leewayS: config.tokenLifetimeLeewayS },
  );
}
