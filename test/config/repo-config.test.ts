import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfiguration } from '../../src/config/load.ts';
import { configDir, REPO, repoChannelIds } from './support.ts';

const SAMPLE_CHANNELS = ['lis-sandbox.yaml', 'platform-to-lis.yaml'];

test("the repository's own channels and mappings load with zero issues", () => {
  const { channels, issues } = loadConfiguration({ channelsDir: join(REPO, 'channels'), mappingsDir: join(REPO, 'mappings') }, {});
  assert.deepEqual(issues, []);
  // Every channel file is a valid channel, and the two the quick start uses are among them.
  assert.deepEqual(
    channels.map((c) => c.config.id),
    repoChannelIds(),
  );
  for (const id of ['lis-sandbox', 'platform-to-lis']) assert.ok(repoChannelIds().includes(id), id);
});

test('platform-to-lis resolves to a webhook source, the platform mapping and one MLLP destination with defaults filled in', () => {
  const { channels } = loadConfiguration({ channelsDir: join(REPO, 'channels'), mappingsDir: join(REPO, 'mappings') }, {});
  const c = channels.find((x) => x.config.id === 'platform-to-lis')!;
  assert.equal(c.sourceKind, 'webhook');
  assert.deepEqual(c.sourceConfig, { path: '/channels/platform-to-lis', maxBodyBytes: 1048576 });
  assert.equal(c.mapping?.id, 'platform-result');
  assert.equal(c.mapping?.format, 'json');
  assert.equal(c.destinations.length, 1);
  const d = c.destinations[0]!;
  assert.equal(d.config.id, 'lis');
  assert.equal(d.senderKind, 'mllp');
  assert.equal(d.encoder.kind, 'oru-r01');
  assert.match(d.mappingVersion, /^oru-r01-lis@[0-9a-f]{12}$/);
  // Sender defaults come from the plugin's schema; the file sets only some fields.
  assert.deepEqual(d.senderConfig, {
    host: '127.0.0.1',
    port: 2575,
    connectTimeoutMs: 5000,
    ackTimeoutMs: 10000,
    maxFrameBytes: 16 * 1024 * 1024,
    encoding: 'utf-8',
  });
  assert.deepEqual(d.config.delivery, { maxAttempts: 10, initialBackoffMs: 1000, maxBackoffMs: 300000, backoffMultiplier: 2, lanes: 1, paceIntake: false });
});

test('lis-sandbox resolves to an MLLP source with no mapping and no destinations', () => {
  const { channels } = loadConfiguration({ channelsDir: join(REPO, 'channels'), mappingsDir: join(REPO, 'mappings') }, {});
  const c = channels.find((x) => x.config.id === 'lis-sandbox')!;
  assert.equal(c.sourceKind, 'mllp');
  assert.equal(c.mapping, undefined);
  assert.deepEqual(c.destinations, []);
  assert.equal((c.sourceConfig as { port: number; respond: string }).port, 2575);
  assert.equal((c.sourceConfig as { respond: string }).respond, 'AA');
});

test('the mapping version is the hash of the mapping file: it changes when the file changes, not otherwise', (t) => {
  const a = configDir({ repoChannels: SAMPLE_CHANNELS });
  const b = configDir({ repoChannels: SAMPLE_CHANNELS });
  const text = readFileSync(join(REPO, 'mappings', 'oru-r01-lis.yaml'), 'utf8');
  const c = configDir({ repoChannels: SAMPLE_CHANNELS, mappings: { 'oru-r01-lis.yaml': text.replace('processingId: P', 'processingId: T') } });
  t.after(() => {
    for (const x of [a, b, c]) x.remove();
  });
  const version = (x: ReturnType<typeof configDir>) => {
    const { channels, issues } = x.load();
    assert.deepEqual(issues, []);
    return channels.find((ch) => ch.config.id === 'platform-to-lis')!.destinations[0]!.mappingVersion;
  };
  assert.equal(version(a), version(b));
  assert.notEqual(version(a), version(c));
});

test('a disabled channel is loaded (with enabled false) and does not claim its endpoint', (t) => {
  const dir = configDir({
    repoChannels: SAMPLE_CHANNELS,
    channels: {
      // Same MLLP port as lis-sandbox, but disabled: no conflict.
      'spare-lis.yaml': 'id: spare-lis\nenabled: false\nsource:\n  type: mllp\n  port: 2575\n',
    },
  });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  assert.deepEqual(issues, []);
  assert.equal(channels.find((c) => c.config.id === 'spare-lis')?.config.enabled, false);
});

test('an empty channels directory is one issue naming the directory', (t) => {
  const dir = configDir();
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  assert.deepEqual(channels, []);
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.code, 'no_channels');
  assert.match(issues[0]!.file, /channels$/);
  assert.match(issues[0]!.message, /no channel files/);
});

test('files other than .yaml, .yml and .json in channels/ are ignored', (t) => {
  const dir = configDir({
    repoChannels: SAMPLE_CHANNELS,
    channels: { 'README.md': '# not a channel: {', 'old.yaml.bak': 'id: [broken' },
  });
  t.after(() => dir.remove());
  assert.deepEqual(dir.load().issues, []);
});

test('channel files may be .yml or .json; the id must match the name without the extension', (t) => {
  const dir = configDir({
    channels: {
      'hook-a.yml': 'id: hook-a\nsource: { type: webhook }\n',
      'hook-b.json': JSON.stringify({ id: 'hook-b', source: { type: 'webhook' } }),
    },
  });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  assert.deepEqual(issues, []);
  assert.deepEqual(
    channels.map((c) => c.config.id),
    ['hook-a', 'hook-b'],
  );
});
