/**
 * The file destination writes an HL7 v2 message in the character set its MSH-18 declares (the
 * ORU^R01 declares UNICODE UTF-8), its `encoding` only for other payloads and an empty MSH-18:
 * a file is never Latin-1 bytes under a UTF-8 MSH-18; a character the set cannot carry is refused.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { FileSender, fileDestinationConfig } from '../../src/senders/file/index.ts';
import type { OutboundMessage } from '../../src/senders/types.ts';
import { tempDir } from './support.ts';

const log = pino({ level: 'silent' });
const never = new AbortController().signal;
const message = (id: string, msh18: string, note: string): OutboundMessage => ({
  messageId: `01KAQ4ZJ0Q8V7M1X2Y3Z4A5B${id}`,
  destinationId: 'out',
  payload: `MSH|^~\\&|A|B|C|D|20261120||ORU^R01|CTL-${id}|P|2.5.1||||||${msh18}\rNTE|1||${note}\r`,
  contentType: 'application/hl7-v2',
  controlId: `CTL-${id}`,
  attempt: 1,
});

test('MSH-18 decides the bytes; encoding only when it is empty', async (t) => {
  const dir = tempDir(t);
  const latin1 = new FileSender(fileDestinationConfig.parse({ directory: dir, encoding: 'latin1' }), { log });
  const read = (m: OutboundMessage) => readFileSync(join(dir, `${m.messageId}.hl7`));
  const utf8 = message('7A', 'UNICODE UTF-8', 'Grün 王');
  assert.equal((await latin1.send(utf8, never)).status, 'acknowledged');
  assert.ok(read(utf8).includes(Buffer.from('Grün 王', 'utf8')), 'UTF-8 as declared, though the destination says latin1');
  const empty = message('7B', '', 'Grün');
  assert.equal((await latin1.send(empty, never)).status, 'acknowledged');
  assert.ok(read(empty).includes(Buffer.from('Gr\xfcn', 'latin1')));
  const utfDestination = new FileSender(fileDestinationConfig.parse({ directory: dir }), { log });
  const declared = message('7C', '8859/1', 'Grün');
  assert.equal((await utfDestination.send(declared, never)).status, 'acknowledged');
  assert.ok(read(declared).includes(Buffer.from('Gr\xfcn', 'latin1')));
  const euro = await utfDestination.send(message('7D', '8859/1', '5 €'), never);
  assert.deepEqual([euro.status, euro.status === 'rejected' && euro.code], ['rejected', 'FILE_PAYLOAD_UNENCODABLE']);
  assert.match(JSON.stringify(euro), /8859\/1 \(its MSH-18\) cannot carry/);
});
