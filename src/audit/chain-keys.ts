import { createHmac } from 'node:crypto';
import type { Keyring } from '../store/sealing/keyring.ts';
import type { ChainKey } from './chain.ts';

/**
 * The audit chain's keys, derived from the data keys (never the data key itself, so a hash
 * says nothing about it): the sealing key's seals new rows, every key's verifies old ones.
 */
export function chainKeyOf(key: { id: string; key: Buffer }): ChainKey {
  return { id: key.id, key: createHmac('sha256', key.key).update('conduit audit chain v1').digest() };
}

export function chainKeys(keyring: Keyring | undefined): { sealing: ChainKey | undefined; all: ReadonlyMap<string, Buffer> } {
  if (!keyring) return { sealing: undefined, all: new Map() };
  return { sealing: chainKeyOf(keyring.sealing), all: new Map(keyring.keys.map((k) => [k.id, chainKeyOf(k).key])) };
}
