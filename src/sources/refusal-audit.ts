import type { IncomingMessage } from 'node:http';
import type { LogThrottle } from '../log-throttle.ts';
import type { SourceContext } from './types.ts';

/**
 * Records a request a source refused (`source.signature.refused`, `source.rate-limited`, …)
 * in the audit trail, as denied, by `source:<channel>`, with the caller's address. The answer
 * does not wait for it: a slow trail must not slow the refusals of a flood. A write that
 * fails is logged (throttled), never thrown.
 */
export function auditRefusal(
  ctx: Pick<SourceContext, 'audit' | 'channelId'>,
  throttle: LogThrottle,
  req: IncomingMessage,
  action: string,
  detail: Record<string, string | number>,
): void {
  const ip = req.socket.remoteAddress;
  Promise.resolve()
    .then(() =>
      ctx.audit.record({
        action,
        outcome: 'denied',
        actor: `source:${ctx.channelId}`,
        target: `channel:${ctx.channelId}`,
        ...(ip ? { ip } : {}),
        detail,
      }),
    )
    .catch((e: unknown) => throttle.error(`audit ${action}`, { err: e, channel: ctx.channelId, action }, 'an audit event could not be recorded'));
}
