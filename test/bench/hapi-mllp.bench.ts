/**
 * MLLP round trips per second, one connection, one message outstanding, with HAPI HL7v2's own
 * client and server (test/peers/hapi-hl7v2/MllpBench.java) beside ours (MllpSender, the
 * dispatcher's client, and MllpServer answering an ACK built with buildAck), in the same run
 * and crossed: HAPI → HAPI, HAPI → ours, ours → HAPI, ours → ours. Both sides parse each message
 * with their codec. The JVM runs with its full JIT (C2) and is warmed up like ours.
 *
 * Skipped with a message when java or the HAPI jars are missing (test/peers/hapi-hl7v2/setup.sh).
 *
 *   node test/bench/hapi-mllp.bench.ts [roundTrips=20000]
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { buildAck, Hl7Message, isoToDtm } from '../../src/protocols/hl7v2/index.ts';
import { MllpServer } from '../../src/protocols/mllp/index.ts';
import { MllpSender, mllpDestinationConfig } from '../../src/senders/mllp/index.ts';
import { outbound } from '../protocols/mllp/helpers.ts';
import { javaPeer } from '../peers/java-peer.ts';
import { fmt, now, table } from './measure.ts';

const PEER_DIR = join(import.meta.dirname, '..', 'peers', 'hapi-hl7v2');
const JARS = ['hapi-base-2.6.0.jar', 'hapi-structures-v251-2.6.0.jar', 'slf4j-api-1.7.36.jar', 'slf4j-simple-1.7.36.jar'];
const MESSAGE_FILE = join(import.meta.dirname, '..', 'protocols', 'mllp', 'fixtures', 'oru-r01.hl7');
// The peers' shared flags stop the JIT at C1 for a fast start; a throughput figure needs C2.
const FULL_JIT = ['-XX:TieredStopAtLevel=4'];

export interface RoundTripFigure {
  client: 'HAPI' | 'ours';
  server: 'HAPI' | 'ours';
  perSecond: number;
}

export type HapiComparison = { skipped: string } | { figures: RoundTripFigure[]; roundTrips: number };

/** Why the HAPI side cannot run here, or undefined when it can. */
function missing(): string | undefined {
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).error) return "'java' is not on PATH";
  const absent = JARS.filter((j) => spawnSync('test', ['-f', join(PEER_DIR, 'lib', j)]).status !== 0);
  if (absent.length > 0) return `the HAPI jars are missing (${absent.join(', ')}); run test/peers/hapi-hl7v2/setup.sh`;
  return undefined;
}

const peer = javaPeer({ dir: PEER_DIR, mainClass: 'MllpBench', requiredJars: JARS });

async function startHapiServer(): Promise<{ port: number; close(): void }> {
  const child = spawn('java', peer.command(['server'], FULL_JIT), { cwd: PEER_DIR, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-4000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^READY (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`HAPI MllpBench server exited (${code}):\n${err}`)));
  });
  return { port, close: () => child.stdin.end() };
}

function hapiClient(port: number, warmUp: number, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', peer.command(['client', String(port), MESSAGE_FILE, String(warmUp), String(count)], FULL_JIT), {
      cwd: PEER_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err = (err + c.toString()).slice(-4000);
    });
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`HAPI MllpBench client failed (${code}):\n${err}`));
      else resolve((JSON.parse(out.trim().split('\n').at(-1)!) as { perSecond: number }).perSecond);
    });
  });
}

async function ourClient(port: number, warmUp: number, count: number): Promise<number> {
  const sender = new MllpSender(mllpDestinationConfig.parse({ host: '127.0.0.1', port }), { log: pino({ level: 'silent' }) });
  const signal = new AbortController().signal;
  try {
    const send = async (id: string): Promise<void> => {
      const outcome = await sender.send(outbound(id), signal);
      if (outcome.status !== 'acknowledged') throw new Error(`round trip ${id} failed: ${JSON.stringify(outcome)}`);
    };
    for (let i = 0; i < warmUp; i++) await send(`W${i}`);
    const t0 = now();
    for (let i = 0; i < count; i++) await send(`O${i}`);
    return (count * 1000) / (now() - t0);
  } finally {
    await sender.close();
  }
}

/** Our MllpServer answering AA to every message, parsed with our codec (as HAPI's generateACK does with its own). */
async function ourServer(): Promise<MllpServer> {
  const server = new MllpServer();
  await server.listen({
    host: '127.0.0.1',
    port: 0,
    maxFrameBytes: 1024 * 1024,
    handler: async (f) => {
      const m = Hl7Message.parse(f.toString());
      return buildAck(m, m.delimiters, { code: 'AA', controlId: `A${m.controlId}`, timestamp: isoToDtm(new Date().toISOString()) });
    },
  });
  return server;
}

export async function runHapiComparison(roundTrips: number): Promise<HapiComparison> {
  const why = missing();
  if (why) return { skipped: why };
  const warmUp = Math.min(5000, roundTrips);
  const hapi = await startHapiServer();
  const ours = await ourServer();
  const oursPort = ours.address().port;
  try {
    const figures: RoundTripFigure[] = [];
    figures.push({ client: 'HAPI', server: 'HAPI', perSecond: await hapiClient(hapi.port, warmUp, roundTrips) });
    figures.push({ client: 'HAPI', server: 'ours', perSecond: await hapiClient(oursPort, warmUp, roundTrips) });
    figures.push({ client: 'ours', server: 'HAPI', perSecond: await ourClient(hapi.port, warmUp, roundTrips) });
    figures.push({ client: 'ours', server: 'ours', perSecond: await ourClient(oursPort, warmUp, roundTrips) });
    return { figures, roundTrips };
  } finally {
    hapi.close();
    await ours.close();
  }
}

export function formatHapiComparison(c: HapiComparison): string {
  if ('skipped' in c) return `HAPI HL7v2 MLLP comparison skipped: ${c.skipped}`;
  const get = (client: string, server: string): number => c.figures.find((f) => f.client === client && f.server === server)?.perSecond ?? Number.NaN;
  const ratio = get('ours', 'ours') / get('HAPI', 'HAPI');
  return [
    table(
      ['client → server', 'round trips/s'],
      c.figures.map((f) => [`${f.client} → ${f.server}`, fmt(f.perSecond)]),
    ),
    `ours → ours / HAPI → HAPI: ${fmt(ratio, 2)}× (${c.roundTrips.toLocaleString('en-US')} round trips each after warm-up, one connection, one message outstanding)`,
  ].join('\n');
}

if (import.meta.main) {
  console.log(formatHapiComparison(await runHapiComparison(Number(process.argv[2] ?? 20_000))));
}
