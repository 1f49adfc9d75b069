import type { Fence } from '../store/types.ts';

/** The right to deliver one lane (see LaneGate). */
export interface LaneLease {
  /** Written with the lane's marks and outcomes; undefined for a sole instance (nothing to fence). */
  readonly fence?: Fence;
  /** Still held by this process's own clock: checked right before each send. */
  held(): boolean;
  /**
   * Until when (monotonicMs(), util/monotonic.ts) it is held by this process's clock as known
   * now; undefined when it never runs out. A message handed to a sender carries it (sendBy).
   */
  until(): number | undefined;
}

/** What a dispatcher tells the gate about its lanes. */
export interface LaneHooks {
  /** The lane may deliver now (its lease was acquired): read the store and go. */
  wake(lane: number): void;
  /** A delivery of the lane is between its mark and its recorded outcome: its lease is not given up yet. */
  busy(lane: number): boolean;
}

/**
 * Which lanes this process delivers. One instance on its own store delivers every lane; several
 * instances on one PostgreSQL store each deliver the lanes they hold a lease on
 * (cluster/lease-manager.ts), so each lane has one sender at a time.
 */
export interface LaneGate {
  /**
   * Other processes add deliveries to the store too: a lane cannot take the rows its own intake
   * committed without reading the store, where another instance's earlier row of the same
   * patient may be waiting.
   */
  readonly shared: boolean;
  /** The lease of a lane, undefined while this process may not deliver it. */
  lease(channelId: string, destinationId: string, lane: number): LaneLease | undefined;
  register(channelId: string, destinationId: string, lanes: number, hooks: LaneHooks): void;
  /** The destination stopped (reload, shutdown): its lanes are given up. */
  unregister(channelId: string, destinationId: string): void;
}

const ALWAYS: LaneLease = { held: () => true, until: () => undefined };

/** The gate of a process alone on its store: every lane is its own. */
export const SOLE_INSTANCE: LaneGate = {
  shared: false,
  lease: () => ALWAYS,
  register: () => {},
  unregister: () => {},
};
