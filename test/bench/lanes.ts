/**
 * Lanes: the same closed loop with lanes 1 and lanes 4, against an instant LIS and one that
 * answers each message after a delay (issue 9: with a 2 ms LIS, lanes 4 should be ≥ 3× lanes 1;
 * with an instant LIS, never slower). Runs alternate ABBA (1, 4, 4, 1, 1, 4…), so a machine
 * that speeds up or slows down during the pair weighs on both sides alike; the ratio is the mean
 * of lanes 4's runs over the mean of lanes 1's.
 */
import { type ClosedLoopOptions, type ClosedLoopResult, runClosedLoop } from './e2e.bench.ts';
import { fmt, mib, table } from './measure.ts';

export interface LanesPair {
  /** What the pair was run on: path, FHIR peer, LIS delay. */
  group: string;
  /** Each side's runs, in the order made. */
  one: ClosedLoopResult[];
  four: ClosedLoopResult[];
}

/** Lanes 1 first in even rounds, lanes 4 first in odd ones. */
export async function runLanesPair(group: string, o: Omit<ClosedLoopOptions, 'lanes'>, rounds: number, onRun: (r: ClosedLoopResult) => void): Promise<LanesPair> {
  const pair: LanesPair = { group, one: [], four: [] };
  for (let round = 0; round < rounds; round++) {
    for (const lanes of round % 2 === 0 ? [1, 4] : [4, 1]) {
      const r = await runClosedLoop({ ...o, lanes, runId: `${o.runId}r${round}l${lanes}` });
      (lanes === 1 ? pair.one : pair.four).push(r);
      onRun(r);
    }
  }
  return pair;
}

export const meanPerSecond = (runs: readonly ClosedLoopResult[]): number => runs.reduce((sum, r) => sum + r.endToEndPerSecond, 0) / runs.length;

const peakRss = (runs: readonly ClosedLoopResult[]): number | undefined => {
  const known = runs.flatMap((r) => (r.engineRssPeakBytes === undefined ? [] : [r.engineRssPeakBytes]));
  return known.length > 0 ? Math.max(...known) : undefined;
};

const each = (runs: readonly ClosedLoopResult[], f: (r: ClosedLoopResult) => string): string => runs.map(f).join(' / ');

export function formatLanes(pairs: LanesPair[]): string {
  return table(
    ['run', 'events × runs', 'lanes 1 results/s (each run)', 'lanes 4 results/s (each run)', 'lanes 4 / lanes 1 (means)', 'lanes 1 p99 ms', 'lanes 4 p99 ms', 'peak RSS 1 / 4', 'load avg 1 / 4'],
    pairs.map((p) => [
      p.group,
      `${fmt(p.one[0]!.events)} × ${p.one.length}`,
      each(p.one, (r) => fmt(r.endToEndPerSecond)),
      each(p.four, (r) => fmt(r.endToEndPerSecond)),
      `${fmt(meanPerSecond(p.four) / meanPerSecond(p.one), 2)}×`,
      each(p.one, (r) => fmt(r.latencyMs.p99, 1)),
      each(p.four, (r) => fmt(r.latencyMs.p99, 1)),
      `${mib(peakRss(p.one))} / ${mib(peakRss(p.four))}`,
      `${each(p.one, (r) => fmt(r.loadAverageAtStart, 1))} / ${each(p.four, (r) => fmt(r.loadAverageAtStart, 1))}`,
    ]),
  );
}
