import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { conduit, REPO } from './support.ts';

test('--help: exit 0, the usage with every command and option on stdout', () => {
  for (const args of [['--help'], ['-h'], ['help'], ['validate', '--help']]) {
    const r = conduit(args);
    assert.equal(r.status, 0, args.join(' '));
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^Conduit \d+\.\d+\.\d+: /);
    for (const word of ['conduit start', 'conduit validate', 'conduit preview', '--port', 'CONDUIT_PORT', '--channels', '--mappings', '--durability']) {
      assert.ok(r.stdout.includes(word), `${args.join(' ')}: ${word}`);
    }
  }
});

test('no command: the usage, exit 2', () => {
  const r = conduit([]);
  assert.equal(r.status, 2);
  assert.match(r.stdout, /Usage:/);
});

test('an unknown command: exit 2 naming it, then the usage, on stderr', () => {
  const r = conduit(['frobnicate']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^conduit: unknown command 'frobnicate'\n\nConduit \d+\.\d+\.\d+: [^\n]*\n\nUsage:\n/);
});

test('--version prints the package version', () => {
  const r = conduit(['--version']);
  assert.equal(r.status, 0);
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  assert.equal(r.stdout, `${pkg.version}\n`);
});

test('a flag without its value: exit 2', () => {
  const r = conduit(['validate', '--channels']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^conduit: --channels needs a value$/m);
});

test('an invalid option value: exit 2 with one readable line naming the setting', () => {
  const cases: Array<[string[], Record<string, string>, string]> = [
    [['validate', '--port', 'abc'], {}, 'conduit: invalid option: port: expected a whole number\n'],
    [['validate', '--port='], {}, 'conduit: invalid option: port: expected a whole number\n'],
    [['validate', '--durability', 'fast'], {}, 'conduit: invalid option: durability: Invalid option: expected one of "full"|"normal"\n'],
    [['validate'], { CONDUIT_MAX_BACKLOG: '0' }, 'conduit: invalid option: maxBacklog: Too small: expected number to be >0\n'],
  ];
  for (const [args, env, stderr] of cases) {
    const r = conduit(args, env);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr, stderr, args.join(' '));
  }
});
