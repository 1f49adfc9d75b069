import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CR, FS, type MllpLimit, MllpServer, type MllpServerOptions, VT } from '../../../src/protocols/mllp/index.ts';
import { RawClient, until } from './helpers.ts';

const servers: MllpServer[] = [];
const clients: RawClient[] = [];
after(async () => {
  for (const c of clients) c.destroy();
  await Promise.all(servers.map((s) => s.close()));
});

type Dropped = { limit: MllpLimit; connectionId: number };

async function start(options: Partial<MllpServerOptions>): Promise<{ server: MllpServer; port: number; dropped: Dropped[] }> {
  const server = new MllpServer();
  servers.push(server);
  const dropped: Dropped[] = [];
  await server.listen({
    host: '127.0.0.1',
    port: 0,
    maxFrameBytes: 100_000,
    handler: async (f) => `ACK ${f.length}`,
    onLimit: (limit, info) => dropped.push({ limit, connectionId: info.connectionId }),
    ...options,
  });
  return { server, port: server.address().port, dropped };
}

async function connect(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

/** The start of a frame: VT and `n` payload bytes, never ended. */
const openFrame = (n: number) => Buffer.concat([Buffer.from([VT]), Buffer.alloc(n, 0x41)]);

describe('MLLP listener limits: stalled frames, idle connections, bytes buffered across connections', () => {
  it('a frame that stops arriving is dropped with its connection after frameTimeoutMs, freeing its bytes', async () => {
    const { server, port, dropped } = await start({ frameTimeoutMs: 200 });
    const c = await connect(port);
    await c.write(openFrame(50_000));
    await c.waitClosed();
    assert.deepEqual(
      dropped.map((d) => d.limit),
      [{ kind: 'frame-timeout', bufferedBytes: 50_000 }],
    );
    await until(() => server.bufferedBytes === 0, 5000, 'the bytes to be released');
  });

  it('with idleTimeoutMs, a connection silent between frames is closed', async () => {
    const { port, dropped } = await start({ idleTimeoutMs: 200 });
    const c = await connect(port);
    await c.write(Buffer.from([VT, 0x41, FS, CR]));
    assert.equal((await c.waitFrames(1))[0]!.toString(), 'ACK 1');
    await c.waitClosed();
    assert.deepEqual(
      dropped.map((d) => d.limit.kind),
      ['idle-timeout'],
    );
  });

  it('over maxBufferedBytes the connection holding the most is dropped; the others go on and are answered', async () => {
    const { server, port, dropped } = await start({ maxBufferedBytes: 200_000, frameTimeoutMs: 0 });
    const a = await connect(port);
    await a.write(openFrame(95_000));
    await until(() => server.bufferedBytes === 95_000, 5000, 'a to be buffered');
    const b = await connect(port);
    await b.write(openFrame(60_000));
    await until(() => server.bufferedBytes === 155_000, 5000, 'b to be buffered');
    // c's 80 kB would make 235 kB: a, the largest, goes.
    const c = await connect(port);
    await c.write(openFrame(80_000));
    await a.waitClosed();
    await until(() => server.bufferedBytes === 140_000, 5000, 'c to be buffered');
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]!.limit.kind, 'buffer-budget');
    assert.equal(dropped[0]!.limit.bufferedBytes, 95_000);
    assert.equal(dropped[0]!.connectionId, 1);
    await b.write(Buffer.from([FS, CR]));
    await c.write(Buffer.from([FS, CR]));
    assert.equal((await b.waitFrames(1))[0]!.toString(), 'ACK 60000');
    assert.equal((await c.waitFrames(1))[0]!.toString(), 'ACK 80000');
    await until(() => server.bufferedBytes === 0, 5000, 'the bytes to be released');
  });

  it('a newcomer that would itself hold the most is the one dropped', async () => {
    const { server, port, dropped } = await start({ maxBufferedBytes: 150_000, frameTimeoutMs: 0 });
    const a = await connect(port);
    await a.write(openFrame(70_000));
    await until(() => server.bufferedBytes === 70_000, 5000, 'a to be buffered');
    const b = await connect(port);
    await b.write(openFrame(90_000));
    await b.waitClosed();
    assert.deepEqual(
      dropped.map((d) => d.connectionId),
      [2],
    );
    assert.equal(a.closed, false);
    assert.ok(server.bufferedBytes <= 150_000);
  });

  it('maxConnections refuses connections over the limit', async () => {
    const { server, port } = await start({ maxConnections: 2 });
    await connect(port);
    await connect(port);
    await until(() => server.connectionCount === 2, 5000, 'two connections');
    const third = await connect(port);
    await third.waitClosed();
    assert.equal(server.connectionCount, 2);
  });
});
