import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { resolveAdminToken, tokenMatches } from '../../src/admin/token.ts';
import { ConduitError } from '../../src/errors.ts';
import { conduit, REPO, tempFiles } from '../cli/support.ts';
import { webhookToMllpChannel } from '../support/in-process.ts';

/** `conduit start` with one webhook channel in `channels` and the data directory `data`. */
function start(data: string, channels: string, env: Record<string, string> = {}) {
  writeFileSync(join(channels, 'to-lis.yaml'), webhookToMllpChannel('to-lis', 9));
  return conduit(['start', '--port', '0', '--data', data, '--channels', channels, '--mappings', join(REPO, 'mappings'), '--watch', 'false'], env);
}

describe('admin token checks at start', () => {
  for (const [what, token] of [
    ['empty', ''],
    ['whitespace-only', ' \u00a0 '],
    ['short', 'abc123456789012'],
    ['holding a space', 'abcdefgh ijklmnopq'],
  ] as const) {
    test(`a CONDUIT_ADMIN_TOKEN that is ${what} stops the start with a clear message`, (t) => {
      const dir = tempFiles(t).dir;
      mkdirSync(join(dir, 'channels'));
      const r = start(join(dir, 'data'), join(dir, 'channels'), { CONDUIT_ADMIN_TOKEN: token });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /Conduit did not start: the admin token from the environment variable CONDUIT_ADMIN_TOKEN .+; expected at least 16 visible ASCII characters/);
      if (token.trim() !== '') assert.ok(!r.stderr.includes(token.trim()), 'the token is not echoed');
    });
  }

  test('an empty or blank admin-token file stops the start, naming the file', (t) => {
    const dir = tempFiles(t).dir;
    mkdirSync(join(dir, 'channels'));
    const data = join(dir, 'data');
    mkdirSync(data);
    for (const content of ['', '\n', '\u00a0\n']) {
      writeFileSync(join(data, 'admin-token'), content, { mode: 0o600 });
      const r = start(data, join(dir, 'channels'));
      assert.equal(r.status, 1, r.stderr);
      assert.ok(r.stderr.includes(`the admin token from ${join(data, 'admin-token')} is empty`), r.stderr);
    }
  });

  test('resolveAdminToken refuses what the API would otherwise accept as `Bearer \\xa0`', (t) => {
    const data = tempFiles(t).dir;
    writeFileSync(join(data, 'admin-token'), '');
    assert.throws(() => resolveAdminToken(data, {}), (e: unknown) => e instanceof ConduitError && e.code === 'CONFIG_INVALID');
    assert.equal(tokenMatches('Bearer \u00a0', ''), false);
    assert.equal(tokenMatches('Bearer  ', ''), false);
  });

  test('a generated token file is complete, owner-only, and leaves no temp file behind', (t) => {
    const data = join(tempFiles(t).dir, 'data');
    const first = resolveAdminToken(data, {});
    assert.equal(first.generated, true);
    assert.equal(readFileSync(first.file!, 'utf8'), `${first.token}\n`);
    assert.ok(first.token.length >= 16);
    assert.equal(statSync(first.file!).mode & 0o777, 0o600);
    assert.equal(statSync(data).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(data), ['admin-token']);
    const again = resolveAdminToken(data, {});
    assert.deepEqual(again, { token: first.token, generated: false, file: first.file });
  });

  test('a token of 16 visible characters from the environment is taken, trimmed', () => {
    const r = resolveAdminToken('/nonexistent-never-created', { CONDUIT_ADMIN_TOKEN: ' 0123456789abcdef\n' });
    assert.deepEqual(r, { token: '0123456789abcdef', generated: false });
  });
});
