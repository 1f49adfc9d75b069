/**
 * The cost of encryption at rest (issue 11, item 3; target ≤ 10 % of end-to-end throughput): the
 * closed loop webhook → ORU^R01 → MLLP without a data key and with one (CONDUIT_DATA_KEY), runs
 * alternated (plain, keyed, plain, keyed, …) so that a drift of the machine weighs on both alike;
 * each side's median results/s, and their ratio.
 *
 *   node test/bench/encryption.bench.ts [--events 20000] [--concurrency 64] [--runs 2] [--durability full|normal]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { type ClosedLoopOptions, type ClosedLoopResult, formatClosedLoop, runClosedLoop } from './e2e.bench.ts';
import { fmt, table } from './measure.ts';

export interface EncryptionCost {
  plain: ClosedLoopResult[];
  sealed: ClosedLoopResult[];
  /** Median results/s end to end of each side. */
  plainPerSecond: number;
  sealedPerSecond: number;
  /** sealed ÷ plain: 0.95 is a cost of 5 %. */
  ratio: number;
  /** Engine CPU seconds per 1000 results, median of each side. */
  plainCpuPerThousand: number;
  sealedCpuPerThousand: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** `runs` closed loops on each side, alternated; `base` is the path's options without the key. */
export async function runEncryptionCost(
  base: Omit<ClosedLoopOptions, 'kind' | 'dataKey' | 'runId'>,
  runs: number,
  runId: () => string,
  progress: (r: ClosedLoopResult) => void = () => {},
): Promise<EncryptionCost> {
  const dataKey = `k-bench:${randomBytes(32).toString('base64')}`;
  const plain: ClosedLoopResult[] = [];
  const sealed: ClosedLoopResult[] = [];
  for (let i = 0; i < runs; i++) {
    for (const keyed of [false, true]) {
      const r = await runClosedLoop({ ...base, kind: 'webhook-mllp', runId: runId(), ...(keyed ? { dataKey } : {}) });
      (keyed ? sealed : plain).push(r);
      progress(r);
    }
  }
  const perThousand = (r: ClosedLoopResult) => (r.engineCpuSeconds * 1000) / r.events;
  const plainPerSecond = median(plain.map((r) => r.endToEndPerSecond));
  const sealedPerSecond = median(sealed.map((r) => r.endToEndPerSecond));
  return {
    plain,
    sealed,
    plainPerSecond,
    sealedPerSecond,
    ratio: sealedPerSecond / plainPerSecond,
    plainCpuPerThousand: median(plain.map(perThousand)),
    sealedCpuPerThousand: median(sealed.map(perThousand)),
  };
}

export function formatEncryptionCost(c: EncryptionCost): string {
  const cost = (1 - c.ratio) * 100;
  return `${table(
    ['store', 'runs', 'results/s e2e (median)', 'engine CPU s per 1000 results', 'each run (results/s)'],
    [
      ['plaintext', String(c.plain.length), fmt(c.plainPerSecond), fmt(c.plainCpuPerThousand, 2), c.plain.map((r) => fmt(r.endToEndPerSecond)).join(', ')],
      ['data key (AES-256-GCM)', String(c.sealed.length), fmt(c.sealedPerSecond), fmt(c.sealedCpuPerThousand, 2), c.sealed.map((r) => fmt(r.endToEndPerSecond)).join(', ')],
    ],
  )}\nwith a key ÷ without: ${fmt(c.ratio, 3)} (${cost >= 0 ? `${fmt(cost, 1)} % slower` : `${fmt(-cost, 1)} % faster: within the noise`}; target: at most 10 % slower)`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '64' },
      runs: { type: 'string', default: '2' },
      durability: { type: 'string', default: 'full' },
      patients: { type: 'string', default: '500' },
    },
    strict: true,
  });
  let n = 0;
  const cost = await runEncryptionCost(
    {
      events: Number(values.events),
      concurrency: Number(values.concurrency),
      lanes: 1,
      durability: values.durability === 'normal' ? 'normal' : 'full',
      patients: Number(values.patients),
    },
    Number(values.runs),
    () => `x${Date.now().toString(36)}${(n++).toString(36)}`,
    (r) => console.log(`  ${r.label}: ${fmt(r.endToEndPerSecond)} results/s`),
  );
  console.log(formatClosedLoop([...cost.plain, ...cost.sealed]));
  console.log(formatEncryptionCost(cost));
}
