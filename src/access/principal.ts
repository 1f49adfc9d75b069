import type { Role } from './roles.ts';

/** Who made a request to the admin API: a named token, or the bootstrap admin token. */
export interface Principal {
  /** The token's name (`bootstrap-admin` for CONDUIT_ADMIN_TOKEN): what the audit trail records as the actor. */
  readonly name: string;
  readonly role: Role;
  /** Limited to the channels of this tenant, when set. */
  readonly tenant?: string;
  readonly tokenId?: string;
}

export const BOOTSTRAP_ADMIN: Principal = Object.freeze({ name: 'bootstrap-admin', role: 'admin' });

/** Whether the principal may see a channel with this tenant tag (undefined: the channel has none). */
export function inTenant(p: Principal, channelTenant: string | undefined): boolean {
  return p.tenant === undefined || p.tenant === channelTenant;
}
