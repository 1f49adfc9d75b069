/** The flags of `npm run bench` (test/bench/run.ts), parsed and checked. */
import { parseArgs } from 'node:util';
import { Duration } from '../../src/config/duration.ts';
import { FHIR_PEERS, type FhirPeerKind, PATH_KINDS, type PathKind } from './paths.ts';

export const SECTIONS = ['closed', 'encryption', 'open', 'lanes', 'hapi', 'codec', 'cluster'] as const;
export type Section = (typeof SECTIONS)[number];
/** What runs without --only: all but the scale-out section, which needs PostgreSQL. */
const DEFAULT_SECTIONS: readonly Section[] = ['closed', 'encryption', 'open', 'lanes', 'hapi', 'codec'];

export interface BenchOptions {
  sections: Section[];
  paths: PathKind[];
  /** Closed loop: events per run, submissions in flight. */
  events: number;
  concurrency: number;
  patients: number;
  durability: 'full' | 'normal';
  /** Adds closed-loop runs with durability normal, and with the engine in this process. */
  normal: boolean;
  inProcess: boolean;
  /** Every path's destination paces intake (DeliveryPolicy.paceIntake). */
  paceIntake: boolean;
  /** Where the LIS and the instant FHIR peer run: each on its own thread, or on the load generator's event loop (see paths.ts). */
  lis: 'thread' | 'shared';
  cpuProf: string | undefined;
  /** Encryption at rest: closed-loop runs on each side (without, with a data key), alternated. */
  encryptionRuns: number;
  /** Open loop: rates (events/s), seconds per rate, lanes. */
  openLoopRates: number[];
  durationS: number;
  /** Open loop: seconds at the same rate before the measured ones, kept out of the percentiles. */
  warmUpS: number;
  openLoopLanes: number[];
  fhirPeers: FhirPeerKind[];
  /** webhook-fhir: events per closed-loop run and open-loop rates, per FHIR peer. */
  fhirEvents: (peer: FhirPeerKind) => number;
  fhirOpenLoopRates: (peer: FhirPeerKind) => number[];
  /** Lanes: events per run, and the slow LIS's delay. */
  lanesEvents: number;
  /** Lanes: rounds of one run each side, alternated ABBA. */
  lanesRounds: number;
  lisDelayMs: number;
  hapiRoundTrips: number;
  codecSeconds: number;
  /** Scale-out: setups (store:instances), closed-loop events, open-loop rate and seconds. */
  clusterSetups: string[];
  clusterEvents: number;
  clusterRate: number;
  clusterSeconds: number;
  /** Soak only: messages, rate, path. */
  soak: number | undefined;
  soakRate: number;
  soakPath: PathKind;
  /** Soak only: the channel's retention (content and metadata), e.g. '2m'. */
  soakRetention: string | undefined;
  /** Soak only: the store, SQLite or a PostgreSQL database made for the run (CONDUIT_TEST_POSTGRES's server). */
  soakStore: 'sqlite' | 'postgres';
  out: string;
}

const list = <T extends string>(flag: string, text: string, allowed: readonly T[]): T[] =>
  text.split(',').map((s) => {
    const v = allowed.find((a) => a === s.trim());
    if (!v) throw new Error(`--${flag}: '${s}' is not one of ${allowed.join(', ')}`);
    return v;
  });

const positive = (flag: string, text: string): number => {
  const n = Number(text);
  if (!(Number.isFinite(n) && n > 0)) throw new Error(`--${flag}: expected a positive number, got '${text}'`);
  return n;
};

const nonNegative = (flag: string, text: string): number => {
  const n = Number(text);
  if (!(Number.isFinite(n) && n >= 0)) throw new Error(`--${flag}: expected a number ≥ 0, got '${text}'`);
  return n;
};

/** A duration as a channel file writes it (the channel's retention takes it as written). */
const duration = (flag: string, text: string): string => {
  const parsed = Duration.safeParse(text);
  if (!parsed.success) throw new Error(`--${flag}: ${parsed.error.issues[0]!.message}, got '${text}'`);
  return text;
};

const numbers = (flag: string, text: string): number[] => text.split(',').map((s) => positive(flag, s.trim()));

export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', default: DEFAULT_SECTIONS.join(',') },
      paths: { type: 'string', default: PATH_KINDS.join(',') },
      events: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '64' },
      patients: { type: 'string', default: '500' },
      durability: { type: 'string', default: 'full' },
      normal: { type: 'boolean', default: false },
      'in-process': { type: 'boolean', default: false },
      'pace-intake': { type: 'boolean', default: false },
      lis: { type: 'string', default: 'thread' },
      'cpu-prof': { type: 'string' },
      'encryption-runs': { type: 'string', default: '2' },
      'open-loop': { type: 'string', default: '1000,2500' },
      duration: { type: 'string', default: '60' },
      'warm-up': { type: 'string', default: '10' },
      'open-loop-lanes': { type: 'string', default: '1' },
      'fhir-peer': { type: 'string', default: 'medplum,instant' },
      'fhir-events': { type: 'string' },
      'fhir-open-loop': { type: 'string' },
      'lanes-events': { type: 'string', default: '4000' },
      'lanes-rounds': { type: 'string', default: '2' },
      'lis-delay': { type: 'string', default: '2' },
      'hapi-round-trips': { type: 'string', default: '20000' },
      'codec-seconds': { type: 'string', default: '2' },
      'cluster-setups': { type: 'string', default: 'sqlite:1,postgres:1,postgres:2,postgres:3' },
      'cluster-events': { type: 'string', default: '10000' },
      'cluster-rate': { type: 'string', default: '500' },
      'cluster-seconds': { type: 'string', default: '30' },
      soak: { type: 'string' },
      'soak-rate': { type: 'string', default: '1000' },
      'soak-path': { type: 'string', default: 'webhook-mllp' },
      'soak-retention': { type: 'string' },
      'soak-store': { type: 'string', default: 'sqlite' },
      out: { type: 'string', default: 'test/bench/out' },
    },
    strict: true,
  });
  if (values.durability !== 'full' && values.durability !== 'normal') throw new Error(`--durability: expected full or normal, got '${values.durability}'`);
  const events = positive('events', values.events);
  const openLoopRates = numbers('open-loop', values['open-loop']);
  // Medplum's in-memory server validates and searches every conditional entry: a few Bundles a
  // second, slower as it fills. The instant FHIR peer takes the MLLP paths' load.
  const fhirEvents = values['fhir-events'];
  const fhirRates = values['fhir-open-loop'];
  return {
    sections: list('only', values.only, SECTIONS),
    paths: list('paths', values.paths, PATH_KINDS),
    events,
    concurrency: positive('concurrency', values.concurrency),
    patients: positive('patients', values.patients),
    durability: values.durability,
    normal: values.normal,
    inProcess: values['in-process'],
    paceIntake: values['pace-intake'],
    lis: list('lis', values.lis, ['thread', 'shared'] as const)[0]!,
    cpuProf: values['cpu-prof'],
    encryptionRuns: positive('encryption-runs', values['encryption-runs']),
    openLoopRates,
    durationS: positive('duration', values.duration),
    warmUpS: nonNegative('warm-up', values['warm-up']),
    openLoopLanes: numbers('open-loop-lanes', values['open-loop-lanes']),
    fhirPeers: list('fhir-peer', values['fhir-peer'], FHIR_PEERS),
    fhirEvents: (peer) => (fhirEvents ? positive('fhir-events', fhirEvents) : peer === 'medplum' ? 50 : events),
    fhirOpenLoopRates: (peer) => (fhirRates ? numbers('fhir-open-loop', fhirRates) : peer === 'medplum' ? [2] : openLoopRates),
    lanesEvents: positive('lanes-events', values['lanes-events']),
    lanesRounds: Math.round(positive('lanes-rounds', values['lanes-rounds'])),
    lisDelayMs: positive('lis-delay', values['lis-delay']),
    hapiRoundTrips: positive('hapi-round-trips', values['hapi-round-trips']),
    codecSeconds: positive('codec-seconds', values['codec-seconds']),
    clusterSetups: values['cluster-setups'].split(',').map((s) => {
      if (!/^(sqlite:1|postgres:[1-9])$/.test(s.trim())) throw new Error(`--cluster-setups: '${s}' is not sqlite:1 or postgres:<instances>`);
      return s.trim();
    }),
    clusterEvents: positive('cluster-events', values['cluster-events']),
    clusterRate: positive('cluster-rate', values['cluster-rate']),
    clusterSeconds: positive('cluster-seconds', values['cluster-seconds']),
    soak: values.soak === undefined ? undefined : positive('soak', values.soak),
    soakRate: positive('soak-rate', values['soak-rate']),
    soakPath: list('soak-path', values['soak-path'], PATH_KINDS)[0]!,
    soakRetention: values['soak-retention'] === undefined ? undefined : duration('soak-retention', values['soak-retention']),
    soakStore: list('soak-store', values['soak-store'], ['sqlite', 'postgres'] as const)[0]!,
    out: values.out,
  };
}
