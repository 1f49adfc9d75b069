import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ResolvedChannel } from '../config/load.ts';
import type { EngineSettings } from '../config/settings.ts';
import { formatPath } from '../mapping/issues.ts';

/** A certificate file the engine uses, and where it is named. */
export interface CertificateUse {
  /** The path as configured. */
  readonly file: string;
  /** The setting or the path in the channel file: `--tls-cert`, `destinations[0].sender.tls.ca`. */
  readonly use: string;
  readonly channel?: string;
  readonly destination?: string;
}

/** The certificate of a PEM file that expires first. */
export interface CertificateFacts {
  readonly subject: string;
  readonly validFrom: number;
  readonly validTo: number;
}

/**
 * Every certificate file the engine relies on: the HTTPS port's certificate and client CA, and
 * the `cert` and `ca` of every `tls` block in the channels (sources, destinations' senders,
 * status callbacks), whatever the connector.
 */
export function certificateUses(settings: Pick<EngineSettings, 'tlsCert' | 'tlsClientCa'>, channels: readonly ResolvedChannel[]): CertificateUse[] {
  const uses: CertificateUse[] = [];
  if (settings.tlsCert) uses.push({ file: settings.tlsCert, use: '--tls-cert' });
  if (settings.tlsClientCa) uses.push({ file: settings.tlsClientCa, use: '--tls-client-ca' });
  for (const c of channels) {
    const channel = c.config.id;
    tlsFiles(c.sourceConfig, ['source'], (file, use) => uses.push({ file, use, channel }));
    for (const [i, d] of c.destinations.entries()) {
      tlsFiles(d.senderConfig, ['destinations', i, 'sender'], (file, use) => uses.push({ file, use, channel, destination: d.config.id }));
    }
    tlsFiles(c.config.statusCallback, ['statusCallback'], (file, use) => uses.push({ file, use, channel }));
  }
  return uses;
}

function tlsFiles(config: unknown, path: PropertyKey[], found: (file: string, use: string) => void): void {
  if (config === null || typeof config !== 'object') return;
  for (const [key, value] of Object.entries(config)) {
    if (key === 'tls' && value !== null && typeof value === 'object') {
      for (const field of ['cert', 'ca'] as const) {
        const file = (value as Record<string, unknown>)[field];
        if (typeof file === 'string') found(file, formatPath([...path, 'tls', field]));
      }
    } else tlsFiles(value, [...path, key], found);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads when certificate files expire, again only when a file changed (its size or time of
 * modification): looked at on every evaluation of the rules, renewed certificates are seen.
 */
export class CertificateExpiry {
  private readonly cache = new Map<string, { stamp: string; facts: CertificateFacts | undefined }>();

  /** The certificate of the file that expires first; undefined when the file cannot be read or holds none. */
  read(file: string): CertificateFacts | undefined {
    const path = resolve(file);
    let stamp: string;
    try {
      const s = statSync(path);
      stamp = `${s.size}:${s.mtimeMs}`;
    } catch {
      this.cache.delete(path);
      return undefined;
    }
    const cached = this.cache.get(path);
    if (cached?.stamp === stamp) return cached.facts;
    const facts = earliestExpiry(path);
    this.cache.set(path, { stamp, facts });
    return facts;
  }
}

function earliestExpiry(path: string): CertificateFacts | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
  let first: CertificateFacts | undefined;
  for (const block of text.match(PEM_CERTIFICATE) ?? []) {
    try {
      const c = new X509Certificate(block);
      const validTo = Date.parse(c.validTo);
      if (!first || validTo < first.validTo) first = { subject: c.subject.replaceAll('\n', ', '), validFrom: Date.parse(c.validFrom), validTo };
    } catch {
      // Not a certificate Node can read: the connector that uses the file reports it.
    }
  }
  return first;
}
