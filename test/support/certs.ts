/**
 * Certificates made for a test run with the openssl CLI (EC P-256, valid one day): a small CA
 * and server and client certificates it signs, or a self-signed one. Nothing is checked in;
 * tests skip when there is no openssl (`skipWithoutOpenssl`).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key, as PEM files. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  /** Subject alternative names: DNS names, or IP addresses (recognised by their form). */
  readonly names?: readonly string[];
  /** File name stem; the CN by default. */
  readonly file?: string;
}

export interface TestCa extends CertFiles {
  /** A server certificate (serverAuth) with `names` as SANs; localhost and 127.0.0.1 by default. */
  server(cn: string, options?: IssueOptions): CertFiles;
  /** A client certificate (clientAuth) with subject CN `cn` and `names` as SAN DNS names. */
  client(cn: string, options?: IssueOptions): CertFiles;
}

/** The reason to skip TLS tests, or false when the openssl CLI is there. */
export const skipWithoutOpenssl: false | string = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'no openssl CLI to make test certificates';
  }
})();

const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A temp directory for certificate files, removed by `remove()`. */
export function certificateDir(prefix = 'conduit-certs-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const san = (names: readonly string[]) => names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');

/** A CA (its certificate and key in `dir`) that issues server and client certificates. */
export function makeCa(dir: string, name = 'Conduit Test CA'): TestCa {
  const stem = name.replace(/\W+/g, '-').toLowerCase();
  const ca: CertFiles = { cert: join(dir, `${stem}.crt`), key: join(dir, `${stem}.key`) };
  const config = join(dir, `${stem}.cnf`);
  writeFileSync(
    config,
    [
      '[req]', 'distinguished_name = dn', 'x509_extensions = ca', 'prompt = no', '[dn]', `CN = ${name}`,
      '[ca]', 'basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash',
    ].join('\n'),
  );
  openssl(['req', '-x509', ...NEW_KEY, '-config', config, '-keyout', ca.key, '-out', ca.cert, '-days', '1']);

  const issue = (cn: string, usage: 'serverAuth' | 'clientAuth', options: IssueOptions): CertFiles => {
    const file = join(dir, options.file ?? cn.replace(/\W+/g, '-'));
    const out: CertFiles = { cert: `${file}.crt`, key: `${file}.key` };
    const ext = `${file}.ext`;
    const names = options.names ?? (usage === 'serverAuth' ? ['localhost', '127.0.0.1'] : []);
    writeFileSync(
      ext,
      [
        'basicConstraints = CA:FALSE', 'keyUsage = critical,digitalSignature', `extendedKeyUsage = ${usage}`,
        'authorityKeyIdentifier = keyid', ...(names.length > 0 ? [`subjectAltName = ${san(names)}`] : []),
      ].join('\n'),
    );
    openssl(['req', '-new', ...NEW_KEY, '-keyout', out.key, '-out', `${file}.csr`, '-subj', `/CN=${cn}`]);
    openssl([
      'x509', '-req', '-in', `${file}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-days', '1', '-extfile', ext, '-out', out.cert,
    ]);
    return out;
  };
  return { ...ca, server: (cn, o = {}) => issue(cn, 'serverAuth', o), client: (cn, o = {}) => issue(cn, 'clientAuth', o) };
}

/** A self-signed certificate for localhost and 127.0.0.1, CN `name`. */
export function selfSigned(dir: string, name: string): CertFiles {
  const out: CertFiles = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  openssl([
    'req', '-x509', ...NEW_KEY, '-keyout', out.key, '-out', out.cert, '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  return out;
}

/** SHA-256 fingerprint of a PEM certificate file, as Node and `openssl x509 -fingerprint -sha256` print it (AB:CD:…). */
export function fingerprint256(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}
