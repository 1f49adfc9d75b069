import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { MllpSender, mllpDestinationConfig } from '../../../src/senders/mllp/index.ts';
import type { SendOutcome } from '../../../src/senders/types.ts';
import { captureLog, outbound, ScriptedPeer, type Step, until } from '../../protocols/mllp/helpers.ts';

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const { log, lines: logLines } = captureLog();

async function setup(steps: Step[], config: Record<string, unknown> = {}): Promise<{ peer: ScriptedPeer; sender: MllpSender }> {
  const peer = await ScriptedPeer.start(steps);
  const sender = new MllpSender(mllpDestinationConfig.parse({ host: '127.0.0.1', port: peer.port, ackTimeoutMs: 2000, ...config }), { log });
  cleanup.push(
    () => sender.close(),
    () => peer.close(),
  );
  return { peer, sender };
}

function send(sender: MllpSender, controlId: string): Promise<SendOutcome> {
  return sender.send(outbound(controlId), new AbortController().signal);
}

function assertOutcome(outcome: SendOutcome, status: SendOutcome['status'], code?: string): void {
  assert.equal(outcome.status, status, JSON.stringify(outcome));
  if (code !== undefined) assert.equal('code' in outcome ? outcome.code : undefined, code, JSON.stringify(outcome));
}

describe('MllpSender against a scripted MllpServer', () => {
  it('AA: acknowledged, with the raw ACK as response', async () => {
    const { sender, peer } = await setup(['AA']);
    const outcome = await send(sender, 'C-AA');
    assertOutcome(outcome, 'acknowledged');
    assert.match(outcome.response!, /^MSH\|.*\rMSA\|AA\|C-AA\r$/s);
    assert.deepEqual(peer.received, ['C-AA']);
  });

  it('AE: retryable HL7_APPLICATION_ERROR with the error text and the ACK; the connection is kept', async () => {
    const { sender, peer } = await setup(['AE', 'AA']);
    const outcome = await send(sender, 'C-AE');
    assertOutcome(outcome, 'retryable', 'HL7_APPLICATION_ERROR');
    assert.equal(outcome.status === 'retryable' && outcome.detail, 'AE: scripted AE');
    assert.match(outcome.response!, /MSA\|AE\|C-AE/);
    assertOutcome(await send(sender, 'C-AE'), 'acknowledged');
    assert.equal(peer.connectionsAccepted, 1);
  });

  it('AR: rejected HL7_APPLICATION_REJECT', async () => {
    const { sender } = await setup(['AR']);
    const outcome = await send(sender, 'C-AR');
    assertOutcome(outcome, 'rejected', 'HL7_APPLICATION_REJECT');
    assert.equal(outcome.status === 'rejected' && outcome.detail, 'AR: scripted AR');
    assert.match(outcome.response!, /MSA\|AR\|C-AR/);
  });

  it('enhanced mode: CA acknowledged, CE retryable, CR rejected', async () => {
    const { sender } = await setup(['CA', 'CE', 'CR']);
    assertOutcome(await send(sender, 'C-CA'), 'acknowledged');
    assertOutcome(await send(sender, 'C-CE'), 'retryable', 'HL7_APPLICATION_ERROR');
    assertOutcome(await send(sender, 'C-CR'), 'rejected', 'HL7_APPLICATION_REJECT');
  });

  it('silence: MLLP_ACK_TIMEOUT, then the next send goes over a new connection', async () => {
    const { sender, peer } = await setup(['silence', 'AA'], { ackTimeoutMs: 200 });
    assertOutcome(await send(sender, 'C-SILENT'), 'retryable', 'MLLP_ACK_TIMEOUT');
    await until(() => peer.closedConnections === 1, 2000, 'the timed-out connection to close');
    assertOutcome(await send(sender, 'C-SILENT'), 'acknowledged');
    assert.equal(peer.connectionsAccepted, 2);
    assert.equal(sender.connectionsOpened, 2);
  });

  it('wrong MSA-2: MLLP_ACK_MISMATCH and the connection is dropped', async () => {
    const { sender, peer } = await setup(['wrong-id', 'AA']);
    const outcome = await send(sender, 'C-MISMATCH');
    assertOutcome(outcome, 'retryable', 'MLLP_ACK_MISMATCH');
    assert.match(outcome.status === 'retryable' ? outcome.detail : '', /SOMETHING-ELSE.*C-MISMATCH/);
    assertOutcome(await send(sender, 'C-MISMATCH'), 'acknowledged');
    assert.equal(peer.connectionsAccepted, 2);
  });

  it('unreadable answer: MLLP_ACK_INVALID', async () => {
    const { sender } = await setup(['garbage', 'AA']);
    assertOutcome(await send(sender, 'C-BAD'), 'retryable', 'MLLP_ACK_INVALID');
    assertOutcome(await send(sender, 'C-BAD'), 'acknowledged');
  });

  it('peer closes after reading the message: MLLP_PEER_CLOSED, then a new connection works', async () => {
    const { sender, peer } = await setup(['close', 'AA']);
    assertOutcome(await send(sender, 'C-CLOSE'), 'retryable', 'MLLP_PEER_CLOSED');
    assertOutcome(await send(sender, 'C-CLOSE'), 'acknowledged');
    assert.deepEqual(peer.received, ['C-CLOSE', 'C-CLOSE']);
    assert.equal(peer.connectionsAccepted, 2);
  });

  it('peer down (connection refused), then up: the next send succeeds on a new connection', async () => {
    const { sender, peer } = await setup([]);
    await peer.close();
    assertOutcome(await send(sender, 'C-DOWN'), 'retryable', 'MLLP_CONNECT_REFUSED');
    // The same port again: the sender's destination is fixed.
    await peer.listen(peer.port);
    assertOutcome(await send(sender, 'C-DOWN'), 'acknowledged');
    assert.equal(sender.connectionsOpened, 1);
  });

  it('peer restarted between sends: the stale connection is noticed and replaced', async () => {
    const { sender, peer } = await setup([]);
    assertOutcome(await send(sender, 'C-1'), 'acknowledged');
    assert.equal(sender.connected, true);
    await peer.close();
    await peer.listen(peer.port);
    // Once the sender has seen the FIN of the old connection, the next send reconnects.
    await until(() => !sender.connected, 2000, 'the sender to notice the closed connection');
    assertOutcome(await send(sender, 'C-2'), 'acknowledged');
    assert.equal(sender.connectionsOpened, 2);
  });

  it('reuses one persistent connection across sends', async () => {
    const { sender, peer } = await setup([]);
    for (let i = 0; i < 50; i++) assertOutcome(await send(sender, `C-P${i}`), 'acknowledged');
    assert.equal(peer.connectionsAccepted, 1);
    assert.equal(sender.connectionsOpened, 1);
    assert.equal(peer.received.length, 50);
  });

  it('sends strictly one message at a time even when called concurrently', async () => {
    const { sender, peer } = await setup([]);
    const ids = Array.from({ length: 20 }, (_, i) => `C-Q${i}`);
    const outcomes = await Promise.all(ids.map((id) => send(sender, id)));
    for (const o of outcomes) assertOutcome(o, 'acknowledged');
    assert.deepEqual(peer.received, ids);
    assert.equal(peer.connectionsAccepted, 1);
  });

  it('abort while waiting for the ACK: retryable MLLP_ABORTED at once, connection destroyed', async () => {
    const { sender, peer } = await setup(['silence', 'AA'], { ackTimeoutMs: 60_000 });
    const controller = new AbortController();
    const pending = sender.send(outbound('C-ABORT'), controller.signal);
    await until(() => peer.received.length === 1, 2000, 'the message to arrive');
    controller.abort();
    assertOutcome(await pending, 'retryable', 'MLLP_ABORTED');
    await until(() => peer.closedConnections === 1, 2000, 'the aborted connection to close');
    assertOutcome(await send(sender, 'C-ABORT'), 'acknowledged');
  });

  it('abort before sending: retryable MLLP_ABORTED, nothing sent', async () => {
    const { sender, peer } = await setup([]);
    const outcome = await sender.send(outbound('C-PRE'), AbortSignal.abort());
    assertOutcome(outcome, 'retryable', 'MLLP_ABORTED');
    assert.equal(peer.connectionsAccepted, 0);
  });

  it('connect timeout: a peer that never completes the TLS handshake gives MLLP_CONNECT_TIMEOUT', async () => {
    const sockets = new Set<net.Socket>();
    const mute = net.createServer((s) => sockets.add(s.on('error', () => {})));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          mute.close(() => r());
        }),
    );
    const port = (mute.address() as net.AddressInfo).port;
    const sender = new MllpSender(mllpDestinationConfig.parse({ host: '127.0.0.1', port, connectTimeoutMs: 200, tls: {} }), { log });
    cleanup.push(() => sender.close());
    assertOutcome(await send(sender, 'C-TIMEOUT'), 'retryable', 'MLLP_CONNECT_TIMEOUT');
  });

  it('a payload holding an MLLP block character is rejected without being sent', async () => {
    const { sender, peer } = await setup([]);
    const message = { ...outbound('C-VT'), payload: `${outbound('C-VT').payload}\u001c\r` };
    assertOutcome(await sender.send(message, new AbortController().signal), 'rejected', 'MLLP_PAYLOAD_INVALID');
    assert.deepEqual(peer.received, []);
  });

  it('close() ends the connection; later sends fail with MLLP_ABORTED', async () => {
    const { sender, peer } = await setup([]);
    assertOutcome(await send(sender, 'C-END'), 'acknowledged');
    await sender.close();
    await until(() => peer.closedConnections === 1, 2000, 'the connection to close');
    assertOutcome(await send(sender, 'C-END'), 'retryable', 'MLLP_ABORTED');
  });

  it('logs carry ids and codes, never message contents', () => {
    assert.ok(logLines.length > 0);
    const all = logLines.join('\n');
    for (const phi of ['DOE', 'JANE', 'TEST-0001', 'Glucose', 'MSH|', 'scripted']) {
      assert.ok(!all.includes(phi), `log mentions ${phi}`);
    }
    assert.match(all, /"messageId":"msg-C-SILENT"/);
    assert.match(all, /"code":"MLLP_ACK_TIMEOUT"/);
  });
});
