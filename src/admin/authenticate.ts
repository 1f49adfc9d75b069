import { type Principal, BOOTSTRAP_ADMIN } from '../access/principal.ts';
import { hashToken, tokenUnusable } from '../access/tokens.ts';
import type { TokenStore } from '../audit/store.ts';
import { tokenMatches } from './token.ts';

export type Authentication = { readonly principal: Principal } | { readonly refused: string; readonly actor: string; readonly challenge: string };

/**
 * Who a request's bearer token is: the bootstrap admin (CONDUIT_ADMIN_TOKEN or the generated
 * one), or a named token from the store, looked up by the SHA-256 of what was sent.
 */
export class Authenticator {
  private readonly tokens: TokenStore;
  private readonly bootstrap: string;

  constructor(tokens: TokenStore, bootstrap: string) {
    this.tokens = tokens;
    this.bootstrap = bootstrap;
  }

  async authenticate(header: string | undefined, now = new Date()): Promise<Authentication> {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
    if (!m) {
      return {
        refused: header === undefined ? 'a bearer token is required (Authorization: Bearer <token>)' : 'the Authorization header is not `Bearer <token>`',
        actor: 'anonymous',
        challenge: 'Bearer realm="conduit-admin"',
      };
    }
    if (tokenMatches(header, this.bootstrap)) return { principal: BOOTSTRAP_ADMIN };
    const record = await this.tokens.tokenByHash(hashToken(m[1]!));
    if (!record) return { refused: 'the bearer token is not valid', actor: 'anonymous', challenge: 'Bearer realm="conduit-admin", error="invalid_token"' };
    const unusable = tokenUnusable(record, now);
    if (unusable) return { refused: unusable, actor: record.name, challenge: `Bearer realm="conduit-admin", error="invalid_token"` };
    return { principal: { name: record.name, role: record.role, tokenId: record.id, ...(record.tenant ? { tenant: record.tenant } : {}) } };
  }
}
