import { sendError } from '../../http/outcome.ts';
import type { MessageStatus, MessageView, NewerVersion } from '../../store/types.ts';
import { summariseFhirResponse } from '../fhir-response.ts';
import { outcome } from '../guard.ts';
import { type DismissAnswer, MessageQuery, type MessagesPage, type ResendAnswer, ResendQuery } from '../schemas.ts';
import type { z } from 'zod';
import { type AdminDeps, audited, type Handlers, invalid, notFound } from './support.ts';

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

/** Messages: lists, one message (content for integrators), resend and dismiss. */
export function messageHandlers(deps: AdminDeps): Handlers {
  return {
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
        ...(q.data.since ? { since: new Date(q.data.since).toISOString() } : {}),
        ...(q.data.until ? { until: new Date(q.data.until).toISOString() } : {}),
        ...(q.data.source ? { sourceId: q.data.source } : {}),
        ...(q.data.patient ? { patient: q.data.patient } : {}),
        ...(q.data.controlId ? { controlId: q.data.controlId } : {}),
        ...(q.data.cursor ? { cursor: q.data.cursor } : {}),
      });
      const messages = await Promise.all(page.messages.map(async (m) => ({ ...m, ...currency(await deps.store.newerVersions(m.id)) })));
      res.json({ ...page, messages } satisfies z.infer<typeof MessagesPage>);
    },
    'GET /api/messages/:id': async (req, res, a) => {
      const id = String(req.params.id);
      const m = await deps.store.getMessage(id);
      if (!m) {
        await audited(deps, a, 'message.read', `message:${id}`, { found: false }, 'failure');
        return notFound(res, `message ${id}`);
      }
      if (!a.sees(m.channelId)) return a.denyTenant(`message:${id}`, m.channelId);
      await audited(deps, a, a.full ? 'message.content.read' : 'message.read', `message:${id}`, { channel: m.channelId });
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
      if (!m) return notFound(res, `message ${id}`);
      if (!a.sees(m.channelId)) return a.denyTenant(`message:${id}`, m.channelId);
      const target = `message:${m.id}`;
      if (m.contentPrunedAt) {
        await audited(deps, a, 'message.resend', target, { reason: 'content removed by retention' }, 'failure');
        res
          .status(410)
          .json(outcome('deleted', `message ${m.id}: its content was removed by the channel's retention at ${m.contentPrunedAt}; there is nothing left to send`));
        return;
      }
      const force = q.data.force === 'true';
      const newer = await deps.store.newerVersions(m.id);
      const superseded = supersededIssues(m, newer);
      if (superseded.length > 0 && !force) {
        await audited(deps, a, 'message.resend', target, { refused: 'superseded', supersededBy: newer[0]!.id }, 'denied');
        res.status(409).json({ resourceType: 'OperationOutcome', issue: superseded.map((diagnostics) => ({ severity: 'error', code: 'conflict', diagnostics })) });
        return;
      }
      await audited(deps, a, 'message.resend', target, { channel: m.channelId, ...(superseded.length > 0 ? { forced: true } : {}) });
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
      res.status(202).json({ messageId: m.id, requeued, broughtForward } satisfies z.infer<typeof ResendAnswer>);
    },
    'POST /api/messages/:id/dismiss': async (req, res, a) => {
      const id = String(req.params.id);
      const m = await deps.store.getMessage(id);
      if (!m) return notFound(res, `message ${id}`);
      if (!a.sees(m.channelId)) return a.denyTenant(`message:${id}`, m.channelId);
      const open = m.deliveries.filter((d) => (d.status === 'dead' || d.status === 'rejected') && !d.dismissedAt);
      if (open.length === 0) {
        res.status(409).json(outcome('conflict', `message ${id} has no dead or rejected delivery left to dismiss`));
        return;
      }
      await audited(deps, a, 'message.dismiss', `message:${id}`, {
        channel: m.channelId,
        destinations: open.map((d) => d.destinationId).join(','),
      });
      const dismissed = await deps.store.dismiss(id, a.actor);
      res.json({ messageId: id, dismissed } satisfies z.infer<typeof DismissAnswer>);
    },
  };
}
