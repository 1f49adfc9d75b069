import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import { AuditEvent } from './event.ts';

/** The `prevHash` of the first row ever written. */
export const GENESIS_HASH = '0'.repeat(64);

/** A row of the audit trail: an event, where it stands in the chain, and the hash that seals it to the row before. */
export const AuditRow = AuditEvent.extend({
  seq: z.number().int(),
  at: z.string(),
  prevHash: z.string(),
  hash: z.string(),
  /** The data key the hash was made with (an HMAC); absent: a plain SHA-256, which anyone could recompute. */
  keyId: z.string().optional(),
});
export type AuditRow = z.infer<typeof AuditRow>;

/** The key of a keyed chain: with it, a row cannot be forged or a later one recomputed without the key. */
export interface ChainKey {
  readonly id: string;
  readonly key: Buffer;
}

/** JSON with object keys sorted, so a row's detail hashes the same whatever order it was built in. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/** What a row's hash covers: every column but the hash itself. */
function sealed(row: Omit<AuditRow, 'hash'>): string {
  return canonicalJson([
    row.seq,
    row.at,
    row.action,
    row.outcome,
    row.actor,
    row.target ?? null,
    row.ip ?? null,
    row.detail ?? null,
    row.prevHash,
    row.keyId ?? null,
  ]);
}

export function rowHash(row: Omit<AuditRow, 'hash'>, key: Buffer | undefined): string {
  const text = sealed(row);
  return key ? createHmac('sha256', key).update(text).digest('hex') : createHash('sha256').update(text).digest('hex');
}

/** The rows that follow `last` (undefined: the chain is empty), hashed in order. */
export function chainRows(
  last: { seq: number; hash: string } | undefined,
  events: ReadonlyArray<{ event: AuditEvent; at: string }>,
  key: ChainKey | undefined,
): AuditRow[] {
  let seq = last?.seq ?? 0;
  let prevHash = last?.hash ?? GENESIS_HASH;
  return events.map(({ event, at }) => {
    seq += 1;
    const unsealed = { ...event, seq, at, prevHash, ...(key ? { keyId: key.id } : {}) };
    const row = { ...unsealed, hash: rowHash(unsealed, key?.key) };
    prevHash = row.hash;
    return row;
  });
}

/** A break in the chain that `conduit audit verify` reports. */
export interface ChainProblem {
  readonly seq: number;
  readonly problem: 'edited' | 'deleted' | 'unverifiable' | 'anchor';
  readonly message: string;
}

/**
 * Checks rows in seq order against the row before them (`previous`, or the anchor left by
 * retention, or the genesis). Edited: the hash does not match the row's content. Deleted: a gap
 * in seq, or a prevHash that is not the hash of the row before. Unverifiable: a row hashed with
 * a key that is not configured.
 */
export class ChainVerifier {
  private previous: { seq: number; hash: string };
  private readonly keys: ReadonlyMap<string, Buffer>;
  /** A keyed row was seen: from then on an unkeyed one is a downgrade (anyone could have written it). */
  private keyed = false;
  readonly problems: ChainProblem[] = [];
  rows = 0;

  constructor(start: { seq: number; hash: string } | undefined, keys: ReadonlyMap<string, Buffer>) {
    this.previous = start ?? { seq: 0, hash: GENESIS_HASH };
    this.keys = keys;
  }

  get head(): { seq: number; hash: string } {
    return this.previous;
  }

  check(row: AuditRow): void {
    this.rows += 1;
    const { hash, ...unsealed } = row;
    if (row.seq !== this.previous.seq + 1) {
      const first = this.previous.seq + 1;
      const last = row.seq - 1;
      this.problems.push({
        seq: row.seq,
        problem: 'deleted',
        message: first === last ? `row ${first} is missing (deleted)` : `rows ${first} to ${last} are missing (deleted)`,
      });
    } else if (row.prevHash !== this.previous.hash) {
      this.problems.push({ seq: row.seq, problem: 'deleted', message: `row ${row.seq} does not follow row ${this.previous.seq}: its prevHash is not that row's hash (a row was replaced or removed)` });
    }
    if (row.keyId === undefined && this.keyed) {
      this.problems.push({ seq: row.seq, problem: 'edited', message: `row ${row.seq} is not keyed though the rows before it are: anyone could have written it (forged)` });
    } else if (row.keyId !== undefined && !this.keys.has(row.keyId)) {
      this.problems.push({ seq: row.seq, problem: 'unverifiable', message: `row ${row.seq} is sealed with data key '${row.keyId}', which is not configured` });
    } else if (rowHash(unsealed, row.keyId === undefined ? undefined : this.keys.get(row.keyId)) !== hash) {
      this.problems.push({ seq: row.seq, problem: 'edited', message: `row ${row.seq} (${row.action} at ${row.at}) does not match its hash: it was edited or forged` });
    }
    if (row.keyId !== undefined) this.keyed = true;
    this.previous = { seq: row.seq, hash };
  }
}
