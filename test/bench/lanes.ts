/**
 * Lanes: the same closed loop with lanes 1 and lanes 4, against an instant LIS and one that
 * answers each message after a delay (issue 9: with a 2 ms LIS, lanes 4 should be ≥ 3× lanes 1;
 * with an instant LIS, never slower).
 */
import { type ClosedLoopOptions, type ClosedLoopResult, runClosedLoop } from './e2e.bench.ts';
import { fmt, mib, table } from './measure.ts';

export interface LanesPair {
  /** What the pair was run on: path, FHIR peer, LIS delay. */
  group: string;
  one: ClosedLoopResult;
  four: ClosedLoopResult;
}

export async function runLanesPair(group: string, o: Omit<ClosedLoopOptions, 'lanes'>, onRun: (r: ClosedLoopResult) => void): Promise<LanesPair> {
  const one = await runClosedLoop({ ...o, lanes: 1, runId: `${o.runId}l1` });
  onRun(one);
  const four = await runClosedLoop({ ...o, lanes: 4, runId: `${o.runId}l4` });
  onRun(four);
  return { group, one, four };
}

export function formatLanes(pairs: LanesPair[]): string {
  return table(
    ['run', 'events', 'lanes 1 results/s', 'lanes 4 results/s', 'lanes 4 / lanes 1', 'lanes 1 p99 ms', 'lanes 4 p99 ms', 'peak RSS 1 / 4', 'load avg'],
    pairs.map((p) => [
      p.group,
      fmt(p.one.events),
      fmt(p.one.endToEndPerSecond),
      fmt(p.four.endToEndPerSecond),
      `${fmt(p.four.endToEndPerSecond / p.one.endToEndPerSecond, 2)}×`,
      fmt(p.one.latencyMs.p99, 1),
      fmt(p.four.latencyMs.p99, 1),
      `${mib(p.one.engineRssPeakBytes)} / ${mib(p.four.engineRssPeakBytes)}`,
      `${fmt(p.one.loadAverageAtStart, 1)} / ${fmt(p.four.loadAverageAtStart, 1)}`,
    ]),
  );
}
