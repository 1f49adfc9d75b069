/**
 * Issue 8 (text encoding): "a declared non-UTF-8 charset the channel does not accept" is
 * refused. A source's `charsets` setting lists the MSH-18 values it takes; a message declaring
 * another one gets AE with an ERR at MSH-18 naming the setting, and nothing is stored. An empty
 * MSH-18 still means the channel's `encoding`. A name the engine cannot decode is a
 * configuration error, with file and path.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfiguration } from '../../src/config/load.ts';
import { readSettings } from '../../src/config/settings.ts';
import { Hl7Message, readAck } from '../../src/protocols/hl7v2/index.ts';
import type { MllpClientConnection } from '../../src/protocols/mllp/index.ts';
import { connectMllp, mllpPortOf, startTestEngine, type TestEngine } from '../support/in-process.ts';

const channel = (charsets: string) => `id: utf8-only
source:
  type: mllp
  host: 127.0.0.1
  port: 0
  encoding: utf-8
  charsets: ${charsets}
mapping: hl7v2-oru
`;

function oru(controlId: string, charset: string): string {
  return [
    `MSH|^~\\&|ANALYSER|LAB|CONDUIT|HOSP|20261120091500+0100||ORU^R01^ORU_R01|${controlId}|P|2.5.1||||||${charset}`,
    'PID|1||MRN-1^^^HOSP^MR||Doe^Jane',
    'OBR|1|PLC-1|FIL-1|GLU^Glucose^L|||20261120091000+0100|||||||||||||||20261120091400+0100|||F',
    'OBX|1|TX|NOTE^Comment^L||Gr\xfcn||||||F',
  ].join('\r');
}

describe('MLLP: the charsets a channel accepts', () => {
  let t: TestEngine;
  let conn: MllpClientConnection;
  before(async () => {
    t = await startTestEngine({ 'utf8-only.yaml': channel("['UNICODE UTF-8']") });
    conn = await connectMllp(mllpPortOf(t));
  });
  after(async () => {
    await conn.close();
    await t.stop();
  });
  const send = async (bytes: Buffer) => Hl7Message.parse((await conn.request(bytes, 5000)).toString('latin1'));
  const stored = async (controlId: string) => {
    const page = await t.engine.store.listMessages({ limit: 100 });
    const views = await Promise.all(page.messages.map((m) => t.engine.store.getMessage(m.id)));
    return views.some((v) => v!.rawInput.includes(`|${controlId}|`));
  };

  test('MSH-18 8859/1 on a channel that accepts only UNICODE UTF-8: AE at MSH-18 naming the setting, nothing stored', async () => {
    const ack = await send(Buffer.from(oru('CS-REFUSED', '8859/1'), 'latin1'));
    const a = readAck(ack);
    assert.equal(a.code, 'AE');
    assert.match(a.text, /MSH-18/);
    assert.match(a.text, /charsets setting allows UNICODE UTF-8/);
    const err = ack.segment('ERR')!;
    assert.deepEqual([err.get(2, 1), err.get(2, 2), err.get(2, 3), err.get(3, 1)], ['MSH', '1', '18', '103']);
    assert.equal(await stored('CS-REFUSED'), false);
  });

  test('the accepted set, and an empty MSH-18 (the encoding setting), are taken', async () => {
    assert.equal(readAck(await send(Buffer.from(oru('CS-UTF8', 'UNICODE UTF-8').replace('\xfc', 'ü'), 'utf8'))).code, 'AA');
    assert.equal(readAck(await send(Buffer.from(oru('CS-EMPTY', '').replace('\xfc', 'ü'), 'utf8'))).code, 'AA');
    assert.equal(await stored('CS-UTF8'), true);
    assert.equal(await stored('CS-EMPTY'), true);
  });
});

test('a charsets entry the engine cannot decode is a configuration error naming the file and path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-charsets-'));
  writeFileSync(join(dir, 'bad.yaml'), channel("['UNICODE UTF-8', 'KLINGON']"));
  const { issues } = loadConfiguration(readSettings({ '--channels': dir, '--data': join(dir, 'data') }));
  const issue = issues.find((i) => i.path?.includes('charsets'));
  assert.ok(issue, JSON.stringify(issues));
  assert.match(issue.message, /'KLINGON' is not a character set this engine decodes/);
  assert.match(issue.file ?? '', /bad\.yaml$/);
});
