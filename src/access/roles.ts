import { z } from 'zod';

/**
 * What a token may do, each role including the ones before it: `viewer` sees health and channel
 * counts; `operator` message metadata, resend; `integrator` message content and configuration
 * (reload); `admin` tokens and the audit trail.
 */
export const Role = z.enum(['viewer', 'operator', 'integrator', 'admin'], { error: "expected role 'viewer', 'operator', 'integrator' or 'admin'" });
export type Role = z.infer<typeof Role>;

export const ROLES: readonly Role[] = Role.options;

/** Whether a token of role `held` may do what needs `needed`. */
export function allows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** A tenant tag, as in the channel file's `tenant:`. */
export const Tenant = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a tenant tag: lower-case letters, digits and dashes (at most 63)');
