/**
 * The MLLP destination writes each message in the character set its MSH-18 declares (the
 * ORU^R01 encoder declares UNICODE UTF-8), the destination's `encoding` only when MSH-18 is
 * empty; a character the declared set cannot carry is refused (MLLP_PAYLOAD_INVALID), never
 * replaced, and never sent as bytes of another set than the one declared.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { buildAck, charsetOf, Hl7Message } from '../../../src/protocols/hl7v2/index.ts';
import { MllpServer } from '../../../src/protocols/mllp/index.ts';
import { MllpSender, mllpDestinationConfig } from '../../../src/senders/mllp/index.ts';
import type { OutboundMessage } from '../../../src/senders/types.ts';

const log = pino({ level: 'silent' });
const message = (controlId: string, msh18: string, note: string): OutboundMessage => ({
  messageId: `m-${controlId}`,
  destinationId: 'lis',
  contentType: 'application/hl7-v2',
  controlId,
  attempt: 1,
  payload: `MSH|^~\\&|CONDUIT|LAB|LIS|HOSP|20250101||ORU^R01^ORU_R01|${controlId}|P|2.5.1||||||${msh18}\rNTE|1||${note}\r`,
});

describe('MLLP destination: the wire character set follows MSH-18', () => {
  const received: Buffer[] = [];
  const server = new MllpServer();
  const senders: MllpSender[] = [];
  after(async () => {
    for (const s of senders) await s.close();
    await server.close();
  });
  const sender = async (encoding: 'utf-8' | 'latin1'): Promise<MllpSender> => {
    if (!server.listening) {
      await server.listen({
        host: '127.0.0.1',
        port: 0,
        maxFrameBytes: 1 << 20,
        handler: async (frame) => {
          received.push(Buffer.from(frame));
          // The LIS answers in the set the message declares, Genève in MSH-3/4 echoed back.
          const charset = charsetOf(Hl7Message.parse(frame.toString('latin1')).msh.get(18) || '8859/1')!;
          const m = Hl7Message.parse(charset.decode(frame));
          return charset.encode(buildAck(m, m.delimiters, { code: 'AA', controlId: 'ACK-1', timestamp: '20250101', errors: [{ code: '0', text: 'Genève', severity: 'I' }] }));
        },
      });
    }
    const s = new MllpSender(mllpDestinationConfig.parse({ host: '127.0.0.1', port: server.address().port, ackTimeoutMs: 2000, encoding }), { log });
    senders.push(s);
    return s;
  };
  const send = (s: MllpSender, m: OutboundMessage) => s.send(m, new AbortController().signal);

  it('UNICODE UTF-8 is written as UTF-8 even on a latin1 destination; the ACK is read in its own set', async () => {
    const outcome = await send(await sender('latin1'), message('W-1', 'UNICODE UTF-8', 'Grün 王'));
    assert.equal(outcome.status, 'acknowledged', JSON.stringify(outcome));
    assert.ok(received.at(-1)!.includes(Buffer.from('Grün 王', 'utf8')));
    assert.match(outcome.response!, /Genève/);
  });

  it('8859/1 is written as Latin-1 on a utf-8 destination; an empty MSH-18 takes the setting', async () => {
    const s = await sender('utf-8');
    assert.equal((await send(s, message('W-2', '8859/1', 'Grün'))).status, 'acknowledged');
    assert.ok(received.at(-1)!.includes(Buffer.from('Gr\xfcn', 'latin1')));
    const l = await sender('latin1');
    assert.equal((await send(l, message('W-3', '', 'Grün'))).status, 'acknowledged');
    assert.ok(received.at(-1)!.includes(Buffer.from('Gr\xfcn', 'latin1')));
  });

  it('a character the declared set cannot carry, or a set it cannot write: rejected MLLP_PAYLOAD_INVALID, nothing sent', async () => {
    const s = await sender('utf-8');
    const before = received.length;
    const euro = await send(s, message('W-4', '8859/1', '5 €'));
    assert.deepEqual([euro.status, 'code' in euro && euro.code], ['rejected', 'MLLP_PAYLOAD_INVALID']);
    assert.match(JSON.stringify(euro), /cannot carry/);
    const ebcdic = await send(s, message('W-5', 'EBCDIC', 'x'));
    assert.deepEqual([ebcdic.status, 'code' in ebcdic && ebcdic.code], ['rejected', 'MLLP_PAYLOAD_INVALID']);
    assert.equal(received.length, before);
    // 8859/15 carries the euro sign.
    assert.equal((await send(s, message('W-6', '8859/15', '5 €'))).status, 'acknowledged');
    assert.ok(received.at(-1)!.includes(Buffer.from([0x35, 0x20, 0xa4])));
  });
});
