/**
 * TLS failures of an outgoing HTTPS connection, by the error code Node gives them (OpenSSL's
 * certificate verification results, `ERR_TLS_*`, `ERR_SSL_*` alerts), in words that say what
 * to change in the destination's `tls` block.
 */

/** The server's certificate chain does not lead to a CA this destination trusts. */
const UNTRUSTED: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE', 'INVALID_CA', 'CERT_REJECTED', 'INVALID_PURPOSE', 'PATH_LENGTH_EXCEEDED',
]);
const EXPIRED: ReadonlySet<string> = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'CERT_REVOKED']);
/** Alerts the server sends when it wants a client certificate or does not accept ours. */
const CLIENT_CERT_REFUSED: ReadonlySet<string> = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
]);

/** Whether `code` is an alert a server sends during the handshake about our client certificate. */
export function isHandshakeAlert(code: string): boolean {
  return CLIENT_CERT_REFUSED.has(code);
}

/** Whether a connection error code is a TLS failure (not DNS, not the network). */
export function isTlsFailure(code: string): boolean {
  return UNTRUSTED.has(code) || EXPIRED.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code === 'EPROTO';
}

/** What failed and what to do about it, for the attempt's detail; `reason` is Node's own text (the host names of a mismatch). */
export function describeTlsFailure(code: string, reason: string | undefined): string {
  if (UNTRUSTED.has(code)) return "the server's certificate is not signed by a CA this destination trusts: set tls.ca to the PEM file of the CA that signs it";
  if (EXPIRED.has(code)) return "the server's certificate is expired, revoked or not yet valid";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the server's certificate is for another host name${reason ? ` (${reason})` : ''}: connect by a name it holds, or set tls.servername`;
  }
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') return 'the server requires a client certificate: set tls.cert and tls.key';
  if (CLIENT_CERT_REFUSED.has(code)) return 'the server refused the client certificate (tls.cert): not signed by a CA it trusts, expired, or not the one it expects';
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return 'the server does not speak TLS on this port (an http:// server?)';
  return 'the TLS handshake failed';
}
