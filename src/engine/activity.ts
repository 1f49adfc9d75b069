import type { Registry } from 'prom-client';

/** What the dashboard counts per channel: messages in (new, filtered, duplicate, refused) and deliveries settled. */
export const ACTIVITY_KEYS = ['received', 'filtered', 'duplicate', 'refused', 'acknowledged', 'rejected', 'dead'] as const;
export type ActivityKey = (typeof ACTIVITY_KEYS)[number];
export type ActivityCounts = Record<ActivityKey, number>;

export interface ChannelActivity {
  /** Messages received per minute, the last 15 minutes, oldest first; the last is the minute running now. */
  readonly perMinute: number[];
  readonly hour: ActivityCounts;
  readonly day: ActivityCounts;
  /** When counting began, if less than a day ago (this process started then). */
  readonly since?: string;
}

const MINUTE = 60_000;
const KEPT = 24 * 60;

interface Sample {
  readonly at: number;
  readonly counts: ReadonlyMap<string, ActivityCounts>;
}

const zero = (): ActivityCounts => Object.fromEntries(ACTIVITY_KEYS.map((k) => [k, 0])) as ActivityCounts;

/**
 * Recent activity per channel for the dashboard, from the engine's own counters (those of
 * /metrics): a snapshot each minute, kept a day, so the last hour and day are the differences
 * with the snapshot of then. In-process: a restarted engine counts from its start (`since`), and
 * on several instances each one counts what it took in and delivered.
 */
export class Activity {
  private readonly registry: Registry;
  private readonly samples: Sample[] = [];
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(registry: Registry) {
    this.registry = registry;
  }

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), MINUTE);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The counters now, per channel. */
  async counts(): Promise<Map<string, ActivityCounts>> {
    const by = new Map<string, ActivityCounts>();
    const of = (channel: string) => by.get(channel) ?? by.set(channel, zero()).get(channel)!;
    const received = await this.registry.getSingleMetric('conduit_messages_received_total')?.get();
    for (const v of received?.values ?? []) {
      const c = of(String(v.labels.channel));
      const outcome = String(v.labels.outcome);
      if (outcome === 'stored') c.received += v.value;
      else if (outcome === 'filtered') {
        c.filtered += v.value;
        c.received += v.value;
      } else if (outcome === 'duplicate') c.duplicate += v.value;
      else if (outcome === 'refused') c.refused += v.value;
    }
    const settled = await this.registry.getSingleMetric('conduit_deliveries_settled_total')?.get();
    for (const v of settled?.values ?? []) {
      // Status callbacks report deliveries; they are not deliveries of the channel's results.
      if (String(v.labels.destination).startsWith('status-callback:')) continue;
      const status = String(v.labels.status) as ActivityKey;
      if (status === 'acknowledged' || status === 'rejected' || status === 'dead') of(String(v.labels.channel))[status] += v.value;
    }
    return by;
  }

  private async sample(): Promise<void> {
    this.samples.push({ at: Date.now(), counts: await this.counts() });
    if (this.samples.length > KEPT + 1) this.samples.shift();
  }

  /** The newest snapshot taken at or before `at`, else the oldest one. */
  private at(at: number): Sample | undefined {
    let found: Sample | undefined;
    for (const s of this.samples) {
      if (s.at <= at) found = s;
      else break;
    }
    return found ?? this.samples[0];
  }

  /** A channel that has seen nothing yet. */
  empty(): ChannelActivity {
    return { perMinute: new Array(15).fill(0), hour: zero(), day: zero(), ...this.since(Date.now()) };
  }

  /** When counting began, while that is less than a day ago. */
  private since(now: number): { since?: string } {
    return now - this.startedAt < KEPT * MINUTE ? { since: new Date(this.startedAt).toISOString() } : {};
  }

  async view(now = Date.now()): Promise<Record<string, ChannelActivity>> {
    const current = await this.counts();
    const out: Record<string, ChannelActivity> = {};
    const diff = (a: ActivityCounts | undefined, b: ActivityCounts | undefined): ActivityCounts =>
      Object.fromEntries(ACTIVITY_KEYS.map((k) => [k, Math.max(0, (a?.[k] ?? 0) - (b?.[k] ?? 0))])) as ActivityCounts;
    for (const [channel, counts] of current) {
      const perMinute: number[] = [];
      for (let i = 14; i >= 0; i--) {
        const end = i === 0 ? counts : this.at(now - i * MINUTE)?.counts.get(channel);
        const start = this.at(now - (i + 1) * MINUTE)?.counts.get(channel);
        perMinute.push(diff(end, start).received);
      }
      out[channel] = {
        perMinute,
        hour: diff(counts, this.at(now - 60 * MINUTE)?.counts.get(channel)),
        day: diff(counts, this.at(now - KEPT * MINUTE)?.counts.get(channel)),
        ...this.since(now),
      };
    }
    return out;
  }
}
