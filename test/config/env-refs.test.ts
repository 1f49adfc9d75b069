// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${NAME}` references in plain strings are what these tests are about.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveEnvRefs } from '../../src/config/env-refs.ts';
import { type ConfigIssue, formatIssue, readYamlFile } from '../../src/config/yaml-file.ts';
import { channelYaml, configDir, issueAt, lineOf, REPO } from './support.ts';

const SECRET = 'platform-webhook-secret-0123456789';

function resolve(text: string, env: NodeJS.ProcessEnv) {
  const { yaml } = readYamlFile('c.yaml', text);
  assert.ok(yaml);
  const issues: ConfigIssue[] = [];
  return { data: resolveEnvRefs(yaml, env, issues), issues };
}

test('every ${NAME} in every string of the tree is replaced, in maps, lists and mid-string', () => {
  const text = 'a: ${ONE}\nb:\n  c: x-${TWO}-y-${ONE}\nlist:\n  - ${TWO}\n  - plain\n';
  const { data, issues } = resolve(text, { ONE: '1', TWO: 'two' });
  assert.deepEqual(issues, []);
  assert.deepEqual(data, { a: '1', b: { c: 'x-two-y-1' }, list: ['two', 'plain'] });
});

test('non-strings, lower-case names and $NAME without braces are left alone', () => {
  const text = 'n: 5\nflag: true\nnothing: null\nlower: ${lower}\nbare: $HOME\nmixed: ${Mixed}\n';
  const { data, issues } = resolve(text, { lower: 'x', HOME: '/root', Mixed: 'm' });
  assert.deepEqual(issues, []);
  assert.deepEqual(data, { n: 5, flag: true, nothing: null, lower: '${lower}', bare: '$HOME', mixed: '${Mixed}' });
});

test('an empty variable is set: it substitutes the empty string', () => {
  const { data, issues } = resolve('a: "[${EMPTY}]"\n', { EMPTY: '' });
  assert.deepEqual(issues, []);
  assert.deepEqual(data, { a: '[]' });
});

test('an unset variable is an issue with file, line and path naming the variable; the reference stays as written', () => {
  const text = 'source:\n  hmac:\n    secret: ${NOT_SET_ANYWHERE}\nlist:\n  - ok\n  - ${ALSO_UNSET}\n';
  const { data, issues } = resolve(text, {});
  assert.deepEqual(issues, [
    { file: 'c.yaml', path: 'source.hmac.secret', line: 3, message: 'environment variable NOT_SET_ANYWHERE is not set', code: 'env_missing' },
    { file: 'c.yaml', path: 'list[1]', line: 6, message: 'environment variable ALSO_UNSET is not set', code: 'env_missing' },
  ]);
  assert.deepEqual(data, { source: { hmac: { secret: '${NOT_SET_ANYWHERE}' } }, list: ['ok', '${ALSO_UNSET}'] });
});

test('${NAME:-default}: the variable when set (even empty), else the default; an empty default is allowed', () => {
  const text = 'port: ${LIS_PORT:-2575}\nhost: ${LIS_HOST:-127.0.0.1}\nurl: http://${API_HOST:-localhost}:${API_PORT:-8080}/x\nnone: "[${NOTHING:-}]"\n';
  const { data, issues } = resolve(text, { LIS_HOST: '10.0.0.5', API_PORT: '' });
  assert.deepEqual(issues, []);
  assert.deepEqual(data, { port: '2575', host: '10.0.0.5', url: 'http://localhost:/x', none: '[]' });
});

function hmacChannel(secretRef: string): string {
  return channelYaml('signed', { 'path: /hooks/signed': `  path: /hooks/signed\n  hmac:\n    secret: ${secretRef}` });
}

test('a set secret is substituted into the plugin config', (t) => {
  const dir = configDir({ channels: { 'signed.yaml': hmacChannel('${TEST_HMAC_SECRET}') } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load({ TEST_HMAC_SECRET: SECRET });
  assert.deepEqual(issues, []);
  assert.deepEqual((channels[0]!.sourceConfig as { hmac: unknown }).hmac, { header: 'X-Signature', secret: SECRET, prefix: 'sha256=', encoding: 'hex' });
});

test('an unset secret is reported at its line and the channel is not loaded', (t) => {
  const text = hmacChannel('${TEST_HMAC_SECRET}');
  const dir = configDir({ channels: { 'signed.yaml': text } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load({});
  const i = issueAt(issues, dir.channelFile('signed.yaml'), 'source.hmac.secret');
  assert.equal(i.code, 'env_missing');
  assert.equal(i.line, lineOf(text, 'secret:'));
  assert.equal(i.message, 'environment variable TEST_HMAC_SECRET is not set');
  assert.deepEqual(channels, []);
});

test('a secret that is set but too short is refused without echoing it', (t) => {
  const short = 'Sh0rt-s3cret';
  const dir = configDir({ channels: { 'signed.yaml': hmacChannel('${TEST_HMAC_SECRET}') } });
  t.after(() => dir.remove());
  const { issues } = dir.load({ TEST_HMAC_SECRET: short });
  const i = issueAt(issues, dir.channelFile('signed.yaml'), 'source.hmac.secret');
  assert.match(i.message, /at least 16 characters/);
  for (const x of issues) assert.ok(!formatIssue(x).includes(short) && !JSON.stringify(x).includes(short), formatIssue(x));
});

test('a secret written into the file in clear is refused when too short, again without echoing it', (t) => {
  const inline = 'hunter2hunter2';
  const dir = configDir({ channels: { 'signed.yaml': hmacChannel(inline) } });
  t.after(() => dir.remove());
  const { issues } = dir.load({});
  assert.equal(issues.length, 1);
  assert.ok(!JSON.stringify(issues).includes(inline));
});

test('references are resolved in mapping files too', async (t) => {
  const mapping = readFileSync(join(REPO, 'mappings', 'oru-r01-lis.yaml'), 'utf8').replace('sendingFacility: POC-PLATFORM', 'sendingFacility: ${TEST_FACILITY}');
  const dir = configDir({ channels: { 'c.yaml': channelYaml('c') }, mappings: { 'oru-r01-lis.yaml': mapping } });
  t.after(() => dir.remove());
  const report = { id: 'r', version: 1, correction: false, status: 'final' as const, observations: [], attachments: [], provenance: { kind: 'platform-event' as const } };
  const set = dir.load({ TEST_FACILITY: 'NORTH-SITE' });
  assert.deepEqual(set.issues, []);
  const payload = (await set.channels[0]!.destinations[0]!.encoder.encode(report, { controlId: 'C1', createdAt: '2026-01-02T03:04:05Z' })).payload;
  assert.match(payload, /^MSH\|\^~\\&\|CONDUIT\|NORTH-SITE\|LIS\|/);
  const unset = dir.load({});
  const i = issueAt(unset.issues, dir.mappingFile('oru-r01-lis.yaml'), 'settings.sendingFacility');
  assert.equal(i.line, lineOf(mapping, 'TEST_FACILITY'));
  assert.equal(i.code, 'env_missing');
});

test('a mapping with an unset reference is not usable: the channel that uses it is not loaded', (t) => {
  const mapping = readFileSync(join(REPO, 'mappings', 'oru-r01-lis.yaml'), 'utf8').replace('sendingFacility: POC-PLATFORM', 'sendingFacility: ${TEST_FACILITY}');
  const dir = configDir({ channels: { 'c.yaml': channelYaml('c') }, mappings: { 'oru-r01-lis.yaml': mapping } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load({});
  assert.equal(issues.length, 1);
  assert.deepEqual(channels, []);
});
