import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FhirServerPeer, sequence, startFhirServer } from '../../peers/fhir-server/index.ts';
import { startTokenServer, type TokenServer } from '../../peers/oauth/index.ts';
import { assertOutcome, Cleanup, fhirSender, laneSenders, send, sleep } from './helpers.ts';

const cleanup = new Cleanup();
after(() => cleanup.run());

// Characters that Basic credentials must form-encode (RFC 6749 §2.3.1).
const SECRET = 's3cr:t+/=é &x';

describe('FHIR sender: OAuth2 client credentials', () => {
  let fhir: FhirServerPeer;
  let oauth: TokenServer;
  const auth = (extra: Record<string, unknown> = {}) => ({
    type: 'oauth2-client-credentials',
    tokenUrl: oauth.tokenUrl,
    clientId: 'conduit-lab',
    clientSecret: SECRET,
    scope: 'system/Observation.write system/Patient.write',
    ...extra,
  });

  before(async () => {
    oauth = cleanup.add(
      await startTokenServer({
        clients: [
          { clientId: 'conduit-lab', clientSecret: SECRET, authMethods: ['client_secret_basic'] },
          { clientId: 'conduit-post', clientSecret: SECRET, authMethods: ['client_secret_post'] },
        ],
      }),
    );
    fhir = cleanup.add(await startFhirServer());
    fhir.requireBearer((token) => oauth.isValid(token));
  });

  it('client_secret_basic (the default): N sends, one token request', async () => {
    const issued = oauth.issued;
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: auth() });
    for (let i = 0; i < 3; i++) assertOutcome(await send(sender), 'acknowledged');
    assert.equal(oauth.issued - issued, 1);
    const request = oauth.requests.at(-1)!;
    assert.deepEqual(request, { clientId: 'conduit-lab', authMethod: 'client_secret_basic', status: 200, scope: 'system/Observation.write system/Patient.write' });
    assert.match(fhir.requests.at(-1)!.authorization ?? '', /^Bearer [\w-]{43}$/);
  });

  it('client_secret_post: the id and secret in the form body', async () => {
    const issued = oauth.issued;
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: auth({ clientId: 'conduit-post', authMethod: 'client_secret_post' }) });
    assertOutcome(await send(sender), 'acknowledged');
    assertOutcome(await send(sender), 'acknowledged');
    assert.equal(oauth.issued - issued, 1);
    assert.equal(oauth.requests.at(-1)!.authMethod, 'client_secret_post');
  });

  it('lanes of one destination share the token: concurrent first sends make one token request', async () => {
    const issued = oauth.issued;
    const lanes = laneSenders(cleanup, { baseUrl: fhir.baseUrl, auth: auth() }, 4);
    const outcomes = await Promise.all(lanes.map((lane) => send(lane)));
    for (const o of outcomes) assertOutcome(o, 'acknowledged');
    assert.equal(oauth.issued - issued, 1);
  });

  it('an expired token is renewed before use (expires_in: 1)', async () => {
    oauth.expiresInS = 1;
    try {
      const issued = oauth.issued;
      const before = fhir.requests.length;
      const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: auth({ tokenLifetimeLeewayS: 0 }) });
      assertOutcome(await send(sender), 'acknowledged');
      await sleep(1100);
      assertOutcome(await send(sender), 'acknowledged');
      assert.equal(oauth.issued - issued, 2);
      // Renewed before use: the server never saw the expired token.
      assert.deepEqual(fhir.requests.slice(before).map((r) => r.status), [200, 200]);
    } finally {
      oauth.expiresInS = 3600;
    }
  });

  it('401 mid-stream (tokens revoked): the sender gets a fresh token once and the same send succeeds', async () => {
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: auth() });
    const issued = oauth.issued;
    assertOutcome(await send(sender), 'acknowledged');
    oauth.revokeAll();
    const before = fhir.requests.length;
    assertOutcome(await send(sender), 'acknowledged');
    assert.equal(oauth.issued - issued, 2);
    const [refused, retried] = fhir.requests.slice(before);
    assert.equal(refused!.status, 401);
    assert.equal(retried!.status, 200);
    assert.notEqual(refused!.authorization, retried!.authorization);
  });

  it('still 401 with a fresh token: rejected AUTH_UNAUTHORIZED after exactly one refresh', async () => {
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: auth() });
    fhir.requireBearer(() => false);
    try {
      const issued = oauth.issued;
      const before = fhir.requests.length;
      const outcome = await send(sender);
      assertOutcome(outcome, 'rejected', 'AUTH_UNAUTHORIZED');
      assert.equal(oauth.issued - issued, 2);
      assert.deepEqual(fhir.requests.slice(before).map((r) => r.status), [401, 401]);
    } finally {
      fhir.requireBearer((token) => oauth.isValid(token));
    }
  });

  it('a wrong client secret: rejected AUTH_TOKEN_REJECTED naming invalid_client; the FHIR server is not called', async () => {
    const before = fhir.requests.length;
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: auth({ clientSecret: 'wrong' }) });
    const outcome = await send(sender);
    assertOutcome(outcome, 'rejected', 'AUTH_TOKEN_REJECTED');
    assert.equal(outcome.detail, 'token endpoint answered 401 invalid_client: client authentication failed');
    assert.doesNotMatch(outcome.detail, /wrong/);
    assert.equal(fhir.requests.length, before);
  });

  it('a scope the client may not have: rejected AUTH_TOKEN_REJECTED invalid_scope', async () => {
    const restricted = cleanup.add(await startTokenServer({ clients: [{ clientId: 'c', clientSecret: 's', scopes: ['system/Observation.write'] }] }));
    const sender = fhirSender(cleanup, {
      baseUrl: fhir.baseUrl,
      auth: { type: 'oauth2-client-credentials', tokenUrl: restricted.tokenUrl, clientId: 'c', clientSecret: 's', scope: 'system/*.*' },
    });
    const outcome = await send(sender);
    assertOutcome(outcome, 'rejected', 'AUTH_TOKEN_REJECTED');
    assert.match(outcome.detail, /^token endpoint answered 400 invalid_scope/);
  });

  it('token endpoint 503 with Retry-After, or unreachable: retryable AUTH_TOKEN_UNAVAILABLE; a later send gets a token', async () => {
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: auth() });
    oauth.script(sequence({ status: 503, headers: { 'retry-after': '30' } }, 'drop'));
    const unavailable = await send(sender);
    assertOutcome(unavailable, 'retryable', 'AUTH_TOKEN_UNAVAILABLE');
    assert.equal(unavailable.retryAfterMs, 30_000);
    assert.equal(unavailable.detail, 'token endpoint answered 503');
    const dropped = await send(sender);
    assertOutcome(dropped, 'retryable', 'AUTH_TOKEN_UNAVAILABLE');
    assert.match(dropped.detail, /HTTP_CONNECTION_LOST/);
    oauth.script(undefined);
    assertOutcome(await send(sender), 'acknowledged');
  });

  it('a token answer without access_token: retryable AUTH_TOKEN_RESPONSE_INVALID', async () => {
    const sender = fhirSender(cleanup, { baseUrl: fhir.baseUrl, auth: auth() });
    oauth.script(sequence({ status: 200, body: { token_type: 'Bearer' } }, { status: 200, body: { access_token: 'x', token_type: 'mac' } }));
    assertOutcome(await send(sender), 'retryable', 'AUTH_TOKEN_RESPONSE_INVALID');
    const mac = await send(sender);
    assertOutcome(mac, 'retryable', 'AUTH_TOKEN_RESPONSE_INVALID');
    assert.equal(mac.detail, "token endpoint issued a token of type 'mac', not Bearer");
  });
});
