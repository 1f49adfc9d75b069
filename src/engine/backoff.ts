import type { DeliveryPolicy } from '../config/channel.ts';

/** Wait before attempt `attempt + 1`, after `attempt` failures: exponential, capped. */
export function backoffMs(policy: DeliveryPolicy, attempt: number, retryAfterMs?: number): number {
  const exp = policy.initialBackoffMs * policy.backoffMultiplier ** Math.max(0, attempt - 1);
  return Math.max(Math.min(exp, policy.maxBackoffMs), retryAfterMs ?? 0);
}
