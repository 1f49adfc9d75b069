import type { AuditEvent, AuditSink } from '../../src/audit/event.ts';

/**
 * The audit events recorded through `sink` from now on, as they are recorded: each still goes
 * to the sink itself (the engine's trail). Sources and channels hold the engine's sink object,
 * so wrapping its `record` sees every event they record.
 */
export function watchAudit(sink: AuditSink): AuditEvent[] {
  const events: AuditEvent[] = [];
  const record = sink.record.bind(sink);
  sink.record = (event) => {
    events.push(event);
    return record(event);
  };
  return events;
}

/** Waits (polling, up to `timeoutMs`) until `events` holds one that `match`es; audit writes are not awaited by refusals. */
export async function auditEvent(events: readonly AuditEvent[], match: (e: AuditEvent) => boolean, timeoutMs = 5_000): Promise<AuditEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = events.find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no such audit event among ${JSON.stringify(events)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
