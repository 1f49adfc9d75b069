import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { InputError } from '../errors.ts';
import { sendError } from '../http/outcome.ts';
import { zodIssues } from '../mapping/issues.ts';
import type { MessageStatus, MessageView, NewerVersion, Store } from '../store/types.ts';
import { summariseFhirResponse } from './fhir-response.ts';
import { tokenMatches } from './token.ts';

export interface AdminChannelView {
  id: string;
  description?: string;
  state: string;
  source: string;
  /** Mapping versions in use (name@hash): inbound and per destination. */
  mappings: Record<string, string>;
  destinations: Array<{ id: string; sender: string; state: string; lastOutcome?: string; lastCode?: string }>;
}

export interface AdminDeps {
  store: Store;
  log: Logger;
  token: string;
  channels(): AdminChannelView[];
  /** Wakes the dispatchers of a channel after a resend. */
  wake(channelId: string): void;
  /** Reads the channel and mapping files again (as the file watcher does). */
  reload(): Promise<{ applied: boolean; issues: readonly unknown[] }>;
  /** The instances sharing the store, their heartbeats, and who delivers each lane. */
  cluster(): Promise<unknown>;
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

/** Admin REST API under /api: bearer token on every route; every read of a message is audited. */
export function adminRouter(deps: AdminDeps): Router {
  const r = express.Router();
  r.use((req: Request, res: Response, next: NextFunction) => {
    if (!tokenMatches(req.get('authorization'), deps.token)) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="conduit-admin"').json({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'login', diagnostics: 'a valid bearer token is required (Authorization: Bearer <CONDUIT_ADMIN_TOKEN>)' }],
      });
      return;
    }
    next();
  });

  r.get('/channels', async (_req, res) => {
    // Counts include the outcomes recorded just before (written behind by the store's writer thread).
    await deps.store.settled();
    const counts = new Map((await deps.store.channelCounts()).map((c) => [c.channelId, c]));
    res.json({
      channels: deps.channels().map((c) => ({ ...c, messages: counts.get(c.id)?.messages ?? 0, deliveries: counts.get(c.id)?.byStatus ?? {} })),
    });
  });

  r.get('/messages', async (req, res) => {
    const q = MessageQuery.safeParse(req.query);
    if (!q.success) {
      sendError(res, new InputError('INPUT_INVALID', zodIssues(q.error, 'query')));
      return;
    }
    await deps.store.settled();
    const page = await deps.store.listMessages({
      limit: q.data.limit,
      ...(q.data.channel ? { channelId: q.data.channel } : {}),
      ...(q.data.status ? { status: q.data.status as MessageStatus } : {}),
      ...(q.data.cursor ? { cursor: q.data.cursor } : {}),
    });
    const messages = await Promise.all(page.messages.map(async (m) => ({ ...m, ...currency(await deps.store.newerVersions(m.id)) })));
    res.json({ ...page, messages });
  });

  r.get('/messages/:id', async (req, res) => {
    const m = await deps.store.getMessage(req.params.id);
    deps.log.info({ audit: 'message.read', messageId: req.params.id, found: Boolean(m), ip: req.ip }, 'audit');
    if (!m) {
      res.status(404).json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: `no message ${req.params.id}` }] });
      return;
    }
    res.json({
      ...m,
      ...currency(await deps.store.newerVersions(m.id)),
      deliveries: m.deliveries.map((d) => {
        const last = d.attempts.at(-1);
        const fhir = d.contentType === 'application/fhir+json' ? summariseFhirResponse(last?.response) : undefined;
        return fhir ? { ...d, fhir } : d;
      }),
    });
  });

  /**
   * Per destination of the message: a settled delivery (acknowledged, rejected, dead) is queued
   * again with the same payload and control id; one waiting for a retry is brought forward to
   * now; one queued or on the wire is left as it is. Refused (409) while a destination has
   * acknowledged a newer version of the same result, unless ?force=true.
   */
  r.post('/messages/:id/resend', async (req, res) => {
    const q = ResendQuery.safeParse(req.query);
    if (!q.success) {
      sendError(res, new InputError('INPUT_INVALID', zodIssues(q.error, 'query')));
      return;
    }
    const m = await deps.store.getMessage(req.params.id);
    if (!m) {
      res.status(404).json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: `no message ${req.params.id}` }] });
      return;
    }
    if (m.contentPrunedAt) {
      res.status(410).json({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'deleted', diagnostics: `message ${m.id}: its content was removed by the channel's retention at ${m.contentPrunedAt}; there is nothing left to send` }],
      });
      return;
    }
    const force = q.data.force === 'true';
    const newer = await deps.store.newerVersions(m.id);
    const superseded = supersededIssues(m, newer);
    if (superseded.length > 0 && !force) {
      deps.log.info({ audit: 'message.resend', messageId: m.id, refused: 'superseded', supersededBy: newer[0]!.id, ip: req.ip }, 'audit');
      res.status(409).json({ resourceType: 'OperationOutcome', issue: superseded.map((diagnostics) => ({ severity: 'error', code: 'conflict', diagnostics })) });
      return;
    }
    let requeued: number;
    let broughtForward: number;
    try {
      requeued = await deps.store.requeue(m.id);
      broughtForward = await deps.store.bringForward(m.id);
    } catch (e) {
      sendError(res, e);
      return;
    }
    deps.log.info({ audit: 'message.resend', messageId: m.id, requeued, broughtForward, ...(superseded.length > 0 ? { forced: true } : {}), ip: req.ip }, 'audit');
    deps.wake(m.channelId);
    res.status(202).json({ messageId: m.id, requeued, broughtForward });
  });

  r.get('/cluster', async (_req, res) => {
    res.json(await deps.cluster());
  });

  r.post('/reload', async (req, res) => {
    const result = await deps.reload();
    deps.log.info({ audit: 'configuration.reload', applied: result.applied, ip: req.ip }, 'audit');
    res.status(result.applied ? 200 : 422).json(result);
  });

  r.use((_req, res) => {
    res.status(404).json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: 'no such admin route' }] });
  });
  return r;
}
