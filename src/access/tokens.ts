import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { Role, Tenant } from './roles.ts';

/** Named API tokens: the secret is shown once; only its SHA-256 is stored (it is 256 random bits, so no slow hash is needed). */
export const TOKEN_PREFIX = 'cdt_';

export const TokenName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a token name: lower-case letters, digits, dots, dashes and underscores (at most 64)');

/** A stored token, without its secret. */
export const TokenRecord = z.object({
  id: z.string(),
  name: TokenName,
  role: Role,
  tenant: Tenant.optional(),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string().optional(),
  revokedAt: z.string().optional(),
});
export type TokenRecord = z.infer<typeof TokenRecord>;

/** What `conduit token create` and `POST /api/tokens` take. */
export const TokenRequest = z
  .object({
    name: TokenName,
    role: Role,
    tenant: Tenant.optional(),
    /** How long the token lives: `90d`, `12h`; without it, until revoked. */
    expires: z
      .string()
      .regex(/^[1-9]\d{0,4}[mhd]$/, "expected a lifetime such as '90d', '12h' or '30m'")
      .optional(),
  })
  .strict()
  .refine((t) => !(t.role === 'admin' && t.tenant !== undefined), {
    path: ['tenant'],
    message: 'an admin token manages every tenant and cannot be limited to one; use integrator or lower',
  });
export type TokenRequest = z.infer<typeof TokenRequest>;

const LIFETIME_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function lifetimeMs(expires: string): number {
  return Number(expires.slice(0, -1)) * LIFETIME_MS[expires.at(-1) as keyof typeof LIFETIME_MS];
}

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Why a stored token cannot be used now, or undefined when it can. */
export function tokenUnusable(t: TokenRecord, now: Date): string | undefined {
  if (t.revokedAt) return `token '${t.name}' was revoked at ${t.revokedAt}`;
  if (t.expiresAt && Date.parse(t.expiresAt) <= now.getTime()) return `token '${t.name}' expired at ${t.expiresAt}`;
  return undefined;
}
