/**
 * FileSender on its own: outcomes by errno, names the template cannot make, encodings, an
 * abort before the rename, and atomic replacement seen by a reader polling the file.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { ErrorCodes } from '../../src/errors.ts';
import { classifyFileError, FileSender, fileDestinationConfig } from '../../src/senders/file/index.ts';
import type { OutboundMessage } from '../../src/senders/types.ts';
import { ulid } from '../../src/util/ids.ts';
import { tempDir } from './support.ts';

const log = pino({ level: 'silent' });
const message = (o: Partial<OutboundMessage> = {}): OutboundMessage => ({
  messageId: '01KAQ4ZJ0Q8V7M1X2Y3Z4A5B6C',
  destinationId: 'out',
  payload: 'MSH|^~\\&|A|B|C|D|20261120||ORU^R01|CTL-1|P|2.5.1\rPID|1||X\r',
  contentType: 'application/hl7-v2',
  controlId: 'CTL-1',
  attempt: 1,
  ...o,
});
const sender = (config: Record<string, unknown>) => new FileSender(fileDestinationConfig.parse(config), { log });
const never = new AbortController().signal;

test('errno → code and retry class: space and permissions are retried, bad names rejected', () => {
  const cases: Array<[string | undefined, string, string]> = [
    ['ENOSPC', 'FILE_NO_SPACE', 'transient'],
    ['EDQUOT', 'FILE_NO_SPACE', 'transient'],
    ['EACCES', 'FILE_PERMISSION_DENIED', 'transient'],
    ['EPERM', 'FILE_PERMISSION_DENIED', 'transient'],
    ['EROFS', 'FILE_PERMISSION_DENIED', 'transient'],
    ['ENOENT', 'FILE_DIRECTORY_UNAVAILABLE', 'transient'],
    ['ENOTDIR', 'FILE_DIRECTORY_UNAVAILABLE', 'transient'],
    ['ENAMETOOLONG', 'FILE_NAME_INVALID', 'permanent'],
    ['EIO', 'FILE_WRITE_FAILED', 'transient'],
    ['EISDIR', 'FILE_WRITE_FAILED', 'transient'],
    [undefined, 'FILE_WRITE_FAILED', 'transient'],
  ];
  for (const [errno, code, retry] of cases) {
    const c = classifyFileError(errno);
    assert.equal(c, code, String(errno));
    assert.equal(ErrorCodes[c].retry, retry, String(errno));
  }
});

test('the default name is {messageId}.{ext}; ext follows the content type', async (t) => {
  const dir = tempDir(t);
  const s = sender({ directory: dir });
  const cases: Array<[string, string]> = [
    ['application/hl7-v2', 'hl7'],
    ['application/fhir+json', 'json'],
    ['application/json; charset=utf-8', 'json'],
    ['application/xml', 'xml'],
    ['application/pdf', 'txt'],
  ];
  for (const [i, [contentType, ext]] of cases.entries()) {
    const id = `01KAQ4ZJ0Q8V7M1X2Y3Z4A5B6${i}`;
    const outcome = await s.send(message({ messageId: id, contentType }), never);
    assert.equal(outcome.status, 'acknowledged');
    assert.equal(readFileSync(join(dir, `${id}.${ext}`), 'utf8'), message().payload);
  }
});

test('{date} is the day in the message id (a ULID), so every attempt makes the same name; values are reduced to safe characters', async (t) => {
  const dir = tempDir(t);
  const s = sender({ directory: dir, fileName: 'r-{date}-{controlId}.{ext}' });
  const messageId = ulid(Date.UTC(2026, 0, 31, 23, 59, 59));
  for (let attempt = 1; attempt <= 2; attempt++) {
    assert.equal((await s.send(message({ messageId, controlId: 'A/B\\C..D', attempt }), never)).status, 'acknowledged');
  }
  assert.deepEqual(readdirSync(dir), ['r-20260131-A_B_C..D.hl7']);
});

test('a name of more than 255 bytes is rejected (FILE_NAME_INVALID), nothing written', async (t) => {
  const dir = tempDir(t);
  const outcome = await sender({ directory: dir, fileName: `${'x'.repeat(240)}-{messageId}.{ext}` }).send(message(), never);
  assert.equal(outcome.status, 'rejected');
  assert.equal(outcome.status === 'rejected' && outcome.code, 'FILE_NAME_INVALID');
  assert.deepEqual(readdirSync(dir), []);
});

test('latin1 writes ISO 8859-1 bytes, and rejects a payload it cannot carry', async (t) => {
  const dir = tempDir(t);
  const s = sender({ directory: dir, encoding: 'latin1' });
  assert.equal((await s.send(message({ payload: 'PID|1||X||Seán' }), never)).status, 'acknowledged');
  assert.deepEqual(readFileSync(join(dir, `${message().messageId}.hl7`)), Buffer.from('PID|1||X||Seán', 'latin1'));
  const outcome = await s.send(message({ messageId: '01KAQ4ZJ0Q8V7M1X2Y3Z4A5B6D', payload: 'PID|1||X||Łukasz' }), never);
  assert.equal(outcome.status, 'rejected');
  assert.equal(outcome.status === 'rejected' && outcome.code, 'FILE_PAYLOAD_UNENCODABLE');
  assert.equal(readdirSync(dir).length, 1);
});

test('aborted before the write: retryable FILE_WRITE_ABORTED, nothing written', async (t) => {
  const dir = tempDir(t);
  const abort = new AbortController();
  abort.abort();
  const outcome = await sender({ directory: dir }).send(message(), abort.signal);
  assert.equal(outcome.status, 'retryable');
  assert.equal(outcome.status === 'retryable' && outcome.code, 'FILE_WRITE_ABORTED');
  assert.deepEqual(readdirSync(dir), []);
});

test('replacing a large file: a reader polling it meanwhile only ever sees a whole version', async (t) => {
  const dir = tempDir(t);
  const s = sender({ directory: dir });
  const versions = ['a', 'b', 'c', 'd', 'e', 'f'].map((c) => c.repeat(4 * 1024 * 1024));
  const path = join(dir, `${message().messageId}.hl7`);
  await s.send(message({ payload: versions[0]! }), never);
  let writing = true;
  let reads = 0;
  const reader = (async () => {
    while (writing) {
      const text = await readFile(path, 'utf8');
      reads++;
      assert.ok(versions.includes(text), `a read of ${text.length} characters that is no whole version`);
    }
  })();
  for (const v of versions.slice(1)) assert.equal((await s.send(message({ payload: v }), never)).status, 'acknowledged');
  writing = false;
  await reader;
  assert.ok(reads > 0);
  assert.deepEqual(readdirSync(dir), [`${message().messageId}.hl7`], 'no temporary file left');
});
