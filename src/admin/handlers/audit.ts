import { z } from 'zod';
import { AuditOutcome } from '../../audit/event.ts';
import { verifyTrail } from '../../audit/trail.ts';
import { type AdminDeps, audited, type Handlers, invalid } from './support.ts';

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

/** The audit trail and the check of its chain (admin). */
export function auditHandlers(deps: AdminDeps): Handlers {
  return {
    'GET /api/audit': async (req, res, a) => {
      const q = AuditQueryParams.safeParse(req.query);
      if (!q.success) return invalid(res, q.error, 'query');
      const { before, ...filter } = q.data;
      await deps.audit.settled();
      const events = await deps.audit.query({ ...filter, ...(before ? { beforeSeq: before } : {}) });
      await audited(deps, a, 'audit.read', 'audit', Object.fromEntries(Object.entries(q.data).map(([k, v]) => [k, v ?? null])));
      res.json({ events, ...(events.length === q.data.limit ? { nextBefore: events.at(-1)!.seq } : {}) });
    },
    'GET /api/audit/verify': async (_req, res, a) => {
      await deps.audit.settled();
      const v = await verifyTrail(deps.access, deps.chainKeys());
      await audited(deps, a, 'audit.verify', 'audit', { rows: v.rows, problems: v.problems.length }, v.problems.length === 0 ? 'success' : 'failure');
      res.json({ ok: v.problems.length === 0, ...v });
    },
  };
}
