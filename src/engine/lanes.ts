import { createHash } from 'node:crypto';

/** The lane of a partition key: stable across restarts, so one patient's results keep one order. */
export function laneOf(partitionKey: string, lanes: number): number {
  if (lanes <= 1) return 0;
  return createHash('sha1').update(partitionKey).digest().readUInt32BE(0) % lanes;
}
