/**
 * Each command takes its own flags: an unknown flag, command or extra argument is refused with
 * a message and the usage (exit 2), never silently replaced by a default. `--version` loads
 * no engine code.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { conduit, REPO, tempFiles } from './support.ts';

/** A temp channels directory holding one valid channel, `hook`. */
function oneChannel(t: import('node:test').TestContext): string {
  const files = tempFiles(t);
  files.write('hook.yaml', 'id: hook\nsource:\n  type: webhook\n');
  return files.dir;
}

test('conduit validate --chanels /x: refused, naming the flag and the near one, with the usage; nothing validated', () => {
  const r = conduit(['validate', '--chanels', '/x']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^conduit: conduit validate has no option --chanels \(did you mean --channels\?\)\n\nConduit \d+\.\d+\.\d+: [^\n]*\n\nUsage:\n/);
});

test('a flag of another command, an unknown flag in --flag=value form, an extra argument: each refused with the usage', () => {
  const cases: Array<[string[], string]> = [
    [['start', '--raw'], 'conduit: conduit start has no option --raw\n'],
    [['validate', '--update'], 'conduit: conduit validate has no option --update\n'],
    [['test', '--destination', 'lis'], 'conduit: conduit test has no option --destination\n'],
    [['validate', '--portt=9000'], 'conduit: conduit validate has no option --portt (did you mean --port?)\n'],
    [['preview', 'platform-to-lis', 'a.json', '--rwa'], 'conduit: conduit preview has no option --rwa (did you mean --raw?)\n'],
    [['validate', 'channels/'], "conduit: conduit validate takes no arguments; unexpected 'channels/'\n"],
    [['preview', 'platform-to-lis', 'a.json', 'b.json'], "conduit: conduit preview takes <channel> <input-file>; unexpected 'b.json'\n"],
    [['frobnicate'], "conduit: unknown command 'frobnicate'\n"],
  ];
  for (const [args, message] of cases) {
    const r = conduit(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
    assert.ok(r.stderr.startsWith(`${message}\nConduit `), `${args.join(' ')}:\n${r.stderr}`);
    assert.match(r.stderr, /\nUsage:\n {2}conduit start /, args.join(' '));
  }
});

test('every flag the usage lists for a command is accepted by it', (t) => {
  const channels = oneChannel(t);
  const r = conduit(['validate', '--json', '--channels', channels, '--mappings', join(REPO, 'mappings'), '--port', '9000', '--host', '127.0.0.1', '--data', channels, '--max-backlog', '10', '--watch', 'false', '--durability', 'normal', '--log-level', 'warn']);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0, r.stdout);
  assert.deepEqual(JSON.parse(r.stdout), { ok: true, channels: ['hook'], issues: [] });
});

test('conduit --version prints the version without loading the engine, the store or any command', (t) => {
  const files = tempFiles(t);
  const record = join(files.dir, 'modules.txt');
  const hook = pathToFileURL(join(import.meta.dirname, 'fixtures', 'record-modules.ts')).href;
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', hook, 'src/bin/conduit.js', ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', RECORD_MODULES_TO: record },
      encoding: 'utf8',
    });
    return { ...r, modules: readFileSync(record, 'utf8').split('\n').filter((u) => u.startsWith(pathToFileURL(join(REPO, 'src')).href)) };
  };
  const version = run(['--version']);
  assert.equal(version.status, 0, version.stderr);
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version.stdout, `${pkg.version}\n`);
  const src = (m: string) => m.slice(pathToFileURL(REPO).href.length + 1);
  for (const m of version.modules) assert.doesNotMatch(src(m), /^src\/(engine|store|sources|senders|cli\/(start|validate|preview|test))/, src(m));

  // The recording sees what a command does load, so the check above is not vacuous.
  const validate = run(['validate', '--channels', oneChannel(t)]);
  assert.equal(validate.status, 0, validate.stderr);
  assert.ok(validate.modules.map(src).includes('src/cli/validate.ts'));
});
