/**
 * Problems in channel files: each one reported with its file, line, path and a message that
 * says what was expected, and all of them in one pass.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { senderPlugins, sourcePlugins } from '../../src/plugins.ts';
import { channelYaml, configDir, issueAt, lineOf } from './support.ts';

test('a YAML syntax error is reported with its line, and the other channel files are still checked', (t) => {
  const broken = 'id: broken\nsource:\n  type: webhook\nsource:\n  type: mllp\n';
  const dir = configDir({ channels: { 'broken.yaml': broken, 'good.yaml': channelYaml('good') } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  const i = issueAt(issues, dir.channelFile('broken.yaml'), '(syntax)');
  assert.equal(i.line, 4);
  assert.equal(i.code, 'yaml_syntax');
  assert.match(i.message, /unique/);
  assert.equal(issues.length, 1);
  assert.deepEqual(
    channels.map((c) => c.config.id),
    ['good'],
  );
});

test('an unknown top-level key is reported at that key, with its line', (t) => {
  const text = channelYaml('typo', { 'enabled: true': 'enabeld: true' });
  const dir = configDir({ channels: { 'typo.yaml': text } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  const i = issueAt(issues, dir.channelFile('typo.yaml'), 'enabeld');
  assert.equal(i.line, lineOf(text, 'enabeld'));
  assert.equal(i.code, 'unrecognized_keys');
  assert.match(i.message, /unknown key 'enabeld'/);
  assert.equal(issues.length, 1);
  assert.deepEqual(channels, []);
});

test('an unknown key inside a sender block is reported at that key', (t) => {
  const text = channelYaml('extra', { 'port: 2575': '      port: 2575\n      colour: blue' });
  const dir = configDir({ channels: { 'extra.yaml': text } });
  t.after(() => dir.remove());
  const i = issueAt(dir.load().issues, dir.channelFile('extra.yaml'), 'destinations[0].sender.colour');
  assert.equal(i.line, lineOf(text, 'colour'));
  assert.match(i.message, /unknown key 'colour'/);
});

test("a port written as 'abc' is a type issue at the port's line", (t) => {
  const text = channelYaml('bad-port', { 'port: 2575': '      port: abc' });
  const dir = configDir({ channels: { 'bad-port.yaml': text } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  const i = issueAt(issues, dir.channelFile('bad-port.yaml'), 'destinations[0].sender.port');
  assert.equal(i.line, lineOf(text, 'port: abc'));
  assert.equal(i.code, 'invalid_type');
  assert.match(i.message, /expected number, received string/);
  assert.deepEqual(channels, []);
});

test('a missing sender.host is reported at its path, on the line of the sender key', (t) => {
  const text = channelYaml('no-host', { 'host: 127.0.0.1': null });
  const dir = configDir({ channels: { 'no-host.yaml': text } });
  t.after(() => dir.remove());
  const i = issueAt(dir.load().issues, dir.channelFile('no-host.yaml'), 'destinations[0].sender.host');
  assert.equal(i.line, lineOf(text, 'sender:'));
  assert.match(i.message, /expected string/);
});

test('a missing source is reported at source; a missing id at id', (t) => {
  const text = 'description: nothing else\n';
  const dir = configDir({ channels: { 'empty.yaml': text } });
  t.after(() => dir.remove());
  const { issues } = dir.load();
  assert.match(issueAt(issues, dir.channelFile('empty.yaml'), 'source').message, /expected object/);
  assert.match(issueAt(issues, dir.channelFile('empty.yaml'), 'id').message, /expected string/);
});

test('an unknown source type names the known ones', (t) => {
  const text = channelYaml('ftp-in', { 'type: webhook': '  type: ftp', 'path: /hooks/ftp-in': null });
  const dir = configDir({ channels: { 'ftp-in.yaml': text } });
  t.after(() => dir.remove());
  const i = issueAt(dir.load().issues, dir.channelFile('ftp-in.yaml'), 'source.type');
  assert.equal(i.code, 'unknown_source');
  assert.equal(i.line, lineOf(text, 'type: ftp'));
  assert.equal(i.message, `unknown source type 'ftp'; expected one of ${Object.keys(sourcePlugins).join(', ')}`);
  assert.ok(Object.keys(sourcePlugins).includes('webhook') && Object.keys(sourcePlugins).includes('mllp'));
});

test('an unknown sender type names the known ones', (t) => {
  const text = channelYaml('pigeon', { 'type: mllp': '      type: carrier-pigeon' });
  const dir = configDir({ channels: { 'pigeon.yaml': text } });
  t.after(() => dir.remove());
  const i = issueAt(dir.load().issues, dir.channelFile('pigeon.yaml'), 'destinations[0].sender.type');
  assert.equal(i.code, 'unknown_sender');
  assert.equal(i.line, lineOf(text, 'carrier-pigeon'));
  assert.equal(i.message, `unknown sender type 'carrier-pigeon'; expected one of ${Object.keys(senderPlugins).join(', ')}`);
  assert.ok(Object.keys(senderPlugins).includes('mllp'));
});

test("a plugin type that is a name of Object.prototype ('toString', 'constructor') is unknown, not a crash", (t) => {
  const dir = configDir({
    channels: {
      'proto-a.yaml': channelYaml('proto-a', { 'type: webhook': '  type: toString', 'path: /hooks/proto-a': null }),
      'proto-b.yaml': channelYaml('proto-b', { 'type: mllp': '      type: constructor' }),
    },
  });
  t.after(() => dir.remove());
  const { issues } = dir.load();
  assert.equal(issueAt(issues, dir.channelFile('proto-a.yaml'), 'source.type').code, 'unknown_source');
  assert.equal(issueAt(issues, dir.channelFile('proto-b.yaml'), 'destinations[0].sender.type').code, 'unknown_sender');
});

test('a channel id that differs from the file name is reported at id', (t) => {
  const text = channelYaml('other-name');
  const dir = configDir({ channels: { 'file-name.yaml': text } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  const i = issueAt(issues, dir.channelFile('file-name.yaml'), 'id');
  assert.equal(i.code, 'id_mismatch');
  assert.equal(i.line, 1);
  assert.equal(i.message, "channel id 'other-name' differs from the file name 'file-name'");
  assert.deepEqual(channels, []);
});

test('an id that is not lower-case letters, digits and dashes is refused', (t) => {
  const dir = configDir({ channels: { 'Bad_Id.yaml': channelYaml('Bad_Id') } });
  t.after(() => dir.remove());
  const i = issueAt(dir.load().issues, dir.channelFile('Bad_Id.yaml'), 'id');
  assert.equal(i.line, 1);
  assert.match(i.message, /lower-case letters, digits and dashes/);
});

test('two files with the same channel id: the second is reported, naming the first', (t) => {
  const dir = configDir({
    channels: {
      'twin.yaml': channelYaml('twin'),
      'twin.yml': channelYaml('twin', { 'path: /hooks/twin': '  path: /hooks/twin-2' }),
    },
  });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  const i = issueAt(issues, dir.channelFile('twin.yml'), 'id');
  assert.equal(i.code, 'duplicate_id');
  assert.equal(i.message, `channel id 'twin' is also used by ${dir.channelFile('twin.yaml')}`);
  assert.equal(issues.length, 1);
  assert.deepEqual(
    channels.map((c) => c.file),
    [dir.channelFile('twin.yaml')],
  );
});

test('two channels on the same webhook path: the second is reported, naming the path and the first channel', (t) => {
  const dir = configDir({
    channels: {
      'hook-a.yaml': channelYaml('hook-a', { 'path: /hooks/hook-a': '  path: /hooks/shared' }),
      'hook-b.yaml': channelYaml('hook-b', { 'path: /hooks/hook-b': '  path: /hooks/shared' }),
    },
  });
  t.after(() => dir.remove());
  const { issues } = dir.load();
  const i = issueAt(issues, dir.channelFile('hook-b.yaml'), 'source');
  assert.equal(i.code, 'endpoint_conflict');
  assert.equal(i.line, 4);
  assert.equal(i.message, 'http /hooks/shared is already used by channel hook-a');
  assert.equal(issues.length, 1);
});

test("a webhook's default path /channels/<id> conflicts with another channel's explicit path", (t) => {
  const dir = configDir({
    channels: {
      'a-default.yaml': channelYaml('a-default', { 'path: /hooks/a-default': null }),
      'b-explicit.yaml': channelYaml('b-explicit', { 'path: /hooks/b-explicit': '  path: /channels/a-default' }),
    },
  });
  t.after(() => dir.remove());
  const i = issueAt(dir.load().issues, dir.channelFile('b-explicit.yaml'), 'source');
  assert.equal(i.message, 'http /channels/a-default is already used by channel a-default');
});

test('two MLLP sources on the same host:port conflict; the same port on another host does not', (t) => {
  const mllp = (id: string, host: string, port: number) => `id: ${id}\nsource:\n  type: mllp\n  host: ${host}\n  port: ${port}\n`;
  const dir = configDir({
    channels: {
      'lis-a.yaml': mllp('lis-a', '127.0.0.1', 2600),
      'lis-b.yaml': mllp('lis-b', '127.0.0.1', 2600),
      'lis-c.yaml': mllp('lis-c', '127.0.0.2', 2600),
      // Port 0 picks a free port at start: never a conflict.
      'lis-d.yaml': mllp('lis-d', '127.0.0.1', 0),
      'lis-e.yaml': mllp('lis-e', '127.0.0.1', 0),
    },
  });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  assert.equal(issues.length, 1);
  const i = issueAt(issues, dir.channelFile('lis-b.yaml'), 'source');
  assert.equal(i.message, 'tcp 127.0.0.1:2600 is already used by channel lis-a');
  assert.equal(i.line, 2);
  assert.deepEqual(
    channels.map((c) => c.config.id),
    ['lis-a', 'lis-c', 'lis-d', 'lis-e'],
  );
});

test('destinations without an inbound mapping are refused at mapping', (t) => {
  const text = channelYaml('unmapped', { 'mapping: platform-result': null });
  const dir = configDir({ channels: { 'unmapped.yaml': text } });
  t.after(() => dir.remove());
  const i = issueAt(dir.load().issues, dir.channelFile('unmapped.yaml'), 'mapping');
  assert.match(i.message, /needs an inbound mapping/);
});

test('a channel without destinations needs no mapping (messages are stored as received)', (t) => {
  const dir = configDir({ channels: { 'store-only.yaml': 'id: store-only\nsource:\n  type: webhook\n' } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  assert.deepEqual(issues, []);
  assert.equal(channels[0]?.mapping, undefined);
});

test('duplicate destination ids are reported at the second one', (t) => {
  const dest = '  - id: lis\n    mapping: oru-r01-lis\n    sender:\n      type: mllp\n      host: 127.0.0.1\n      port: 2576\n';
  const text = channelYaml('two-lis') + dest;
  const dir = configDir({ channels: { 'two-lis.yaml': text } });
  t.after(() => dir.remove());
  const { issues } = dir.load();
  const i = issueAt(issues, dir.channelFile('two-lis.yaml'), 'destinations[1].id');
  assert.equal(i.message, "duplicate destination id 'lis'");
  // The second destination is the first line after the 16 of channelYaml.
  assert.equal(i.line, 17);
  assert.equal(text.split('\n')[16], '  - id: lis');
  assert.equal(issues.length, 1);
});

test('a bad delivery policy is reported at its field', (t) => {
  const text = channelYaml('bad-policy', { 'maxAttempts: 3': '      maxAttempts: 0\n      lanes: 65' });
  const dir = configDir({ channels: { 'bad-policy.yaml': text } });
  t.after(() => dir.remove());
  const { issues } = dir.load();
  assert.equal(issueAt(issues, dir.channelFile('bad-policy.yaml'), 'destinations[0].delivery.maxAttempts').line, lineOf(text, 'maxAttempts'));
  assert.match(issueAt(issues, dir.channelFile('bad-policy.yaml'), 'destinations[0].delivery.lanes').message, /64/);
});

test('every problem of every file is reported in one pass', (t) => {
  // One file with a bad top-level field, a bad sender, an unknown sender and a duplicate destination id…
  const many = [
    'id: many',
    'enabled: maybe',
    'source:',
    '  type: mllp',
    '  port: "2575"',
    'mapping: platform-result',
    'destinations:',
    '  - id: lis',
    '    mapping: oru-r01-lis',
    '    sender:',
    '      type: mllp',
    '      port: abc',
    '      ackTimeoutMs: -1',
    '  - id: lis',
    '    mapping: oru-r01-lis',
    '    sender:',
    '      type: carrier-pigeon',
    '',
  ].join('\n');
  const dir = configDir({
    channels: {
      'many.yaml': many,
      // …a second with a syntax error, a third with an unknown source and no mapping, and a valid one.
      'syntax.yaml': 'id: syntax\n\tsource: x\n',
      'ftp.yaml': 'id: ftp\nsource:\n  type: ftp\ndestinations:\n  - id: lis\n    mapping: oru-r01-lis\n    sender: { type: mllp, host: h, port: 1 }\n',
      'valid.yaml': channelYaml('valid'),
    },
  });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  const seen = issues.map((i) => `${i.file.split('/').pop()}:${i.line} ${i.path}`).sort();
  assert.deepEqual(seen, [
    'ftp.yaml:1 mapping',
    'ftp.yaml:3 source.type',
    'many.yaml:10 destinations[0].sender.host',
    'many.yaml:12 destinations[0].sender.port',
    'many.yaml:13 destinations[0].sender.ackTimeoutMs',
    'many.yaml:14 destinations[1].id',
    'many.yaml:17 destinations[1].sender.type',
    'many.yaml:2 enabled',
    'many.yaml:5 source.port',
    'syntax.yaml:2 (syntax)',
  ]);
  assert.ok(issues.every((i) => i.message.length > 0 && i.code.length > 0));
  assert.deepEqual(
    channels.map((c) => c.config.id),
    ['valid'],
  );
});

test('an empty channel file, or one that is a list, is one issue at (root)', (t) => {
  const dir = configDir({ channels: { 'empty.yaml': '', 'list.yaml': '- id: a\n- id: b\n', 'good.yaml': channelYaml('good') } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  assert.match(issueAt(issues, dir.channelFile('empty.yaml'), '(root)').message, /expected object, received null/);
  assert.match(issueAt(issues, dir.channelFile('list.yaml'), '(root)').message, /expected object, received array/);
  assert.equal(issues.length, 2);
  assert.deepEqual(
    channels.map((c) => c.config.id),
    ['good'],
  );
});
