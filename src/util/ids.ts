import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

// One randomBytes call per 400 ids instead of one per id: ids are minted for every message.
let pool = Buffer.alloc(0);
let poolOffset = 0;
function randomPool(n: number): Buffer {
  if (poolOffset + n > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

/** A ULID: 48-bit millisecond time then 80 random bits, Crockford base32; sorts by creation time. */
export function ulid(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomPool(10);
  let rand = '';
  for (let i = 0; i < 16; i++) {
    // 5 bits per character from the 80 random bits.
    const bit = i * 5;
    const byte = bit >> 3;
    const shift = bit & 7;
    const v = ((bytes[byte]! << 8) | (bytes[byte + 1] ?? 0)) >> (11 - shift);
    rand += CROCKFORD[v & 31];
  }
  return time + rand;
}

let lastMs = 0;
let counter = 0;
const instance = randomBytes(2).readUInt16BE(0).toString(36).padStart(4, '0').slice(-4);

/**
 * A message control id (MSH-10) unique across restarts and instances, at most 20 characters
 * (MSH-10 is ST(20) in v2.5.1): base36 time, a per-process random part and a counter.
 */
export function controlId(now = Date.now()): string {
  if (now === lastMs) counter++;
  else {
    lastMs = now;
    counter = 0;
  }
  return `C${now.toString(36).toUpperCase()}${instance.toUpperCase()}${counter.toString(36).toUpperCase().padStart(3, '0')}`;
}
