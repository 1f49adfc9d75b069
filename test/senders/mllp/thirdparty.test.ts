/**
 * Interoperability with a third-party MLLP implementation: @medplum/hl7 5.x (Hl7Server,
 * Hl7Client, Hl7Connection), with its own HL7 model from @medplum/core.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Hl7Client, type Hl7Connection, type Hl7MessageEvent, Hl7Server } from '@medplum/hl7';
import { buildAck, Hl7Message } from '../../../src/protocols/hl7v2/index.ts';
import { MllpServer } from '../../../src/protocols/mllp/index.ts';
import { MllpSender, mllpDestinationConfig } from '../../../src/senders/mllp/index.ts';
import type { SendOutcome } from '../../../src/senders/types.ts';
import { captureLog, oru, outbound } from '../../protocols/mllp/helpers.ts';

/**
 * Messages for Hl7Client must come from the @medplum/core that @medplum/hl7 loads itself:
 * hl7 5.0.10 pins core 5.0.10, which npm nests when the project has another core version.
 */
type MedplumHl7Message = Parameters<Hl7Client['sendAndWait']>[0];
const coreRoot = dirname(dirname(dirname(createRequire(import.meta.resolve('@medplum/hl7')).resolve('@medplum/core'))));
const coreEntry: string = JSON.parse(readFileSync(join(coreRoot, 'package.json'), 'utf8')).exports.import.default;
const { Hl7Message: MedplumMessage } = (await import(pathToFileURL(join(coreRoot, coreEntry)).href)) as {
  Hl7Message: { parse(text: string): MedplumHl7Message };
};

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const { log } = captureLog();

type MedplumStep = 'AA' | 'AE' | 'AR' | 'silence' | 'wrong-id';

/** A Medplum Hl7Server answering with Medplum's own ACKs, one scripted step per message. */
async function medplumPeer(steps: MedplumStep[], enhancedMode = false): Promise<{ port: number; received: string[]; connections: number }> {
  const state = { port: 0, received: [] as string[], connections: 0 };
  const server = new Hl7Server((connection: Hl7Connection) => {
    state.connections += 1;
    connection.addEventListener('message', (event: Hl7MessageEvent) => {
      const { message } = event;
      state.received.push(message.getSegment('MSH')?.getField(10)?.toString() ?? '');
      if (enhancedMode) return; // Hl7Connection sends the CA itself
      const step = steps.shift() ?? 'AA';
      switch (step) {
        case 'silence':
          return;
        case 'wrong-id': {
          const ack = message.buildAck();
          ack.getSegment('MSA')?.setField(2, 'NOT-YOURS');
          connection.send(ack);
          return;
        }
        default:
          connection.send(message.buildAck({ ackCode: step }));
      }
    });
  });
  // Hl7Server.start has no host parameter: it binds every interface.
  await server.start(0, undefined, enhancedMode);
  state.port = (server.server!.address() as AddressInfo).port;
  cleanup.push(() => server.stop({ forceDrainTimeoutMs: 0 }));
  return state;
}

function sender(port: number, config: Record<string, unknown> = {}): MllpSender {
  const s = new MllpSender(mllpDestinationConfig.parse({ host: '127.0.0.1', port, ackTimeoutMs: 2000, ...config }), { log });
  cleanup.push(() => s.close());
  return s;
}

function send(s: MllpSender, controlId: string): Promise<SendOutcome> {
  return s.send(outbound(controlId), new AbortController().signal);
}

describe('MllpSender against a Medplum Hl7Server (@medplum/hl7 5.x)', () => {
  it('AA built by Medplum: acknowledged, over one persistent connection', async () => {
    const peer = await medplumPeer([]);
    const s = sender(peer.port);
    for (const id of ['MP-1', 'MP-2', 'MP-3']) {
      const outcome = await send(s, id);
      assert.equal(outcome.status, 'acknowledged', JSON.stringify(outcome));
      assert.match(outcome.response!, new RegExp(`MSA\\|AA\\|${id}`));
    }
    assert.deepEqual(peer.received, ['MP-1', 'MP-2', 'MP-3']);
    assert.equal(peer.connections, 1);
  });

  it('AE: retryable HL7_APPLICATION_ERROR with Medplum’s MSA-3 text', async () => {
    const peer = await medplumPeer(['AE']);
    const outcome = await send(sender(peer.port), 'MP-AE');
    assert.equal(outcome.status, 'retryable');
    assert.equal(outcome.status === 'retryable' && outcome.code, 'HL7_APPLICATION_ERROR');
    assert.equal(outcome.status === 'retryable' && outcome.detail, 'AE: Application Error');
  });

  it('AR: rejected HL7_APPLICATION_REJECT', async () => {
    const peer = await medplumPeer(['AR']);
    const outcome = await send(sender(peer.port), 'MP-AR');
    assert.equal(outcome.status, 'rejected');
    assert.equal(outcome.status === 'rejected' && outcome.code, 'HL7_APPLICATION_REJECT');
  });

  it('silence: MLLP_ACK_TIMEOUT, then a new connection succeeds', async () => {
    const peer = await medplumPeer(['silence']);
    const s = sender(peer.port, { ackTimeoutMs: 200 });
    const outcome = await send(s, 'MP-SILENT');
    assert.equal(outcome.status === 'retryable' && outcome.code, 'MLLP_ACK_TIMEOUT');
    assert.equal((await send(s, 'MP-SILENT')).status, 'acknowledged');
    assert.equal(peer.connections, 2);
  });

  it('wrong MSA-2: MLLP_ACK_MISMATCH', async () => {
    const peer = await medplumPeer(['wrong-id']);
    const s = sender(peer.port);
    const outcome = await send(s, 'MP-WRONG');
    assert.equal(outcome.status === 'retryable' && outcome.code, 'MLLP_ACK_MISMATCH');
    assert.equal((await send(s, 'MP-WRONG')).status, 'acknowledged');
  });

  it('enhanced mode: the CA that Hl7Connection sends by itself counts as acknowledged', async () => {
    const peer = await medplumPeer([], true);
    const outcome = await send(sender(peer.port), 'MP-CA');
    assert.equal(outcome.status, 'acknowledged', JSON.stringify(outcome));
    assert.match(outcome.response!, /MSA\|CA\|MP-CA/);
  });
});

describe('Medplum Hl7Client against our MllpServer', () => {
  async function ourServer(): Promise<{ port: number; received: string[] }> {
    const received: string[] = [];
    const server = new MllpServer();
    await server.listen({
      host: '127.0.0.1',
      port: 0,
      maxFrameBytes: 1024 * 1024,
      handler: async (f) => {
        const message = Hl7Message.parse(f.toString());
        received.push(message.controlId);
        // Every fifth message is refused, to check answers are told apart.
        const code = received.length % 5 === 0 ? 'AE' : 'AA';
        return buildAck(message, message.delimiters, { code, controlId: `A${message.controlId}`, timestamp: '20250101120000' });
      },
    });
    cleanup.push(() => server.close());
    return { port: server.address().port, received };
  }

  // No timeoutMs for sendAndWait: Hl7Connection never clears that timer when the answer comes,
  // so each one would hold the process open for its full length. The test timeout guards instead.
  it('answers pipelined sends from Hl7Client in order, none lost or duplicated', { timeout: 20_000 }, async () => {
    const server = await ourServer();
    const client = new Hl7Client({ host: '127.0.0.1', port: server.port, connectTimeout: 2000 });
    cleanup.push(() => client.close());
    const connection = await client.connect();
    const arrived: string[] = [];
    connection.addEventListener('message', (event: Hl7MessageEvent) => {
      arrived.push(event.message.getSegment('MSA')?.getField(2)?.toString() ?? '');
    });
    const ids = Array.from({ length: 300 }, (_, i) => `MPC-${i}`);
    // All sends start at once: Hl7Connection writes each frame at once and matches answers by MSA-2.
    const replies = await Promise.all(ids.map((id) => client.sendAndWait(MedplumMessage.parse(oru(id)))));
    assert.deepEqual(
      replies.map((r) => r.getSegment('MSA')?.getField(2)?.toString()),
      ids,
    );
    assert.deepEqual(
      replies.map((r) => r.getSegment('MSA')?.getField(1)?.toString()),
      ids.map((_, i) => ((i + 1) % 5 === 0 ? 'AE' : 'AA')),
    );
    assert.deepEqual(server.received, ids, 'handled in the order sent');
    assert.deepEqual(arrived, ids, 'answered in the order sent');
  });

  it('serves a second Hl7Client after the first one closes', { timeout: 20_000 }, async () => {
    const server = await ourServer();
    for (const id of ['MPC-A', 'MPC-B']) {
      const client = new Hl7Client({ host: '127.0.0.1', port: server.port });
      const reply = await client.sendAndWait(MedplumMessage.parse(oru(id)));
      assert.equal(reply.getSegment('MSA')?.getField(2)?.toString(), id);
      await client.close();
    }
  });
});
