import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RestAuthConfig } from './config.ts';

/** Why a request was refused, for the 401 OperationOutcome; never echoes what was sent. */
export interface AuthRefusal {
  /** The header that should carry the credential, as `(header Authorization)`. */
  readonly where: string;
  readonly message: string;
  /** WWW-Authenticate challenge (RFC 9110 §11.6.1), for bearer tokens. */
  readonly challenge?: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Whether `given` is one of `accepted`. Digests make the lengths equal for timingSafeEqual,
 * and every candidate is compared, so the time says nothing about which one came close.
 */
function oneOf(given: string, accepted: readonly Buffer[]): boolean {
  const g = digest(given);
  let ok = false;
  for (const a of accepted) ok = timingSafeEqual(g, a) || ok;
  return ok;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The check of a REST source's submitters: undefined when the request may proceed. */
export function submitterAuth(config: RestAuthConfig): (req: IncomingMessage) => AuthRefusal | undefined {
  switch (config.type) {
    case 'none':
      return () => undefined;
    case 'bearer': {
      const accepted = config.tokens.map(digest);
      return (req) => {
        const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '');
        if (m && oneOf(m[1]!, accepted)) return undefined;
        return {
          where: '(header Authorization)',
          message: m ? 'the bearer token is not valid' : 'a bearer token is required (Authorization: Bearer <token>)',
          challenge: `Bearer realm="conduit"${m ? ', error="invalid_token"' : ''}`,
        };
      };
    }
    case 'api-key': {
      const accepted = config.keys.map(digest);
      const name = config.header;
      return (req) => {
        const key = header(req, name);
        if (key !== undefined && oneOf(key, accepted)) return undefined;
        return { where: `(header ${name})`, message: key === undefined ? `an API key is required in the ${name} header` : 'the API key is not valid' };
      };
    }
    default:
      return config satisfies never;
  }
}
