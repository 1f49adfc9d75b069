import { createHash, X509Certificate } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import type { AuditSink } from '../audit/event.ts';
import type { EngineSettings } from '../config/settings.ts';
import { type PemField, type PemMaterial, pemProblem } from '../config/tls.ts';
import { ConduitError } from '../errors.ts';

/** Oldest protocol the HTTP port speaks (RFC 8996 deprecates TLS 1.0 and 1.1). */
const MIN_VERSION = 'TLSv1.2';
/** Certificates are renewed by writing two or three files: wait this long after the last change before reading them. */
const SETTLE_MS = 200;

type TlsSettings = Pick<EngineSettings, 'tlsCert' | 'tlsKey' | 'tlsClientCa'>;

/** Each PEM file of the HTTP port with the setting that names it, for messages. */
const SETTING: Record<PemField, { readonly key: keyof TlsSettings; readonly words: string }> = {
  cert: { key: 'tlsCert', words: '--tls-cert (CONDUIT_TLS_CERT)' },
  key: { key: 'tlsKey', words: '--tls-key (CONDUIT_TLS_KEY)' },
  ca: { key: 'tlsClientCa', words: '--tls-client-ca (CONDUIT_TLS_CLIENT_CA)' },
};

/** The HTTP port's TLS: the files the settings name and what they held when last loaded. */
export interface ServerTls {
  readonly files: Readonly<Partial<Record<PemField, string>>>;
  material: PemMaterial;
  /** Of the files as last read, good or bad. */
  digest: string;
}

interface LoadFailure {
  readonly field: PemField;
  readonly file: string;
  readonly reason: string;
}

/** The files read now, with a digest of what was read (or could not be), so a set seen before is not loaded twice. */
function readFiles(files: ServerTls['files']): { digest: string; material: PemMaterial } | { digest: string; failure: LoadFailure } {
  const h = createHash('sha256');
  const material: Partial<Record<PemField, Buffer>> = {};
  let failure: LoadFailure | undefined;
  for (const field of ['cert', 'key', 'ca'] as const) {
    const file = files[field];
    if (file === undefined) continue;
    try {
      material[field] = readFileSync(file);
      h.update(material[field]);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
      h.update(`unreadable: ${code}`);
      failure ??= { field, file, reason: `cannot read it (${code})` };
    }
    h.update('\u0000');
  }
  const digest = h.digest('hex');
  if (failure) return { digest, failure };
  const problem = pemProblem(material);
  if (problem) return { digest, failure: { field: problem.field, file: files[problem.field]!, reason: problem.reason } };
  return { digest, material };
}

function describeFailure(f: LoadFailure): string {
  return `${SETTING[f.field].words}: '${f.file}': ${f.reason}`;
}

/**
 * The HTTP port's TLS from the settings, its files read and checked now; undefined without
 * --tls-cert. Throws CONFIG_INVALID naming the setting and the file when one cannot be used.
 */
export function loadServerTls(settings: TlsSettings): ServerTls | undefined {
  if (settings.tlsCert === undefined || settings.tlsKey === undefined) return undefined;
  const files = { cert: settings.tlsCert, key: settings.tlsKey, ...(settings.tlsClientCa ? { ca: settings.tlsClientCa } : {}) };
  const read = readFiles(files);
  if ('failure' in read) {
    throw new ConduitError('CONFIG_INVALID', describeFailure(read.failure), { location: SETTING[read.failure.field].key });
  }
  return { files, material: read.material, digest: read.digest };
}

function contextOptions(material: PemMaterial) {
  return { cert: material.cert, key: material.key, ...(material.ca ? { ca: material.ca } : {}), minVersion: MIN_VERSION } as const;
}

/**
 * The engine's HTTP server: plain HTTP, or HTTPS (TLS 1.2 or later) with `tls`. With a client
 * CA, clients are asked for a certificate but the handshake does not require one: each source
 * decides (see sources/client-certificate.ts).
 */
export function createEngineServer(options: ServerOptions, app: RequestListener, tls: ServerTls | undefined, log: Logger): Server {
  if (!tls) return createHttpServer(options, app);
  const server = createHttpsServer(
    {
      ...options,
      ...contextOptions(tls.material),
      // A handshake may take no longer than the headers that follow it.
      ...(options.headersTimeout !== undefined ? { handshakeTimeout: options.headersTimeout } : {}),
      ...(tls.material.ca ? { requestCert: true, rejectUnauthorized: false } : {}),
    },
    app,
  );
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => log.debug({ code: err.code }, 'a TLS handshake on the HTTP port failed'));
  return server;
}

/** Subject CN, expiry and SHA-256 fingerprint of the first certificate of a PEM chain, for logs and audit. */
function certificateFacts(pem: Buffer | undefined): Record<string, string> {
  try {
    const c = new X509Certificate(pem!);
    return { subject: c.subject.replaceAll('\n', ', '), validTo: c.validTo, fingerprint256: c.fingerprint256 };
  } catch {
    return {};
  }
}

export interface TlsReloader {
  /** Reads the files again: a usable set replaces the served one; a set read before, good or bad, is not reported again. */
  reload(): void;
  close(): void;
}

/**
 * Watches the directories of the certificate, key and client CA files, and on a change loads
 * them again with `server.setSecureContext`: new connections get the new certificate, open ones
 * keep theirs. A set that cannot be used (unreadable, not PEM, a key that does not match) keeps
 * the served one and is logged and audited (`tls.reload`, failure) with the file and the reason.
 * Directories, not the files, are watched: renewals replace files by renaming (certbot, the
 * `..data` symlink of Kubernetes secrets), which a watch on the old file never sees.
 */
export function watchServerTls(server: Server, tls: ServerTls, deps: { log: Logger; audit: AuditSink }): TlsReloader {
  const { log, audit } = deps;
  const https = server as HttpsServer;
  const names = new Set(Object.values(tls.files).map((f) => basename(f)));
  let timer: NodeJS.Timeout | undefined;
  const record = (outcome: 'success' | 'failure', detail: Record<string, string>) => {
    Promise.resolve()
      .then(() => audit.record({ action: 'tls.reload', outcome, actor: 'engine', target: 'https-port', detail }))
      .catch((err: unknown) => log.error({ err }, 'the TLS reload could not be audited'));
  };

  const reload = () => {
    const read = readFiles(tls.files);
    if (read.digest === tls.digest) return;
    tls.digest = read.digest;
    if ('failure' in read) {
      const f = read.failure;
      log.error({ setting: SETTING[f.field].key, file: f.file, reason: f.reason }, `TLS certificate not reloaded, the served one stays: ${describeFailure(f)}`);
      record('failure', { setting: SETTING[f.field].key, file: f.file, reason: f.reason });
      return;
    }
    try {
      https.setSecureContext(contextOptions(read.material));
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      log.error({ file: tls.files.cert, reason }, 'TLS certificate not reloaded, the served one stays');
      record('failure', { setting: 'tlsCert', file: tls.files.cert!, reason });
      return;
    }
    tls.material = read.material;
    const facts = certificateFacts(read.material.cert);
    log.info({ file: tls.files.cert, ...facts }, 'TLS certificate reloaded');
    record('success', { file: tls.files.cert!, ...facts });
  };

  const changed = (_event: string, filename: string | Buffer | null) => {
    const name = filename?.toString();
    if (name !== undefined && !names.has(name) && !name.startsWith('..')) return;
    clearTimeout(timer);
    timer = setTimeout(reload, SETTLE_MS).unref();
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(Object.values(tls.files).map((f) => dirname(f)))) {
    try {
      const w = watch(dir, { persistent: false }, changed);
      w.on('error', (err) => log.warn({ err, dir }, 'watching the TLS files failed; a renewed certificate is not loaded until restart'));
      watchers.push(w);
    } catch (err) {
      log.warn({ err, dir }, 'cannot watch the TLS files; a renewed certificate is not loaded until restart');
    }
  }
  return {
    reload,
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
