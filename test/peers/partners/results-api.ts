import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { fieldErrors, type HttpPeer, jsonBody, parseMultipart, PeerError, type PeerRequest, startHttpPeer } from './http-peer.ts';

/**
 * The results API of seed 002 (C19T Connect, OpenAPI v1): apps log in with the OAuth 2.0
 * client credentials grant, `client_id` = `organizationID:appID` for the organization (tenant)
 * to act in and the app secret as `client_secret`; then submit per test code a result from the
 * enum `unknown positive negative invalid done complex`, or an intermediate state, upload the
 * PDF report as multipart/form-data, create pools and submit pool results (negative: every
 * test of the pool negative; positive: only the pool, the tests stay open for retesting).
 * Conflicts are 409 with RFC 9457 problem details.
 *
 * The OpenAPI excerpt names operations, not paths: the paths here (under /v1) are this
 * sandbox's. Tests exist once a customer checked them in (`checkIn`), or an app created their
 * codes (`POST /v1/test-codes`).
 */

export const TEST_RESULTS = ['unknown', 'positive', 'negative', 'invalid', 'done', 'complex'] as const;
export type TestResult = (typeof TEST_RESULTS)[number];

export interface ResultsApp {
  readonly organizationId: string;
  readonly appId: string;
  readonly secret: string;
}

/** What the sample channel c19t-results uses against `node test/peers/partners/start.ts`. */
export const SANDBOX_C19T: ResultsApp = Object.freeze({ organizationId: 'org-sandbox', appId: 'app-conduit', secret: 'sandbox-c19t-app-secret' });

export interface ResultsApiOptions {
  readonly port?: number;
  readonly apps?: readonly ResultsApp[];
  /** `expires_in` of tokens, in seconds; default 3600. */
  readonly tokenLifetimeS?: number;
  /** Treat any unknown test code as checked in by the caller's organization (for trying channels by hand). */
  readonly autoCheckIn?: boolean;
}

export interface TestState {
  readonly code: string;
  readonly organizationId: string;
  result?: TestResult;
  /** Submitted through the pool, not the test. */
  viaPool?: string;
  suppressCustomerNotification?: boolean | null;
  suppressHealthauthorityNotification?: boolean | null;
  metafields?: unknown;
  overwriteTest?: unknown;
  readonly states: Array<{ customMessage?: string | null; suppressCustomerNotification?: boolean | null }>;
  readonly reports: Array<{ filename: string; bytes: number }>;
  /** Customers and health authorities informed of the result. */
  notified: boolean;
}

export interface PoolState {
  readonly header: string;
  readonly organizationId: string;
  readonly testCodes: readonly string[];
  readonly externalReference?: string | null;
  result?: TestResult;
}

export interface ResultsApiPeer extends HttpPeer {
  readonly tokenUrl: string;
  readonly tests: ReadonlyMap<string, TestState>;
  readonly pools: ReadonlyMap<string, PoolState>;
  /** Token requests: client id as sent, and the status answered. */
  readonly tokenRequests: Array<{ clientId: string | undefined; status: number; authMethod: 'client_secret_basic' | 'client_secret_post' | undefined }>;
  /** Registers tests as checked in by customers of an organization (default: the first app's). */
  checkIn(codes: readonly string[], organizationId?: string): void;
  /** Creates a pool directly (as the lab's own tooling would). */
  createPool(header: string, codes: readonly string[], organizationId?: string): void;
  /** Every issued token becomes invalid (expiry, revocation). */
  revokeTokens(): void;
}

const problem = (status: number, title: string, detail: string, extra: Record<string, unknown> = {}) => ({
  type: `https://sandbox.c19t.invalid/problems/${title.toLowerCase().replace(/\s+/g, '-')}`,
  title,
  status,
  detail,
  ...extra,
});
const bad = (message: string, errors?: unknown) => problem(400, 'Bad Request', message, errors ? { errors } : {});

const Result = z.enum(TEST_RESULTS, { error: `expected one of ${TEST_RESULTS.join(', ')}` });
const OverwriteTest = z.object({ manufacturer: z.string().optional(), material: z.string().optional(), type: z.string().optional() }).strict();

const TestResultBody = z
  .object({
    result: Result,
    suppressCustomerNotification: z.boolean().nullable().optional(),
    suppressHealthauthorityNotification: z.boolean().nullable().optional(),
    metafields: z.unknown().optional(),
    overwriteTest: OverwriteTest.nullable().optional(),
  })
  .strict();
const StateBody = z
  .object({ suppressCustomerNotification: z.boolean().nullable().optional(), customMessage: z.string().nullable().optional() })
  .strict();
const PoolBody = z
  .object({ poolHeader: z.string().min(1), externalReference: z.string().nullable().optional(), testCodes: z.array(z.string().min(1)).min(1, 'must not be empty') })
  .strict();
const PoolResultBody = z
  .object({
    result: Result,
    suppressCustomerNotification: z.boolean().nullable().optional(),
    suppressHealthauthorityNotification: z.boolean().nullable().optional(),
  })
  .strict();
const CodesBody = z.object({ testCodes: z.array(z.string().min(1)).min(1, 'must not be empty') }).strict();

/** RFC 6749 Appendix B: form decoding. */
function formDecode(v: string): string {
  return decodeURIComponent(v.replaceAll('+', ' '));
}

export async function startResultsApi(options: ResultsApiOptions = {}): Promise<ResultsApiPeer> {
  const apps = options.apps ?? [SANDBOX_C19T];
  const tokens = new Map<string, { organizationId: string; appId: string; expiresAt: number }>();
  const tests = new Map<string, TestState>();
  const pools = new Map<string, PoolState>();
  const tokenRequests: ResultsApiPeer['tokenRequests'] = [];
  const lifetimeS = options.tokenLifetimeS ?? 3600;

  /** RFC 6749 §4.4 with client authentication per §2.3.1 (Basic over form-encoded id and secret, or both in the body). */
  const token = (req: PeerRequest) => {
    const oauthError = (status: number, error: string, description: string) =>
      new PeerError(status, { error, error_description: description }, { 'content-type': 'application/json', 'cache-control': 'no-store', ...(status === 401 ? { 'www-authenticate': 'Basic realm="c19t"' } : {}) });
    const form = new URLSearchParams(req.body.toString('utf8'));
    let clientId: string | undefined;
    let secret: string | undefined;
    let authMethod: 'client_secret_basic' | 'client_secret_post' | undefined;
    const basic = /^Basic\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      // The id is form-encoded before Basic, so an organizationID:appID id arrives as org%3Aapp.
      clientId = formDecode(decoded.slice(0, colon));
      secret = formDecode(decoded.slice(colon + 1));
      authMethod = 'client_secret_basic';
    } else if (form.has('client_id')) {
      clientId = form.get('client_id') ?? undefined;
      secret = form.get('client_secret') ?? undefined;
      authMethod = 'client_secret_post';
    }
    const record = { clientId, status: 200, authMethod };
    tokenRequests.push(record);
    try {
      if (!/^application\/x-www-form-urlencoded\b/i.test(String(req.headers['content-type'] ?? ''))) throw oauthError(400, 'invalid_request', 'expected a form-encoded body');
      if (form.get('grant_type') !== 'client_credentials') throw oauthError(400, 'unsupported_grant_type', 'only client_credentials is supported');
      if (clientId === undefined) throw oauthError(401, 'invalid_client', 'client authentication is required');
      const [organizationId, appId, ...rest] = clientId.split(':');
      if (!appId || rest.length > 0) throw oauthError(401, 'invalid_client', 'client_id must be organizationID:appID to act in an organization');
      const app = apps.find((a) => a.organizationId === organizationId && a.appId === appId);
      if (!app || app.secret !== secret) throw oauthError(401, 'invalid_client', 'unknown app, organization or secret');
      const accessToken = randomBytes(24).toString('base64url');
      tokens.set(accessToken, { organizationId: app.organizationId, appId: app.appId, expiresAt: Date.now() + lifetimeS * 1000 });
      return { status: 200, body: { access_token: accessToken, token_type: 'Bearer', expires_in: lifetimeS }, headers: { 'cache-control': 'no-store' } };
    } catch (e) {
      if (e instanceof PeerError) record.status = e.status;
      throw e;
    }
  };

  const organizationOf = (req: PeerRequest): string => {
    const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    const t = m ? tokens.get(m[1]!) : undefined;
    if (!t || t.expiresAt < Date.now()) {
      throw new PeerError(401, problem(401, 'Unauthorized', 'a valid bearer token from the token endpoint is required'), { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    return t.organizationId;
  };

  const testOf = (req: PeerRequest, org: string): TestState => {
    const code = req.params['testCode']!;
    if (options.autoCheckIn && !tests.has(code)) tests.set(code, newTest(code, org));
    const t = tests.get(code);
    if (!t) throw new PeerError(404, problem(404, 'Not Found', `test ${code} is unknown (not checked in)`));
    if (t.organizationId !== org) throw new PeerError(403, problem(403, 'Forbidden', `the app is not installed in the organization that owns test ${code}`));
    return t;
  };

  const parse = <T>(schema: z.ZodType<T>, req: PeerRequest): T => {
    const r = schema.safeParse(jsonBody(req, (m) => bad(m)));
    if (!r.success) throw new PeerError(400, bad('the request body is not valid', fieldErrors(r.error)));
    return r.data;
  };

  const submitResult = (req: PeerRequest) => {
    const org = organizationOf(req);
    const body = parse(TestResultBody, req);
    const t = testOf(req, org);
    if (t.result !== undefined) {
      // A repeat of the same result is a conflict too (the API answers 409 either way); its text tells them apart.
      const same = t.result === body.result;
      throw new PeerError(
        409,
        problem(409, 'Conflict', same ? `result already submitted for test ${t.code}: ${t.result}` : `conflicting result for test ${t.code}: it already has result ${t.result}`, {
          testCode: t.code,
          result: t.result,
        }),
      );
    }
    Object.assign(t, {
      result: body.result,
      suppressCustomerNotification: body.suppressCustomerNotification,
      suppressHealthauthorityNotification: body.suppressHealthauthorityNotification,
      metafields: body.metafields,
      overwriteTest: body.overwriteTest,
      notified: body.suppressCustomerNotification !== true,
    });
    return { status: 201, body: { testCode: t.code, result: t.result } };
  };

  const submitState = (req: PeerRequest) => {
    const org = organizationOf(req);
    const body = parse(StateBody, req);
    const t = testOf(req, org);
    if (t.result !== undefined) throw new PeerError(409, problem(409, 'Conflict', `test ${t.code} already has result ${t.result}; no intermediate state after a result`));
    t.states.push(body);
    return { status: 201, body: { testCode: t.code, result: 'unknown' } };
  };

  const uploadReport = (req: PeerRequest) => {
    const org = organizationOf(req);
    const t = testOf(req, org);
    let parts: ReturnType<typeof parseMultipart>;
    try {
      parts = parseMultipart(req.headers['content-type'], req.body);
    } catch (e) {
      throw new PeerError(400, bad(`expected multipart/form-data: ${(e as Error).message}`));
    }
    const files = parts.filter((p) => p.filename !== undefined);
    if (files.length !== 1) throw new PeerError(400, bad(`expected exactly one file part, got ${files.length}`));
    const file = files[0]!;
    if (!/^application\/pdf\b/i.test(file.contentType ?? '')) throw new PeerError(400, bad(`expected the file as application/pdf, got '${file.contentType ?? '(none)'}'`));
    if (file.data.subarray(0, 5).toString('latin1') !== '%PDF-') throw new PeerError(400, bad('the file is not a PDF (no %PDF- header)'));
    t.reports.push({ filename: file.filename!, bytes: file.data.length });
    return { status: 201, body: { url: `/v1/tests/${encodeURIComponent(t.code)}/report/${t.reports.length}.pdf` } };
  };

  const poolView = (p: PoolState) => ({
    poolHeader: p.header,
    result: p.result ?? 'unknown',
    testCodes: Object.fromEntries(p.testCodes.map((c) => [c, { state: 'ok' }])),
  });

  const createPoolRoute = (req: PeerRequest) => {
    const org = organizationOf(req);
    const body = parse(PoolBody, req);
    if (pools.has(body.poolHeader)) throw new PeerError(409, problem(409, 'Conflict', `pool ${body.poolHeader} already exists`));
    const states = Object.fromEntries(
      body.testCodes.map((c) => {
        const t = tests.get(c);
        const error = !t ? 'test is not checked in' : t.organizationId !== org ? 'app not installed in the organization that owns the test' : t.result !== undefined ? 'test already has a result' : undefined;
        return [c, error ? { state: 'error', error: { code: 'unknown', message: error } } : { state: 'ok' }];
      }),
    );
    if (Object.values(states).some((s) => s.state === 'error')) {
      throw new PeerError(422, problem(422, 'Unprocessable Entity', 'every test of a pool must be checked in and open', { poolHeader: body.poolHeader, testCodes: states }));
    }
    const pool: PoolState = { header: body.poolHeader, organizationId: org, testCodes: body.testCodes, externalReference: body.externalReference ?? null };
    pools.set(pool.header, pool);
    return { status: 201, body: poolView(pool) };
  };

  const poolResult = (req: PeerRequest) => {
    const org = organizationOf(req);
    const body = parse(PoolResultBody, req);
    const header = req.params['poolHeader']!;
    const pool = pools.get(header);
    if (!pool) throw new PeerError(404, problem(404, 'Not Found', `pool ${header} is unknown`));
    if (pool.organizationId !== org) throw new PeerError(403, problem(403, 'Forbidden', `the app is not installed in the organization that owns pool ${header}`));
    if (pool.result !== undefined) {
      const same = pool.result === body.result;
      throw new PeerError(409, problem(409, 'Conflict', same ? `result already submitted for pool ${header}: ${pool.result}` : `conflicting result for pool ${header}: it already has result ${pool.result}`));
    }
    pool.result = body.result;
    // Seed 002: a negative pool sets every test negative (customers informed); a positive one
    // only the pool, the tests stay open and nobody is informed until they are retested.
    if (body.result === 'negative') {
      for (const code of pool.testCodes) {
        const t = tests.get(code)!;
        if (t.result === undefined) Object.assign(t, { result: 'negative', viaPool: header, notified: body.suppressCustomerNotification !== true });
      }
    }
    return { status: 201, body: poolView(pool) };
  };

  const createCodes = (req: PeerRequest) => {
    const org = organizationOf(req);
    const body = parse(CodesBody, req);
    const taken = body.testCodes.filter((c) => tests.has(c));
    if (taken.length > 0) throw new PeerError(409, problem(409, 'Conflict', `test codes already exist: ${taken.join(', ')}`));
    for (const c of body.testCodes) tests.set(c, newTest(c, org));
    return { status: 201, body: { testCodes: body.testCodes } };
  };

  const newTest = (code: string, organizationId: string): TestState => ({ code, organizationId, states: [], reports: [], notified: false });

  const peer = await startHttpPeer(
    [
      { method: 'POST', pattern: '/connect/token', handle: token },
      {
        method: 'GET',
        pattern: '/.well-known/openid-configuration',
        handle: () => ({ status: 200, body: { issuer: peerUrl(), token_endpoint: `${peerUrl()}/connect/token`, grant_types_supported: ['client_credentials'] } }),
      },
      { method: 'POST', pattern: '/v1/test-codes', handle: createCodes },
      { method: 'POST', pattern: '/v1/tests/:testCode/result', handle: submitResult },
      { method: 'POST', pattern: '/v1/tests/:testCode/state', handle: submitState },
      { method: 'POST', pattern: '/v1/tests/:testCode/report', handle: uploadReport },
      { method: 'POST', pattern: '/v1/pools', handle: createPoolRoute },
      { method: 'POST', pattern: '/v1/pools/:poolHeader/result', handle: poolResult },
    ],
    { ...(options.port === undefined ? {} : { port: options.port }), errorContentType: 'application/problem+json', notFound: (p) => problem(404, 'Not Found', `no route ${p}`) },
  );
  const peerUrl = () => peer.url;
  const defaultOrg = apps[0]!.organizationId;
  return Object.assign(peer, {
    tokenUrl: `${peer.url}/connect/token`,
    tests,
    pools,
    tokenRequests,
    checkIn(codes: readonly string[], organizationId = defaultOrg) {
      for (const c of codes) if (!tests.has(c)) tests.set(c, newTest(c, organizationId));
    },
    createPool(header: string, codes: readonly string[], organizationId = defaultOrg) {
      pools.set(header, { header, organizationId, testCodes: [...codes] });
    },
    revokeTokens() {
      tokens.clear();
    },
  });
}
