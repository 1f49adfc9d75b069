import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { MLLP_DESTINATION_DEFAULTS, mllpDestinationConfig, mllpSenderPlugin } from '../../../src/senders/mllp/index.ts';

describe('MLLP destination config', () => {
  it('fills the defaults', () => {
    assert.deepEqual(mllpDestinationConfig.parse({ host: 'lis.example', port: 2575 }), {
      host: 'lis.example',
      port: 2575,
      connectTimeoutMs: 5000,
      ackTimeoutMs: 10_000,
      maxFrameBytes: 16 * 1024 * 1024,
      encoding: 'utf-8',
    });
    assert.equal(MLLP_DESTINATION_DEFAULTS.maxFrameBytes, 16 * 1024 * 1024);
    const tls = mllpDestinationConfig.parse({ host: 'h', port: 1, tls: {} }).tls;
    assert.deepEqual(tls, { rejectUnauthorized: true });
  });

  it('reports every problem with its path', () => {
    const result = mllpDestinationConfig.safeParse({
      port: 70000,
      ackTimeoutMs: -1,
      encoding: 'utf-16',
      retries: 3,
      tls: { cert: 'client.pem', verify: false },
    });
    assert.equal(result.success, false);
    const paths = result.error!.issues.map((i) => i.path.join('.')).sort();
    assert.deepEqual(paths, ['', 'ackTimeoutMs', 'encoding', 'host', 'port', 'tls', 'tls.key'].sort());
    const unknown = result.error!.issues.filter((i) => i.code === 'unrecognized_keys');
    assert.deepEqual(unknown.flatMap((i) => (i as { keys: string[] }).keys).sort(), ['retries', 'verify']);
  });

  it('requires tls.cert and tls.key together', () => {
    const result = mllpDestinationConfig.safeParse({ host: 'h', port: 1, tls: { cert: 'client.pem' } });
    assert.equal(result.success, false);
    assert.deepEqual(result.error!.issues[0]!.path, ['tls', 'key']);
  });

  it('the plugin refuses to create a sender whose TLS files cannot be read', () => {
    assert.equal(mllpSenderPlugin.kind, 'mllp');
    const config = mllpSenderPlugin.config.parse({ host: 'h', port: 1, tls: { ca: '/nonexistent/ca.pem' } });
    assert.throws(() => mllpSenderPlugin.create(config, { log: pino({ level: 'silent' }) }), {
      code: 'CONFIG_INVALID',
      location: 'tls.ca',
    });
  });
});
