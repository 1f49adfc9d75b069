import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyAnswer, inspectBundle, operationOutcomeText, summarizeStatuses } from '../../../src/senders/fhir/index.ts';
import { clientCredentialsRequest, readTokenAnswer } from '../../../src/senders/http/auth/index.ts';
import type { HttpAnswer } from '../../../src/senders/http/exchange.ts';
import { parseRetryAfterMs } from '../../../src/senders/http/retry-after.ts';

const NOW = Date.parse('2025-06-02T10:00:00Z');

function answer(status: number, body: unknown = '', headers: Record<string, string> = {}): HttpAnswer {
  return { status, headers: new Headers(headers), body: typeof body === 'string' ? body : JSON.stringify(body) };
}

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP-dates (RFC 9110 §10.2.3) as milliseconds from now', () => {
    assert.equal(parseRetryAfterMs('2', NOW), 2000);
    assert.equal(parseRetryAfterMs(' 120 ', NOW), 120_000);
    assert.equal(parseRetryAfterMs('0', NOW), 0);
    assert.equal(parseRetryAfterMs('Mon, 02 Jun 2025 10:01:30 GMT', NOW), 90_000);
    assert.equal(parseRetryAfterMs('Monday, 02-Jun-25 10:00:05 GMT', NOW), 5000);
    assert.equal(parseRetryAfterMs('Mon, 02 Jun 2025 09:00:00 GMT', NOW), 0, 'a date in the past means now');
    for (const bad of [null, undefined, '', '-1', '1.5', 'soon', '2025-06-02']) assert.equal(parseRetryAfterMs(bad, NOW), undefined, String(bad));
  });
});

describe('FHIR answer classification', () => {
  const sent = { type: 'transaction', entries: 2 } as const;

  it('summarises entry statuses, most frequent first, with reason phrases', () => {
    assert.equal(summarizeStatuses(['201', '201 Created', '200', '201', '200 OK', '201', '201']), '7 entries: 5×201 Created, 2×200 OK');
    assert.equal(summarizeStatuses(['200']), '1 entry: 1×200 OK');
  });

  it('OperationOutcome text: error issues with their expressions, else every issue', () => {
    const oo = {
      resourceType: 'OperationOutcome',
      issue: [
        { severity: 'warning', code: 'structure', details: { text: 'Conflicting choice' } },
        { severity: 'error', code: 'required', details: { text: 'Missing required property' }, expression: ['Observation.code'] },
        { severity: 'fatal', code: 'exception', diagnostics: 'Database down' },
      ],
    };
    assert.equal(operationOutcomeText(oo), 'Missing required property (Observation.code); Database down');
    assert.equal(operationOutcomeText({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational' }] }), 'informational');
    assert.equal(operationOutcomeText({ resourceType: 'Patient' }), undefined);
  });

  it('inspects the payload: batch or transaction Bundles only', () => {
    assert.deepEqual(inspectBundle('{"resourceType":"Bundle","type":"transaction","entry":[{},{}]}'), { type: 'transaction', entries: 2 });
    assert.deepEqual(inspectBundle('{"resourceType":"Bundle","type":"batch"}'), { type: 'batch', entries: 0 });
    for (const bad of ['', 'null', '[]', '{"resourceType":"Bundle","type":"document"}', '{"resourceType":"Observation"}']) assert.equal(inspectBundle(bad), undefined);
  });

  it('maps statuses to outcomes and codes', () => {
    const cases: Array<[number, string, string]> = [
      [400, 'rejected', 'HTTP_CLIENT_ERROR'],
      [401, 'rejected', 'AUTH_UNAUTHORIZED'],
      [403, 'rejected', 'AUTH_FORBIDDEN'],
      [404, 'rejected', 'HTTP_CLIENT_ERROR'],
      [408, 'retryable', 'HTTP_REQUEST_TIMEOUT'],
      [409, 'rejected', 'HTTP_CLIENT_ERROR'],
      [412, 'rejected', 'HTTP_CLIENT_ERROR'],
      [422, 'rejected', 'HTTP_CLIENT_ERROR'],
      [429, 'retryable', 'HTTP_TOO_MANY_REQUESTS'],
      [500, 'retryable', 'HTTP_SERVER_ERROR'],
      [502, 'retryable', 'HTTP_SERVER_ERROR'],
      [503, 'retryable', 'HTTP_SERVER_ERROR'],
      [504, 'retryable', 'HTTP_SERVER_ERROR'],
      [302, 'rejected', 'HTTP_UNEXPECTED_STATUS'],
    ];
    for (const [status, outcome, code] of cases) {
      const o = classifyAnswer(answer(status), sent, NOW);
      assert.deepEqual([o.status, 'code' in o ? o.code : undefined], [outcome, code], String(status));
    }
  });

  it('honours Retry-After on 429, 503 and other retryable statuses, never on rejections', () => {
    const retry = (status: number) => classifyAnswer(answer(status, '', { 'retry-after': '7' }), sent, NOW);
    for (const status of [408, 429, 500, 503]) {
      const o = retry(status);
      assert.equal(o.status === 'retryable' && o.retryAfterMs, 7000, String(status));
    }
    assert.equal('retryAfterMs' in retry(400), false);
  });

  it('long details are cut; the raw body stays whole in response', () => {
    const body = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'x'.repeat(5000) }] };
    const o = classifyAnswer(answer(400, body), sent, NOW);
    assert.ok(o.status === 'rejected' && o.detail.length === 2000 && o.detail.endsWith('…'));
    assert.equal(o.response, JSON.stringify(body));
  });

  it('a transaction-response entry without a status is FHIR_RESPONSE_INVALID', () => {
    const o = classifyAnswer(answer(200, { resourceType: 'Bundle', type: 'transaction-response', entry: [{ response: { status: '201' } }, { response: {} }] }), sent, NOW);
    assert.deepEqual([o.status, 'code' in o && o.code, 'detail' in o && o.detail], ['retryable', 'FHIR_RESPONSE_INVALID', 'entry[1] of the transaction-response has no valid response.status']);
  });
});

describe('token endpoint answers (RFC 6749 §5)', () => {
  it('reads a bearer grant; expires_in may be a string', () => {
    assert.deepEqual(readTokenAnswer(answer(200, { access_token: 'abc', token_type: 'bearer', expires_in: '300' })), { accessToken: 'abc', expiresInS: 300 });
    assert.deepEqual(readTokenAnswer(answer(200, { access_token: 'abc', token_type: 'Bearer' })), { accessToken: 'abc', expiresInS: undefined });
  });

  it('classifies errors: §5.2 errors and other 4xx are permanent, 429 and 5xx transient', () => {
    const code = (a: HttpAnswer) => {
      try {
        readTokenAnswer(a, NOW);
        return 'ok';
      } catch (err) {
        const e = err as { code: string; message: string; context: Record<string, unknown> };
        return `${e.code} ${e.message}${e.context['retryAfterMs'] === undefined ? '' : ` +${e.context['retryAfterMs']}`}`;
      }
    };
    assert.equal(code(answer(400, { error: 'invalid_grant', error_description: 'expired' })), 'AUTH_TOKEN_REJECTED token endpoint answered 400 invalid_grant: expired');
    assert.equal(code(answer(404, 'Not Found')), 'AUTH_TOKEN_REJECTED token endpoint answered 404');
    assert.equal(code(answer(429, '', { 'retry-after': '3' })), 'AUTH_TOKEN_UNAVAILABLE token endpoint answered 429 +3000');
    assert.equal(code(answer(502, '<html>')), 'AUTH_TOKEN_UNAVAILABLE token endpoint answered 502');
    assert.equal(code(answer(302)), 'AUTH_TOKEN_REJECTED token endpoint answered 302 (redirects are not followed: check tokenUrl)');
  });

  it('client_secret_basic form-encodes id and secret before Base64 (RFC 6749 §2.3.1)', () => {
    const { form, headers } = clientCredentialsRequest({
      type: 'oauth2-client-credentials',
      tokenUrl: 'https://a.example/token',
      clientId: 'lab client',
      clientSecret: 'p:ss+/é',
      authMethod: 'client_secret_basic',
      tokenLifetimeLeewayS: 30,
    });
    assert.equal(form.toString(), 'grant_type=client_credentials');
    assert.equal(Buffer.from(headers['authorization']!.slice('Basic '.length), 'base64').toString(), 'lab+client:p%3Ass%2B%2F%C3%A9');
  });
});
