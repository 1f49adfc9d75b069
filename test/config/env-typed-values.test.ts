// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${NAME}` references in plain strings are what these tests are about.
/**
 * `${ENV}` references in numeric and boolean fields: a whole reference is converted after
 * substitution ('2575' → 2575, 'false' → false) and then validated like a written value; text
 * that is no number or boolean is refused with file, line, path and the variable's name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIssue } from '../../src/config/yaml-file.ts';
import { channelYaml, configDir, issueAt, lineOf } from './support.ts';

/** The test channel with its port, enabled flag, lanes and ACK timeout from the environment. */
const TEXT = channelYaml('feed', {
  'enabled: true': 'enabled: ${FEED_ENABLED}',
  'port: 2575': '      port: ${LIS_PORT}\n      ackTimeoutMs: ${LIS_ACK_TIMEOUT_MS}',
  'maxAttempts: 3': '      maxAttempts: 3\n      lanes: ${LIS_LANES}',
});
const ENV = { FEED_ENABLED: 'false', LIS_PORT: '2575', LIS_ACK_TIMEOUT_MS: '7500', LIS_LANES: '4' };

function load(t: import('node:test').TestContext, env: Record<string, string>) {
  const dir = configDir({ channels: { 'feed.yaml': TEXT } });
  t.after(() => dir.remove());
  return { ...dir.load(env), file: dir.channelFile('feed.yaml') };
}

test('ports, timeouts, lanes and enabled from the environment are numbers and booleans after substitution', (t) => {
  const { channels, issues } = load(t, ENV);
  assert.deepEqual(issues, []);
  const [c] = channels;
  assert.equal(c!.config.enabled, false);
  assert.equal(c!.config.destinations[0]!.delivery.lanes, 4);
  const sender = c!.destinations[0]!.senderConfig as { port: unknown; ackTimeoutMs: unknown };
  assert.equal(sender.port, 2575);
  assert.equal(sender.ackTimeoutMs, 7500);
});

test('a default in the reference (${LIS_PORT:-2585}) is converted like a value from the environment', (t) => {
  const dir = configDir({ channels: { 'feed.yaml': TEXT.replace('${LIS_PORT}', '${LIS_PORT:-2585}') } });
  t.after(() => dir.remove());
  const { LIS_PORT: _, ...rest } = ENV;
  const { channels, issues } = dir.load(rest);
  assert.deepEqual(issues, []);
  assert.equal((channels[0]!.destinations[0]!.senderConfig as { port: unknown }).port, 2585);
});

test('a variable that holds no number is refused at the field, naming the variable, without quoting its value', (t) => {
  for (const value of ['abc', '', ' 2575', '2575 ', '0x10', '1e3', '25 75']) {
    const { channels, issues, file } = load(t, { ...ENV, LIS_PORT: value });
    const i = issueAt(issues, file, 'destinations[0].sender.port');
    assert.equal(i.line, lineOf(TEXT, '${LIS_PORT}'), JSON.stringify(value));
    assert.match(i.message, /^expected a number: environment variable LIS_PORT must hold one/, JSON.stringify(value));
    if (value.trim() !== '') assert.ok(!formatIssue(i).includes(value.trim()), formatIssue(i));
    assert.deepEqual(channels, []);
  }
});

test('a variable that holds neither true nor false is refused at a boolean field', (t) => {
  for (const value of ['yes', 'TRUE', '1', '']) {
    const { issues, file } = load(t, { ...ENV, FEED_ENABLED: value });
    const i = issueAt(issues, file, 'enabled');
    assert.equal(i.line, lineOf(TEXT, '${FEED_ENABLED}'));
    assert.equal(i.message, "expected true or false: environment variable FEED_ENABLED must hold 'true' or 'false'", JSON.stringify(value));
  }
});

test('a converted value is validated like a written one, and the issue names the variable', (t) => {
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{ LIS_PORT: '70000' }, 'destinations[0].sender.port', /\(the value of environment variable LIS_PORT\)$/],
    [{ LIS_LANES: '0' }, 'destinations[0].delivery.lanes', /^Too small: expected number to be >=1 \(the value of environment variable LIS_LANES\)$/],
    [{ LIS_LANES: '2.5' }, 'destinations[0].delivery.lanes', /^Invalid input: expected int, received number \(the value of environment variable LIS_LANES\)$/],
  ];
  for (const [env, path, message] of cases) {
    const { channels, issues, file } = load(t, { ...ENV, ...env });
    assert.match(issueAt(issues, file, path).message, message, path);
    assert.deepEqual(channels, []);
  }
});

test('only a whole reference is converted: a string field keeps digits as text, a reference inside text is not a number', (t) => {
  const text = channelYaml('feed', { 'host: 127.0.0.1': '      host: ${LIS_HOST}', 'port: 2575': '      port: "25${PORT_SUFFIX}"' });
  const dir = configDir({ channels: { 'feed.yaml': text } });
  t.after(() => dir.remove());
  const { issues } = dir.load({ LIS_HOST: '2575', PORT_SUFFIX: '75' });
  assert.deepEqual(
    issues.map((i) => [i.path, i.message]),
    [['destinations[0].sender.port', 'Invalid input: expected number, received string']],
  );
});
