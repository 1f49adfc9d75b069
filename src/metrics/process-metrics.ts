import { collectDefaultMetrics, Registry } from 'prom-client';

let registry: Registry | undefined;

/**
 * The process's own metrics, prom-client's defaults: CPU, resident memory, heap, event loop
 * lag, GC durations, handles, file descriptors. One registry for the process, however many
 * engines it runs (tests start several): they describe the process, and each collection starts
 * an event-loop delay monitor and a GC observer that cannot be stopped again.
 */
export function processRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}
