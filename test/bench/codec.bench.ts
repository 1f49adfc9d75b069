/**
 * HL7 v2 codec benchmark: messages per second on one core for our codec and two npm parsers,
 * on a 20-OBX ORU^R01 v2.5.1 message whose every OBX-5 holds all five delimiter escapes, a
 * \.br\ line break and non-ASCII text. Also counts how many of the 20 OBX-5 values each
 * library reads back as they were written.
 *
 *   node test/bench/codec.bench.ts [seconds]
 *
 * - ours parse+serialise          Hl7Message.parse(text).toString()
 * - ours parse+read+serialise     ...plus every OBX-5 (unescaped) and OBX-3.2
 * - hl7-standard parse+serialise  new HL7(text).transform(); build()
 * - node-hl7-client parse+read+serialise  new Message({ text }), get('OBX.5') / get('OBX.3.2'), toString()
 */
import { createRequire } from 'node:module';
import { Message } from 'node-hl7-client';
import { DEFAULT_DELIMITERS, encodeSegment, type FieldInput, formatMessage, Hl7Message } from '../../src/protocols/hl7v2/index.ts';

/** hl7-standard 1.0.4 ships no types; the part of its API used here. */
interface Hl7StandardMessage {
  transform(): void;
  build(): string;
  get(field: string, index?: number): unknown;
}
type Hl7StandardConstructor = new (text: string, options?: { lineEndings?: string }) => Hl7StandardMessage;
const HL7Standard = createRequire(import.meta.url)('hl7-standard') as Hl7StandardConstructor;

export interface CodecBenchResult {
  name: string;
  perSecond: number;
  /** How many of the 20 escaped OBX-5 values the library reads back as written. */
  correctValues: number;
}

const OBX_COUNT = 20;
const NON_ASCII = ['Nguyễn Văn Ánh', 'Ωμέγα-3', '血红蛋白', 'Müller µmol/L', '🧪 ± ≥ °C'];

/** OBX-5 as written by the analyser: all five delimiters, a line break, non-ASCII. */
export function obxValue(i: number): string {
  return `Result ${i + 1}: 4.2 | ratio ^ 1:${i + 2} ~ range & note \\ path\nsecond line ${NON_ASCII[i % NON_ASCII.length]}`;
}

function obxName(i: number): string {
  return `Analyte ${i + 1} & panel ^ ${NON_ASCII[(i + 2) % NON_ASCII.length]}`;
}

/** The 20-OBX ORU^R01 v2.5.1 message, built (and so escaped) by our encoder. */
export function buildBenchMessage(): string {
  const d = DEFAULT_DELIMITERS;
  const msh: FieldInput[] = [];
  msh[3] = ['Conduit', '2.16.840.1.113883.3.999.1', 'ISO'];
  msh[4] = 'Main Lab & Clinics';
  msh[5] = 'LIS';
  msh[6] = 'Ward 3 | ICU';
  msh[7] = '20250102030405+0100';
  msh[9] = ['ORU', 'R01', 'ORU_R01'];
  msh[10] = 'BENCH-0001';
  msh[11] = 'P';
  msh[12] = '2.5.1';
  msh[18] = 'UNICODE UTF-8';
  const pid: FieldInput[] = [];
  pid[1] = '1';
  pid[3] = { repeat: [['MRN|001', null, null, ['Main Lab', '2.16.840.1.113883.3.999.2', 'ISO'], 'MR']] };
  pid[5] = ["O'Brien^Smith", 'Nguyễn Văn'];
  pid[7] = '19800101';
  pid[8] = 'F';
  const obr: FieldInput[] = [];
  obr[1] = '1';
  obr[3] = 'FIL&1';
  obr[4] = ['58410-2', 'CBC panel & differential', 'LN'];
  obr[7] = '20250102020000+0100';
  const segments = [encodeSegment('MSH', msh, d), encodeSegment('PID', pid, d), encodeSegment('OBR', obr, d)];
  for (let i = 0; i < OBX_COUNT; i++) {
    const obx: FieldInput[] = [];
    obx[1] = String(i + 1);
    obx[2] = 'TX';
    obx[3] = [`${1000 + i}-${i % 10}`, obxName(i), 'LN'];
    obx[5] = obxValue(i);
    obx[6] = 'mmol/L';
    obx[11] = 'F';
    segments.push(encodeSegment('OBX', obx, d));
  }
  segments.push(encodeSegment('NTE', [null, '1', 'L', 'Comment \\ with | all ^ five ~ escapes &\nand a line break'], d));
  return formatMessage(segments);
}

/** A value is read back correctly when it equals what was written, its line break either as "\n" or as the \.br\ escape. */
function isCorrect(read: unknown, i: number): boolean {
  const written = obxValue(i);
  return read === written || read === written.replace(/\n/g, '\\.br\\');
}

function countCorrect(values: unknown[]): number {
  return values.filter((v, i) => isCorrect(v, i)).length;
}

interface Contender {
  name: string;
  /** One parse (+ reads) + serialise; returns something derived from the work so it cannot be skipped. */
  run: (text: string) => number;
  /** The 20 OBX-5 values as the library reads them. */
  read: (text: string) => unknown[];
}

const ours = {
  read: (text: string): unknown[] => Hl7Message.parse(text).all('OBX').map((s) => s.get(5)),
};

function hl7Standard(text: string): Hl7StandardMessage {
  const h = new HL7Standard(text, { lineEndings: '\r' });
  h.transform();
  return h;
}

function oracleObx(o: Message): Array<{ get(path: string): { toString(): string } }> {
  return [...o.get('OBX')];
}

const CONTENDERS: Contender[] = [
  {
    name: 'ours parse+serialise',
    run: (text) => Hl7Message.parse(text).toString().length,
    read: ours.read,
  },
  {
    name: 'ours parse+read+serialise',
    run: (text) => {
      const m = Hl7Message.parse(text);
      let n = 0;
      for (const obx of m.all('OBX')) n += obx.get(5).length + obx.get(3, 2).length;
      return n + m.toString().length;
    },
    read: ours.read,
  },
  {
    name: 'hl7-standard parse+serialise',
    run: (text) => hl7Standard(text).build().length,
    read: (text) => {
      const h = hl7Standard(text);
      return Array.from({ length: OBX_COUNT }, (_, i) => h.get('OBX.5', i));
    },
  },
  {
    name: 'node-hl7-client parse+read+serialise',
    run: (text) => {
      const o = new Message({ text });
      let n = 0;
      for (const obx of oracleObx(o)) n += obx.get('OBX.5').toString().length + obx.get('OBX.3.2').toString().length;
      return n + o.toString().length;
    },
    read: (text) => oracleObx(new Message({ text })).map((obx) => obx.get('OBX.5').toString()),
  },
];

let sink = 0;

/** Runs `fn` repeatedly for `ms` milliseconds in batches, so the clock is read rarely; returns runs per second. */
function timed(fn: () => number, ms: number, batch: number): number {
  const start = performance.now();
  const until = start + ms;
  let done = 0;
  let now = start;
  while (now < until) {
    for (let k = 0; k < batch; k++) sink += fn();
    done += batch;
    now = performance.now();
  }
  return done / ((now - start) / 1000);
}

/** Rounds per contender: interleaving them spreads any load from other processes over all. */
const ROUNDS = 4;

export async function runCodecBench(options?: { seconds?: number }): Promise<CodecBenchResult[]> {
  const seconds = options?.seconds ?? 2;
  const text = buildBenchMessage();
  const correct = CONTENDERS.map((c) => countCorrect(c.read(text)));
  // Warm-up: every contender runs long enough for the JIT to settle before anything is timed.
  for (const c of CONTENDERS) timed(() => c.run(text), Math.min(1000, seconds * 250), 8);
  const rates: number[][] = CONTENDERS.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of CONTENDERS.entries()) {
      rates[i]!.push(timed(() => c.run(text), (seconds * 1000) / ROUNDS, 8));
      // Let timers and I/O run between measurements; a combined runner may be waiting on them.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  if (sink === -1) console.log(sink);
  return CONTENDERS.map((c, i) => ({ name: c.name, perSecond: median(rates[i]!), correctValues: correct[i]! }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The results as a table, with how many times faster our codec is on the comparable task. */
export function formatCodecBench(results: CodecBenchResult[]): string {
  const ourSerialise = results.find((r) => r.name === 'ours parse+serialise');
  const ourRead = results.find((r) => r.name === 'ours parse+read+serialise');
  const rows = results.map((r) => {
    const base = r.name.includes('read') ? ourRead : ourSerialise;
    const ratio = r.name.startsWith('ours') || !base ? '' : `${(base.perSecond / r.perSecond).toFixed(1)}×`;
    return [r.name, Math.round(r.perSecond).toLocaleString('en-US'), `${r.correctValues}/${OBX_COUNT}`, ratio];
  });
  const header = ['codec', 'messages/s', 'OBX-5 read back', 'ours/this'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

if (import.meta.main) {
  const seconds = Number(process.argv[2] ?? 2);
  const text = buildBenchMessage();
  console.log(
    `20-OBX ORU^R01 v2.5.1, ${Buffer.byteLength(text)} bytes; ${seconds} s per codec after warm-up, in ${ROUNDS} interleaved rounds (median); node ${process.version}`,
  );
  console.log(formatCodecBench(await runCodecBench({ seconds })));
}
