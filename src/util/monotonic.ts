/**
 * Milliseconds on the process's monotonic clock (libuv's hrtime): the same clock in every thread
 * of the process, unlike performance.now(), whose origin is each thread's start. An instant
 * measured on one thread can be compared on another (see OutboundMessage.sendBy).
 */
export function monotonicMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}
