/** The webhook source's hmac.timestamp, hmac.signedContent and rateLimit: defaults, and problems reported at load with their path. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSignedContent } from '../../../src/http/signed-content.ts';
import { hmacAuth } from '../../../src/senders/http/auth/hmac.ts';
import { configDir, issueAt } from '../../config/support.ts';
import { webhookToMllpChannel } from '../../support/in-process.ts';

const SECRET = 'test-webhook-secret-0123456789';

function load(hmac: string, extra = '') {
  const dir = configDir({ channels: { 'hook.yaml': webhookToMllpChannel('hook', 2575, undefined, `\n  hmac:\n    secret: ${SECRET}\n${hmac}${extra}`) } });
  try {
    return { ...dir.load(), file: dir.channelFile('hook.yaml') };
  } finally {
    dir.remove();
  }
}

test('a timestamp block gets its defaults: X-Timestamp, unix seconds, 300 s', () => {
  const { channels, issues } = load('    timestamp: {}\n', '\n  rateLimit:\n    requests: 100\n    per: 1s');
  assert.deepEqual(issues, []);
  const source = channels[0]!.sourceConfig as { hmac: unknown; rateLimit: unknown };
  assert.deepEqual(source.hmac, {
    header: 'X-Signature',
    secret: SECRET,
    prefix: 'sha256=',
    encoding: 'hex',
    timestamp: { header: 'X-Timestamp', format: 'unix', toleranceSeconds: 300 },
  });
  assert.deepEqual(source.rateLimit, { requests: 100, per: 1000 });
});

test('{timestamp} in the template without hmac.timestamp is refused at its path', () => {
  const { channels, issues, file } = load("    signedContent: '{timestamp}.{body}'\n");
  assert.match(issueAt(issues, file, 'source.hmac.signedContent').message, /\{timestamp\} needs hmac\.timestamp/);
  assert.deepEqual(channels, []);
});

test('a timestamp that the template does not sign is refused (it could be replaced)', () => {
  const { issues, file } = load("    timestamp: {}\n    signedContent: '{body}'\n");
  assert.match(issueAt(issues, file, 'source.hmac.signedContent').message, /must sign \{timestamp\}/);
});

test('unknown placeholders, a missing {body} and stray braces are config errors naming the path', () => {
  for (const [template, message] of [
    ['{ts}.{body}', /unknown placeholder '\{ts\}'; expected \{timestamp\}, \{body\} or \{header:<Name>\}/],
    ['{timestamp}', /expected \{body\} exactly once/],
    ['{body}.{body}', /expected \{body\} exactly once/],
    ['{timestamp.{body}', /unmatched '\{' at character 1/],
    ['{timestamp}}{body}', /unmatched '\}' at character 12/],
    ['{header:bad name}.{body}', /expected an HTTP header name after 'header:'/],
  ] as const) {
    const { issues, file } = load(`    timestamp: {}\n    signedContent: '${template}'\n`);
    assert.match(issueAt(issues, file, 'source.hmac.signedContent').message, message, template);
  }
});

test('a bad timestamp format, tolerance or header name, and a bad rate limit, are each reported at their path in one pass', () => {
  const { issues, file } = load(
    '    timestamp:\n      header: X Timestamp\n      format: rfc2822\n      toleranceSeconds: 0\n',
    '\n  rateLimit:\n    requests: 0\n    per: fast',
  );
  assert.match(issueAt(issues, file, 'source.hmac.timestamp.format').message, /'unix', 'unix-ms' or 'iso8601'/);
  assert.ok(issueAt(issues, file, 'source.hmac.timestamp.toleranceSeconds'));
  assert.match(issueAt(issues, file, 'source.hmac.timestamp.header').message, /HTTP header name/);
  assert.ok(issueAt(issues, file, 'source.rateLimit.requests'));
  assert.match(issueAt(issues, file, 'source.rateLimit.per').message, /expected a duration such as/);
});

test('the template parser: parts of each platform scheme', () => {
  assert.deepEqual(parseSignedContent('v0:{timestamp}:{body}'), {
    parts: [{ kind: 'text', text: 'v0:' }, { kind: 'timestamp' }, { kind: 'text', text: ':' }, { kind: 'body' }],
  });
  assert.deepEqual(parseSignedContent('{header:Webhook-Id}.{timestamp}.{body}'), {
    parts: [{ kind: 'header', name: 'webhook-id' }, { kind: 'text', text: '.' }, { kind: 'timestamp' }, { kind: 'text', text: '.' }, { kind: 'body' }],
  });
});

test("an HTTP destination's signer: {header:…} and an unsigned timestamp are refused", () => {
  const header = hmacAuth.safeParse({ type: 'hmac', secret: SECRET, timestamp: {}, signedContent: '{header:x}.{timestamp}.{body}' });
  assert.equal(header.success, false);
  assert.match(header.error!.issues[0]!.message, /signs \{timestamp\} and \{body\} only/);
  const unsigned = hmacAuth.safeParse({ type: 'hmac', secret: SECRET, timestamp: {}, signedContent: '{body}' });
  assert.equal(unsigned.success, false);
  assert.deepEqual(unsigned.error!.issues[0]!.path, ['signedContent']);
  assert.equal(hmacAuth.safeParse({ type: 'hmac', secret: SECRET, timestamp: { format: 'unix-ms' } }).success, true);
});
