/** Rows of the access tables (tokens, audit) as objects, the same for both databases. */
import type { TokenRecord } from '../access/tokens.ts';
import type { AuditRow } from '../audit/chain.ts';
import type { AuditEvent, AuditOutcome } from '../audit/event.ts';
import type { AuditAnchor, AuditQuery } from '../audit/store.ts';

export type AccessRow = Record<string, string | number | null>;

export function tokenOf(r: AccessRow): TokenRecord {
  return {
    id: r.id as string,
    name: r.name as string,
    role: r.role as TokenRecord['role'],
    ...(r.tenant !== null ? { tenant: r.tenant as string } : {}),
    createdAt: r.created_at as string,
    createdBy: r.created_by as string,
    ...(r.expires_at !== null ? { expiresAt: r.expires_at as string } : {}),
    ...(r.revoked_at !== null ? { revokedAt: r.revoked_at as string } : {}),
  };
}

export function auditRowOf(r: AccessRow): AuditRow {
  return {
    seq: r.seq as number,
    at: r.at as string,
    action: r.action as string,
    outcome: r.outcome as AuditOutcome,
    actor: r.actor as string,
    ...(r.target !== null ? { target: r.target as string } : {}),
    ...(r.ip !== null ? { ip: r.ip as string } : {}),
    ...(r.detail !== null ? { detail: JSON.parse(r.detail as string) as AuditRow['detail'] } : {}),
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
    ...(r.key_id !== null ? { keyId: r.key_id as string } : {}),
  };
}

export function auditConditions(q: AuditQuery, param: (v: string | number) => string): string[] {
  const where: string[] = [];
  if (q.afterSeq !== undefined) where.push(`seq > ${param(q.afterSeq)}`);
  if (q.beforeSeq !== undefined) where.push(`seq < ${param(q.beforeSeq)}`);
  if (q.since) where.push(`at >= ${param(q.since)}`);
  if (q.until) where.push(`at < ${param(q.until)}`);
  if (q.actor) where.push(`actor = ${param(q.actor)}`);
  if (q.outcome) where.push(`outcome = ${param(q.outcome)}`);
  if (q.target) where.push(`target = ${param(q.target)}`);
  if (q.action?.endsWith('.')) where.push(`substr(action, 1, ${q.action.length}) = ${param(q.action)}`);
  else if (q.action) where.push(`action = ${param(q.action)}`);
  return where;
}

/** The row retention appends when it removes the oldest rows: the chain's new start, sealed into the chain. */
export function prunedEvent(through: AuditAnchor, rows: number, before: string): AuditEvent {
  return {
    action: 'audit.pruned',
    outcome: 'success',
    actor: 'retention',
    detail: { throughSeq: through.seq, throughHash: through.hash, rows, olderThan: before },
  };
}

/** The last of the oldest rows that form an unbroken run from the first row, or undefined. */
export function contiguous(doomed: ReadonlyArray<{ seq: number; hash: string }>, firstSeq: number | null): { seq: number; hash: string } | undefined {
  let through: { seq: number; hash: string } | undefined;
  let expected = firstSeq;
  for (const d of doomed) {
    if (d.seq !== expected) break;
    through = d;
    expected = d.seq + 1;
  }
  return through;
}
