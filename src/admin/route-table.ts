import type { Role } from '../access/roles.ts';

/**
 * What tenant limits mean for a route:
 * - `filtered`: a tenant's token sees only its channels' part of the answer;
 * - `message`: the route acts on one message (`:id`), which must be of one of the tenant's channels;
 * - `refused`: the route concerns every tenant (configuration, tokens, the audit trail): tenant tokens get 403.
 */
export type TenantRule = 'filtered' | 'message' | 'refused';

export interface RouteAccess {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Express path under the engine's root (`/api/messages/:id`). */
  readonly path: string;
  /** The lowest role allowed. */
  readonly role: Role;
  readonly tenant: TenantRule;
  /** A role that sees more of the answer (message content), when there is one. */
  readonly fullRole?: Role;
  /** Answered without a token, with less (e.g. /health's status only). */
  readonly anonymous?: boolean;
  /** Largest JSON body a POST takes (default 16 KiB). */
  readonly bodyBytes?: number;
  readonly summary: string;
}

/**
 * Every route of the admin API and /health with who may call it. The router is built from this
 * table (a route without an entry cannot be served), and the authorization-matrix test walks it.
 */
export const ADMIN_ROUTES: readonly RouteAccess[] = [
  { method: 'GET', path: '/health', role: 'viewer', tenant: 'filtered', anonymous: true, summary: 'health: status for anyone; components and details for viewers' },
  { method: 'GET', path: '/api/openapi.json', role: 'viewer', tenant: 'filtered', anonymous: true, summary: 'this API, described in OpenAPI 3.1 (generated from the route table and its zod schemas)' },
  { method: 'GET', path: '/api/whoami', role: 'viewer', tenant: 'filtered', summary: "the caller's token: name, role, tenant (what the console shows and allows)" },
  { method: 'GET', path: '/api/channels', role: 'viewer', tenant: 'filtered', summary: 'channels, their destinations and counts by status' },
  { method: 'GET', path: '/api/activity', role: 'viewer', tenant: 'filtered', summary: 'per channel: messages received per minute (last 15 minutes), counts of the last hour and day, backlog per destination' },
  { method: 'GET', path: '/api/cluster', role: 'viewer', tenant: 'refused', summary: 'instances sharing the store and who delivers each lane' },
  {
    method: 'GET',
    path: '/metrics',
    role: 'viewer',
    tenant: 'refused',
    summary: 'Prometheus text: messages, deliveries, latency histograms, attempts, backlog, lanes, leases, store size, the process',
  },
  { method: 'GET', path: '/api/alerts', role: 'viewer', tenant: 'filtered', summary: 'active and recent alerts of the alert rules, with how their notifications went' },
  { method: 'GET', path: '/api/messages', role: 'operator', tenant: 'filtered', summary: 'messages, newest first, by channel and status' },
  {
    method: 'GET',
    path: '/api/messages/:id',
    role: 'operator',
    fullRole: 'integrator',
    tenant: 'message',
    summary: 'one message: deliveries and attempts; its content (raw input, canonical report, payloads, answers) for integrators',
  },
  { method: 'POST', path: '/api/messages/:id/resend', role: 'operator', tenant: 'message', summary: 'send a message again (same payload and control id)' },
  {
    method: 'POST',
    path: '/api/messages/:id/dismiss',
    role: 'operator',
    tenant: 'message',
    summary: 'mark its dead and rejected deliveries as seen to: they stop making their destination degraded',
  },
  { method: 'POST', path: '/api/reload', role: 'integrator', tenant: 'refused', summary: 'read the channel and mapping files again' },
  { method: 'GET', path: '/api/workbench/files', role: 'integrator', tenant: 'refused', summary: 'the channel, mapping and code table files the workbench edits' },
  { method: 'GET', path: '/api/workbench/file', role: 'integrator', tenant: 'refused', summary: 'one of those files (?path=mappings/oru-r01-lis.yaml)' },
  { method: 'GET', path: '/api/workbench/samples', role: 'integrator', tenant: 'refused', summary: "a channel's samples from samples/, with their text" },
  {
    method: 'POST',
    path: '/api/workbench/preview',
    role: 'integrator',
    tenant: 'refused',
    bodyBytes: 4 * 1024 * 1024,
    summary: 'what a channel would send for an input with edited files, without changing anything: canonical report, outputs, issues, golden diff',
  },
  {
    method: 'POST',
    path: '/api/workbench/save',
    role: 'integrator',
    tenant: 'refused',
    bodyBytes: 4 * 1024 * 1024,
    summary: 'write edited files once the whole configuration with them is valid; the engine reloads it',
  },
  { method: 'GET', path: '/api/tokens', role: 'admin', tenant: 'refused', summary: 'named tokens (never their secrets)' },
  { method: 'POST', path: '/api/tokens', role: 'admin', tenant: 'refused', summary: 'create a token; its secret is in this answer only' },
  { method: 'DELETE', path: '/api/tokens/:id', role: 'admin', tenant: 'refused', summary: 'revoke a token (by id or name)' },
  { method: 'GET', path: '/api/audit', role: 'admin', tenant: 'refused', summary: 'the audit trail, filtered' },
  { method: 'GET', path: '/api/audit/verify', role: 'admin', tenant: 'refused', summary: 'check the audit trail\u2019s hash chain' },
];

export function routeKey(r: Pick<RouteAccess, 'method' | 'path'>): string {
  return `${r.method} ${r.path}`;
}
