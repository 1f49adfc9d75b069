import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LaneState, LaneView } from '../engine/dispatcher.ts';
import type { DestinationBacklog } from '../store/types.ts';
import { VERSION } from '../version.ts';
import { processRegistry } from './process-metrics.ts';
import type { StoreSize } from './store-size.ts';

/**
 * Seconds, from 1 ms (a LIS on the same network answering at once) to a minute (a slow FHIR
 * server; a delivery that waited for a retry); anything longer counts in +Inf only.
 */
export const LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** What became of one message at intake (`refused`: one input the channel did not take). */
export type IntakeOutcome = 'stored' | 'duplicate' | 'filtered' | 'refused';
export type AttemptOutcome = 'acknowledged' | 'rejected' | 'retryable';
export type SettledStatus = 'acknowledged' | 'rejected' | 'dead';

export const LANE_STATES: readonly LaneState[] = ['idle', 'delivering', 'retrying', 'paused', 'standby'];

/** A delivery that ended dead or rejected: the alerts hear of it at once. */
export interface TroubleEvent {
  readonly channelId: string;
  readonly destinationId: string;
  readonly status: 'rejected' | 'dead';
  /** The error code of the last attempt (MLLP_CONNECT_REFUSED, HL7_APPLICATION_REJECT …). */
  readonly code: string | undefined;
}

/** A destination and its lanes, as a running channel has them. */
export interface DestinationLanes {
  readonly channelId: string;
  readonly destinationId: string;
  readonly lanes: readonly LaneView[];
}

/** What the gauges read when scraped. */
export interface MetricSources {
  /** Pending deliveries per destination (a cheap, cached read: see Store.backlogByDestination). */
  backlog(): Promise<readonly DestinationBacklog[]>;
  /** Pending deliveries of the whole engine, as counted in memory. */
  pendingCount(): number;
  destinations(): Iterable<DestinationLanes>;
  /** Bytes of the store on disk (cached, see store-size.ts). */
  storeSize(): Promise<StoreSize>;
  /** Lanes this instance holds the lease of: only on a store shared by several instances. */
  leasesHeld?: () => number;
  /** 'sqlite' or 'postgres', for conduit_build_info. */
  store: string;
}

type Child = { inc(value?: number): void };
type Observer = { observe(value: number): void };

/** The intake counters of one channel, made once: the hot path increments without building labels. */
export class ChannelMetrics {
  readonly stored: Child;
  readonly duplicate: Child;
  readonly filtered: Child;
  readonly refused: Child;

  constructor(counter: Counter<'channel' | 'outcome'>, channelId: string) {
    this.stored = counter.labels(channelId, 'stored');
    this.duplicate = counter.labels(channelId, 'duplicate');
    this.filtered = counter.labels(channelId, 'filtered');
    this.refused = counter.labels(channelId, 'refused');
    // Every series shows from the start, at 0, so that rates and alerts on it work before the first increment.
    for (const c of [this.stored, this.duplicate, this.filtered, this.refused]) c.inc(0);
  }
}

interface DeliveryInstruments {
  attempts: Counter<'channel' | 'destination' | 'outcome'>;
  settled: Counter<'channel' | 'destination' | 'status'>;
  deliveryLatency: Histogram<'channel' | 'destination'>;
  attemptLatency: Histogram<'channel' | 'destination'>;
}

/** The delivery counters and histograms of one destination, made once (see ChannelMetrics). */
export class DestinationMetrics {
  private readonly channelId: string;
  private readonly destinationId: string;
  private readonly attempts: Record<AttemptOutcome, Child>;
  private readonly settledCounts: Record<SettledStatus, Child>;
  private readonly deliveryLatency: Observer;
  private readonly attemptLatency: Observer;
  private readonly trouble: (event: TroubleEvent) => void;

  constructor(m: DeliveryInstruments, channelId: string, destinationId: string, trouble: (event: TroubleEvent) => void) {
    this.channelId = channelId;
    this.destinationId = destinationId;
    this.trouble = trouble;
    const by = <T extends string>(values: readonly T[], counter: Counter<string>) => {
      const children = Object.fromEntries(values.map((v) => [v, counter.labels(channelId, destinationId, v)])) as Record<T, Child>;
      for (const v of values) children[v].inc(0);
      return children;
    };
    this.attempts = by(['acknowledged', 'rejected', 'retryable'], m.attempts);
    this.settledCounts = by(['acknowledged', 'rejected', 'dead'], m.settled);
    this.deliveryLatency = m.deliveryLatency.labels(channelId, destinationId);
    this.attemptLatency = m.attemptLatency.labels(channelId, destinationId);
    m.deliveryLatency.zero({ channel: channelId, destination: destinationId });
    m.attemptLatency.zero({ channel: channelId, destination: destinationId });
  }

  /** One attempt and how long the exchange took. */
  attempted(outcome: AttemptOutcome, seconds: number): void {
    this.attempts[outcome].inc();
    this.attemptLatency.observe(seconds);
  }

  /** A delivery reached a terminal state; acknowledged ones add their time since the message was received. */
  settled(status: SettledStatus, receivedAt: string, code: string | undefined): void {
    this.settledCounts[status].inc();
    if (status === 'acknowledged') {
      const seconds = (Date.now() - Date.parse(receivedAt)) / 1000;
      // A clock set back since intake gives nothing to count.
      if (seconds >= 0) this.deliveryLatency.observe(seconds);
      return;
    }
    this.trouble({ channelId: this.channelId, destinationId: this.destinationId, status, code });
  }
}

/**
 * The engine's Prometheus metrics (GET /metrics). One registry per engine, so that engines
 * sharing a process (tests) keep their series apart; the process's own metrics come from
 * process-metrics.ts. Labels are configuration ids (channel, destination, lane) and fixed words
 * (status, outcome, state), never anything from a message.
 */
export class EngineMetrics {
  readonly registry = new Registry();
  private readonly received: Counter<'channel' | 'outcome'>;
  private readonly delivery: DeliveryInstruments;
  private readonly channels = new Map<string, ChannelMetrics>();
  private readonly destinations = new Map<string, DestinationMetrics>();
  private readonly troubleListeners: Array<(event: TroubleEvent) => void> = [];

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.received = new Counter({
      name: 'conduit_messages_received_total',
      help: 'Messages received by channel and outcome: stored, duplicate (already stored), filtered (kept from every destination), refused (an input not taken)',
      labelNames: ['channel', 'outcome'],
      registers,
    });
    this.delivery = {
      settled: new Counter({
        name: 'conduit_deliveries_settled_total',
        help: 'Deliveries that reached a terminal status: acknowledged, rejected, dead',
        labelNames: ['channel', 'destination', 'status'],
        registers,
      }),
      attempts: new Counter({
        name: 'conduit_delivery_attempts_total',
        help: 'Delivery attempts by outcome: acknowledged, rejected, retryable',
        labelNames: ['channel', 'destination', 'outcome'],
        registers,
      }),
      deliveryLatency: new Histogram({
        name: 'conduit_delivery_latency_seconds',
        help: 'From when a message was received to its acknowledgement by the destination',
        labelNames: ['channel', 'destination'],
        buckets: [...LATENCY_BUCKETS],
        registers,
      }),
      attemptLatency: new Histogram({
        name: 'conduit_attempt_latency_seconds',
        help: 'One delivery attempt: from sending to the answer (or the failure)',
        labelNames: ['channel', 'destination'],
        buckets: [...LATENCY_BUCKETS],
        registers,
      }),
    };
    new Gauge({
      name: 'conduit_backlog_deliveries',
      help: 'Pending deliveries (queued, sent, waiting for a retry) per destination, as committed',
      labelNames: ['channel', 'destination'],
      registers,
      async collect() {
        // A store that cannot be read leaves the series absent rather than failing the scrape.
        const rows = await sources.backlog().catch(() => undefined);
        this.reset();
        if (!rows) return;
        for (const d of sources.destinations()) this.labels(d.channelId, d.destinationId).set(0);
        for (const r of rows) this.labels(r.channelId, r.destinationId).set(r.pending);
      },
    });
    new Gauge({
      name: 'conduit_engine_backlog_deliveries',
      help: 'Pending deliveries of the whole engine (intake pushes back at --max-backlog)',
      registers,
      collect() {
        this.set(sources.pendingCount());
      },
    });
    new Gauge({
      name: 'conduit_lane_state',
      help: 'What each delivery lane is doing: 1 for its state (idle, delivering, retrying, paused, standby), 0 for the others',
      labelNames: ['channel', 'destination', 'lane', 'state'],
      registers,
      collect() {
        this.reset();
        for (const d of sources.destinations()) {
          for (const l of d.lanes) {
            for (const state of LANE_STATES) this.labels(d.channelId, d.destinationId, String(l.lane), state).set(l.state === state ? 1 : 0);
          }
        }
      },
    });
    new Gauge({
      name: 'conduit_destination_failing_seconds',
      help: 'How long the longest-failing lane of a destination has been retrying or paused without a delivery getting through; 0 when none is',
      labelNames: ['channel', 'destination'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const d of sources.destinations()) {
          const since = failingSince(d.lanes);
          this.labels(d.channelId, d.destinationId).set(since === undefined ? 0 : Math.max(0, (now - since) / 1000));
        }
      },
    });
    new Gauge({
      name: 'conduit_store_size_bytes',
      help: 'The store on disk: file and wal (SQLite), database (PostgreSQL); read at most every 30 s',
      labelNames: ['part'],
      registers,
      async collect() {
        const size = await sources.storeSize().catch(() => undefined);
        this.reset();
        for (const [part, bytes] of Object.entries(size ?? {})) this.labels(part).set(bytes);
      },
    });
    const leasesHeld = sources.leasesHeld;
    if (leasesHeld) {
      new Gauge({
        name: 'conduit_lane_leases_held',
        help: 'Lanes this instance holds the lease of (several instances on one PostgreSQL store)',
        registers,
        collect() {
          this.set(leasesHeld());
        },
      });
    }
    new Gauge({ name: 'conduit_build_info', help: 'Version and store of this engine', labelNames: ['version', 'store'], registers })
      .labels(VERSION, sources.store)
      .set(1);
  }

  /** The intake counters of a channel (made at its first use, kept across reloads). */
  channel(channelId: string): ChannelMetrics {
    let m = this.channels.get(channelId);
    if (!m) {
      m = new ChannelMetrics(this.received, channelId);
      this.channels.set(channelId, m);
    }
    return m;
  }

  /** The delivery instruments of a destination (made at its first use, kept across reloads). */
  destination(channelId: string, destinationId: string): DestinationMetrics {
    const key = `${channelId}\u0000${destinationId}`;
    let m = this.destinations.get(key);
    if (!m) {
      m = new DestinationMetrics(this.delivery, channelId, destinationId, (e) => {
        for (const listener of this.troubleListeners) listener(e);
      });
      this.destinations.set(key, m);
    }
    return m;
  }

  /** Tells `listener` of every delivery that ends dead or rejected, as it happens. */
  onTrouble(listener: (event: TroubleEvent) => void): void {
    this.troubleListeners.push(listener);
  }

  /** The Prometheus text exposition (format 0.0.4) of this engine's metrics and the process's. */
  async text(): Promise<string> {
    return Registry.merge([this.registry, processRegistry()]).metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Since when the longest-failing lane has been failing; undefined when none is. */
export function failingSince(lanes: readonly LaneView[]): number | undefined {
  let since: number | undefined;
  for (const l of lanes) if (l.failingSince !== undefined && (since === undefined || l.failingSince < since)) since = l.failingSince;
  return since;
}
