import type { AuditSink } from '../audit/event.ts';
import type { TokenStore } from '../audit/store.ts';
import { ulid } from '../util/ids.ts';
import { hashToken, lifetimeMs, newTokenSecret, type TokenRecord, type TokenRequest } from './tokens.ts';

/** How a token change is attributed in the audit trail. */
export interface Actor {
  readonly name: string;
  readonly ip?: string;
}

/**
 * Creates a named token: the secret is returned once and only its hash stored; recorded in the
 * audit trail before the secret is handed out (no token exists that the trail does not show).
 */
export async function createToken(
  store: TokenStore,
  audit: AuditSink,
  request: TokenRequest,
  by: Actor,
  now = new Date(),
): Promise<{ secret: string; token: TokenRecord }> {
  const secret = newTokenSecret();
  const token: TokenRecord = {
    id: `tok_${ulid(now.getTime()).toLowerCase()}`,
    name: request.name,
    role: request.role,
    ...(request.tenant ? { tenant: request.tenant } : {}),
    createdAt: now.toISOString(),
    createdBy: by.name,
    ...(request.expires ? { expiresAt: new Date(now.getTime() + lifetimeMs(request.expires)).toISOString() } : {}),
  };
  await store.insertToken(token, hashToken(secret));
  await audit.record({
    action: 'token.create',
    outcome: 'success',
    actor: by.name,
    target: `token:${token.id}`,
    ...(by.ip ? { ip: by.ip } : {}),
    detail: { name: token.name, role: token.role, tenant: token.tenant ?? null, expiresAt: token.expiresAt ?? null },
  });
  return { secret, token };
}

/** Revokes a token by id or name; undefined when there is none (also recorded, as a failure). */
export async function revokeToken(store: TokenStore, audit: AuditSink, idOrName: string, by: Actor, now = new Date()): Promise<TokenRecord | undefined> {
  const token = await store.revokeToken(idOrName, now.toISOString());
  await audit.record({
    action: 'token.revoke',
    outcome: token ? 'success' : 'failure',
    actor: by.name,
    target: token ? `token:${token.id}` : `token:${idOrName}`,
    ...(by.ip ? { ip: by.ip } : {}),
    detail: token ? { name: token.name } : { reason: `no token with id or name '${idOrName}'` },
  });
  return token;
}

/** A token as listed: its record and whether it can be used now. */
export function listedToken(t: TokenRecord, now = new Date()): TokenRecord & { state: 'active' | 'expired' | 'revoked' } {
  const state = t.revokedAt ? 'revoked' : t.expiresAt && Date.parse(t.expiresAt) <= now.getTime() ? 'expired' : 'active';
  return { ...t, state };
}
