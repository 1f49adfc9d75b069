/**
 * Issue 13 rule 1 and issue 8 (text encoding), end to end over MLLP: the frame is read in the
 * character set MSH-18 declares (the channel's `encoding` when it is empty), \Xhh\ escapes in
 * that set; bytes that do not decode, and a character set the engine cannot decode, are
 * answered AE with an ERR at MSH-18 naming MSH-18 and the encoding setting, and nothing is
 * stored. The acknowledgement is written in the sender's character set.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LabReport } from '../../src/canonical/report.ts';
import { Hl7Message, readAck } from '../../src/protocols/hl7v2/index.ts';
import { MllpClientConnection } from '../../src/protocols/mllp/index.ts';
import { connectMllp, mllpPortOf, startTestEngine, type TestEngine } from '../support/in-process.ts';

const channel = (id: string, encoding: string) => `id: ${id}
source:
  type: mllp
  host: 127.0.0.1
  port: 0
  encoding: ${encoding}
mapping: hl7v2-oru
`;

/** An ORU^R01 with MSH-18 `charset`, a Latin-1 facility name in MSH-4 and `text` as a TX result. */
function oru(controlId: string, charset: string, text: string): string {
  return [
    `MSH|^~\\&|ANALYSER|Genève|CONDUIT|HOSP|20261120091500+0100||ORU^R01^ORU_R01|${controlId}|P|2.5.1||||||${charset}`,
    'PID|1||MRN-1^^^HOSP^MR||Doe^Jane',
    'OBR|1|PLC-1|FIL-1|GLU^Glucose^L|||20261120091000+0100|||||||||||||||20261120091400+0100|||F',
    `OBX|1|TX|NOTE^Comment^L||${text}||||||F`,
  ].join('\r');
}

describe('MLLP: character sets (MSH-18 and the encoding setting)', () => {
  let t: TestEngine;
  const conns: Record<string, MllpClientConnection> = {};
  before(async () => {
    t = await startTestEngine({ 'utf8-lab.yaml': channel('utf8-lab', 'utf-8'), 'latin1-lab.yaml': channel('latin1-lab', 'latin1') });
    for (const c of t.engine.channels) conns[c.id] = await connectMllp(mllpPortOf(t, c.id));
  });
  after(async () => {
    for (const c of Object.values(conns)) await c.close();
    await t.stop();
  });

  const send = async (channelId: string, bytes: Buffer): Promise<{ raw: Buffer; ack: Hl7Message }> => {
    const raw = await conns[channelId]!.request(bytes, 5000);
    return { raw, ack: Hl7Message.parse(raw.toString('latin1')) };
  };
  const report = async (controlId: string): Promise<LabReport | undefined> => {
    for (const m of (await t.engine.store.listMessages({ limit: 100 })).messages) {
      const full = (await t.engine.store.getMessage(m.id))!;
      if (full.rawInput.includes(`|${controlId}|`)) return full.canonical as LabReport;
    }
    return undefined;
  };
  const comment = (r: LabReport | undefined) => r?.observations[0]?.value;

  test('MSH-18 8859/1 on a utf-8 channel: read as Latin-1, \\Xhh\\ in Latin-1; the AA is written in Latin-1', async () => {
    const { raw, ack } = await send('utf8-lab', Buffer.from(oru('CS-LATIN1', '8859/1', 'Gr\xfcn, caf\\XE9\\'), 'latin1'));
    assert.equal(readAck(ack).code, 'AA', readAck(ack).text);
    assert.equal(comment(await report('CS-LATIN1')), 'Grün, café');
    // MSH-5 of the ACK echoes MSH-3/MSH-4 of the message: 'Genève' as one Latin-1 byte 0xE8.
    assert.ok(raw.includes(Buffer.from('Gen\xe8ve', 'latin1')));
    assert.equal(ack.msh.get(18), '8859/1');
  });

  test('MSH-18 UNICODE UTF-8 on a latin1 channel: read as UTF-8, the declared set wins', async () => {
    const { ack } = await send('latin1-lab', Buffer.from(oru('CS-UTF8', 'UNICODE UTF-8', 'Grün 王 \\XC3A9\\'), 'utf8'));
    assert.equal(readAck(ack).code, 'AA', readAck(ack).text);
    assert.equal(comment(await report('CS-UTF8')), 'Grün 王 é');
  });

  test('MSH-18 empty: the channel encoding applies (latin1 here)', async () => {
    const { ack } = await send('latin1-lab', Buffer.from(oru('CS-DEFAULT', '', 'Gr\xfcn'), 'latin1'));
    assert.equal(readAck(ack).code, 'AA', readAck(ack).text);
    assert.equal(comment(await report('CS-DEFAULT')), 'Grün');
  });

  for (const [label, channelId, controlId, bytes, pattern] of [
    ['MSH-18 says UTF-8 but a byte is Latin-1', 'latin1-lab', 'CS-BAD-UTF8', Buffer.from(oru('CS-BAD-UTF8', 'UNICODE UTF-8', 'Gr\xfcn'), 'latin1'), /not valid UNICODE UTF-8 \(byte offset \d+\).*MSH-18 declares.*encoding setting, latin1/],
    ['MSH-18 empty on a utf-8 channel, Latin-1 bytes', 'utf8-lab', 'CS-BAD-DEFAULT', Buffer.from(oru('CS-BAD-DEFAULT', '', 'Gr\xfcn'), 'latin1'), /MSH-18 is empty, so the channel's encoding setting \(utf-8\) applies.*not valid UNICODE UTF-8/],
    ['MSH-18 ASCII with a byte above 0x7F', 'utf8-lab', 'CS-BAD-ASCII', Buffer.from(oru('CS-BAD-ASCII', 'ASCII', 'Gr\xfcn'), 'latin1'), /not valid ASCII/],
  ] as const) {
    test(`${label}: AE, ERR-2 at MSH-18, ERR-3 102, never U+FFFD; nothing stored`, async () => {
      const before = (await t.engine.store.listMessages({ limit: 100 })).messages.length;
      const { ack } = await send(channelId, bytes);
      assert.deepEqual([readAck(ack).code, readAck(ack).acknowledgedControlId], ['AE', controlId]);
      const err = ack.segment('ERR')!;
      assert.deepEqual([err.get(2, 1), err.get(2, 2), err.get(2, 3), err.get(3, 1), err.get(3, 3)], ['MSH', '1', '18', '102', 'HL70357']);
      assert.match(err.get(8), pattern);
      assert.equal((await t.engine.store.listMessages({ limit: 100 })).messages.length, before);
    });
  }

  test('a character set the engine cannot decode: AE, ERR-3 103 (table value not found) naming MSH-18', async () => {
    const { ack } = await send('utf8-lab', Buffer.from(oru('CS-EBCDIC', 'EBCDIC', 'x'), 'latin1'));
    assert.equal(readAck(ack).code, 'AE');
    const err = ack.segment('ERR')!;
    assert.deepEqual([err.get(2, 1), err.get(2, 3), err.get(3, 1)], ['MSH', '18', '103']);
    assert.match(err.get(8), /MSH-18 \(character set\) 'EBCDIC' is not one this engine decodes; expected one of ASCII, 8859\/1.*channel's encoding \(utf-8\)/);
  });
});

describe('MLLP: a raw control character in a field', () => {
  let t: TestEngine;
  let conn: MllpClientConnection;
  before(async () => {
    t = await startTestEngine({ 'lab.yaml': channel('lab', 'utf-8') });
    const port = Number(/:(\d+)$/.exec(t.engine.channels[0]!.describeSource())![1]);
    conn = await MllpClientConnection.connect({ host: '127.0.0.1', port, connectTimeoutMs: 2000, maxFrameBytes: 1 << 20 });
  });
  after(async () => {
    await conn.close();
    await t.stop();
  });

  test('BEL in OBX-5 and ESC in MSH-4: AE, ERR-2 at the segment and field, nothing stored; as \\X07\\ it is accepted', async () => {
    const bel = Hl7Message.parse((await conn.request(oru('CTL-BEL', '', 'ring\x07'), 5000)).toString());
    assert.deepEqual([readAck(bel).code, readAck(bel).acknowledgedControlId], ['AE', 'CTL-BEL']);
    const err = bel.segment('ERR')!;
    assert.deepEqual([err.get(2, 1), err.get(2, 2), err.get(2, 3), err.get(3, 1)], ['OBX', '1', '5', '102']);
    assert.match(err.get(8), /^OBX\[0\]-5: OBX-5 holds the control character U\+0007 raw: .*hex escape \(\\X07\\\)/);
    const esc = Hl7Message.parse((await conn.request(oru('CTL-ESC', '', 'x').replace('Genève', 'Gen\x1bve'), 5000)).toString());
    assert.deepEqual([esc.segment('ERR')!.get(2, 1), esc.segment('ERR')!.get(2, 3)], ['MSH', '4']);
    assert.equal((await t.engine.store.listMessages({ limit: 10 })).messages.length, 0);
    const escaped = Hl7Message.parse((await conn.request(oru('CTL-OK', '', 'tab\there \\X07\\'), 5000)).toString());
    assert.equal(readAck(escaped).code, 'AA', readAck(escaped).text);
  });
});
