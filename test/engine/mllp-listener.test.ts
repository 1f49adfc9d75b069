import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Hl7Message, readAck } from '../../src/protocols/hl7v2/index.ts';
import { frame, MllpClientConnection } from '../../src/protocols/mllp/index.ts';
import type { TestEngine } from '../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';
import { SHARED_SAMPLES_DIR, sharedSamplesPresent } from '../support/shared-samples.ts';

function adt(controlId: string): string {
  return `MSH|^~\\&|ADT|HOSP|LIS|LAB|20261120101500+0100||ADT^A01^ADT_A01|${controlId}|P|2.5.1\rEVN|A01|20261120101500\rPID|1||12345^^^HOSP^MR||Doe^Jane\r`;
}

describe('MLLP listener source', () => {
  let lis: TestEngine & { mllpPort: number };
  let conn: MllpClientConnection;
  before(async () => {
    lis = await startSandboxLis();
    conn = await MllpClientConnection.connect({ host: '127.0.0.1', port: lis.mllpPort, connectTimeoutMs: 2000, maxFrameBytes: 1 << 20 });
  });
  after(async () => {
    await conn.close();
    await lis.stop();
  });

  test('accepts any HL7 v2 message and answers AA only once it is stored', async () => {
    const ack = Hl7Message.parse((await conn.request(adt('ADT-1'), 2000)).toString());
    assert.deepEqual(readAck(ack), { code: 'AA', acknowledgedControlId: 'ADT-1', text: '' });
    assert.equal(ack.msh.get(9, 1), 'ACK');
    assert.equal(ack.msh.get(3), 'LIS', 'sender and receiver swapped');
    assert.equal(ack.msh.get(5), 'ADT');
    assert.ok((await sandboxMessages(lis)).some((m) => m.includes('ADT-1')), 'stored before the AA');
  });

  test('the same MSH-10 twice is acknowledged twice and stored once', async () => {
    await conn.request(adt('ADT-DUP'), 2000);
    const again = readAck(Hl7Message.parse((await conn.request(adt('ADT-DUP'), 2000)).toString()));
    assert.equal(again.code, 'AA');
    assert.equal((await sandboxMessages(lis)).filter((m) => m.includes('ADT-DUP')).length, 1);
  });

  test('what it cannot parse gets AE with an ERR segment (table 0357)', async () => {
    const reply = Hl7Message.parse((await conn.request('this is not HL7', 2000)).toString());
    assert.equal(readAck(reply).code, 'AE');
    const err = reply.segment('ERR')!;
    assert.equal(err.get(3, 1), '100');
    assert.equal(err.get(3, 3), 'HL70357');
    assert.equal(err.get(4), 'E');
    assert.match(err.get(8), /MSH/);
    const bad = Hl7Message.parse((await conn.request('MSH|^~\\&|A|B|C|D|20261120||ORU^R01|BAD-1|P|2.5.1\rthis line is no segment', 2000)).toString());
    assert.equal(readAck(bad).acknowledgedControlId, 'BAD-1');
    assert.equal(readAck(bad).code, 'AE');
  });

  test('garbage bytes, half frames and huge frames never crash or stall it', async () => {
    const raw = net.connect(lis.mllpPort, '127.0.0.1');
    await new Promise((r) => raw.once('connect', r));
    raw.write(Buffer.from('GET / HTTP/1.1\r\n\r\n\x00\x01\x02 random bytes'));
    raw.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from('MSH|^~\\&|half a frame')]));
    raw.destroy();
    const big = net.connect(lis.mllpPort, '127.0.0.1');
    await new Promise((r) => big.once('connect', r));
    big.write(Buffer.from([0x0b]));
    big.write(Buffer.alloc(2 * 1024 * 1024, 'A'));
    big.destroy();
    // Pipelined frames with garbage between them on one connection: each valid one answered, in order.
    const pipe = net.connect(lis.mllpPort, '127.0.0.1');
    const answers: string[] = [];
    let buf = '';
    pipe.on('data', (d) => {
      buf += d.toString();
      let end = buf.indexOf('\x1c\r');
      while (end !== -1) {
        answers.push(buf.slice(buf.indexOf('\x0b') + 1, end));
        buf = buf.slice(end + 2);
        end = buf.indexOf('\x1c\r');
      }
    });
    await new Promise((r) => pipe.once('connect', r));
    pipe.write(Buffer.concat([frame(adt('PIPE-1')), Buffer.from('junk'), frame(adt('PIPE-2')), frame(adt('PIPE-3'))]));
    while (answers.length < 3) await new Promise((r) => setTimeout(r, 10));
    pipe.destroy();
    assert.deepEqual(answers.map((a) => readAck(Hl7Message.parse(a)).acknowledgedControlId), ['PIPE-1', 'PIPE-2', 'PIPE-3']);
    const ack = readAck(Hl7Message.parse((await conn.request(adt('AFTER-GARBAGE'), 2000)).toString()));
    assert.equal(ack.code, 'AA');
  });

  test('real-world ORU^R01 samples (v2.3 to v2.7.1) are all accepted', async (t) => {
    if (!sharedSamplesPresent(t)) return;
    const files = readdirSync(SHARED_SAMPLES_DIR).filter((f) => f.endsWith('.hl7'));
    assert.ok(files.length >= 30);
    for (const f of files) {
      const text = readFileSync(join(SHARED_SAMPLES_DIR, f), 'latin1').replace(/\r?\n/g, '\r');
      const ack = readAck(Hl7Message.parse((await conn.request(text, 5000)).toString()));
      assert.equal(ack.code, 'AA', `${f}: ${ack.text}`);
    }
  });
});

test('a listener set to AE or AR refuses without storing', async () => {
  for (const respond of ['AE', 'AR'] as const) {
    const lis = await startSandboxLis(respond);
    const conn = await MllpClientConnection.connect({ host: '127.0.0.1', port: lis.mllpPort, connectTimeoutMs: 2000, maxFrameBytes: 1 << 20 });
    const ack = readAck(Hl7Message.parse((await conn.request(adt('R-1'), 2000)).toString()));
    assert.equal(ack.code, respond);
    assert.deepEqual((await sandboxMessages(lis)), []);
    await conn.close();
    await lis.stop();
  }
});
