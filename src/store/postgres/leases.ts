/**
 * The lease table of several instances on one PostgreSQL store: which instance is alive, and
 * which one delivers each lane (channel, destination, lane). Policy (how many lanes to hold,
 * when to renew) is the lease manager's (cluster/lease-manager.ts); this is the SQL.
 */
import type pg from 'pg';

/** The channel instances LISTEN on: a lease was released, take it now rather than at the next tick. */
export const LEASES_CHANNEL = 'conduit_leases';

export interface LaneKey {
  channelId: string;
  destinationId: string;
  lane: number;
}

export interface HeldLease extends LaneKey {
  token: number;
}

export interface InstanceInfo {
  id: string;
  host: string;
  pid: number;
  url?: string;
}

export interface ClusterView {
  instances: Array<{ id: string; host: string; pid: number; url?: string; startedAt: string; heartbeatAt: string; stoppedAt?: string; alive: boolean; leases: number }>;
  leases: Array<{ channelId: string; destinationId: string; lane: number; owner?: string; token: number; acquiredAt: string; expiresAt: string; held: boolean }>;
}

/** The live instances and how many unexpired leases each holds. */
export interface Holdings {
  live: Map<string, number>;
}

export class LeaseTable {
  private readonly pool: pg.Pool;
  readonly instance: InstanceInfo;
  private readonly leaseMs: number;

  constructor(pool: pg.Pool, instance: InstanceInfo, leaseMs: number) {
    this.pool = pool;
    this.instance = instance;
    this.leaseMs = leaseMs;
  }

  private interval(): string {
    return `${this.leaseMs} milliseconds`;
  }

  /** Says this instance is alive (first call: registers it). */
  async heartbeat(): Promise<void> {
    const i = this.instance;
    await this.pool.query(
      `INSERT INTO instances (id, host, pid, url, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp())
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = clock_timestamp(), url = excluded.url`,
      [i.id, i.host, i.pid, i.url ?? null],
    );
  }

  /** Tells the other instances this one is here: they look at their share of the lanes now. */
  async announce(): Promise<void> {
    await this.pool.query('SELECT pg_notify($1, $2)', [LEASES_CHANNEL, this.instance.id]);
  }

  /** Extends every lease this instance still holds; the ones not returned were lost (expired, maybe taken). */
  async renew(): Promise<HeldLease[]> {
    // Rows are locked in key order, as the writer's rounds lock them (FOR SHARE): no deadlock between the two.
    const r = await this.pool.query(
      `UPDATE lane_leases l SET expires_at = clock_timestamp() + $2::interval
         FROM (SELECT channel_id, destination_id, lane FROM lane_leases
                WHERE owner = $1 AND expires_at > clock_timestamp()
                ORDER BY channel_id, destination_id, lane FOR UPDATE) AS mine
        WHERE l.channel_id = mine.channel_id AND l.destination_id = mine.destination_id AND l.lane = mine.lane
        RETURNING l.channel_id, l.destination_id, l.lane, l.token`,
      [this.instance.id, this.interval()],
    );
    return (r.rows as LeaseRow[]).map(heldOf);
  }

  /** Live instances (heartbeat within a lease time, not stopped), each with its count of unexpired leases. */
  async holdings(): Promise<Holdings> {
    const r = await this.pool.query(
      `SELECT i.id, count(l.lane)::int AS leases FROM instances i
         LEFT JOIN lane_leases l ON l.owner = i.id AND l.expires_at > clock_timestamp()
        WHERE i.stopped_at IS NULL AND i.heartbeat_at > clock_timestamp() - $1::interval
        GROUP BY i.id`,
      [this.interval()],
    );
    return { live: new Map((r.rows as Array<{ id: string; leases: number }>).map((x) => [x.id, x.leases])) };
  }

  /**
   * Takes the lane if its lease is free or expired, with a new token; in the same transaction
   * the deliveries its previous owner left on the wire are queued again, each with an attempt
   * 'outcome unknown' (as a restart does for a single instance). Undefined when another
   * instance holds it.
   */
  async acquire(lane: LaneKey): Promise<HeldLease | undefined> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const r = await client.query(
        `INSERT INTO lane_leases (channel_id, destination_id, lane, owner, token, acquired_at, expires_at)
         VALUES ($1, $2, $3, $4, 1, clock_timestamp(), clock_timestamp() + $5::interval)
         ON CONFLICT (channel_id, destination_id, lane) DO UPDATE
           SET owner = excluded.owner, token = lane_leases.token + 1, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
           WHERE lane_leases.expires_at <= clock_timestamp()
         RETURNING channel_id, destination_id, lane, token`,
        [lane.channelId, lane.destinationId, lane.lane, this.instance.id, this.interval()],
      );
      const row = r.rows[0] as LeaseRow | undefined;
      if (row) {
        const where = `channel_id = $1 AND destination_id = $2 AND lane = $3 AND status = 'sent'`;
        const args = [lane.channelId, lane.destinationId, lane.lane];
        await client.query(
          `INSERT INTO attempts (delivery_id, attempt, started_at, latency_ms, outcome, detail)
           SELECT id, attempts + 1, updated_at, 0, 'unknown', 'outcome unknown: engine restarted, or its lane moved to another instance'
             FROM deliveries WHERE ${where} ORDER BY id`,
          args,
        );
        await client.query(`UPDATE deliveries SET status = 'queued', attempts = attempts + 1, updated_at = clock_timestamp() WHERE ${where}`, args);
      }
      await client.query('COMMIT');
      return row && heldOf(row);
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  /** Gives up these lanes (their deliveries are done): free at once for any instance, which is told (NOTIFY). */
  async release(lanes: readonly LaneKey[]): Promise<void> {
    if (lanes.length === 0) return;
    await this.pool.query(
      `WITH mine AS (
         SELECT l.channel_id, l.destination_id, l.lane FROM lane_leases l
           JOIN unnest($2::text[], $3::text[], $4::int[]) AS u (channel_id, destination_id, lane)
             ON l.channel_id = u.channel_id AND l.destination_id = u.destination_id AND l.lane = u.lane
          WHERE l.owner = $1 ORDER BY l.channel_id, l.destination_id, l.lane FOR UPDATE OF l),
       released AS (
         UPDATE lane_leases l SET owner = NULL, expires_at = '-infinity' FROM mine
          WHERE l.channel_id = mine.channel_id AND l.destination_id = mine.destination_id AND l.lane = mine.lane
          RETURNING l.lane)
       SELECT pg_notify($5, $1) FROM released LIMIT 1`,
      [this.instance.id, lanes.map((l) => l.channelId), lanes.map((l) => l.destinationId), lanes.map((l) => l.lane), LEASES_CHANNEL],
    );
  }

  /** Clean stop: every lease released at once, the instance marked stopped. */
  async stop(): Promise<void> {
    await this.pool.query(
      `WITH mine AS (SELECT channel_id, destination_id, lane FROM lane_leases WHERE owner = $1 ORDER BY channel_id, destination_id, lane FOR UPDATE),
            released AS (
              UPDATE lane_leases l SET owner = NULL, expires_at = '-infinity' FROM mine
               WHERE l.channel_id = mine.channel_id AND l.destination_id = mine.destination_id AND l.lane = mine.lane
               RETURNING l.lane),
            stopped AS (UPDATE instances SET stopped_at = clock_timestamp() WHERE id = $1 RETURNING id)
       SELECT pg_notify($2, $1) FROM stopped`,
      [this.instance.id, LEASES_CHANNEL],
    );
  }

  /** Instances seen within the last hour and every lease, for /api/cluster. */
  async view(): Promise<ClusterView> {
    const instances = await this.pool.query(
      `SELECT i.*, i.stopped_at IS NULL AND i.heartbeat_at > clock_timestamp() - $1::interval AS alive,
              (SELECT count(*)::int FROM lane_leases l WHERE l.owner = i.id AND l.expires_at > clock_timestamp()) AS leases
         FROM instances i WHERE i.heartbeat_at > clock_timestamp() - interval '1 hour' ORDER BY i.started_at`,
      [this.interval()],
    );
    const leases = await this.pool.query(
      `SELECT *, owner IS NOT NULL AND expires_at > clock_timestamp() AS held FROM lane_leases ORDER BY channel_id, destination_id, lane`,
    );
    return {
      instances: (instances.rows as Array<Record<string, string | number | boolean | null>>).map((i) => ({
        id: i.id as string,
        host: i.host as string,
        pid: i.pid as number,
        ...(i.url ? { url: i.url as string } : {}),
        startedAt: i.started_at as string,
        heartbeatAt: i.heartbeat_at as string,
        ...(i.stopped_at ? { stoppedAt: i.stopped_at as string } : {}),
        alive: i.alive as boolean,
        leases: i.leases as number,
      })),
      leases: (leases.rows as Array<Record<string, string | number | boolean | null>>).map((l) => ({
        channelId: l.channel_id as string,
        destinationId: l.destination_id as string,
        lane: l.lane as number,
        ...(l.held && l.owner ? { owner: l.owner as string } : {}),
        token: l.token as number,
        acquiredAt: l.acquired_at as string,
        expiresAt: l.expires_at as string,
        held: l.held as boolean,
      })),
    };
  }
}

interface LeaseRow {
  channel_id: string;
  destination_id: string;
  lane: number;
  token: number;
}

function heldOf(r: LeaseRow): HeldLease {
  return { channelId: r.channel_id, destinationId: r.destination_id, lane: r.lane, token: r.token };
}
