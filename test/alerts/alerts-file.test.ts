/**
 * The alerts file (issue 12): checked like the channel files, every problem in one pass with
 * its file, line and path and what was expected; defaults filled in; refused at start, by
 * `conduit validate` and by a reload (which then keeps the running configuration).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { loadAlertRules } from '../../src/alerts/load.ts';
import { validateCommand } from '../../src/cli/validate.ts';
import { readSettings } from '../../src/config/settings.ts';
import { formatIssue } from '../../src/config/yaml-file.ts';
import { conduit } from '../cli/support.ts';
import { REPO } from '../config/support.ts';
import { startTestEngine, webhookToMllpChannel } from '../support/in-process.ts';

const SECRET = 'alert-secret-0123456789';

/** Writes `text` as alerts.yaml in a temp directory; the path and the name the loader reports. */
function alertsFile(t: { after(fn: () => void): unknown }, text: string): { path: string; name: string } {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-alerts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'alerts.yaml');
  writeFileSync(path, text);
  return { path, name: relative(process.cwd(), path) };
}

const CHANNELS = new Map([['lab', ['lis', 'ehr']]]);

test('a valid file: defaults filled in, durations in milliseconds, secrets from the environment', (t) => {
  const f = alertsFile(
    t,
    `webhooks:
  - id: oncall
    url: https://alerts.example.org/conduit
    secret: \${ALERT_SECRET}
rules:
  - id: lis-dead
    kind: delivery-dead
    channel: lab
    destination: lis
  - id: backlog
    kind: backlog
    over: 1000
  - id: lis-down
    kind: destination-failing
    for: 10m
    notify: [oncall]
  - id: certificates
    kind: certificate-expiry
    within: 30d
`,
  );
  const { rules, issues } = loadAlertRules(f.path, CHANNELS, { ALERT_SECRET: SECRET });
  assert.deepEqual(issues, []);
  assert.equal(rules!.evaluateEveryMs, 15_000);
  assert.deepEqual(rules!.webhooks, [
    { id: 'oncall', url: 'https://alerts.example.org/conduit', secret: SECRET, signatureHeader: 'X-Signature', timestampHeader: 'X-Timestamp', timeoutMs: 10_000, retries: 3 },
  ]);
  const [dead, backlog, failing, certificates] = rules!.rules;
  assert.deepEqual(dead, { id: 'lis-dead', kind: 'delivery-dead', channel: 'lab', destination: 'lis', cooldown: 900_000, resolved: true });
  assert.deepEqual(backlog, { id: 'backlog', kind: 'backlog', over: 1000, per: 'destination', for: 0, cooldown: 900_000, resolved: true });
  assert.deepEqual(failing, { id: 'lis-down', kind: 'destination-failing', for: 600_000, notify: ['oncall'], cooldown: 900_000, resolved: true });
  assert.deepEqual(certificates, { id: 'certificates', kind: 'certificate-expiry', within: 30 * 86_400_000, cooldown: 86_400_000, resolved: true });
});

test('every problem in one pass, each with the file, its line, the path and what was expected', (t) => {
  const f = alertsFile(
    t,
    `evaluateEvery: 10 seconds
webhooks:
  - id: oncall
    url: not a url
    secret: short
  - id: pager
    url: https://pager.example.org/hook
    secret: \${PAGER_SECRET}
rules:
  - id: lis-dead
    kind: delivery-dead
    channel: nowhere
  - id: backlog
    kind: backlog
    overr: 1000
  - id: lis-down
    kind: destination-failing
    for: 10 minutes
    notify: [oncall, sms]
  - id: mystery
    kind: disk-full
  - kind: certificate-expiry
    within: 30d
  - id: engine-backlog
    kind: backlog
    over: 10
    per: engine
    destination: lis
`,
  );
  const { rules, issues } = loadAlertRules(f.path, CHANNELS, {});
  assert.equal(rules, undefined);
  const found = issues.map((i) => ({ line: i.line, path: i.path, code: i.code }));
  // An unset variable is found first; then a problem of the top level stops there.
  assert.deepEqual(found, [
    { line: 8, path: 'webhooks[1].secret', code: 'env_missing' },
    { line: 1, path: 'evaluateEvery', code: 'invalid_format' },
  ]);
  assert.match(issues[1]!.message, /expected a duration such as '15m'/);
  assert.equal(issues[1]!.file, f.name);

  // The same file with a good interval: the problems of the webhooks and rules, in file order.
  writeFileSync(f.path, readFileSync(f.path, 'utf8').replace('10 seconds', '15s'));
  const again = loadAlertRules(f.path, CHANNELS, {});
  const lines = again.issues.map(formatIssue);
  assert.deepEqual(
    again.issues.map((i) => [i.line, i.path, i.code]),
    [
      [8, 'webhooks[1].secret', 'env_missing'],
      [4, 'webhooks[0].url', 'invalid_format'],
      [5, 'webhooks[0].secret', 'too_small'],
      [12, 'rules[0].channel', 'unknown_reference'],
      [13, 'rules[1].over', 'invalid_type'],
      [15, 'rules[1].overr', 'unrecognized_keys'],
      [18, 'rules[2].for', 'invalid_format'],
      [21, 'rules[3].kind', 'unknown_kind'],
      [22, 'rules[4].id', 'invalid_type'],
      [28, 'rules[5].destination', 'custom'],
    ],
    lines.join('\n'),
  );
  const text = lines.join('\n');
  assert.match(text, new RegExp(`^${f.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8: webhooks\\[1\\]\\.secret: environment variable PAGER_SECRET is not set$`, 'm'));
  assert.match(text, /:12: rules\[0\]\.channel: no channel 'nowhere'; configured: lab$/m);
  assert.match(text, /:15: rules\[1\]\.overr: unknown key 'overr'$/m);
  assert.match(text, /:13: rules\[1\]\.over: expected a whole number of pending deliveries$/m);
  assert.match(text, /:22: rules\[4\]\.id: expected an id of lower-case letters/m);
  assert.match(text, /:21: rules\[3\]\.kind: unknown kind 'disk-full'; expected one of delivery-dead, delivery-rejected, backlog, destination-failing, certificate-expiry$/m);
  assert.match(text, /:28: rules\[5\]\.destination: per: engine watches the whole backlog/m);
  // The secret itself is never quoted.
  assert.ok(!text.includes('short'));
});

test('a rule naming a webhook that is not declared, or a destination no channel has', (t) => {
  const f = alertsFile(
    t,
    `webhooks:
  - id: oncall
    url: http://127.0.0.1:9/hook
    secret: ${SECRET}
rules:
  - id: dead
    kind: delivery-dead
    destination: fhir
    notify: [oncall, pager]
`,
  );
  const { issues } = loadAlertRules(f.path, CHANNELS, {});
  assert.deepEqual(
    issues.map((i) => [i.line, i.path, i.message]),
    [
      [9, 'rules[0].notify[1]', "no webhook 'pager'; declared: oncall"],
      [8, 'rules[0].destination', "no destination 'fhir' in any channel"],
    ],
  );
});

test('a YAML syntax error and a file that cannot be read', (t) => {
  const f = alertsFile(t, 'rules:\n  - id: x\n    kind: [backlog\n');
  const syntax = loadAlertRules(f.path, undefined, {});
  assert.equal(syntax.issues[0]!.code, 'yaml_syntax');
  assert.equal(syntax.issues[0]!.file, f.name);
  assert.ok(syntax.issues[0]!.line! >= 3);
  const missing = loadAlertRules(join(f.path, '..', 'nowhere.yaml'), undefined, {});
  assert.deepEqual(
    missing.issues.map((i) => [i.path, i.code]),
    [['(file)', 'file_unreadable']],
  );
  assert.match(missing.issues[0]!.message, /cannot read the alerts file \(ENOENT\)/);
});

test('conduit validate reports the alerts file with the channels; the engine refuses to start with it; a reload with it is refused', async (t) => {
  const bad = alertsFile(t, 'rules:\n  - id: slow\n    kind: backlog\n    over: -1\n');
  const out = new PassThrough();
  let printed = '';
  out.on('data', (c: Buffer) => {
    printed += c.toString('utf8');
  });
  const settings = readSettings({ '--channels': join(REPO, 'channels'), '--mappings': join(REPO, 'mappings'), '--alerts': bad.path }, {});
  assert.equal(validateCommand(settings, out, false), 1);
  assert.match(printed, new RegExp(`${bad.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: rules\\[0\\]\\.over: expected 0 or more pending deliveries`));
  assert.match(printed, /1 problem\(s\) found/);

  // `conduit start`: the problems on stderr, exit 1, before the data directory is made.
  const data = join(bad.path, '..', 'data');
  const started = conduit(['start', '--alerts', bad.path, '--data', data, '--port', '0'], { CONDUIT_ADMIN_TOKEN: 'cli-admin-token-0123456789' });
  assert.equal(started.status, 1);
  assert.match(started.stderr, /alerts\.yaml:4: rules\[0\]\.over: expected 0 or more pending deliveries\nConduit did not start: fix the problems above/);
  assert.equal(existsSync(data), false);

  // An engine started in this process (the test harness) refuses too.
  await assert.rejects(
    startTestEngine({ 'lab.yaml': webhookToMllpChannel('lab', 2575) }, { alerts: bad.path }),
    (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && e.message.includes(`${bad.name}:4: rules[0].over`),
  );

  const good = alertsFile(t, 'rules:\n  - id: slow\n    kind: backlog\n    over: 10\n');
  const e = await startTestEngine({ 'lab.yaml': webhookToMllpChannel('lab', 2575) }, { alerts: good.path });
  t.after(() => e.stop());
  writeFileSync(good.path, 'rules:\n  - id: slow\n    kind: backlog\n    over: 10\n    channel: elsewhere\n');
  const res = await e.admin('/api/reload', { method: 'POST' });
  assert.equal(res.status, 422);
  const body = (await res.json()) as { applied: boolean; issues: Array<{ file: string; line: number; path: string; message: string }> };
  assert.equal(body.applied, false);
  assert.deepEqual(
    body.issues.map((i) => [i.file, i.line, i.path, i.message]),
    [[good.name, 5, 'rules[0].channel', "no channel 'elsewhere'; configured: lab"]],
  );
  const health = (await (await e.admin('/health')).json()) as { components: Record<string, string> };
  assert.equal(health.components.configuration, 'degraded');
});
