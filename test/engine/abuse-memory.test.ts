/**
 * Issue 8, "memory under abuse is bounded": 300 stalled request bodies and 40 MLLP
 * connections each holding an unterminated 15 MB frame (before: +720 MB from 100 slow REST
 * bodies, +600 MB from the MLLP frames). The engine runs in a child process so its resident
 * memory can be read from /proc; the bound is on memory, not on time.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { Hl7Message, readAck } from '../../src/protocols/hl7v2/index.ts';
import { MllpClientConnection, VT } from '../../src/protocols/mllp/index.ts';
import { restToMllpChannel } from '../sources/rest/support.ts';
import { startEngine } from '../support/engine-process.ts';
import { makeEvent } from '../support/events.ts';
import { webhookToMllpChannel } from '../support/in-process.ts';

const MB = 1_048_576;
const RSS_BOUND = 300 * MB;

/** Resident set size now (VmRSS) and at its peak (VmHWM), in bytes. */
function rss(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { now: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * Opens a connection, writes `head` and then `bytes` of `chunk` repeated, and leaves it open.
 * Resolves once everything was handed to the kernel or the engine closed the connection.
 */
function stall(port: number, head: Buffer, chunk: Buffer, bytes: number, sockets: net.Socket[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.on('data', () => {}); // answers (503, 408) are read and ignored
    socket.once('connect', async () => {
      let left = bytes;
      const write = (b: Buffer) => new Promise<void>((done) => (socket.write(b) ? done() : socket.once('drain', done)));
      await write(head);
      while (left > 0 && !socket.destroyed) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        await write(piece);
        left -= piece.length;
      }
      resolve();
    });
  });
}

test('300 stalled request bodies and 40 unterminated 15 MB MLLP frames: RSS stays under 300 MB and legitimate requests are answered', { timeout: 120_000 }, async (t) => {
  const engine = await startEngine({
    channels: {
      // Nothing listens on port 9: deliveries wait in the store; only intake matters here.
      'hook.yaml': webhookToMllpChannel('hook', 9),
      'rest.yaml': restToMllpChannel('rest', 9),
      // frameTimeoutMs as long as the test, so only the byte budget bounds the frames.
      'lis.yaml': 'id: lis\nsource:\n  type: mllp\n  host: 127.0.0.1\n  port: 0\n  frameTimeoutMs: 120000\n',
    },
    // The stalled bodies are not cut by time either: the budget alone must hold.
    env: { CONDUIT_BODY_TIMEOUT_MS: '120000' },
  });
  const sockets: net.Socket[] = [];
  try {
    const started = engine.logs.map((l) => JSON.parse(l) as { msg: string; channel?: string; source?: string }).find((l) => l.msg === 'channel started' && l.channel === 'lis');
    const mllpPort = Number(/:(\d+)$/.exec(started!.source!)![1]);
    const before = rss(engine.pid).now;

    const filler = Buffer.alloc(MB, 0x20);
    const mllpFiller = Buffer.alloc(MB, 0x41);
    const attacks: Array<Promise<void>> = [];
    for (let i = 0; i < 300; i++) {
      // Half to the webhook (1 MB limit), half to the REST source (10 MB limit): each stalls short of its promised length.
      const [path, declared, sent] = i % 2 === 0 ? ['/channels/hook', 1_000_000, 900_000] : ['/channels/rest/submissions', 10_000_000, 4 * MB];
      const head = Buffer.from(`POST ${path} HTTP/1.1\r\nHost: conduit\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
      attacks.push(stall(engine.port, head, filler, sent, sockets));
    }
    for (let i = 0; i < 40; i++) attacks.push(stall(mllpPort, Buffer.from([VT]), mllpFiller, 15 * MB, sockets));
    await Promise.all(attacks);

    // Legitimate traffic is still served while the stalled ones hold their connections.
    const hook = await fetch(`${engine.url}/channels/hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(makeEvent('res_ABUSE_1')) });
    assert.equal(hook.status, 201);
    const rest = await fetch(`${engine.url}/channels/rest/submissions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(makeEvent('res_ABUSE_2')) });
    assert.equal(rest.status, 202);
    const conn = await MllpClientConnection.connect({ host: '127.0.0.1', port: mllpPort, connectTimeoutMs: 10_000, maxFrameBytes: MB });
    try {
      const message = 'MSH|^~\\&|ANALYSER|LAB|LIS|LAB|20261120101500||ORU^R01^ORU_R01|ABUSE-1|P|2.5.1\rPID|1||12345^^^HOSP^MR||Doe^Jane\r';
      const ack = readAck(Hl7Message.parse((await conn.request(message, 30_000)).toString()));
      assert.deepEqual([ack.code, ack.acknowledgedControlId], ['AA', 'ABUSE-1']);
    } finally {
      await conn.close();
    }
    const after = rss(engine.pid);
    t.diagnostic(`engine RSS: ${Math.round(before / MB)} MB at start, peak ${Math.round(after.peak / MB)} MB`);
    assert.ok(after.peak < RSS_BOUND, `peak RSS ${Math.round(after.peak / MB)} MB (from ${Math.round(before / MB)} MB at start) is over ${RSS_BOUND / MB} MB`);
    const open = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
    assert.ok(open > 0, 'some stalled connections are still open: the attack was on while the legitimate requests were answered');
  } finally {
    for (const s of sockets) s.destroy();
    await engine.stop();
  }
});
