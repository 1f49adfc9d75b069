/**
 * MLLP micro-benchmarks on loopback. Prints figures; asserts nothing about speed.
 *
 *   node_modules/.bin/node test/bench/mllp.bench.ts [roundTrips=20000]
 *
 * 1. Decoder alone: small frames pushed in 64 KiB chunks, and one frame per push.
 * 2. Round trips: MllpSender -> MllpServer -> ACK, strictly one message at a time, as one
 *    dispatcher lane does. The server parses each message with our codec to echo MSH-10.
 * 3. Pipelined: a raw client writes all frames at once; MllpServer answers each in order.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { frame, MllpDecoder, MllpServer } from '../../src/protocols/mllp/index.ts';
import { MllpSender, mllpDestinationConfig } from '../../src/senders/mllp/index.ts';
import { oru, outbound } from '../protocols/mllp/helpers.ts';

const roundTrips = Number(process.argv[2] ?? 20_000);

function rate(count: number, ms: number): string {
  return Math.round((count * 1000) / ms).toLocaleString('en-US');
}

function benchDecoder(): void {
  const payload = Buffer.from('MSH|^~\\&|LIS|HOSP|CONDUIT|LAB|20250101120000||ACK^R01^ACK|A1|P|2.5.1\rMSA|AA|MSG00001\r');
  const count = 200_000;
  const stream = Buffer.concat(Array.from({ length: count }, () => frame(payload)));
  const oneFrame = frame(payload);
  for (const [name, chunkBytes] of [
    ['64 KiB chunks', 64 * 1024],
    ['one frame per push', oneFrame.length],
  ] as const) {
    let frames = 0;
    const decoder = new MllpDecoder({ maxFrameBytes: 1024 * 1024, onFrame: () => (frames += 1) });
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i += chunkBytes) chunks.push(stream.subarray(i, i + chunkBytes));
    const t0 = performance.now();
    for (const c of chunks) decoder.push(c);
    const ms = performance.now() - t0;
    if (frames !== count) throw new Error(`decoded ${frames} of ${count}`);
    const mib = stream.length / 1024 / 1024 / (ms / 1000);
    console.log(`decoder, ${name}: ${rate(count, ms)} frames/s (${mib.toFixed(0)} MiB/s, ${payload.length}-byte payloads)`);
  }
  // A 16 MiB frame in 64 KiB chunks: collected as a list, concatenated once.
  const big = frame(Buffer.alloc(16 * 1024 * 1024, 0x41));
  const decoder = new MllpDecoder({ maxFrameBytes: 32 * 1024 * 1024, onFrame: () => {} });
  const t0 = performance.now();
  for (let i = 0; i < big.length; i += 64 * 1024) decoder.push(big.subarray(i, i + 64 * 1024));
  console.log(`decoder, one 16 MiB frame in 64 KiB chunks: ${(performance.now() - t0).toFixed(1)} ms`);
}

const ACK_HEAD = 'MSH|^~\\&|LIS|HOSP|CONDUIT|LAB|20250101120000||ACK^R01^ACK|A1|P|2.5.1\rMSA|AA|';

async function ackServer(): Promise<MllpServer> {
  const server = new MllpServer();
  await server.listen({
    host: '127.0.0.1',
    port: 0,
    maxFrameBytes: 1024 * 1024,
    handler: async (f) => `${ACK_HEAD}${Hl7Message.parse(f.toString()).controlId}\r`,
  });
  return server;
}

async function benchRoundTrips(): Promise<void> {
  const server = await ackServer();
  const sender = new MllpSender(mllpDestinationConfig.parse({ host: '127.0.0.1', port: server.address().port }), {
    log: pino({ level: 'silent' }),
  });
  const signal = new AbortController().signal;
  const messages = Array.from({ length: roundTrips }, (_, i) => outbound(`B${i}`));
  const warmup = Math.min(2000, roundTrips);
  for (let i = 0; i < warmup; i++) await sender.send(messages[i]!, signal);
  const t0 = performance.now();
  for (const m of messages) {
    const outcome = await sender.send(m, signal);
    if (outcome.status !== 'acknowledged') throw new Error(`round trip failed: ${JSON.stringify(outcome)}`);
  }
  const ms = performance.now() - t0;
  console.log(
    `MllpSender -> MllpServer round trips: ${rate(roundTrips, ms)}/s (${roundTrips} sequential, ${((ms * 1000) / roundTrips).toFixed(0)} µs each, ${messages[0]!.payload.length}-byte ORU^R01)`,
  );
  await sender.close();
  await server.close();
}

async function benchPipelined(): Promise<void> {
  const server = await ackServer();
  const count = 50_000;
  const burst = Buffer.concat(Array.from({ length: count }, (_, i) => frame(oru(`P${i}`))));
  const socket = net.connect({ host: '127.0.0.1', port: server.address().port });
  await new Promise((r) => socket.once('connect', r));
  let answers = 0;
  const decoder = new MllpDecoder({ maxFrameBytes: 1024 * 1024, onFrame: () => (answers += 1) });
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      if (answers === count) resolve();
    });
  });
  const t0 = performance.now();
  socket.write(burst);
  await done;
  const ms = performance.now() - t0;
  console.log(`MllpServer, ${count} pipelined messages on one connection: ${rate(count, ms)} answered/s`);
  socket.destroy();
  await server.close();
}

console.log(`node ${process.version}`);
benchDecoder();
await benchRoundTrips();
await benchPipelined();
