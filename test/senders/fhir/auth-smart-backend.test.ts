import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CryptoKey, decodeJwt, decodeProtectedHeader, exportPKCS8, generateKeyPair } from 'jose';
import { fhirSenderPlugin } from '../../../src/senders/fhir/index.ts';
import { type FhirServerPeer, startFhirServer } from '../../peers/fhir-server/index.ts';
import { startTokenServer, type TokenServer } from '../../peers/oauth/index.ts';
import { assertOutcome, Cleanup, captureLog, fhirSender, send } from './helpers.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

const dir = mkdtempSync(join(tmpdir(), 'conduit-smart-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function keyPair(alg: 'RS384' | 'ES384') {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { pem: await exportPKCS8(privateKey), publicKey };
}

describe('FHIR sender: SMART Backend Services (private_key_jwt)', () => {
  let fhir: FhirServerPeer;
  let oauth: TokenServer;
  let rsa: { pem: string; publicKey: CryptoKey };
  let ec: { pem: string; publicKey: CryptoKey };
  /** Token request bodies, captured by a pass-through script. */
  const forms: URLSearchParams[] = [];

  before(async () => {
    rsa = await keyPair('RS384');
    ec = await keyPair('ES384');
    oauth = cleanup.add(
      await startTokenServer({
        clients: [
          { clientId: 'lab-rsa', publicKey: rsa.publicKey, keyId: 'rsa-2025', algorithms: ['RS384'] },
          { clientId: 'lab-ec', publicKey: ec.publicKey, keyId: 'ec-2025', algorithms: ['ES384'] },
        ],
      }),
    );
    oauth.script((req) => {
      forms.push(new URLSearchParams(req.body));
      return 'pass';
    });
    fhir = cleanup.add(await startFhirServer());
    fhir.requireBearer((token) => oauth.isValid(token));
  });

  const smart = (extra: Record<string, unknown>) => ({ type: 'smart-backend', tokenUrl: oauth.tokenUrl, ...extra });

  it('RS384: the token server verifies the assertion; the Bundle is delivered with the token', async () => {
    const issued = oauth.issued;
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: smart({ clientId: 'lab-rsa', keyId: 'rsa-2025', privateKey: rsa.pem }) });
    assertOutcome(await send(sender), 'acknowledged');
    assertOutcome(await send(sender), 'acknowledged');
    assert.equal(oauth.issued - issued, 1);
    assert.deepEqual(oauth.requests.at(-1), { clientId: 'lab-rsa', authMethod: 'private_key_jwt', status: 200, scope: 'system/*.write' });
  });

  it('the assertion and the form follow SMART Backend Services and RFC 7523', async () => {
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: smart({ clientId: 'lab-rsa', keyId: 'rsa-2025', privateKey: rsa.pem, scope: 'system/Observation.cud' }) });
    assertOutcome(await send(sender), 'acknowledged');
    const form = forms.at(-1)!;
    assert.deepEqual([...form.keys()].sort(), ['client_assertion', 'client_assertion_type', 'grant_type', 'scope']);
    assert.equal(form.get('grant_type'), 'client_credentials');
    assert.equal(form.get('scope'), 'system/Observation.cud');
    assert.equal(form.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const jwt = form.get('client_assertion')!;
    assert.deepEqual(decodeProtectedHeader(jwt), { alg: 'RS384', kid: 'rsa-2025', typ: 'JWT' });
    const claims = decodeJwt(jwt);
    assert.equal(claims.iss, 'lab-rsa');
    assert.equal(claims.sub, 'lab-rsa');
    assert.equal(claims.aud, oauth.tokenUrl);
    assert.ok(claims.exp! - claims.iat! <= 300);
    assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);
    assert.notEqual(claims.jti, decodeJwt(forms.at(-2)!.get('client_assertion')!).jti);
  });

  it('the token server refuses a replayed assertion (jti already used)', async () => {
    const replay = await fetch(oauth.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: forms.at(-1)!.toString(),
    });
    assert.equal(replay.status, 401);
    assert.deepEqual(await replay.json(), { error: 'invalid_client', error_description: 'client_assertion jti was already used' });
  });

  it('ES384, with the key read from a file: path', async () => {
    const path = join(dir, 'ec-key.pem');
    writeFileSync(path, ec.pem, { mode: 0o600 });
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: smart({ clientId: 'lab-ec', keyId: 'ec-2025', algorithm: 'ES384', privateKey: `file:${path}` }) });
    assertOutcome(await send(sender), 'acknowledged');
    assert.equal(decodeProtectedHeader(forms.at(-1)!.get('client_assertion')!).alg, 'ES384');
  });

  it('PEM text from one environment variable line (\\n escapes) is accepted', async () => {
    const oneLine = rsa.pem.trim().replaceAll('\n', '\\n');
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: smart({ clientId: 'lab-rsa', keyId: 'rsa-2025', privateKey: oneLine }) });
    assertOutcome(await send(sender), 'acknowledged');
  });

  it('an assertion signed with a key the server does not know: rejected AUTH_TOKEN_REJECTED invalid_client', async () => {
    const other = await keyPair('RS384');
    const before = fhir.requests.length;
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: smart({ clientId: 'lab-rsa', keyId: 'rsa-2025', privateKey: other.pem }) });
    const outcome = await send(sender);
    assertOutcome(outcome, 'rejected', 'AUTH_TOKEN_REJECTED');
    assert.equal(outcome.detail, 'token endpoint answered 401 invalid_client: client_assertion rejected (ERR_JWS_SIGNATURE_VERIFICATION_FAILED)');
    assert.equal(fhir.requests.length, before);
  });

  it('a wrong kid or client id: rejected AUTH_TOKEN_REJECTED', async () => {
    for (const auth of [smart({ clientId: 'lab-rsa', keyId: 'rsa-2024', privateKey: rsa.pem }), smart({ clientId: 'lab-unknown', keyId: 'rsa-2025', privateKey: rsa.pem })]) {
      const outcome = await send(fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth }));
      assertOutcome(outcome, 'rejected', 'AUTH_TOKEN_REJECTED');
      assert.match(outcome.detail, /invalid_client: unknown (kid|client)$/);
    }
  });

  it('keys that cannot work are configuration errors when the sender is created', () => {
    const create = (auth: Record<string, unknown>) => () =>
      fhirSenderPlugin.create(fhirSenderPlugin.config.parse({ baseUrl: 'https://ehr.example/fhir', auth: smart({ clientId: 'c', keyId: 'k', ...auth }) }), {
        log: captureLog().log,
      });
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ privateKey: ec.pem }, /^auth\.privateKey: RS384 needs an RSA key, got ec$/],
      [{ privateKey: rsa.pem, algorithm: 'ES384' }, /^auth\.privateKey: ES384 needs an EC key on P-384, got rsa$/],
      [{ privateKey: small }, /^auth\.privateKey: RS384 needs an RSA key of 2048 bits or more, got 1024$/],
      [{ privateKey: `file:${join(dir, 'missing.pem')}` }, /^auth\.privateKey: cannot read '.*missing\.pem' \(ENOENT\)$/],
      [{ privateKey: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----' }, /^auth\.privateKey: not a readable PEM private key/],
    ];
    for (const [auth, message] of cases) {
      assert.throws(create(auth), (err: Error & { code?: string; location?: string }) => {
        assert.equal(err.code, 'CONFIG_INVALID');
        assert.equal(err.location, 'auth.privateKey');
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /MII/);
        return true;
      });
    }
  });
});
