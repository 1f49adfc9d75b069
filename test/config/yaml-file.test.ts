import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIssue, readYamlFile } from '../../src/config/yaml-file.ts';

test('a duplicate key is a syntax issue on the line of the second key', () => {
  const text = 'id: a\nsource:\n  type: webhook\nsource:\n  type: mllp\n';
  const { yaml, issues } = readYamlFile('channels/a.yaml', text);
  assert.equal(yaml, undefined);
  assert.deepEqual(issues, [{ file: 'channels/a.yaml', path: '(syntax)', line: 4, message: 'Map keys must be unique', code: 'yaml_syntax' }]);
});

test('a tab used as indentation is a syntax issue on its line', () => {
  const { issues } = readYamlFile('a.yaml', 'id: a\n\tsource: x\n');
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.line, 2);
  assert.match(issues[0]!.message, /Tabs/);
});

test('an unclosed quote is reported with a line inside the file, and its message has one line only', () => {
  const text = 'id: a\ndescription: "unterminated\nsource: x\n';
  const { issues } = readYamlFile('a.yaml', text);
  assert.ok(issues.length >= 1);
  for (const i of issues) {
    assert.equal(i.code, 'yaml_syntax');
    assert.equal(typeof i.line, 'number');
    assert.ok(i.line! >= 2 && i.line! <= 4, `line ${i.line}`);
    assert.ok(!i.message.includes('\n'));
  }
  assert.match(issues.map((i) => i.message).join(' '), /quote/);
});

test('every syntax error of a file is reported, each with a line', () => {
  const text = 'id: a\nsource: {type: webhook}\n- item\n';
  const { issues } = readYamlFile('a.yaml', text);
  assert.ok(issues.length > 1);
  assert.ok(issues.every((i) => i.line === 3));
});

test('lineOf finds nested keys and array items, 1-based', () => {
  const text = [
    '# a comment line',
    'id: a',
    'source:',
    '  type: mllp',
    '  port: 2575',
    'destinations:',
    '  - id: first',
    '    sender:',
    '      type: mllp',
    '  - id: second',
    '    sender:',
    '      type: mllp',
    '      port: abc',
  ].join('\n');
  const { yaml } = readYamlFile('a.yaml', text);
  assert.ok(yaml);
  assert.equal(yaml.lineOf(['id']), 2);
  // A key whose value is a block is found on the key's own line, not the block's first line.
  assert.equal(yaml.lineOf(['source']), 3);
  assert.equal(yaml.lineOf(['destinations', 1, 'sender']), 11);
  assert.equal(yaml.lineOf(['source', 'port']), 5);
  assert.equal(yaml.lineOf(['destinations', 0]), 7);
  assert.equal(yaml.lineOf(['destinations', 1, 'id']), 10);
  assert.equal(yaml.lineOf(['destinations', 1, 'sender', 'port']), 13);
});

test('lineOf falls back to the nearest present parent for a missing key', () => {
  const text = 'id: a\nsource:\n  type: mllp\ndestinations:\n  - id: x\n    sender:\n      type: mllp\n';
  const { yaml } = readYamlFile('a.yaml', text);
  assert.ok(yaml);
  // sender.host is missing: the line of the sender key.
  assert.equal(yaml.lineOf(['destinations', 0, 'sender', 'host']), 6);
  assert.equal(yaml.lineOf(['source', 'host']), 2);
  assert.equal(yaml.lineOf(['nothing', 'here']), 1);
});

test('data is the plain JS value of the document; JSON files read as YAML', () => {
  const { yaml, issues } = readYamlFile('a.json', '{"id": "a", "source": {"type": "webhook"}, "n": [1, 2]}');
  assert.deepEqual(issues, []);
  assert.deepEqual(yaml?.data, { id: 'a', source: { type: 'webhook' }, n: [1, 2] });
  assert.equal(yaml?.lineOf(['source', 'type']), 1);
});

test('formatIssue is file:line: path: message, or file: path: message without a line', () => {
  assert.equal(
    formatIssue({ file: 'channels/a.yaml', line: 12, path: 'destinations[0].sender.port', message: 'expected number', code: 'invalid_type' }),
    'channels/a.yaml:12: destinations[0].sender.port: expected number',
  );
  assert.equal(formatIssue({ file: 'channels', path: '(dir)', message: 'no channel files', code: 'no_channels' }), 'channels: (dir): no channel files');
});
