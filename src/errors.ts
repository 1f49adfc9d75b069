/**
 * The catalogue of Conduit's failures. Every error has a stable `code` and a retry class:
 * - transient: the same attempt may succeed later (timeouts, refused connections, AE/CE, 5xx);
 * - permanent: retrying cannot help (AR/CR, 4xx, bad input);
 * - ambiguous: the receiver may or may not have the message (ACK lost); resend with the same id.
 * Errors carry message ids and locations, never patient data.
 */
import type { AckCode, ErrorCondition } from './protocols/hl7v2/ack.ts';

export const RetryClass = {
  transient: 'transient',
  permanent: 'permanent',
  ambiguous: 'ambiguous',
} as const;
export type RetryClass = (typeof RetryClass)[keyof typeof RetryClass];

/**
 * How a source answers a failure at intake: the HTTP status (with an OperationOutcome) and,
 * for HL7 v2 sources, the acknowledgement code (HL7 table 0008) and the ERR-3 condition
 * (HL7 table 0357). A code without its own `answer` is answered by its retry class.
 */
export interface InboundAnswer {
  readonly http: number;
  readonly ack: Extract<AckCode, 'AE' | 'AR'>;
  readonly condition: ErrorCondition;
}

const input = (http: number, condition: ErrorCondition = '102'): InboundAnswer => ({ http, ack: 'AE', condition });

export const ErrorCodes = {
  // MLLP delivery
  MLLP_CONNECT_REFUSED: { retry: 'transient', text: 'connection refused by the MLLP peer' },
  MLLP_CONNECT_TIMEOUT: { retry: 'transient', text: 'connecting to the MLLP peer timed out' },
  MLLP_CONNECT_FAILED: { retry: 'transient', text: 'connecting to the MLLP peer failed (DNS, network or TLS handshake)' },
  MLLP_WRITE_FAILED: { retry: 'transient', text: 'writing the message to the MLLP peer failed' },
  MLLP_ACK_TIMEOUT: { retry: 'ambiguous', text: 'no acknowledgement within the ACK timeout' },
  MLLP_PEER_CLOSED: { retry: 'ambiguous', text: 'the MLLP peer closed the connection before acknowledging' },
  MLLP_ACK_INVALID: { retry: 'ambiguous', text: 'the acknowledgement could not be read' },
  MLLP_ACK_MISMATCH: { retry: 'ambiguous', text: 'MSA-2 of the acknowledgement does not match the MSH-10 sent' },
  MLLP_FRAME_TOO_LARGE: { retry: 'permanent', text: 'an MLLP frame exceeded the size limit' },
  MLLP_PAYLOAD_INVALID: {
    retry: 'permanent',
    text: 'the payload cannot be framed: it holds an MLLP block character (VT or FS) or a character its encoding cannot carry',
  },
  MLLP_ABORTED: { retry: 'ambiguous', text: 'the MLLP exchange was aborted before an acknowledgement' },
  HL7_APPLICATION_ERROR: { retry: 'transient', text: 'the receiver answered AE/CE (application or commit error)' },
  HL7_APPLICATION_REJECT: { retry: 'permanent', text: 'the receiver answered AR/CR (application or commit reject)' },
  // HTTP delivery (FHIR and other HTTP destinations)
  HTTP_CONNECT_REFUSED: { retry: 'transient', text: 'connection refused by the HTTP peer' },
  HTTP_CONNECT_FAILED: { retry: 'transient', text: 'connecting to the HTTP peer failed (DNS or network)' },
  HTTP_TLS_FAILED: {
    retry: 'transient',
    text: 'the TLS handshake with the HTTP peer failed: its certificate does not verify (unknown CA, self-signed, expired, another host name), or it refused ours; the peer did not process the request',
  },
  HTTP_CONNECTION_LOST: { retry: 'ambiguous', text: 'the HTTP connection broke after the request was sent, before a complete response' },
  HTTP_TIMEOUT: { retry: 'ambiguous', text: 'no complete HTTP response within the timeout' },
  HTTP_ABORTED: { retry: 'ambiguous', text: 'the HTTP exchange was aborted before a response' },
  HTTP_REQUEST_TIMEOUT: { retry: 'transient', text: 'the HTTP peer gave up waiting for the request (408)' },
  HTTP_TOO_MANY_REQUESTS: { retry: 'transient', text: 'the HTTP peer is rate limiting (429)' },
  HTTP_SERVER_ERROR: { retry: 'transient', text: 'the HTTP peer failed or is unavailable (5xx)' },
  HTTP_CLIENT_ERROR: { retry: 'permanent', text: 'the HTTP peer refused the request (4xx)' },
  HTTP_UNEXPECTED_STATUS: { retry: 'permanent', text: 'the HTTP peer answered a status that is not 2xx, 4xx or 5xx (redirects are not followed)' },
  HTTP_PAYLOAD_INVALID: { retry: 'permanent', text: 'the payload is marked as a request plan but is not one the HTTP destination can send' },
  HTTP_RESPONSE_INVALID: {
    retry: 'ambiguous',
    text: 'an answer accepted the request but lacks a value a later request of the message needs (saveAs)',
  },
  // FHIR
  FHIR_PAYLOAD_INVALID: { retry: 'permanent', text: 'the payload is not a FHIR batch or transaction Bundle in JSON' },
  FHIR_RESPONSE_INVALID: { retry: 'ambiguous', text: 'the 2xx answer is not the transaction-response (or batch-response) Bundle expected' },
  FHIR_ENTRY_REJECTED: { retry: 'permanent', text: 'an entry of the transaction-response has a 4xx status' },
  FHIR_ENTRY_FAILED: { retry: 'transient', text: 'an entry of the transaction-response has a 5xx status' },
  // Authorization (OAuth 2.0 token endpoints, bearer tokens)
  AUTH_TOKEN_REJECTED: { retry: 'permanent', text: 'the token endpoint refused the client (invalid_client, invalid_grant, invalid_scope, …)' },
  AUTH_TOKEN_UNAVAILABLE: { retry: 'transient', text: 'the token endpoint could not be reached or failed (network, timeout, 429, 5xx)' },
  AUTH_TOKEN_RESPONSE_INVALID: { retry: 'transient', text: 'the token endpoint answered 2xx without a usable bearer access token' },
  AUTH_UNAUTHORIZED: { retry: 'permanent', text: 'the server refused the credentials (401), also after a fresh token' },
  AUTH_FORBIDDEN: { retry: 'permanent', text: 'the server refuses this client the operation (403)' },
  // Kafka (source and destination)
  KAFKA_CONNECT_FAILED: { retry: 'transient', text: 'connecting to the Kafka brokers failed (DNS, refused connection, TLS or SASL handshake)' },
  KAFKA_AUTH_FAILED: {
    retry: 'transient',
    text: 'the Kafka brokers refused the credentials or do not authorize the topic or group (a configuration problem: retried until fixed)',
  },
  KAFKA_TIMEOUT: { retry: 'ambiguous', text: 'no answer from the Kafka broker within the request timeout' },
  KAFKA_BROKER_ERROR: { retry: 'transient', text: 'the Kafka broker answered a retriable error (leader moved, not enough replicas, …)' },
  KAFKA_TOPIC_UNKNOWN: { retry: 'transient', text: 'the Kafka topic does not exist (and the broker does not create topics)' },
  KAFKA_TOPIC_INVALID: { retry: 'permanent', text: 'the Kafka broker refused the topic name' },
  KAFKA_RECORD_TOO_LARGE: { retry: 'permanent', text: 'the record is larger than the Kafka broker or topic accepts' },
  KAFKA_RECORD_INVALID: { retry: 'permanent', text: 'the Kafka broker refused the record' },
  KAFKA_ABORTED: { retry: 'ambiguous', text: 'the Kafka produce request was aborted before the broker answered' },
  KAFKA_DEAD_LETTER_FAILED: {
    retry: 'transient',
    text: 'a refused record could not be published to the dead-letter topic; its offset is not committed and it is read again',
  },
  KAFKA_CONSUMER_FAILED: { retry: 'transient', text: 'the Kafka consumer stopped on an error; it reconnects and rejoins its group' },
  // File drop (source): the file stays in the inbox and is tried again on the transient ones
  FILE_DIRECTORY_UNAVAILABLE: { retry: 'transient', text: 'the directory is missing or cannot be listed (removed, unmounted share, permissions)' },
  FILE_READ_FAILED: { retry: 'transient', text: 'a file of the inbox could not be read; it stays there and is tried again' },
  FILE_MOVE_FAILED: {
    retry: 'transient',
    text: 'a file that was taken in could not be moved to the done or error directory; it stays, is read again (as a duplicate) and moved later',
  },
  FILE_EMPTY: { retry: 'permanent', text: 'the file is empty', answer: input(422, '101') },
  FILE_ENCODING_INVALID: { retry: 'permanent', text: 'the file is not valid text in the configured encoding', answer: input(422) },
  FILE_FORMAT_UNKNOWN: { retry: 'permanent', text: 'neither the extension nor the content of the file say HL7 v2 or JSON', answer: input(415) },
  FILE_BATCH_INVALID: {
    retry: 'permanent',
    text: 'the HL7 v2 file is malformed as a whole: segments outside a message, or a BTS/FTS count that does not match',
  },
  FILE_NOT_REGULAR: {
    retry: 'permanent',
    text: 'the inbox entry is not a regular file (a symbolic link, FIFO, socket or device): it is moved to the error directory unread',
  },
  FILE_NAME_UNREADABLE: { retry: 'permanent', text: 'the file name is not valid UTF-8 or holds control characters: it is moved to the error directory unread' },
  // File destination
  FILE_NO_SPACE: { retry: 'transient', text: 'no space left on the destination filesystem, or the quota is exceeded (ENOSPC, EDQUOT)' },
  FILE_PERMISSION_DENIED: { retry: 'transient', text: 'the process may not write in the destination directory (EACCES, EPERM, EROFS)' },
  FILE_WRITE_FAILED: { retry: 'transient', text: 'writing, syncing or renaming the file failed (I/O error)' },
  FILE_WRITE_ABORTED: { retry: 'transient', text: 'the write was aborted before the file was renamed into place; nothing was written' },
  FILE_NAME_INVALID: { retry: 'permanent', text: 'the name built from the fileName template is not a usable file name (too long, invalid)' },
  FILE_PAYLOAD_UNENCODABLE: { retry: 'permanent', text: 'the payload holds characters that the configured encoding cannot carry' },
  // Input
  INPUT_INVALID_JSON: { retry: 'permanent', text: 'the body is not valid JSON', answer: input(400) },
  INPUT_INVALID: { retry: 'permanent', text: 'the input does not match the expected shape', answer: input(422) },
  INPUT_TEXT_INVALID: {
    retry: 'permanent',
    text: 'the input is not valid text: bytes invalid in its character set, a lone surrogate, a control character, or a character set (MSH-18) that is not supported',
    answer: input(422),
  },
  INPUT_TOO_LARGE: { retry: 'permanent', text: 'the body exceeds the size limit', answer: input(413, '207') },
  INPUT_BAD_SIGNATURE: { retry: 'permanent', text: 'the signature of the body does not verify', answer: input(401, '207') },
  INPUT_UNSUPPORTED_MEDIA: { retry: 'permanent', text: 'the content type is not supported', answer: input(415, '207') },
  HL7_PARSE_FAILED: { retry: 'permanent', text: 'the HL7 v2 message could not be parsed', answer: input(422, '100') },
  MAPPING_FAILED: { retry: 'permanent', text: 'the mapping could not produce the output', answer: input(422, '207') },
  ENCODING_FAILED: { retry: 'permanent', text: 'the encoder could not encode the report', answer: input(422, '207') },
  // Engine
  BACKPRESSURE: { retry: 'transient', text: 'the delivery backlog is over its bound; try again later' },
  STORE_FAILED: { retry: 'transient', text: 'the store could not save the message' },
  LEASE_LOST: {
    retry: 'transient',
    text: 'this instance no longer holds the lease of the delivery lane (another instance took it over): it neither sends nor records for that lane',
  },
  CONFIG_INVALID: { retry: 'permanent', text: 'the configuration is invalid' },
  // Access control and the audit trail
  AUTH_REQUIRED: { retry: 'permanent', text: 'the request carries no usable bearer token (missing, unknown, revoked or expired)' },
  ACCESS_DENIED: { retry: 'permanent', text: "the token's role or tenant does not allow this request" },
  TOKEN_NAME_TAKEN: { retry: 'permanent', text: 'a token that is not revoked already has this name' },
  AUDIT_FAILED: { retry: 'transient', text: 'the audit trail could not record the action, so it was not done' },
  // Encryption at rest (src/store/sealing/)
  STORE_KEY_INVALID: { retry: 'permanent', text: 'the data key file or CONDUIT_DATA_KEY cannot be used (unreadable, malformed, a key of the wrong length, a duplicate id)' },
  STORE_KEY_MISMATCH: {
    retry: 'permanent',
    text: 'a configured data key has the id of a key that sealed rows of this store but other bytes: it would not open them',
  },
  STORE_KEY_UNKNOWN: {
    retry: 'permanent',
    text: 'a row is sealed with a data key that is not in the keyring (or no key is configured)',
  },
  STORE_SEAL_INVALID: {
    retry: 'permanent',
    text: 'a sealed value does not open with its key: it was altered or damaged, or the key under that id holds other bytes',
  },
  DELIVERY_DEAD: { retry: 'permanent', text: 'delivery gave up after the maximum attempts' },
  SEND_ABORTED: { retry: 'transient', text: 'the send was aborted before the message went out' },
  SENDER_THREAD_FAILED: { retry: 'ambiguous', text: 'the thread the destination is sent from failed; whether the receiver got the message is unknown' },
} as const satisfies Record<string, { retry: RetryClass; text: string; answer?: InboundAnswer }>;
export type ErrorCode = keyof typeof ErrorCodes;

/** A failure that may succeed later is answered 503 (with Retry-After) and AE 207; others 422 and AE 207. */
const BY_RETRY_CLASS: Readonly<Record<RetryClass, InboundAnswer>> = {
  transient: { http: 503, ack: 'AE', condition: '207' },
  ambiguous: { http: 503, ack: 'AE', condition: '207' },
  permanent: { http: 422, ack: 'AE', condition: '207' },
};

/** How intake answers an error of this code (see InboundAnswer). */
export function inboundAnswer(code: ErrorCode): InboundAnswer {
  const entry: { retry: RetryClass; answer?: InboundAnswer } = ErrorCodes[code];
  return entry.answer ?? BY_RETRY_CLASS[entry.retry];
}

export class ConduitError extends Error {
  override readonly name: string = 'ConduitError';
  readonly code: ErrorCode;
  readonly retry: RetryClass;
  /** Where the problem is: a JSON path, an HL7 location such as `OBX[2]-5`, a file and line. */
  readonly location: string | undefined;
  readonly context: Readonly<Record<string, string | number | boolean | undefined>>;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { location?: string; context?: Record<string, string | number | boolean | undefined>; cause?: unknown },
  ) {
    super(message ?? ErrorCodes[code].text, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retry = ErrorCodes[code].retry;
    this.location = options?.location;
    this.context = Object.freeze({ ...options?.context });
  }
}

/**
 * Where in an HL7 v2 message a problem is, as ERR-2 (ERL) reports it: segment id, its
 * 1-based sequence among the segments of that id, field, repetition (1-based), component,
 * subcomponent.
 */
export interface Hl7Location {
  segment: string;
  sequence?: number;
  field?: number;
  repetition?: number;
  component?: number;
  subcomponent?: number;
}

/** One specific problem with an input, as reported to the sender (OperationOutcome issue / ERR). */
export interface InputIssue {
  /** JSON path (`result.observations[1].value`) or HL7 location (`PID-3`), for display and OperationOutcome.expression. */
  path: string;
  message: string;
  /** Machine-readable reason, e.g. 'required', 'invalid_type'. */
  code: string;
  /** The HL7 v2 location, when the input is HL7 v2: what ERR-2 is built from. */
  hl7?: Hl7Location;
}

export class InputError extends ConduitError {
  override readonly name = 'InputError';
  readonly issues: readonly InputIssue[];
  constructor(code: ErrorCode, issues: InputIssue[], message?: string) {
    super(code, message ?? issues.map((i) => `${i.path}: ${i.message}`).join('; '), { location: issues[0]?.path });
    this.issues = Object.freeze(issues);
  }
}
