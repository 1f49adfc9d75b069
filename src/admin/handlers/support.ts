import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { AlertView } from '../../alerts/alerts.ts';
import type { ChannelActivity } from '../../engine/activity.ts';
import type { AccessStore } from '../../audit/store.ts';
import type { AuditTrail } from '../../audit/trail.ts';
import { InputError } from '../../errors.ts';
import { sendError } from '../../http/outcome.ts';
import { zodIssues } from '../../mapping/issues.ts';
import type { Store } from '../../store/types.ts';
import type { Authenticator } from '../authenticate.ts';
import { type GuardDeps, outcome, type RequestAccess } from '../guard.ts';
import type { AdminChannelView, HealthView } from '../schemas.ts';

export type { AdminChannelView, HealthView } from '../schemas.ts';

export interface AdminDeps {
  store: Store;
  access: AccessStore;
  audit: AuditTrail;
  authenticator: Authenticator;
  log: Logger;
  channels(): AdminChannelView[];
  channelTenant: GuardDeps['channelTenant'];
  limit: GuardDeps['limit'];
  health(): Promise<HealthView>;
  /** Wakes the dispatchers of a channel after a resend. */
  wake(channelId: string): void;
  /** Reads the channel and mapping files again (as the file watcher does). */
  reload(): Promise<{ applied: boolean; issues: readonly unknown[] }>;
  /** The instances sharing the store, their heartbeats, and who delivers each lane. */
  cluster(): Promise<unknown>;
  /** Keys of a keyed audit chain, by id, for verifying it. */
  chainKeys(): ReadonlyMap<string, Buffer>;
  /** The engine's Prometheus metrics, as text (GET /metrics). */
  metrics: { text(): Promise<string>; readonly contentType: string };
  /** Active and recent alerts (GET /api/alerts). */
  alerts(): readonly AlertView[];
  /** Per channel: messages per minute, the last hour's and day's counts, the backlog per destination (the dashboard). */
  activity(): Promise<Record<string, ChannelActivity & { backlog: Record<string, number> }>>;
  /** Where the workbench reads and writes: the channels and mappings directories, the samples. */
  files: { channelsDir: string; mappingsDir: string; samplesDir: string; tlsClientCa?: string };
}

/** A route's handler: runs after the guard, with who called. */
export type Handler = (req: Request, res: Response, a: RequestAccess) => Promise<void>;
/** Handlers by route key (`GET /api/messages`), as in the route table. */
export type Handlers = Record<string, Handler>;

/** Records an action of the caller in the audit trail; resolves once it is durable. */
export function audited(
  deps: Pick<AdminDeps, 'audit'>,
  a: RequestAccess,
  action: string,
  target: string,
  detail?: Record<string, string | number | boolean | null>,
  result: 'success' | 'denied' | 'failure' = 'success',
): Promise<void> {
  return deps.audit.record({ action, outcome: result, actor: a.actor, target, ...(a.ip ? { ip: a.ip } : {}), ...(detail ? { detail } : {}) });
}

export function notFound(res: Response, what: string): void {
  res.status(404).json(outcome('not-found', `no ${what}`));
}

export function invalid(res: Response, error: z.ZodError, where: string): void {
  sendError(res, new InputError('INPUT_INVALID', zodIssues(error, where)));
}
