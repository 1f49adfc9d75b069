/** Data keys: the key file and CONDUIT_DATA_KEY, each problem named with its file and line; keygen; seal and open of one value. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { ConduitError } from '../../src/errors.ts';
import { keyCheckValue, open, seal } from '../../src/store/sealing/cipher.ts';
import { newKeyId, newKeyLine, parseEnvKey, parseKeyFile, readKeyFile, resolveKeyring } from '../../src/store/sealing/keyring.ts';

const key = (): string => randomBytes(32).toString('base64');

function keyFile(t: TestContext, text: string, mode = 0o600): string {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-keys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'data.keys');
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

/** The error a function throws, checked to be a ConduitError of `code`. */
function thrown(fn: () => unknown, code: string): ConduitError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConduitError, String(e));
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail('expected an error');
}

test('a key file: the first key seals, the others open; comments and blank lines are ignored', () => {
  const [a, b] = [key(), key()];
  const ring = parseKeyFile(`# rotated 2026-11-20\n\nk-new ${a}\n  k-old   ${b}  \n# end\n`, '/etc/conduit/data.keys');
  assert.equal(ring.sealing.id, 'k-new');
  assert.deepEqual(Buffer.from(ring.sealing.key), Buffer.from(a, 'base64'));
  assert.deepEqual(
    ring.keys.map((k) => k.id),
    ['k-new', 'k-old'],
  );
  assert.equal(ring.byId('k-old')?.key.length, 32);
  assert.equal(ring.byId('k-gone'), undefined);
  assert.equal(ring.source, '/etc/conduit/data.keys');
});

test('every problem of a key file is reported at once, each with its file and line, never quoting a key', () => {
  const good = key();
  const short = randomBytes(16).toString('base64');
  const text = [
    `k-1 ${good}`, // 1: fine
    `k-2 ${short}`, // 2: 16 bytes
    'k-3 not*base64!', // 3
    `k-1 ${key()}`, // 4: duplicate
    `${good}`, // 5: one field
    `${good} k-5`, // 6: swapped fields: the "id" is the key
    `k/6 ${key()}`, // 7: bad id
    `${'k'.repeat(65)} ${key()}`, // 8: id too long
  ].join('\n');
  const e = thrown(() => parseKeyFile(text, '/keys'), 'STORE_KEY_INVALID');
  const lines = e.message.split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(': ')[0]),
    ['/keys:2', '/keys:3', '/keys:4', '/keys:5', '/keys:6', '/keys:7', '/keys:8'],
  );
  assert.match(lines[0]!, /key k-2: the key is 16 bytes; AES-256 needs exactly 32/);
  assert.match(lines[1]!, /key k-3: the key is not base64/);
  assert.match(lines[2]!, /key id k-1 is already used on line 1/);
  assert.match(lines[3]!, /expected '<key-id> <base64 of 32 bytes>', found 1 field$/);
  assert.match(lines[4]!, /the key id \(first field\) must be 1 to 64 of A-Z a-z 0-9 \. _ - \(44 characters given\)/);
  assert.match(lines[6]!, /\(65 characters given\)/);
  assert.equal(e.location, '/keys:2');
  assert.ok(!e.message.includes(good), 'no key in the message');
});

test('a key file with no key, or that cannot be read, is a specific error naming it', (t) => {
  assert.match(thrown(() => parseKeyFile('# nothing yet\n\n', '/keys'), 'STORE_KEY_INVALID').message, /^\/keys: holds no key/);
  const missing = join(tmpdir(), `conduit-no-such-${process.pid}.keys`);
  assert.match(thrown(() => readKeyFile(missing), 'STORE_KEY_INVALID').message, new RegExp(`${missing}: cannot read the data key file \\(no such file\\)`));
  const dir = mkdtempSync(join(tmpdir(), 'conduit-keys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.match(thrown(() => readKeyFile(dir), 'STORE_KEY_INVALID').message, /cannot read the data key file \(a directory, not a file\)/);
});

test('a key file group or others may read is used, with a warning naming it', (t) => {
  const file = keyFile(t, `k-1 ${key()}\n`, 0o640);
  const { keyring, warnings } = readKeyFile(file);
  assert.equal(keyring.sealing.id, 'k-1');
  assert.deepEqual(warnings, [`${file}: group or others may read the data key file (mode 640); make it owner-only (chmod 600)`]);
  assert.deepEqual(readKeyFile(keyFile(t, `k-1 ${key()}\n`)).warnings, []);
});

test('CONDUIT_DATA_KEY: one key as <key-id>:<base64>; malformed ones are specific errors', () => {
  const k = key();
  const ring = parseEnvKey(`k-env:${k}`);
  assert.equal(ring.sealing.id, 'k-env');
  assert.equal(ring.source, 'CONDUIT_DATA_KEY');
  assert.match(thrown(() => parseEnvKey(k), 'STORE_KEY_INVALID').message, /^CONDUIT_DATA_KEY: expected '<key-id>:<base64 of 32 bytes>'/);
  assert.match(thrown(() => parseEnvKey(`k-env:${randomBytes(31).toString('base64')}`), 'STORE_KEY_INVALID').message, /^CONDUIT_DATA_KEY: key k-env: the key is 31 bytes/);
});

test('the keyring of settings and environment: the file, else the variable, else none; both at once is refused', (t) => {
  const file = keyFile(t, `k-file ${key()}\n`);
  assert.equal(resolveKeyring({ dataKeyFile: file }, {}).keyring?.sealing.id, 'k-file');
  assert.equal(resolveKeyring({}, { CONDUIT_DATA_KEY: `k-env:${key()}` }).keyring?.sealing.id, 'k-env');
  assert.equal(resolveKeyring({}, {}).keyring, undefined);
  assert.match(thrown(() => resolveKeyring({ dataKeyFile: file }, { CONDUIT_DATA_KEY: `k-env:${key()}` }), 'STORE_KEY_INVALID').message, /set only one/);
});

test('keygen: a line the key file takes, with a fresh key each time; the default id carries the date', () => {
  const line = newKeyLine('k-test');
  const ring = parseKeyFile(line, 'keygen');
  assert.equal(ring.sealing.id, 'k-test');
  assert.notEqual(newKeyLine('k-test'), line);
  assert.match(newKeyId(new Date('2026-11-20T10:00:00Z')), /^k-20261120-[0-9a-f]{6}$/);
  assert.match(newKeyLine(), /^k-\d{8}-[0-9a-f]{6} [A-Za-z0-9+/]{43}=$/);
  thrown(() => newKeyLine('no spaces allowed'), 'STORE_KEY_INVALID');
});

test('seal and open: a random IV per value; another column, another key or a changed byte does not open', () => {
  const k = parseEnvKey(`k-1:${key()}`).sealing;
  const other = parseEnvKey(`k-1:${key()}`).sealing;
  const sealed = seal(k, 'messages.raw_input', 'PID|||MRN-1||Quillfeather^Zebediah');
  assert.notEqual(seal(k, 'messages.raw_input', 'PID|||MRN-1||Quillfeather^Zebediah'), sealed, 'two seals of one value differ');
  assert.equal(open(k, 'messages.raw_input', sealed), 'PID|||MRN-1||Quillfeather^Zebediah');
  assert.throws(() => open(k, 'deliveries.payload', sealed), 'bound to its column');
  assert.throws(() => open(other, 'messages.raw_input', sealed), 'another key');
  const bytes = Buffer.from(sealed, 'base64');
  bytes[20] = bytes[20]! ^ 1;
  assert.throws(() => open(k, 'messages.raw_input', bytes.toString('base64')), 'altered');
  assert.equal(open(k, 'attempts.response', seal(k, 'attempts.response', '')), '', 'the empty string too');
  assert.notEqual(keyCheckValue(k), keyCheckValue(other));
  assert.match(keyCheckValue(k), /^[0-9a-f]{64}$/);
});
