import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * Paths that could hold health data if a caller ever put a message, body or report into a
 * log line. They are censored, so a mistake leaks nothing; the test suite checks that no
 * name, identifier, value or raw message appears in the log at all.
 */
export const REDACT_PATHS = [
  'body', '*.body', 'raw', '*.raw', 'rawInput', '*.rawInput', 'payload', '*.payload', 'message', '*.message.raw',
  'report', '*.report', 'patient', '*.patient', 'canonical', '*.canonical', 'ack', '*.ack', 'response', '*.response',
  'value', '*.value', 'req.headers.authorization', 'req.headers["x-api-key"]',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'conduit' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // Errors are logged by code and message only: stacks of our typed errors carry no PHI, but causes from parsers may quote input.
      serializers: {
        err: (e: unknown) => {
          if (!(e instanceof Error)) return { message: String(e) };
          const code = (e as { code?: unknown }).code;
          return { type: e.name, ...(code ? { code } : {}), message: e.message };
        },
      },
    },
    destination,
  );
}
