import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { createToken, listedToken, revokeToken } from '../access/token-service.ts';
import { TokenRequest } from '../access/tokens.ts';
import { AuditOutcome } from '../audit/event.ts';
import type { AccessStore } from '../audit/store.ts';
import { type AuditTrail, verifyTrail } from '../audit/trail.ts';
import { ConduitError, InputError } from '../errors.ts';
import { sendError } from '../http/outcome.ts';
import { zodIssues } from '../mapping/issues.ts';
import type { MessageStatus, MessageView, NewerVersion, Store } from '../store/types.ts';
import type { Authenticator } from './authenticate.ts';
import { summariseFhirResponse } from './fhir-response.ts';
import { accessOf, type GuardDeps, guard, outcome, type RequestAccess } from './guard.ts';
import { ADMIN_ROUTES, routeKey } from './route-table.ts';

export interface AdminChannelView {
  id: string;
  description?: string;
  tenant?: string;
  state: string;
  source: string;
  /** Mapping versions in use (name@hash): inbound and per destination. */
  mappings: Record<string, string>;
  destinations: Array<{ id: string; sender: string; state: string; lastOutcome?: string; lastCode?: string }>;
}

export interface HealthView {
  status: string;
  version: string;
  components: Record<string, string>;
  uptime_seconds: number;
  details?: Record<string, Record<string, string | number>>;
}

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
}

const STATUSES = ['received', 'filtered', 'queued', 'sent', 'acknowledged', 'rejected', 'errored', 'dead'] as const;

const MessageQuery = z
  .object({
    channel: z.string().optional(),
    status: z.enum(STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().regex(/^[0-9a-z]+$/, 'expected a cursor from a previous page').optional(),
  })
  .strict();

const ResendQuery = z.object({ force: z.enum(['true', 'false'], { error: "expected 'true' or 'false'" }).optional() }).strict();

const isoTime = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time such as 2026-12-07T08:00:00Z' });

const AuditQueryParams = z
  .object({
    since: isoTime.optional(),
    until: isoTime.optional(),
    actor: z.string().min(1).optional(),
    action: z.string().regex(/^[a-z][a-z0-9.-]*$/, "expected an action ('message.content.read') or a prefix ending in '.' ('message.')").optional(),
    outcome: AuditOutcome.optional(),
    target: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    before: z.coerce.number().int().positive({ error: 'expected the seq of a row, from a previous page' }).optional(),
  })
  .strict();

/** Whether a message is the newest version of its result, and if not which message is (see Store.newerVersions). */
function currency(newer: readonly NewerVersion[]): { current: boolean; supersededBy?: string } {
  return newer[0] ? { current: false, supersededBy: newer[0].id } : { current: true };
}

/**
 * Resending an old version to a destination that acknowledged a newer one would put the old
 * values after the correction at the receiver: one issue per such destination and version.
 */
function supersededIssues(m: MessageView, newer: readonly NewerVersion[]): string[] {
  const issues: string[] = [];
  for (const d of m.deliveries) {
    if (d.follows !== undefined) continue;
    for (const n of newer) {
      if (!n.acknowledgedBy.includes(d.destinationId)) continue;
      issues.push(
        `message ${m.id} is version ${m.sourceVersion} of result ${m.sourceId}; destination ${d.destinationId} has acknowledged a newer version, ` +
          `message ${n.id} (version ${n.sourceVersion}): resending would put the old values after the corrected ones. ` +
          `Resend ${n.id} instead, or add ?force=true to send version ${m.sourceVersion} anyway`,
      );
    }
  }
  return issues;
}

/** A message as an operator sees it: statuses, control ids, attempts and their outcome, none of its content. */
function withoutContent(m: MessageView) {
  const { rawInput: _raw, canonical: _canonical, ...rest } = m;
  return {
    ...rest,
    deliveries: m.deliveries.map(({ payload: _payload, ...d }) => ({ ...d, attempts: d.attempts.map(({ response: _response, ...a }) => a) })),
  };
}

function notFound(res: Response, id: string): void {
  res.status(404).json(outcome('not-found', `no message ${id}`));
}

function invalid(res: Response, error: z.ZodError, where: string): void {
  sendError(res, new InputError('INPUT_INVALID', zodIssues(error, where)));
}

/**
 * The admin API under /api and /health, built from the route table (route-table.ts): every
 * route passes the guard (token, rate limit, role, tenant) first. Reads of message content,
 * resends, reloads and token changes are recorded in the audit trail before they are answered;
 * one that cannot be recorded is not done (503 AUDIT_FAILED).
 */
export function adminRouter(deps: AdminDeps): Router {
  const r = express.Router();
  const audited = async (a: RequestAccess, action: string, target: string, detail?: Record<string, string | number | boolean | null>, result: 'success' | 'denied' | 'failure' = 'success') =>
    deps.audit.record({ action, outcome: result, actor: a.actor, target, ...(a.ip ? { ip: a.ip } : {}), ...(detail ? { detail } : {}) });

  const handlers: Record<string, (req: Request, res: Response, a: RequestAccess) => Promise<void>> = {
    'GET /health': async (_req, res, a) => {
      const health = await deps.health();
      const code = health.status === 'unhealthy' ? 503 : 200;
      if (!a.principal) {
        res.status(code).json({ status: health.status, version: health.version, uptime_seconds: health.uptime_seconds });
        return;
      }
      if (a.principal.tenant === undefined) {
        res.status(code).json(health);
        return;
      }
      // A tenant's viewer sees the engine-wide components and its own channels' ones.
      const mine = (name: string) => {
        const m = /^(?:channel|destination):([^/]+)/.exec(name);
        return !m || a.sees(m[1]!);
      };
      const components = Object.fromEntries(Object.entries(health.components).filter(([k]) => mine(k)));
      const details = health.details ? Object.fromEntries(Object.entries(health.details).filter(([k]) => mine(k))) : undefined;
      res.status(code).json({ ...health, components, ...(details && Object.keys(details).length > 0 ? { details } : { details: undefined }) });
    },

    'GET /api/channels': async (_req, res, a) => {
      // Counts include the outcomes recorded just before (written behind by the store's writer).
      await deps.store.settled();
      const counts = new Map((await deps.store.channelCounts()).map((c) => [c.channelId, c]));
      res.json({
        channels: deps
          .channels()
          .filter((c) => a.sees(c.id))
          .map((c) => ({ ...c, messages: counts.get(c.id)?.messages ?? 0, deliveries: counts.get(c.id)?.byStatus ?? {} })),
      });
    },

    'GET /api/cluster': async (_req, res) => {
      res.json(await deps.cluster());
    },

    'GET /api/messages': async (req, res, a) => {
      const q = MessageQuery.safeParse(req.query);
      if (!q.success) return invalid(res, q.error, 'query');
      if (q.data.channel && !a.sees(q.data.channel)) return a.denyTenant(`channel:${q.data.channel}`, q.data.channel);
      const tenantChannels = a.principal?.tenant === undefined || q.data.channel ? undefined : deps.channels().filter((c) => a.sees(c.id)).map((c) => c.id);
      await deps.store.settled();
      const page = await deps.store.listMessages({
        limit: q.data.limit,
        ...(q.data.channel ? { channelId: q.data.channel } : {}),
        ...(tenantChannels ? { channelIds: tenantChannels } : {}),
        ...(q.data.status ? { status: q.data.status as MessageStatus } : {}),
        ...(q.data.cursor ? { cursor: q.data.cursor } : {}),
      });
      const messages = await Promise.all(page.messages.map(async (m) => ({ ...m, ...currency(await deps.store.newerVersions(m.id)) })));
      res.json({ ...page, messages });
    },

    'GET /api/messages/:id': async (req, res, a) => {
      const id = String(req.params.id);
      const m = await deps.store.getMessage(id);
      if (!m) {
        await audited(a, 'message.read', `message:${id}`, { found: false }, 'failure');
        return notFound(res, id);
      }
      if (!a.sees(m.channelId)) return a.denyTenant(`message:${id}`, m.channelId);
      await audited(a, a.full ? 'message.content.read' : 'message.read', `message:${id}`, { channel: m.channelId });
      const current = currency(await deps.store.newerVersions(m.id));
      if (!a.full) {
        res.json({ ...withoutContent(m), ...current });
        return;
      }
      res.json({
        ...m,
        ...current,
        deliveries: m.deliveries.map((d) => {
          const last = d.attempts.at(-1);
          const fhir = d.contentType === 'application/fhir+json' ? summariseFhirResponse(last?.response) : undefined;
          return fhir ? { ...d, fhir } : d;
        }),
      });
    },

    /**
     * Per destination of the message: a settled delivery (acknowledged, rejected, dead) is queued
     * again with the same payload and control id; one waiting for a retry is brought forward to
     * now; one queued or on the wire is left as it is. Refused (409) while a destination has
     * acknowledged a newer version of the same result, unless ?force=true.
     */
    'POST /api/messages/:id/resend': async (req, res, a) => {
      const q = ResendQuery.safeParse(req.query);
      if (!q.success) return invalid(res, q.error, 'query');
      const id = String(req.params.id);
      const m = await deps.store.getMessage(id);
      if (!m) return notFound(res, id);
      if (!a.sees(m.channelId)) return a.denyTenant(`message:${id}`, m.channelId);
      const target = `message:${m.id}`;
      if (m.contentPrunedAt) {
        await audited(a, 'message.resend', target, { reason: 'content removed by retention' }, 'failure');
        res
          .status(410)
          .json(outcome('deleted', `message ${m.id}: its content was removed by the channel's retention at ${m.contentPrunedAt}; there is nothing left to send`));
        return;
      }
      const force = q.data.force === 'true';
      const newer = await deps.store.newerVersions(m.id);
      const superseded = supersededIssues(m, newer);
      if (superseded.length > 0 && !force) {
        await audited(a, 'message.resend', target, { refused: 'superseded', supersededBy: newer[0]!.id }, 'denied');
        res.status(409).json({ resourceType: 'OperationOutcome', issue: superseded.map((diagnostics) => ({ severity: 'error', code: 'conflict', diagnostics })) });
        return;
      }
      await audited(a, 'message.resend', target, { channel: m.channelId, ...(superseded.length > 0 ? { forced: true } : {}) });
      let requeued: number;
      let broughtForward: number;
      try {
        requeued = await deps.store.requeue(m.id);
        broughtForward = await deps.store.bringForward(m.id);
      } catch (e) {
        sendError(res, e);
        return;
      }
      deps.wake(m.channelId);
      res.status(202).json({ messageId: m.id, requeued, broughtForward });
    },

    'POST /api/messages/:id/dismiss': async (req, res, a) => {
      const id = String(req.params.id);
      const m = await deps.store.getMessage(id);
      if (!m) return notFound(res, id);
      if (!a.sees(m.channelId)) return a.denyTenant(`message:${id}`, m.channelId);
      const open = m.deliveries.filter((d) => (d.status === 'dead' || d.status === 'rejected') && !d.dismissedAt);
      if (open.length === 0) {
        res.status(409).json(outcome('conflict', `message ${id} has no dead or rejected delivery left to dismiss`));
        return;
      }
      await audited(a, 'message.dismiss', `message:${id}`, {
        channel: m.channelId,
        destinations: open.map((d) => d.destinationId).join(','),
      });
      const dismissed = await deps.store.dismiss(id, a.actor);
      res.json({ messageId: id, dismissed });
    },

    'POST /api/reload': async (_req, res, a) => {
      const result = await deps.reload();
      await audited(a, 'configuration.reload', 'configuration', { applied: result.applied, issues: result.issues.length }, result.applied ? 'success' : 'failure');
      res.status(result.applied ? 200 : 422).json(result);
    },

    'GET /api/tokens': async (_req, res) => {
      const now = new Date();
      res.json({ tokens: (await deps.access.listTokens()).map((t) => listedToken(t, now)) });
    },

    'POST /api/tokens': async (req, res, a) => {
      const body = TokenRequest.safeParse(req.body ?? {});
      if (!body.success) return invalid(res, body.error, 'body');
      try {
        const { secret, token } = await createToken(deps.access, deps.audit, body.data, { name: a.actor, ...(a.ip ? { ip: a.ip } : {}) });
        res.status(201).json({ ...listedToken(token), token: secret });
      } catch (e) {
        if (e instanceof ConduitError && e.code === 'TOKEN_NAME_TAKEN') {
          res.status(409).json(outcome('duplicate', e.message, e.code));
          return;
        }
        throw e;
      }
    },

    'DELETE /api/tokens/:id': async (req, res, a) => {
      const id = String(req.params.id);
      const token = await revokeToken(deps.access, deps.audit, id, { name: a.actor, ...(a.ip ? { ip: a.ip } : {}) });
      if (!token) {
        res.status(404).json(outcome('not-found', `no token with id or name '${id}'`));
        return;
      }
      res.json(listedToken(token));
    },

    'GET /api/audit': async (req, res, a) => {
      const q = AuditQueryParams.safeParse(req.query);
      if (!q.success) return invalid(res, q.error, 'query');
      const { before, ...filter } = q.data;
      await deps.audit.settled();
      const events = await deps.audit.query({ ...filter, ...(before ? { beforeSeq: before } : {}) });
      await audited(a, 'audit.read', 'audit', Object.fromEntries(Object.entries(q.data).map(([k, v]) => [k, v ?? null])));
      res.json({ events, ...(events.length === q.data.limit ? { nextBefore: events.at(-1)!.seq } : {}) });
    },

    'GET /api/audit/verify': async (_req, res, a) => {
      await deps.audit.settled();
      const v = await verifyTrail(deps.access, deps.chainKeys());
      await audited(a, 'audit.verify', 'audit', { rows: v.rows, problems: v.problems.length }, v.problems.length === 0 ? 'success' : 'failure');
      res.json({ ok: v.problems.length === 0, ...v });
    },
  };

  const guardDeps: GuardDeps = { authenticator: deps.authenticator, audit: deps.audit, channelTenant: deps.channelTenant, limit: deps.limit };
  const json = express.json({ limit: '16kb' });
  for (const route of ADMIN_ROUTES) {
    const handle = handlers[routeKey(route)];
    if (!handle) throw new Error(`admin route ${routeKey(route)} has no handler`);
    const method = route.method.toLowerCase() as 'get' | 'post' | 'delete';
    r[method](route.path, guard(route, guardDeps), ...(route.method === 'POST' ? [json] : []), async (req: Request, res: Response) => {
      try {
        await handle(req, res, accessOf(res));
      } catch (e) {
        if (e instanceof ConduitError && e.code === 'AUDIT_FAILED') {
          deps.log.error({ err: e }, 'an admin request was refused: the audit trail cannot be written');
          res.status(503).set('Retry-After', '5').json(outcome('transient', e.message, e.code));
          return;
        }
        throw e;
      }
    });
  }
  for (const key of Object.keys(handlers)) {
    if (!ADMIN_ROUTES.some((route) => routeKey(route) === key)) throw new Error(`handler ${key} is not in the route table`);
  }
  r.use('/api', (_req, res) => {
    res.status(404).json(outcome('not-found', 'no such admin route'));
  });
  return r;
}
