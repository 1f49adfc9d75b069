import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { frame, MllpClientConnection, MllpServer, type MllpServerOptions } from '../../../src/protocols/mllp/index.ts';
import { until } from './helpers.ts';

const servers: MllpServer[] = [];
const connections: MllpClientConnection[] = [];
after(async () => {
  for (const c of connections) c.destroy();
  await Promise.all(servers.map((s) => s.close()));
});

async function pair(
  handler: MllpServerOptions['handler'],
  maxFrameBytes = 1024,
): Promise<{ server: MllpServer; connection: MllpClientConnection }> {
  const server = new MllpServer();
  servers.push(server);
  await server.listen({ host: '127.0.0.1', port: 0, maxFrameBytes: 1024 * 1024, handler });
  const connection = await MllpClientConnection.connect({
    host: '127.0.0.1',
    port: server.address().port,
    connectTimeoutMs: 2000,
    maxFrameBytes,
  });
  connections.push(connection);
  return { server, connection };
}

describe('MllpClientConnection', () => {
  it('resolves each request with the next frame, payload only', async () => {
    const { connection } = await pair(async (f) => `re:${f}`);
    assert.equal((await connection.request('one', 1000)).toString(), 're:one');
    assert.equal((await connection.request(Buffer.from('two'), 1000)).toString(), 're:two');
    assert.equal(connection.isOpen, true);
  });

  it('rejects a second concurrent request clearly, without disturbing the first', async () => {
    const { connection } = await pair(async (f) => `re:${f}`);
    const first = connection.request('first', 1000);
    await assert.rejects(connection.request('second', 1000), /already outstanding/);
    assert.equal((await first).toString(), 're:first');
  });

  it('rejects an answer over maxFrameBytes with MLLP_FRAME_TOO_LARGE; the connection stays usable', async () => {
    const { connection } = await pair(async (f) => (f.toString() === 'big' ? 'x'.repeat(5000) : 'small'), 1024);
    await assert.rejects(connection.request('big', 1000), { code: 'MLLP_FRAME_TOO_LARGE' });
    assert.equal((await connection.request('again', 1000)).toString(), 'small');
  });

  it('drops frames that arrive with no request outstanding', async () => {
    // A peer that answers every message twice: the second answer must not answer the next request.
    const sockets = new Set<net.Socket>();
    const twice = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => socket.write(Buffer.concat([frame('answer'), frame('extra')])));
    });
    await new Promise<void>((r) => twice.listen(0, '127.0.0.1', r));
    const connection = await MllpClientConnection.connect({
      host: '127.0.0.1',
      port: (twice.address() as net.AddressInfo).port,
      connectTimeoutMs: 2000,
      maxFrameBytes: 1024,
    });
    connections.push(connection);
    assert.equal((await connection.request('a', 1000)).toString(), 'answer');
    assert.equal(connection.unsolicitedFrames, 1);
    assert.equal((await connection.request('b', 1000)).toString(), 'answer');
    connection.destroy();
    for (const s of sockets) s.destroy();
    await new Promise((r) => twice.close(r));
  });

  it('ACK timeout destroys the connection, so a late answer cannot be mistaken', async () => {
    let release!: () => void;
    const late = new Promise<void>((r) => (release = r));
    const { connection } = await pair(async () => {
      await late;
      return 'late';
    });
    await assert.rejects(connection.request('slow', 100), { code: 'MLLP_ACK_TIMEOUT', retry: 'ambiguous' });
    assert.equal(connection.isOpen, false);
    release();
    await assert.rejects(connection.request('next', 100), { code: 'MLLP_PEER_CLOSED' });
  });

  it('connect refused gives MLLP_CONNECT_REFUSED', async () => {
    const server = new MllpServer();
    await server.listen({ host: '127.0.0.1', port: 0, maxFrameBytes: 10, handler: async () => undefined });
    const { port } = server.address();
    await server.close();
    await assert.rejects(MllpClientConnection.connect({ host: '127.0.0.1', port, connectTimeoutMs: 1000, maxFrameBytes: 10 }), {
      code: 'MLLP_CONNECT_REFUSED',
      retry: 'transient',
    });
  });

  it('an unknown host gives MLLP_CONNECT_FAILED', async () => {
    await assert.rejects(
      MllpClientConnection.connect({ host: 'no-such-host.invalid', port: 2575, connectTimeoutMs: 2000, maxFrameBytes: 10 }),
      (err: { code: string }) => ['MLLP_CONNECT_FAILED', 'MLLP_CONNECT_TIMEOUT'].includes(err.code),
    );
  });

  it('close() ends gracefully and fails nothing when idle', async () => {
    const { connection, server } = await pair(async () => 'x');
    await connection.request('a', 1000);
    await connection.close();
    assert.equal(connection.isOpen, false);
    await until(() => server.connectionCount === 0, 2000, 'the server to see the close');
  });
});
