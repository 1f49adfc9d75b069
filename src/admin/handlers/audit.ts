import { verifyTrail } from '../../audit/trail.ts';
import { AuditQueryParams } from '../schemas.ts';
import { type AdminDeps, audited, type Handlers, invalid } from './support.ts';

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
