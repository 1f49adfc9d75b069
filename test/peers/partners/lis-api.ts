import { z } from 'zod';
import { verifySignatureHeader } from '../../../src/senders/http/auth/hmac.ts';
import { fieldErrors, type HttpPeer, jsonBody, PeerError, type PeerRequest, startHttpPeer } from './http-peer.ts';

/**
 * The LIS partner API of seed 004: an integration reads and writes patients and tests within
 * its permissions (Create / Read / Update Patients and Tests) and its access scope (client ids,
 * location ids). Duplicate patients are prevented by `externalPatientID`: creating a second
 * patient with the same one answers 409 with the existing patient's id. A patient without a
 * valid email gets no account ("No Email = No Account").
 *
 * The seed describes the roles and rules, not the wire format: paths (under /api/v1), field
 * names and error bodies (`{ error, message, errors? }`) are this sandbox's. Integrations
 * authenticate with a bearer API token, or, when configured, with an HMAC-SHA256 signature of
 * the body (for rehearsing the `hmac` auth of the http destination).
 */

export const PERMISSIONS = {
  'patients:create': 'Create Patients',
  'patients:read': 'Read Patients',
  'patients:update': 'Update Patients',
  'tests:create': 'Create Tests',
  'tests:read': 'Read Tests',
  'tests:update': 'Update Tests',
} as const;
export type Permission = keyof typeof PERMISSIONS;
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

export interface Integration {
  readonly permissions: readonly Permission[];
  readonly clientIds: readonly string[];
  readonly locationIds: readonly string[];
}

export interface TokenIntegration extends Integration {
  readonly token: string;
}

export interface HmacIntegration extends Integration {
  readonly secret: string;
  /** Default X-Signature, value `sha256=<hex>`. */
  readonly header?: string;
}

/** The scope of the sample channel lis-partner-tests against `node test/peers/partners/start.ts`. */
export const SANDBOX_LIS: TokenIntegration = Object.freeze({
  token: 'sandbox-lis-api-token',
  permissions: ALL_PERMISSIONS,
  clientIds: ['CL-NORTHSIDE'],
  locationIds: ['LOC-NORTH', 'LOC-SOUTH-EAST', 'LOC-WARD-7B'],
});

export interface LisApiOptions {
  readonly port?: number;
  readonly integrations?: readonly TokenIntegration[];
  readonly hmac?: HmacIntegration;
}

export interface LisPatient {
  readonly id: string;
  externalPatientID?: string;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  sex?: string;
  email?: string;
  readonly clientId: string;
  hasAccount: boolean;
}

export interface LisTest {
  readonly id: string;
  readonly patientId: string;
  readonly clientId: string;
  locationId: string;
  externalTestID?: string;
  testCode: string;
  testName?: string;
  collectedAt?: string;
  status: string;
  results: unknown[];
  /** Updates applied (PUT). */
  revisions: number;
}

export interface LisApiPeer extends HttpPeer {
  readonly patients: ReadonlyMap<string, LisPatient>;
  readonly tests: ReadonlyMap<string, LisTest>;
}

const error = (code: string, message: string, errors?: unknown) => ({ error: code, message, ...(errors ? { errors } : {}) });

const date = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'expected YYYY-MM-DD');
const dateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/, 'expected an ISO 8601 date-time with offset');
const id = z.string().min(1, 'must not be empty');
const STATUSES = ['registered', 'preliminary', 'final', 'corrected', 'amended', 'cancelled', 'entered-in-error', 'unknown'] as const;

const PatientBody = z
  .object({
    externalPatientID: id.optional(),
    firstName: id,
    lastName: id,
    dateOfBirth: date,
    sex: z.enum(['female', 'male', 'other', 'unknown']).optional(),
    email: z.string().optional(),
    clientId: id,
  })
  .strict();

const Result = z
  .object({
    code: id,
    name: z.string().optional(),
    value: z.string({ error: 'expected the value as text, as measured' }),
    unit: z.string().optional(),
    referenceRange: z.string().optional(),
    flags: z.array(z.string()).optional(),
    status: z.enum(STATUSES).optional(),
    comments: z.array(z.string()).optional(),
  })
  .strict();

const TestBody = z
  .object({
    patientId: id,
    clientId: id,
    locationId: id,
    externalTestID: id.optional(),
    testCode: id,
    testName: z.string().optional(),
    collectedAt: dateTime.optional(),
    status: z.enum(STATUSES),
    results: z.array(Result).min(1, 'expected at least one result'),
  })
  .strict();

const TestUpdate = TestBody.omit({ patientId: true, clientId: true }).extend({ locationId: id.optional() });

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export async function startLisApi(options: LisApiOptions = {}): Promise<LisApiPeer> {
  const integrations = options.integrations ?? [SANDBOX_LIS];
  const patients = new Map<string, LisPatient>();
  const tests = new Map<string, LisTest>();
  let nextPatient = 1000;
  let nextTest = 5000;

  /** Who is calling, from the bearer token or the body signature; 401 otherwise. */
  const caller = (req: PeerRequest): Integration => {
    const hmac = options.hmac;
    const signature = hmac ? req.headers[(hmac.header ?? 'X-Signature').toLowerCase()] : undefined;
    if (hmac && signature !== undefined) {
      if (!verifySignatureHeader({ secret: hmac.secret, prefix: 'sha256=', encoding: 'hex' }, req.body, String(signature))) {
        throw new PeerError(401, error('UNAUTHORIZED', 'the body signature does not verify'));
      }
      return hmac;
    }
    const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    const found = m ? integrations.find((i) => i.token === m[1]) : undefined;
    if (!found) throw new PeerError(401, error('UNAUTHORIZED', 'missing or invalid API token'), { 'www-authenticate': 'Bearer' });
    return found;
  };

  const allow = (who: Integration, permission: Permission) => {
    if (!who.permissions.includes(permission)) {
      throw new PeerError(403, error('FORBIDDEN', `this integration lacks the '${PERMISSIONS[permission]}' permission (${permission})`));
    }
  };
  const inScope = (who: Integration, what: 'Client ID' | 'Location ID', value: string) => {
    const allowed = what === 'Client ID' ? who.clientIds : who.locationIds;
    if (!allowed.includes(value)) throw new PeerError(403, error('FORBIDDEN', `${what} '${value}' is outside this integration's access scope`));
  };

  const parse = <T>(schema: z.ZodType<T>, req: PeerRequest): T => {
    const r = schema.safeParse(jsonBody(req, (m) => error('VALIDATION_ERROR', m)));
    if (!r.success) throw new PeerError(400, error('VALIDATION_ERROR', 'the request body is not valid', fieldErrors(r.error)));
    return r.data;
  };

  const visiblePatient = (who: Integration, patientId: string): LisPatient => {
    const p = patients.get(patientId);
    if (!p || !who.clientIds.includes(p.clientId)) throw new PeerError(404, error('NOT_FOUND', `no patient ${patientId} in this integration's scope`));
    return p;
  };
  const visibleTest = (who: Integration, testId: string): LisTest => {
    const t = tests.get(testId);
    if (!t || !who.clientIds.includes(t.clientId) || !who.locationIds.includes(t.locationId)) throw new PeerError(404, error('NOT_FOUND', `no test ${testId} in this integration's scope`));
    return t;
  };

  const createPatient = (req: PeerRequest) => {
    const who = caller(req);
    allow(who, 'patients:create');
    const body = parse(PatientBody, req);
    inScope(who, 'Client ID', body.clientId);
    if (body.email !== undefined && !EMAIL.test(body.email)) throw new PeerError(400, error('VALIDATION_ERROR', 'email is not a valid address', [{ field: 'email', message: 'invalid email' }]));
    if (body.externalPatientID !== undefined) {
      const existing = [...patients.values()].find((p) => p.externalPatientID === body.externalPatientID);
      if (existing) {
        throw new PeerError(409, {
          ...error('DUPLICATE_PATIENT', `a patient with externalPatientID ${body.externalPatientID} already exists`),
          patientId: existing.id,
        });
      }
    }
    const patient: LisPatient = { id: `P${nextPatient++}`, ...body, hasAccount: body.email !== undefined };
    patients.set(patient.id, patient);
    return { status: 201, body: patient };
  };

  const updatePatient = (req: PeerRequest) => {
    const who = caller(req);
    allow(who, 'patients:update');
    const body = parse(PatientBody.omit({ clientId: true }), req);
    const patient = visiblePatient(who, req.params['id']!);
    if (body.externalPatientID !== undefined && patient.externalPatientID !== undefined && body.externalPatientID !== patient.externalPatientID) {
      throw new PeerError(400, error('VALIDATION_ERROR', 'externalPatientID cannot be changed once set'));
    }
    if (body.email !== undefined && !EMAIL.test(body.email)) throw new PeerError(400, error('VALIDATION_ERROR', 'email is not a valid address', [{ field: 'email', message: 'invalid email' }]));
    Object.assign(patient, body, { hasAccount: patient.hasAccount || body.email !== undefined });
    return { status: 200, body: patient };
  };

  const findPatients = (req: PeerRequest) => {
    const who = caller(req);
    allow(who, 'patients:read');
    const ext = req.url.searchParams.get('externalPatientID');
    const data = [...patients.values()].filter((p) => who.clientIds.includes(p.clientId) && (ext === null || p.externalPatientID === ext));
    return { status: 200, body: { data, total: data.length } };
  };

  const createTest = (req: PeerRequest) => {
    const who = caller(req);
    allow(who, 'tests:create');
    const body = parse(TestBody, req);
    inScope(who, 'Client ID', body.clientId);
    inScope(who, 'Location ID', body.locationId);
    const patient = visiblePatient(who, body.patientId);
    if (patient.clientId !== body.clientId) throw new PeerError(400, error('VALIDATION_ERROR', `patient ${patient.id} belongs to another client`));
    if (body.externalTestID !== undefined) {
      const existing = [...tests.values()].find((t) => t.externalTestID === body.externalTestID);
      if (existing) throw new PeerError(409, { ...error('DUPLICATE_TEST', `a test with externalTestID ${body.externalTestID} already exists`), testId: existing.id });
    }
    const test: LisTest = { id: `T${nextTest++}`, ...body, revisions: 0 };
    tests.set(test.id, test);
    return { status: 201, body: test };
  };

  const findTests = (req: PeerRequest) => {
    const who = caller(req);
    allow(who, 'tests:read');
    const ext = req.url.searchParams.get('externalTestID');
    const data = [...tests.values()].filter(
      (t) => who.clientIds.includes(t.clientId) && who.locationIds.includes(t.locationId) && (ext === null || t.externalTestID === ext),
    );
    return { status: 200, body: { data, total: data.length } };
  };

  const updateTest = (req: PeerRequest) => {
    const who = caller(req);
    allow(who, 'tests:update');
    const body = parse(TestUpdate, req);
    if (body.locationId !== undefined) inScope(who, 'Location ID', body.locationId);
    const test = visibleTest(who, req.params['id']!);
    if (body.externalTestID !== undefined && body.externalTestID !== test.externalTestID) {
      throw new PeerError(400, error('VALIDATION_ERROR', 'externalTestID cannot be changed'));
    }
    Object.assign(test, body, { revisions: test.revisions + 1 });
    return { status: 200, body: test };
  };

  const peer = await startHttpPeer(
    [
      { method: 'POST', pattern: '/api/v1/patients', handle: createPatient },
      { method: 'GET', pattern: '/api/v1/patients', handle: findPatients },
      {
        method: 'GET',
        pattern: '/api/v1/patients/:id',
        handle: (req) => {
          const who = caller(req);
          allow(who, 'patients:read');
          return { status: 200, body: visiblePatient(who, req.params['id']!) };
        },
      },
      { method: 'PUT', pattern: '/api/v1/patients/:id', handle: updatePatient },
      { method: 'POST', pattern: '/api/v1/tests', handle: createTest },
      { method: 'GET', pattern: '/api/v1/tests', handle: findTests },
      { method: 'PUT', pattern: '/api/v1/tests/:id', handle: updateTest },
    ],
    { ...(options.port === undefined ? {} : { port: options.port }) },
  );
  return Object.assign(peer, { patients, tests });
}
