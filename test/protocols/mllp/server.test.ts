import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CR, FS, frame, type MllpConnectionInfo, MllpServer, type MllpServerOptions, VT } from '../../../src/protocols/mllp/index.ts';
import { ackFor, controlIdOf, oru, RawClient, until } from './helpers.ts';

const servers: MllpServer[] = [];
const clients: RawClient[] = [];
after(async () => {
  for (const c of clients) c.destroy();
  await Promise.all(servers.map((s) => s.close()));
});

async function start(options: Partial<MllpServerOptions> & Pick<MllpServerOptions, 'handler'>): Promise<{ server: MllpServer; port: number }> {
  const server = new MllpServer();
  servers.push(server);
  await server.listen({ host: '127.0.0.1', port: 0, maxFrameBytes: 1024 * 1024, ...options });
  return { server, port: server.address().port };
}

async function connect(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

/** A handler that echoes "ACK <payload>" after an irregular delay, and records its own concurrency. */
function echoHandler() {
  const state = { active: 0, maxActive: 0, seen: [] as string[] };
  let n = 0;
  const handler = async (f: Buffer): Promise<string> => {
    state.active += 1;
    state.maxActive = Math.max(state.maxActive, state.active);
    state.seen.push(f.toString());
    n += 1;
    if (n % 7 === 0) await sleep(1);
    else if (n % 3 === 0) await new Promise((r) => setImmediate(r));
    state.active -= 1;
    return `ACK ${f.toString()}`;
  };
  return { handler, state };
}

describe('MllpServer', () => {
  it('answers pipelined frames in order, one at a time, none lost or duplicated', async () => {
    const { handler, state } = echoHandler();
    const { port } = await start({ handler });
    const c = await connect(port);
    const payloads = Array.from({ length: 2000 }, (_, i) => `m${i}`);
    // All frames in a single write, then a second burst split mid-frame.
    await c.write(Buffer.concat(payloads.slice(0, 1500).map((p) => frame(p))));
    const rest = Buffer.concat(payloads.slice(1500).map((p) => frame(p)));
    await c.write(rest.subarray(0, 101));
    await c.write(rest.subarray(101));
    const replies = await c.waitFrames(2000);
    assert.deepEqual(
      replies.map((r) => r.toString()),
      payloads.map((p) => `ACK ${p}`),
    );
    assert.equal(state.maxActive, 1);
    await sleep(20);
    assert.equal(c.frames.length, 2000, 'no extra replies');
  });

  it('answers every frame of a client that half-closes right after sending', async () => {
    const { handler } = echoHandler();
    const { port } = await start({ handler });
    const c = await connect(port);
    c.socket.end(Buffer.concat(Array.from({ length: 50 }, (_, i) => frame(`h${i}`))));
    await c.waitClosed();
    assert.deepEqual(
      c.frames.map((f) => f.toString()),
      Array.from({ length: 50 }, (_, i) => `ACK h${i}`),
    );
  });

  it('stays silent when the handler returns undefined', async () => {
    const { port } = await start({ handler: async (f) => (f.toString() === 'quiet' ? undefined : 'answer') });
    const c = await connect(port);
    await c.write(Buffer.concat([frame('quiet'), frame('loud')]));
    const [reply] = await c.waitFrames(1);
    assert.equal(reply!.toString(), 'answer');
  });

  it('survives garbage bytes and half frames; a following connection still works', async () => {
    let garbage = 0;
    const { server, port } = await start({ handler: async (f) => `ok ${f}`, onGarbage: (n) => (garbage += n) });
    // Garbage, then a frame on the same connection.
    const a = await connect(port);
    await a.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await a.write(frame('after-garbage'));
    assert.equal((await a.waitFrames(1))[0]!.toString(), 'ok after-garbage');
    // Half a frame, then the client goes away.
    const b = await connect(port);
    await b.write(Buffer.from([VT, ...Buffer.from('MSH|^~\\&|half a mess')]));
    b.socket.end();
    await b.waitClosed();
    // A frame cut by a VT, then a complete one.
    const c = await connect(port);
    await c.write(Buffer.concat([Buffer.from([VT, 0x41, 0x42]), frame('whole')]));
    assert.equal((await c.waitFrames(1))[0]!.toString(), 'ok whole');
    // A client that resets mid-frame.
    const d = await connect(port);
    await d.write(Buffer.from([VT, 0x41]));
    d.socket.resetAndDestroy();
    const e = await connect(port);
    await e.write(frame('still here'));
    assert.equal((await e.waitFrames(1))[0]!.toString(), 'ok still here');
    const expected = 'GET / HTTP/1.1\r\n\r\n'.length + 1 + 'MSH|^~\\&|half a mess'.length + 3 + 2;
    await until(() => garbage === expected, 2000, `garbage count ${expected}`);
    await until(() => server.connectionCount === 3, 2000, 'closed connections untracked');
  });

  it('reports a throwing handler, closes that connection only, and keeps serving', async () => {
    const errors: Array<[unknown, MllpConnectionInfo | undefined]> = [];
    const { server, port } = await start({
      handler: async (f) => {
        if (f.toString() === 'boom') throw new Error('handler failed');
        return `ok ${f}`;
      },
      onError: (err, info) => errors.push([err, info]),
    });
    const bystander = await connect(port);
    const victim = await connect(port);
    await victim.write(Buffer.concat([frame('first'), frame('boom'), frame('never handled')]));
    await victim.waitClosed();
    assert.deepEqual(
      victim.frames.map((f) => f.toString()),
      ['ok first'],
    );
    assert.equal(errors.length, 1);
    assert.equal((errors[0]![0] as Error).message, 'handler failed');
    assert.equal(typeof errors[0]![1]?.connectionId, 'number');
    await bystander.write(frame('hello'));
    assert.equal((await bystander.waitFrames(1))[0]!.toString(), 'ok hello');
    const next = await connect(port);
    await next.write(frame('again'));
    assert.equal((await next.waitFrames(1))[0]!.toString(), 'ok again');
    assert.equal(server.connectionCount, 2);
  });

  it('drops a frame over maxFrameBytes, lets onOversize answer it in order, and carries on', async () => {
    const seen: string[] = [];
    const { port } = await start({
      maxFrameBytes: 4096,
      handler: async (f) => {
        seen.push(controlIdOf(f));
        return ackFor(f, 'AA');
      },
      // An AE built from the head of the dropped frame: its MSH is still readable.
      onOversize: (o) => {
        const head = o.head.toString('latin1');
        const msh = head.slice(0, head.indexOf('\r'));
        return ackFor(`${msh}\r`, 'AE', { text: `frame of ${o.byteCount} bytes exceeds the limit` });
      },
    });
    const c = await connect(port);
    const huge = oru('BIG-1') + `NTE|1||${'x'.repeat(2 * 1024 * 1024)}\r`;
    await c.write(Buffer.concat([frame(oru('SMALL-1')), frame(huge), frame(oru('SMALL-2'))]));
    const replies = (await c.waitFrames(3)).map((r) => r.toString());
    assert.match(replies[0]!, /MSA\|AA\|SMALL-1/);
    assert.match(replies[1]!, /MSA\|AE\|BIG-1/);
    assert.match(replies[1]!, /exceeds the limit/);
    assert.match(replies[2]!, /MSA\|AA\|SMALL-2/);
    assert.deepEqual(seen, ['SMALL-1', 'SMALL-2']);
  });

  it('stops reading while the handler is busy, so a pipelining client is held back by TCP', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let calls = 0;
    const { port } = await start({
      handler: async (f) => {
        calls += 1;
        if (calls === 1) await released;
        return `ok ${f.length}`;
      },
    });
    const c = await connect(port);
    const count = 16 * 1024;
    const payload = 'p'.repeat(2048);
    const burst = Buffer.concat(Array.from({ length: count }, () => frame(payload)));
    let drained = false;
    c.socket.write(burst, () => (drained = true));
    await until(() => calls === 1, 5000, 'first frame');
    // 32 MiB cannot fit in loopback socket buffers: if the server kept reading, the write would finish.
    await sleep(300);
    assert.equal(drained, false, 'the server kept reading while its handler was busy');
    assert.equal(calls, 1);
    release();
    await c.waitFrames(count);
    assert.equal(calls, count);
  });

  it('close() destroys open connections and stops listening', async () => {
    const server = new MllpServer();
    const closedIds: number[] = [];
    await server.listen({
      host: '127.0.0.1',
      port: 0,
      maxFrameBytes: 1024,
      handler: async () => 'x',
      onClose: (info) => closedIds.push(info.connectionId),
    });
    const { port } = server.address();
    const a = await connect(port);
    const b = await connect(port);
    await until(() => server.connectionCount === 2, 2000, 'two connections');
    assert.deepEqual(
      server.connections().map((i) => i.connectionId),
      [1, 2],
    );
    await server.close();
    await a.waitClosed();
    await b.waitClosed();
    assert.equal(server.listening, false);
    assert.deepEqual(closedIds.sort(), [1, 2]);
    await assert.rejects(RawClient.connect(port), { code: 'ECONNREFUSED' });
  });

  it('does not answer an FS CR that arrives outside a frame', async () => {
    const { port } = await start({ handler: async () => 'x' });
    const c = await connect(port);
    await c.write(Buffer.from([FS, CR, FS, CR]));
    await c.write(frame('real'));
    await c.waitFrames(1);
    await sleep(20);
    assert.equal(c.frames.length, 1);
  });
});
