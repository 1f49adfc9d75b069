/**
 * Problems with mappings: a reference that cannot be used is reported where the channel
 * makes it; a problem inside a mapping file is reported in that file, with its line.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encoderKinds, inboundMappingKinds } from '../../src/mapping-kinds.ts';
import { channelYaml, configDir, issueAt, lineOf, REPO } from './support.ts';

/** The kinds each direction knows, as the messages list them. */
const OUTBOUND = Object.keys(encoderKinds).join(', ');
const INBOUND = Object.keys(inboundMappingKinds).join(', ');
const ORU = readFileSync(join(REPO, 'mappings', 'oru-r01-lis.yaml'), 'utf8');
const PLATFORM = readFileSync(join(REPO, 'mappings', 'platform-result.yaml'), 'utf8');

test('an unknown mapping file is reported at the reference, inbound and outbound, naming the directory', (t) => {
  const text = channelYaml('missing', { 'mapping: platform-result': 'mapping: no-such-inbound', 'mapping: oru-r01-lis': '    mapping: no-such-outbound' });
  const dir = configDir({ channels: { 'missing.yaml': text } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  const inbound = issueAt(issues, dir.channelFile('missing.yaml'), 'mapping');
  assert.equal(inbound.code, 'mapping_missing');
  assert.equal(inbound.line, lineOf(text, 'no-such-inbound'));
  assert.match(inbound.message, /^no mapping file 'no-such-inbound\.yaml' in .*mappings$/);
  const outbound = issueAt(issues, dir.channelFile('missing.yaml'), 'destinations[0].mapping');
  assert.equal(outbound.line, lineOf(text, 'no-such-outbound'));
  assert.match(outbound.message, /no mapping file 'no-such-outbound\.yaml'/);
  assert.equal(issues.length, 2);
  assert.deepEqual(channels, []);
});

test('a missing mapping used by two channels is reported for each of them', (t) => {
  const broken = (id: string) => channelYaml(id, { 'mapping: oru-r01-lis': '    mapping: gone' });
  const dir = configDir({ channels: { 'one.yaml': broken('one'), 'two.yaml': broken('two') } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  assert.equal(issueAt(issues, dir.channelFile('one.yaml'), 'destinations[0].mapping').code, 'mapping_missing');
  assert.equal(issueAt(issues, dir.channelFile('two.yaml'), 'destinations[0].mapping').code, 'mapping_missing');
  assert.deepEqual(channels, []);
});

test('an inbound mapping used as a destination mapping is reported at the destination, naming the expected kind', (t) => {
  const text = channelYaml('swapped-out', { 'mapping: oru-r01-lis': '    mapping: platform-result' });
  const dir = configDir({ channels: { 'swapped-out.yaml': text } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  const i = issueAt(issues, dir.channelFile('swapped-out.yaml'), 'destinations[0].mapping');
  assert.equal(i.code, 'mapping_kind');
  assert.equal(i.line, lineOf(text, '    mapping: platform-result'));
  assert.equal(i.message, `mapping 'platform-result' is an inbound mapping (kind platform-result); expected an outbound mapping, of kind ${OUTBOUND}`);
  // The mapping file itself is fine: nothing is reported against it.
  assert.equal(issues.length, 1);
  assert.deepEqual(channels, []);
});

test('an outbound mapping used as the inbound mapping is reported at the channel mapping', (t) => {
  const text = channelYaml('swapped-in', { 'mapping: platform-result': 'mapping: oru-r01-lis' });
  const dir = configDir({ channels: { 'swapped-in.yaml': text } });
  t.after(() => dir.remove());
  const { issues } = dir.load();
  const i = issueAt(issues, dir.channelFile('swapped-in.yaml'), 'mapping');
  assert.equal(i.line, lineOf(text, 'mapping: oru-r01-lis'));
  assert.equal(i.message, `mapping 'oru-r01-lis' is an outbound mapping (kind oru-r01); expected an inbound mapping, of kind ${INBOUND}`);
  assert.equal(issues.length, 1);
});

test('a mapping used in the wrong direction by several channels is reported for each; a correct use elsewhere still loads', (t) => {
  const wrong = (id: string) => channelYaml(id, { 'mapping: oru-r01-lis': '    mapping: platform-result' });
  const dir = configDir({ channels: { 'wrong-a.yaml': wrong('wrong-a'), 'wrong-b.yaml': wrong('wrong-b'), 'right.yaml': channelYaml('right') } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  assert.equal(issueAt(issues, dir.channelFile('wrong-a.yaml'), 'destinations[0].mapping').code, 'mapping_kind');
  assert.equal(issueAt(issues, dir.channelFile('wrong-b.yaml'), 'destinations[0].mapping').code, 'mapping_kind');
  assert.equal(issues.length, 2);
  assert.deepEqual(
    channels.map((c) => c.config.id),
    ['right'],
  );
});

test('a kind that no direction knows is reported in the mapping file, at kind, listing the kinds', (t) => {
  const mapping = ORU.replace('kind: oru-r01', 'kind: oru-r02');
  const dir = configDir({ channels: { 'c.yaml': channelYaml('c') }, mappings: { 'oru-r01-lis.yaml': mapping } });
  t.after(() => dir.remove());
  const { issues } = dir.load();
  const i = issueAt(issues, dir.mappingFile('oru-r01-lis.yaml'), 'kind');
  assert.equal(i.line, lineOf(mapping, 'kind: oru-r02'));
  assert.equal(i.message, `'oru-r02' is not an outbound mapping kind; expected one of ${OUTBOUND}`);
  assert.equal(issues.length, 1);
});

test('a bad encoder setting (processingId: X) is reported in the mapping file with its line and the allowed values', (t) => {
  const mapping = ORU.replace('processingId: P', 'processingId: X');
  const dir = configDir({ channels: { 'c.yaml': channelYaml('c') }, mappings: { 'oru-r01-lis.yaml': mapping } });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  const i = issueAt(issues, dir.mappingFile('oru-r01-lis.yaml'), 'settings.processingId');
  assert.equal(i.line, lineOf(mapping, 'processingId: X'));
  assert.match(i.message, /"P"\|"T"\|"D"/);
  assert.equal(issues.length, 1);
  assert.deepEqual(channels, []);
});

test('an unknown settings key of a mapping is reported at that key', (t) => {
  const mapping = ORU.replace('  patientClass: O', '  patientClass: O\n  patientKlass: E');
  const dir = configDir({ channels: { 'c.yaml': channelYaml('c') }, mappings: { 'oru-r01-lis.yaml': mapping } });
  t.after(() => dir.remove());
  const i = issueAt(dir.load().issues, dir.mappingFile('oru-r01-lis.yaml'), 'settings.patientKlass');
  assert.equal(i.line, lineOf(mapping, 'patientKlass'));
  assert.match(i.message, /unknown key 'patientKlass'/);
});

test('a platform status mapped to an unknown canonical status is reported at that status', (t) => {
  const mapping = PLATFORM.replace('    pending: registered', '    pending: waiting');
  const dir = configDir({ channels: { 'c.yaml': channelYaml('c') }, mappings: { 'platform-result.yaml': mapping } });
  t.after(() => dir.remove());
  const i = issueAt(dir.load().issues, dir.mappingFile('platform-result.yaml'), 'settings.statuses.pending');
  assert.equal(i.line, lineOf(mapping, 'pending: waiting'));
  assert.match(i.message, /"registered"/);
});

test('a mapping file with problems shared by two channels is reported once, and neither channel is usable', (t) => {
  const mapping = ORU.replace('processingId: P', 'processingId: X');
  const dir = configDir({
    channels: { 'one.yaml': channelYaml('one'), 'two.yaml': channelYaml('two') },
    mappings: { 'oru-r01-lis.yaml': mapping },
  });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.file, dir.mappingFile('oru-r01-lis.yaml'));
  assert.deepEqual(channels, []);
});

test('a syntax error in a mapping file is reported in that file with its line', (t) => {
  const mapping = 'kind: oru-r01\nsettings:\n  processingId: P\n  processingId: T\n';
  const dir = configDir({ channels: { 'c.yaml': channelYaml('c') }, mappings: { 'oru-r01-lis.yaml': mapping } });
  t.after(() => dir.remove());
  const i = issueAt(dir.load().issues, dir.mappingFile('oru-r01-lis.yaml'), '(syntax)');
  assert.equal(i.line, 4);
});

test('a mapping file without kind, or with an unknown top-level key, is reported in that file', (t) => {
  const mapping = 'description: no kind here\nsetings:\n  processingId: P\n';
  const dir = configDir({ channels: { 'c.yaml': channelYaml('c') }, mappings: { 'oru-r01-lis.yaml': mapping } });
  t.after(() => dir.remove());
  const { issues } = dir.load();
  assert.match(issueAt(issues, dir.mappingFile('oru-r01-lis.yaml'), 'kind').message, /expected string/);
  assert.equal(issueAt(issues, dir.mappingFile('oru-r01-lis.yaml'), 'setings').line, 2);
});

test('a mapping may be a .json file; its settings apply', async (t) => {
  const dir = configDir({
    channels: { 'c.yaml': channelYaml('c', { 'mapping: oru-r01-lis': '    mapping: lis-json' }) },
    mappings: { 'lis-json.json': JSON.stringify({ kind: 'oru-r01', settings: { sendingApplication: 'FROM-JSON' } }) },
  });
  t.after(() => dir.remove());
  const { channels, issues } = dir.load();
  assert.deepEqual(issues, []);
  const report = { id: 'r', version: 1, correction: false, status: 'final' as const, observations: [], attachments: [], provenance: { kind: 'platform-event' as const } };
  const out = await channels[0]!.destinations[0]!.encoder.encode(report, { controlId: 'C1', createdAt: '2026-01-02T03:04:05Z' });
  assert.match(out.payload, /^MSH\|\^~\\&\|FROM-JSON\|/);
});
