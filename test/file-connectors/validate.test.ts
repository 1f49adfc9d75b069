/**
 * `conduit validate` on file connector configurations: every problem of the directories,
 * the pattern and the fileName template in one pass, each at its path with a specific message.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { conduit, REPO } from '../cli/support.ts';
import { configDir } from '../config/support.ts';
import { tempDir } from './support.ts';

const source = (lines: string) => `id: drop\nsource:\n  type: file\n${lines.replace(/^/gm, '  ')}\n`;
const issuesOf = (channels: Record<string, string>) => {
  const c = configDir({ channels });
  try {
    return c.load().issues.map((i) => `${i.path}: ${i.message}`);
  } finally {
    c.remove();
  }
};

test('the inbox must exist, unless createDirectory: true; it must be a directory', (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'no-such-inbox');
  assert.deepEqual(issuesOf({ 'drop.yaml': source(`directory: ${missing}`) }), [
    `source.directory: the inbox ${missing} does not exist; create it, or set createDirectory: true`,
  ]);
  assert.deepEqual(issuesOf({ 'drop.yaml': source(`directory: ${missing}\ncreateDirectory: true`) }), []);
  writeFileSync(join(dir, 'a-file'), '');
  assert.deepEqual(issuesOf({ 'drop.yaml': source(`directory: ${join(dir, 'a-file')}`) }), [`source.directory: ${join(dir, 'a-file')} is not a directory`]);
});

test('done and error directories: not the inbox itself, not one another, directories, on the inbox filesystem', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(issuesOf({ 'drop.yaml': source(`directory: ${dir}\ndoneDirectory: ${dir}/\nerrorDirectory: ${dir}/./`) }), [
    `source.doneDirectory: doneDirectory is the inbox itself: files moved there would be read again; use a subdirectory such as ${join(dir, 'done')}`,
    `source.errorDirectory: errorDirectory is the inbox itself: files moved there would be read again; use a subdirectory such as ${join(dir, 'error')}`,
  ]);
  mkdirSync(join(dir, 'processed'));
  assert.deepEqual(issuesOf({ 'drop.yaml': source(`directory: ${dir}\ndoneDirectory: ${dir}/processed\nerrorDirectory: ${dir}/processed`) }), [
    `source.errorDirectory: errorDirectory and doneDirectory are both ${join(dir, 'processed')}: refused files must stay apart from those taken in`,
  ]);
  writeFileSync(join(dir, 'done'), '');
  assert.deepEqual(issuesOf({ 'drop.yaml': source(`directory: ${dir}`) }), [`source.doneDirectory: ${join(dir, 'done')} is not a directory`]);
  // Outside the inbox is fine, and need not exist yet.
  assert.deepEqual(issuesOf({ 'drop.yaml': source(`directory: ${dir}/processed\ndoneDirectory: ${dir}/archive/done\nerrorDirectory: ${dir}/archive/error`) }), []);
});

test('a done directory on another filesystem is refused: moves are renames', (t) => {
  let shm: string;
  try {
    if (statSync('/dev/shm').dev === statSync(tempDir(t)).dev) return t.skip('/dev/shm is on the temp filesystem');
    shm = mkdtempSync('/dev/shm/conduit-file-');
  } catch {
    return t.skip('no /dev/shm');
  }
  t.after(() => rmSync(shm, { recursive: true, force: true }));
  const dir = tempDir(t);
  assert.deepEqual(issuesOf({ 'drop.yaml': source(`directory: ${dir}\ndoneDirectory: ${shm}/done`) }), [
    `source.doneDirectory: ${shm}/done is on another filesystem than the inbox ${dir}: files are moved by rename, which is atomic only within one filesystem`,
  ]);
});

test('patterns: a name, not a path; balanced; not only names the source skips', (t) => {
  const dir = tempDir(t);
  const check = (pattern: string) => issuesOf({ 'drop.yaml': source(`directory: ${dir}\npattern: "${pattern}"`) });
  assert.deepEqual(check('*.{hl7,txt}'), []);
  assert.deepEqual(check('LAB_[0-9]*.HL7'), []);
  assert.deepEqual(check('in/*.hl7'), ["source.pattern: 'in/*.hl7' holds a path separator: the pattern matches names in the directory, not paths"]);
  assert.deepEqual(check('*.{hl7,txt'), ["source.pattern: '{' in '*.{hl7,txt' is not closed"]);
  assert.deepEqual(check('*.tmp'), ["source.pattern: '*.tmp' only matches names the source never reads: dot-files and .tmp/.part files are writes in progress"]);
  assert.deepEqual(check('.*'), ["source.pattern: '.*' only matches names the source never reads: dot-files and .tmp/.part files are writes in progress"]);
});

test('two channels cannot read the same inbox', (t) => {
  const dir = tempDir(t);
  const issues = issuesOf({ 'a.yaml': source(`directory: ${dir}`).replace('id: drop', 'id: a'), 'b.yaml': source(`directory: ${dir}/`).replace('id: drop', 'id: b') });
  assert.deepEqual(issues, [`source: directory ${dir} is already used by channel a`]);
});

test('file destination: directory and fileName template checked', (t) => {
  const dir = tempDir(t);
  const channel = (sender: string) =>
    `id: out\nsource:\n  type: webhook\nmapping: platform-result\ndestinations:\n  - id: f\n    mapping: oru-r01-lis\n    sender:\n      type: file\n${sender.replace(/^/gm, '      ')}\n`;
  const check = (sender: string) => issuesOf({ 'out.yaml': channel(sender) });
  assert.deepEqual(check(`directory: ${dir}`), []);
  assert.deepEqual(check(`directory: ${dir}/new\ncreateDirectory: true`), []);
  assert.deepEqual(check(`directory: ${dir}/missing`), [`destinations[0].sender.directory: the directory ${join(dir, 'missing')} does not exist; create it, or set createDirectory: true`]);
  assert.deepEqual(check(`directory: ${dir}\nfileName: results.hl7`), [
    "destinations[0].sender.fileName: invalid fileName template 'results.hl7': the template holds neither {messageId} nor {controlId}: every message would overwrite the file of the one before",
  ]);
  assert.deepEqual(check(`directory: ${dir}\nfileName: "{patient}-{messageId}.hl7"`), [
    "destinations[0].sender.fileName: invalid fileName template '{patient}-{messageId}.hl7': unknown placeholder {patient}; expected {messageId}, {controlId}, {destinationId}, {date}, {ext}",
  ]);
  assert.deepEqual(check(`directory: ${dir}\nfileName: "out/{messageId}.hl7"`), [
    "destinations[0].sender.fileName: invalid fileName template 'out/{messageId}.hl7': 'out/' holds a path separator or NUL: the template names a file in the directory",
  ]);
  assert.deepEqual(check(`directory: ${dir}\nfileName: "{messageId}.hl7.tmp"`), [
    "destinations[0].sender.fileName: invalid fileName template '{messageId}.hl7.tmp': the name ends in .tmp or .part: file drop readers skip such names as writes in progress",
  ]);
  assert.deepEqual(check(`directory: ${dir}\nfileName: "{messageId.hl7"`), [
    "destinations[0].sender.fileName: invalid fileName template '{messageId.hl7': unbalanced '{' at character 1",
  ]);
});

test('conduit validate reports every file connector problem in one pass, as file:line: path: message', (t) => {
  const dir = tempDir(t);
  const channels = join(dir, 'channels');
  mkdirSync(channels);
  const file = join(channels, 'drop.yaml');
  writeFileSync(
    file,
    `id: drop
source:
  type: file
  directory: ${dir}/inbox
  pattern: "*.{hl7"
  stableMs: -1
mapping: hl7v2-oru
destinations:
  - id: archive
    mapping: oru-r01-lis
    sender:
      type: file
      directory: ${dir}/archive
      fileName: "{date}.hl7"
`,
  );
  const r = conduit(['validate', '--channels', channels, '--mappings', join(REPO, 'mappings')]);
  const name = relative(REPO, file);
  assert.equal(r.status, 1);
  assert.deepEqual(r.stdout.split('\n'), [
    `${name}:6: source.stableMs: Too small: expected number to be >=0`,
    `${name}:5: source.pattern: '{' in '*.{hl7' is not closed`,
    `${name}:4: source.directory: the inbox ${dir}/inbox does not exist; create it, or set createDirectory: true`,
    `${name}:14: destinations[0].sender.fileName: invalid fileName template '{date}.hl7': the template holds neither {messageId} nor {controlId}: every message would overwrite the file of the one before`,
    `${name}:13: destinations[0].sender.directory: the directory ${dir}/archive does not exist; create it, or set createDirectory: true`,
    '5 problem(s) found',
    '',
  ]);
});

test('complete: one of quiet, rename, marker; markers are suffixes; temporaryNames are patterns', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(issuesOf({ 'drop.yaml': source(`directory: ${dir}\ncomplete: marker\nmarkers: [".done", ".ready"]\ntemporaryNames: ["*.writing"]`) }), []);
  assert.deepEqual(issuesOf({ 'drop.yaml': source(`directory: ${dir}\ncomplete: atomic\nmarkers: ["done", ".ok/x"]\ntemporaryNames: ["*.{tmp"]`) }), [
    'source.complete: Invalid option: expected one of "quiet"|"rename"|"marker"',
    "source.markers[0]: expected a suffix such as '.done': a dot, then no path separator",
    "source.markers[1]: expected a suffix such as '.done': a dot, then no path separator",
    "source.temporaryNames[0]: '{' in '*.{tmp' is not closed",
  ]);
});
