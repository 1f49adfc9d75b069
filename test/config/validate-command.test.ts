import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { validateCommand } from '../../src/cli/validate.ts';
import { readSettings } from '../../src/config/settings.ts';
import { channelYaml, configDir, lineOf, REPO, repoChannelIds } from './support.ts';

function run(channelsDir: string, mappingsDir: string, json: boolean): { code: number; out: string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => {
    text += c.toString('utf8');
  });
  const code = validateCommand(readSettings({ '--channels': channelsDir, '--mappings': mappingsDir }, {}), out, json);
  out.end();
  return { code, out: text };
}

test('the repository configuration: exit 0 and one ok line naming the channels', () => {
  const r = run(join(REPO, 'channels'), join(REPO, 'mappings'), false);
  assert.equal(r.code, 0);
  const ids = repoChannelIds();
  assert.equal(r.out, `ok: ${ids.length} channel(s) valid: ${ids.join(', ')}\n`);
});

test('the repository configuration with --json: ok true, the channel ids and no issues', () => {
  const r = run(join(REPO, 'channels'), join(REPO, 'mappings'), true);
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.out), { ok: true, channels: repoChannelIds(), issues: [] });
});

test('problems: exit 1, one "file:line: path: message" line each, then the count', (t) => {
  const bad = channelYaml('bad', { 'port: 2575': '      port: abc', 'mapping: oru-r01-lis': '    mapping: nowhere' });
  const dir = configDir({ channels: { 'bad.yaml': bad, 'good.yaml': channelYaml('good') } });
  t.after(() => dir.remove());
  const r = run(dir.channelsDir, dir.mappingsDir, false);
  assert.equal(r.code, 1);
  const file = dir.channelFile('bad.yaml');
  assert.deepEqual(r.out.split('\n'), [
    `${file}:${lineOf(bad, 'nowhere')}: destinations[0].mapping: no mapping file 'nowhere.yaml' in ${dir.mappingFile('')}`,
    `${file}:${lineOf(bad, 'port: abc')}: destinations[0].sender.port: Invalid input: expected number, received string`,
    '2 problem(s) found',
    '',
  ]);
});

test('problems with --json: exit 1, ok false, only the valid channels, and every issue with file, line, path, message and code', (t) => {
  const bad = channelYaml('bad', { 'port: 2575': '      port: abc' });
  const dir = configDir({ channels: { 'bad.yaml': bad, 'good.yaml': channelYaml('good') } });
  t.after(() => dir.remove());
  const r = run(dir.channelsDir, dir.mappingsDir, true);
  assert.equal(r.code, 1);
  assert.deepEqual(JSON.parse(r.out), {
    ok: false,
    channels: ['good'],
    issues: [
      {
        file: dir.channelFile('bad.yaml'),
        path: 'destinations[0].sender.port',
        line: lineOf(bad, 'port: abc'),
        message: 'Invalid input: expected number, received string',
        code: 'invalid_type',
      },
    ],
  });
});

test('a missing channels directory: exit 1 with the no-channels problem', (t) => {
  const dir = configDir();
  t.after(() => dir.remove());
  const r = run(join(dir.dir, 'does-not-exist'), dir.mappingsDir, false);
  assert.equal(r.code, 1);
  assert.match(r.out, /does-not-exist: \(dir\): no channel files \(\*\.yaml\) found\n1 problem\(s\) found\n$/);
});
