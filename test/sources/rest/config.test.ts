/** The REST source's channel block: defaults, and problems reported at load (`conduit validate`) with their path. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configDir, issueAt } from '../../config/support.ts';
import { envRef, restToMllpChannel } from './support.ts';

test('defaults: path /channels/<id>/submissions, 10 MiB, json, no auth', (t) => {
  const dir = configDir({ channels: { 'sub.yaml': restToMllpChannel('sub', 2575) } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  assert.deepEqual(issues, []);
  assert.deepEqual(channels[0]!.sourceConfig, { maxBodyBytes: 10 * 1_048_576, format: 'json', auth: { type: 'none' } });
});

test('bad blocks are reported at their paths, all in one pass', (t) => {
  const source = [
    '  path: /ends/with/slash/',
    '  format: xml',
    '  maxBodyBytes: -1',
    '  auth:',
    '    type: bearer',
    '    tokens: [short]',
    '',
  ].join('\n');
  const dir = configDir({ channels: { 'bad.yaml': restToMllpChannel('bad', 2575, { source }) } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  const file = dir.channelFile('bad.yaml');
  assert.match(issueAt(issues, file, 'source.path').message, /not ending with \//);
  assert.match(issueAt(issues, file, 'source.format').message, /expected 'json'/);
  assert.ok(issueAt(issues, file, 'source.maxBodyBytes'));
  assert.match(issueAt(issues, file, 'source.auth.tokens[0]').message, /at least 16 characters/);
  assert.deepEqual(channels, []);
});

test('an unknown auth type and an unset token variable are reported', (t) => {
  const dir = configDir({
    channels: {
      'a.yaml': restToMllpChannel('a', 2575, { source: '  auth:\n    type: basic\n' }),
      'b.yaml': restToMllpChannel('b', 2575, { source: `  auth:\n    type: api-key\n    keys: ["${envRef('NOT_SET_REST_KEY')}"]\n` }),
    },
  });
  t.after(() => dir.remove());
  const { issues } = dir.load({});
  assert.match(issueAt(issues, dir.channelFile('a.yaml'), 'source.auth.type').message, /'none', 'bearer' or 'api-key'/);
  const unset = issueAt(issues, dir.channelFile('b.yaml'), 'source.auth.keys[0]');
  assert.equal(unset.code, 'env_missing');
});

test('two channels claiming one submissions path conflict', (t) => {
  const dir = configDir({
    channels: {
      'a.yaml': restToMllpChannel('a', 2575, { source: '  path: /submissions\n' }),
      'b.yaml': restToMllpChannel('b', 2575, { source: '  path: /submissions\n' }),
    },
  });
  t.after(() => dir.remove());
  const { issues } = dir.load();
  assert.ok(issues.some((i) => i.code === 'endpoint_conflict' && i.file === dir.channelFile('b.yaml')));
});
