import type { Logger } from 'pino';

/** Whether `url` reaches this machine only: plain http is harmless there. */
function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '[::1]' || url.hostname.startsWith('127.');
}

/** Warns once per sender when credentials would travel over plain http to another machine. */
export function warnIfCredentialsInsecure(log: Logger, baseUrl: URL, auth: { type: string; tokenUrl?: string }): void {
  if (auth.type === 'none') return;
  for (const url of [baseUrl, ...(auth.tokenUrl ? [new URL(auth.tokenUrl)] : [])]) {
    if (url.protocol === 'http:' && !isLoopback(url)) {
      log.warn({ code: 'CONFIG_INSECURE', host: url.host }, 'credentials are sent over plain http to a host that is not loopback; use https');
    }
  }
}
