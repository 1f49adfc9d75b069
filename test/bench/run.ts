/**
 * `npm run bench`: the delivery benchmarks of issue 9 in one run, on the engine as it is.
 * Prints tables and writes results.json and bench.svg into --out; asserts nothing about speed.
 *
 *   npm run bench -- [--only closed,open,lanes,hapi,codec] [--paths webhook-mllp,mllp-mllp,webhook-fhir]
 *     closed loop:  [--events 20000] [--concurrency 64] [--patients 500] [--durability full|normal]
 *                   [--normal] [--in-process] [--cpu-prof <dir>] [--lis thread|shared]
 *                   [--pace-intake] (every path's destination paces intake: DeliveryPolicy.paceIntake)
 *     encryption:   [--encryption-runs 2] (closed loops on each side, with the closed loop's events and concurrency)
 *     open loop:    [--open-loop 1000,2500] [--duration 60] [--warm-up 10] [--open-loop-lanes 1]
 *     FHIR:         [--fhir-peer medplum,instant] [--fhir-events N] [--fhir-open-loop R,...]
 *                   (Medplum's validating in-memory server manages a few Bundles a second, slower as it
 *                   fills: 50 events and 2/s unless given; the instant FHIR peer takes --events and --open-loop)
 *     lanes:        [--lanes-events 4000] [--lanes-rounds 2] [--lis-delay 2]
 *     HAPI, codec:  [--hapi-round-trips 20000] [--codec-seconds 2]
 *     cluster:      (only with --only cluster; needs PostgreSQL, see README) [--cluster-setups sqlite:1,postgres:1,postgres:2,postgres:3]
 *                   [--cluster-events 10000] [--cluster-rate 500] [--cluster-seconds 30]
 *     soak (alone): [--soak 1000000] [--soak-rate 1000] [--soak-path webhook-mllp] [--soak-retention 2m]
 *                   [--soak-store sqlite|postgres] (postgres: a database of its own on CONDUIT_TEST_POSTGRES's server)
 *                   [--out test/bench/out]
 *
 * Sections:
 * - closed: each path (webhook → MLLP, MLLP → MLLP, webhook → FHIR), C in flight, durability as
 *   given, lanes 1: results/s end to end and intake, delivered during intake (and as a % of the
 *   intake rate), latency, engine CPU and peak RSS;
 * - encryption: the cost of encryption at rest, webhook → MLLP closed loop without and with a data
 *   key, alternated, medians side by side and their ratio (encryption.bench.ts);
 * - open: each path at each rate for --duration seconds, latency from the time each event was due;
 * - lanes: lanes 1 and 4 with an instant LIS and one answering after --lis-delay ms, --lanes-rounds
 *   runs each side alternated (1, 4, 4, 1…), the ratio of their means;
 * - hapi: MLLP round trips/s of HAPI HL7v2's client and server beside ours;
 * - codec: our HL7 v2 codec beside other JavaScript ones;
 * - cluster: 1 instance on SQLite beside 1, 2 and 3 instances on one PostgreSQL (cluster.bench.ts).
 * The load average is printed with every run: other work on the machine moves the figures a lot.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { type BarPanel, barChartSvg, lineChartSvg } from './chart.ts';
import { type CodecBenchResult, formatCodecBench, runCodecBench } from './codec.bench.ts';
import { type ClusterBenchResult, formatCluster, LANES_PER_DESTINATION, runClusterSetup } from './cluster.bench.ts';
import { type ClosedLoopResult, formatClosedLoop, runClosedLoop } from './e2e.bench.ts';
import { type EncryptionCost, formatEncryptionCost, runEncryptionCost } from './encryption.bench.ts';
import { formatHapiComparison, type HapiComparison, runHapiComparison } from './hapi-mllp.bench.ts';
import { formatLanes, type LanesPair, meanPerSecond, runLanesPair } from './lanes.ts';
import { fmt, loadAverage, mib } from './measure.ts';
import { formatOpenLoop, type OpenLoopResult, runOpenLoop, worstSecond } from './open-loop.bench.ts';
import { parseBenchArgs } from './options.ts';
import type { FhirPeerKind, PathKind } from './paths.ts';
import { formatSoak, runSoak } from './soak.bench.ts';
import { tempDatabase } from '../support/postgres.ts';

const o = parseBenchArgs(process.argv.slice(2));
const out = resolve(o.out);
mkdirSync(out, { recursive: true });
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAverageAtStart: loadAverage(),
  startedAt: new Date().toISOString(),
};
const caption = `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.startedAt}, load average at start ${fmt(machine.loadAverageAtStart, 1)}`;
console.log(`Conduit benchmark on ${caption}`);
console.log(
  `Engine in a child process (conduit start, temp data directory); load generator and Medplum's FHIR server in this one, the LIS and the instant FHIR peer ${o.lis === 'thread' ? 'each on a thread of its own' : "on the load generator's event loop"}.\n`,
);

const SHORT: Record<PathKind, string> = { 'webhook-mllp': 'webhook→MLLP', 'mllp-mllp': 'MLLP→MLLP', 'webhook-fhir': 'webhook→FHIR' };
const short = (kind: PathKind, peer?: FhirPeerKind): string => (kind === 'webhook-fhir' ? `${SHORT[kind]} (${peer})` : SHORT[kind]);
/** Each path, the FHIR one once per FHIR peer. */
type Variant = { kind: PathKind; fhirPeer?: FhirPeerKind };
const variants = o.paths.flatMap((kind): Variant[] => (kind === 'webhook-fhir' ? o.fhirPeers.map((fhirPeer) => ({ kind, fhirPeer })) : [{ kind }]));
let runs = 0;
const runId = (): string => `${Date.now().toString(36)}${(runs++).toString(36)}`;
const base = { durability: o.durability, patients: o.patients, lis: o.lis, paceIntake: o.paceIntake };

if (o.soak !== undefined) {
  console.log(`Soak: ${fmt(o.soak)} messages at ${fmt(o.soakRate)}/s through ${SHORT[o.soakPath]}; engine RSS as it goes:`);
  const cleanup: Array<() => Promise<void>> = [];
  const store = o.soakStore === 'postgres' ? await tempDatabase({ after: (fn) => cleanup.push(fn) }) : undefined;
  const soak = await runSoak({
    messages: o.soak,
    rate: o.soakRate,
    kind: o.soakPath,
    ...base,
    ...(o.soakRetention ? { retention: o.soakRetention } : {}),
    ...(store ? { store } : {}),
  });
  for (const c of cleanup) await c();
  console.log(formatSoak(soak));
  writeFileSync(join(out, 'soak.json'), JSON.stringify({ machine, options: o, soak }, null, 2));
  const points = soak.samples.flatMap((s): Array<[number, number]> => (s.engineRssBytes === undefined ? [] : [[s.elapsedMs / 1000, s.engineRssBytes / 2 ** 20]]));
  writeFileSync(join(out, 'soak.svg'), lineChartSvg(`Engine RSS over a soak of ${fmt(o.soak)} messages at ${fmt(o.soakRate)}/s (${SHORT[o.soakPath]})`, 'seconds', 'MiB', points, caption));
  console.log(`\nWritten: ${join(out, 'soak.json')}, ${join(out, 'soak.svg')}`);
  process.exit(0);
}

const closed: ClosedLoopResult[] = [];
const open: OpenLoopResult[] = [];
const lanes: LanesPair[] = [];
let hapi: HapiComparison | undefined;
let encryption: EncryptionCost | undefined;
let codec: CodecBenchResult[] | undefined;
const progress = (r: ClosedLoopResult): void =>
  console.log(`  ${r.label}: ${fmt(r.endToEndPerSecond)} results/s end to end, intake ${fmt(r.intakePerSecond)}/s, kept pace ${fmt(r.keptPacePercent)} %, p99 ${fmt(r.latencyMs.p99, 1)} ms, peak RSS ${mib(r.engineRssPeakBytes)} (load average ${fmt(r.loadAverageAtStart, 1)})`);

if (o.sections.includes('closed')) {
  console.log(`Closed loop, ${o.concurrency} in flight:`);
  const closedRuns: Array<{ kind: PathKind; fhirPeer?: FhirPeerKind; durability: 'full' | 'normal'; inProcess: boolean }> = variants.map((v) => ({
    ...v,
    durability: o.durability,
    inProcess: false,
  }));
  if (o.normal) closedRuns.push({ kind: 'webhook-mllp', durability: 'normal', inProcess: false });
  if (o.inProcess) closedRuns.push({ kind: 'webhook-mllp', durability: o.durability, inProcess: true });
  for (const [i, v] of closedRuns.entries()) {
    const r = await runClosedLoop({
      ...base,
      ...v,
      events: v.fhirPeer ? o.fhirEvents(v.fhirPeer) : o.events,
      concurrency: o.concurrency,
      lanes: 1,
      runId: runId(),
      ...(o.cpuProf && i === 0 ? { engineExecArgv: ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`] } : {}),
    });
    closed.push(r);
    progress(r);
  }
}

if (o.sections.includes('encryption')) {
  console.log(`Encryption at rest: closed loop ${SHORT['webhook-mllp']}, ${o.concurrency} in flight, ${o.encryptionRuns} run(s) without and with a data key, alternated:`);
  encryption = await runEncryptionCost({ ...base, events: o.events, concurrency: o.concurrency, lanes: 1 }, o.encryptionRuns, runId, progress);
}

if (o.sections.includes('open')) {
  console.log(`Open loop, ${o.durationS} s per rate after ${o.warmUpS} s of warm-up, latency from each event's due time:`);
  for (const v of variants) {
    for (const lanesCount of o.openLoopLanes) {
      for (const rate of v.fhirPeer ? o.fhirOpenLoopRates(v.fhirPeer) : o.openLoopRates) {
        const r = await runOpenLoop({ ...base, ...v, rate, durationS: o.durationS, warmUpS: o.warmUpS, lanes: lanesCount, runId: runId() });
        open.push(r);
        console.log(
          `  ${r.label} at ${fmt(rate)}/s: p50 ${fmt(r.latencyMs.p50, 1)} ms, p99 ${fmt(r.latencyMs.p99, 1)} ms, p99.9 ${fmt(r.latencyMs.p999, 1)} ms (warm-up max ${fmt(r.warmUpMaxMs, 1)} ms, worst second ${worstSecond(r.maxBySecondMs)}), ${r.busy} 503s, ${r.errors} errors (load average ${fmt(r.loadAverageAtStart, 1)})`,
        );
        if (r.lastError) console.log(`    last error: ${r.lastError}`);
      }
    }
  }
}

if (o.sections.includes('lanes')) {
  console.log(`Lanes 1 and 4, closed loop of ${fmt(o.lanesEvents)} events, ${o.lanesRounds} run(s) each side, alternated (1, 4, 4, 1…):`);
  for (const v of variants) {
    const delays = v.kind === 'webhook-fhir' ? [0] : [0, o.lisDelayMs];
    for (const lisDelayMs of delays) {
      const group = v.kind === 'webhook-fhir' ? short(v.kind, v.fhirPeer) : `${short(v.kind)}, ${lisDelayMs ? `LIS answers after ${lisDelayMs} ms` : 'instant LIS'}`;
      const events = v.fhirPeer ? Math.min(o.lanesEvents, o.fhirEvents(v.fhirPeer)) : o.lanesEvents;
      lanes.push(await runLanesPair(group, { ...base, ...v, events, concurrency: o.concurrency, lisDelayMs, runId: runId() }, o.lanesRounds, progress));
    }
  }
}

if (o.sections.includes('hapi')) {
  console.log('MLLP round trips, HAPI HL7v2 beside ours...');
  hapi = await runHapiComparison(o.hapiRoundTrips);
}

if (o.sections.includes('codec')) {
  console.log(`HL7 v2 codecs, ${o.codecSeconds} s each...`);
  codec = await runCodecBench({ seconds: o.codecSeconds });
}

console.log(`\nMachine: ${caption}`);
if (closed.length > 0) console.log(`\nClosed loop, ${o.concurrency} in flight (kept pace = delivery rate during intake / intake rate):\n${formatClosedLoop(closed)}`);
if (encryption) console.log(`\nEncryption at rest, closed loop ${SHORT['webhook-mllp']} (results/s end to end):\n${formatEncryptionCost(encryption)}`);
if (open.length > 0) console.log(`\nOpen loop (latency = delivery at the destination - time the event was due):\n${formatOpenLoop(open)}`);
if (lanes.length > 0) console.log(`\nLanes, closed loop:\n${formatLanes(lanes)}`);
if (hapi) console.log(`\nMLLP round trips, one connection, one message outstanding:\n${formatHapiComparison(hapi)}`);
if (codec) console.log(`\nHL7 v2 codec, 20-OBX ORU^R01, ${o.codecSeconds} s per codec after warm-up (one core):\n${formatCodecBench(codec)}`);

const cluster: ClusterBenchResult[] = [];
if (o.sections.includes('cluster')) {
  console.log(
    `Scale-out: one channel, 3 MLLP destinations × ${LANES_PER_DESTINATION} lanes to one instant LIS (in this process); closed loop of ${fmt(o.clusterEvents)} webhooks, ${o.concurrency} in flight, spread over the instances; open loop ${fmt(o.clusterRate)}/s for ${o.clusterSeconds} s (POST → every destination's AA)`,
  );
  for (const setup of o.clusterSetups) {
    cluster.push(await runClusterSetup(setup, { events: o.clusterEvents, concurrency: o.concurrency, rate: o.clusterRate, seconds: o.clusterSeconds, patients: o.patients }));
    console.log(formatCluster(cluster.slice(-1)));
  }
  console.log(`\n${formatCluster(cluster)}`);
}

const panels: BarPanel[] = [];
if (open.length > 0) {
  panels.push({
    title: 'Open loop: due → delivered latency by rate',
    unit: 'ms (log scale)',
    series: ['p50', 'p99', 'p99.9'],
    log: true,
    groups: open.map((r) => ({
      label: `${short(r.kind, r.fhirPeer)} ${fmt(r.rate)}/s${o.openLoopLanes.length > 1 ? ` lanes ${r.lanes}` : ''}`,
      values: [r.latencyMs.p50, r.latencyMs.p99, r.latencyMs.p999],
    })),
  });
}
if (lanes.length > 0) {
  panels.push({
    title: 'Closed loop: results/s by lanes',
    unit: 'results/s',
    series: ['lanes 1', 'lanes 4'],
    groups: lanes.map((p) => ({ label: p.group.replace(', LIS answers after ', ', LIS +'), values: [meanPerSecond(p.one), meanPerSecond(p.four)] })),
  });
}
if (closed.length > 0) {
  panels.push({
    title: `Closed loop, ${o.concurrency} in flight: intake and end to end`,
    unit: 'per second',
    series: ['intake', 'end to end', 'delivered during intake'],
    groups: closed.map((r) => ({
      label: `${short(r.kind, r.fhirPeer)}${r.label.includes(', normal,') ? ' normal' : ''}${r.label.includes('in-process') ? ' in-process' : ''}`,
      values: [r.intakePerSecond, r.endToEndPerSecond, (r.intakePerSecond * r.keptPacePercent) / 100],
    })),
  });
}
if (encryption) {
  panels.push({
    title: 'Encryption at rest: closed loop results/s (median)',
    unit: 'results/s',
    series: ['plaintext', 'data key'],
    groups: [{ label: SHORT['webhook-mllp'], values: [encryption.plainPerSecond, encryption.sealedPerSecond] }],
  });
}
if (cluster.length > 0) {
  panels.push({
    title: 'Scale-out: results/s end to end by store and instances',
    unit: 'results/s',
    series: ['closed loop'],
    groups: cluster.map((r) => ({ label: `${r.store} × ${r.instances}`, values: [r.endToEndPerSecond] })),
  });
}
writeFileSync(join(out, 'results.json'), JSON.stringify({ machine, options: o, closed, encryption, open, lanes, hapi, codec, cluster }, null, 2));
const written = [join(out, 'results.json')];
if (panels.length > 0) {
  writeFileSync(join(out, 'bench.svg'), barChartSvg(panels, caption));
  written.push(join(out, 'bench.svg'));
}
console.log(`\nWritten: ${written.join(', ')}`);
