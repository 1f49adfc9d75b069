import { type ConnectionOptions, rootCertificates } from 'node:tls';
import type { buildConnector, Dispatcher } from 'undici';
import { undici } from './undici.ts';
import { type ClientTlsConfig, loadClientTls } from '../../config/tls.ts';
import { isHandshakeAlert } from './tls-failure.ts';

/** The connection pool for a request to `url`; undefined for the default one (system CAs, no client certificate). */
export type DispatcherFor = (url: string) => Dispatcher | undefined;

/** The default pool for every URL: destinations without a `tls` block. */
export const defaultDispatcher: DispatcherFor = () => undefined;

/**
 * The connection pools of a destination with a `tls` block (ClientTlsConfig, as MLLP's), its PEM
 * files read now (CONFIG_INVALID at `tls.<field>` when one cannot be used):
 * - to the destination's own host and port (baseUrl's), the whole block: the CA (instead of
 *   the system CAs), the client certificate, servername, rejectUnauthorized;
 * - to any other host (a token endpoint elsewhere), the block's CA added to the system CAs and
 *   nothing more: the client certificate is not shown to another host, and verification is
 *   never turned off there.
 */
function tlsDispatchers(tls: ClientTlsConfig, baseUrl: string): DispatcherFor {
  const options = loadClientTls(tls);
  const own = new (undici().Agent)({ connect: keepingHandshakeAlerts(options) });
  const ownHost = new URL(baseUrl).host;
  const ca = options.ca as Buffer[] | undefined;
  const elsewhere = ca ? new (undici().Agent)({ connect: { ca: [...rootCertificates, ...ca] } }) : undefined;
  return (url) => (new URL(url).host === ownHost ? own : elsewhere);
}

/**
 * undici's connector, keeping the alert a server sends when it refuses our client certificate.
 * In TLS 1.3 the server checks the client certificate after the client has finished its
 * handshake, so the alert arrives as the answer is awaited: the socket reports it, then its end,
 * and undici fails the request with 'other side closed' (UND_ERR_SOCKET), the alert lost. The
 * alert is kept as the `cause` of that error, so the failure is told as a TLS one.
 */
function keepingHandshakeAlerts(options: ConnectionOptions): buildConnector.connector {
  const connect = undici().buildConnector(options);
  return (opts, callback) =>
    connect(opts, (...args) => {
      const socket = args[1];
      if (socket) {
        let alert: Error | undefined;
        socket.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code !== undefined && isHandshakeAlert(err.code)) alert ??= err;
          else if (alert && err.cause === undefined) err.cause = alert;
        });
      }
      callback(...args);
    });
}

/**
 * Pools by parsed `tls` block: the lanes of a destination (one sender each, made from the same
 * parsed config, engine/channel.ts) share one pool, as they share one token cache; a reloaded
 * configuration is a new object, so its files are read again.
 */
const shared = new WeakMap<ClientTlsConfig, DispatcherFor>();

export function sharedTlsDispatchers(tls: ClientTlsConfig | undefined, baseUrl: string): DispatcherFor {
  if (!tls) return defaultDispatcher;
  let dispatchers = shared.get(tls);
  if (!dispatchers) {
    dispatchers = tlsDispatchers(tls, baseUrl);
    shared.set(tls, dispatchers);
  }
  return dispatchers;
}
