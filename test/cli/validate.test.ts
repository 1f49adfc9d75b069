import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { conduit, REPO, repoChannelIds, tempFiles } from './support.ts';

test('conduit validate on the repository: exit 0, one ok line naming every channel', () => {
  const r = conduit(['validate']);
  const ids = repoChannelIds();
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, `ok: ${ids.length} channel(s) valid: ${ids.join(', ')}\n`);
  assert.equal(r.status, 0);
});

test('conduit validate --json on the repository: exit 0, ok true', () => {
  const r = conduit(['validate', '--json']);
  assert.equal(r.status, 0);
  assert.deepEqual(JSON.parse(r.stdout), { ok: true, channels: repoChannelIds(), issues: [] });
});

/** A channels and a mappings directory: a copy of the sample channel with a port typed as text, and a bad mapping setting. */
function brokenConfig(t: Parameters<typeof tempFiles>[0]) {
  const files = tempFiles(t);
  const channels = join(files.dir, 'channels');
  const mappings = join(files.dir, 'mappings');
  mkdirSync(channels);
  cpSync(join(REPO, 'mappings'), mappings, { recursive: true });
  const channel = readFileSync(join(REPO, 'channels', 'platform-to-lis.yaml'), 'utf8').replace('      port: 2575', "      port: 'abc'");
  const channelFile = files.write('channels/platform-to-lis.yaml', channel);
  const mapping = readFileSync(join(REPO, 'mappings', 'oru-r01-lis.yaml'), 'utf8').replace('processingId: P ', 'processingId: X ');
  const mappingFile = files.write('mappings/oru-r01-lis.yaml', mapping);
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
  return {
    channels,
    mappings,
    // The CLI runs in the repository, so files are named relative to it.
    channelFile: relative(REPO, channelFile),
    mappingFile: relative(REPO, mappingFile),
    portLine: lineOf(channel, "port: 'abc'"),
    processingLine: lineOf(mapping, 'processingId: X'),
  };
}

test('conduit validate --channels --mappings on a broken configuration: exit 1, every problem as file:line: path: message', (t) => {
  const c = brokenConfig(t);
  const r = conduit(['validate', '--channels', c.channels, '--mappings', c.mappings]);
  assert.equal(r.status, 1);
  assert.deepEqual(r.stdout.split('\n'), [
    `${c.mappingFile}:${c.processingLine}: settings.processingId: Invalid option: expected one of "P"|"T"|"D"`,
    `${c.channelFile}:${c.portLine}: destinations[0].sender.port: Invalid input: expected number, received string`,
    '2 problem(s) found',
    '',
  ]);
});

test('the directories may come from CONDUIT_CHANNELS and CONDUIT_MAPPINGS; --json lists the issues', (t) => {
  const c = brokenConfig(t);
  const r = conduit(['validate', '--json'], { CONDUIT_CHANNELS: c.channels, CONDUIT_MAPPINGS: c.mappings });
  assert.equal(r.status, 1);
  const out = JSON.parse(r.stdout) as { ok: boolean; channels: string[]; issues: Array<{ file: string; line: number; path: string; code: string }> };
  assert.equal(out.ok, false);
  assert.deepEqual(out.channels, []);
  assert.deepEqual(
    out.issues.map((i) => [i.file, i.line, i.path, i.code]),
    [
      [c.mappingFile, c.processingLine, 'settings.processingId', 'invalid_value'],
      [c.channelFile, c.portLine, 'destinations[0].sender.port', 'invalid_type'],
    ],
  );
});

test('a YAML syntax error is reported with its line', (t) => {
  const files = tempFiles(t);
  files.write('broken.yaml', 'id: broken\nsource:\n  type: webhook\nsource:\n  type: mllp\n');
  const r = conduit(['validate', '--channels', files.dir, '--mappings', join(REPO, 'mappings')]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, `${relative(REPO, join(files.dir, 'broken.yaml'))}:4: (syntax): Map keys must be unique\n1 problem(s) found\n`);
});
