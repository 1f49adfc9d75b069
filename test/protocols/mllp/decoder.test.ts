import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CR, FS, frame, MllpDecoder, OVERSIZE_HEAD_BYTES, type OversizeFrame, VT } from '../../../src/protocols/mllp/index.ts';
import { prng } from '../../support/prng.ts';

/** A decoder that records everything it reports. */
function recorder(maxFrameBytes = 1024 * 1024) {
  const frames: string[] = [];
  const garbage: number[] = [];
  const oversize: OversizeFrame[] = [];
  /** Frames and oversize frames in the order reported. */
  const events: Array<['frame', string] | ['oversize', number, boolean]> = [];
  const decoder = new MllpDecoder({
    maxFrameBytes,
    onFrame: (f) => {
      frames.push(f.toString('latin1'));
      events.push(['frame', f.toString('latin1')]);
    },
    onGarbage: (n) => garbage.push(n),
    onOversize: (f) => {
      oversize.push(f);
      events.push(['oversize', f.byteCount, f.complete]);
    },
  });
  const garbageTotal = (): number => garbage.reduce((a, b) => a + b, 0);
  return { decoder, frames, garbage, oversize, garbageTotal, events };
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const vt = String.fromCharCode(VT);
const fs = String.fromCharCode(FS);
const cr = String.fromCharCode(CR);
const wrap = (s: string): string => vt + s + fs + cr;

/** Payload bytes: anything but VT, and FS only where it is not followed by CR nor last. */
function randomPayload(rnd: () => number): Buffer {
  const p = Buffer.alloc(Math.floor(rnd() * (rnd() < 0.1 ? 1000 : 200)));
  for (let i = 0; i < p.length; i++) {
    const c = Math.floor(rnd() * 256);
    p[i] = c === VT ? 0x7c : c;
  }
  for (let i = 0; i < p.length; i++) {
    if (p[i] !== FS) continue;
    if (i === p.length - 1) p[i] = 0x7c;
    else if (p[i + 1] === CR) p[i + 1] = 0x7c;
  }
  return p;
}

describe('MllpDecoder', () => {
  it('decodes one frame', () => {
    const r = recorder();
    r.decoder.push(frame('MSH|^~\\&|A\rPID|1\r'));
    assert.deepEqual(r.frames, ['MSH|^~\\&|A\rPID|1\r']);
    assert.deepEqual(r.garbage, []);
    assert.equal(r.decoder.inFrame, false);
  });

  it('decodes an empty frame', () => {
    const r = recorder();
    r.decoder.push(b(wrap('')));
    assert.deepEqual(r.frames, ['']);
  });

  it('splits a two-frame stream at every byte offset, and at every pair of offsets', () => {
    const stream = b(wrap('MSH|first\rOBX|1\r') + wrap('MSH|second\r'));
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const r = recorder();
        r.decoder.push(stream.subarray(0, i));
        r.decoder.push(stream.subarray(i, j));
        r.decoder.push(stream.subarray(j));
        assert.deepEqual(r.frames, ['MSH|first\rOBX|1\r', 'MSH|second\r'], `split at ${i}, ${j}`);
        assert.equal(r.garbageTotal(), 0, `split at ${i}, ${j}`);
      }
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const stream = b(wrap('abc') + wrap('') + wrap('de'));
    const r = recorder();
    for (let i = 0; i < stream.length; i++) r.decoder.push(stream.subarray(i, i + 1));
    assert.deepEqual(r.frames, ['abc', '', 'de']);
  });

  it('decodes many frames in one chunk', () => {
    const payloads = Array.from({ length: 500 }, (_, i) => `MSH|^~\\&|||||||ORU^R01|${i}|P|2.5.1\r`);
    const r = recorder();
    r.decoder.push(Buffer.concat(payloads.map((p) => frame(p))));
    assert.deepEqual(r.frames, payloads);
    assert.equal(r.decoder.frames, 500);
  });

  it('discards and counts garbage before, between and after frames', () => {
    const r = recorder();
    r.decoder.push(b(`\r\nxx${wrap('one')}\n\n${fs}${cr}${wrap('two')}junk`));
    assert.deepEqual(r.frames, ['one', 'two']);
    assert.equal(r.garbageTotal(), 4 + 4 + 4);
    assert.equal(r.decoder.garbageBytes, 12);
  });

  it('keeps an FS that is not followed by CR as payload', () => {
    const r = recorder();
    r.decoder.push(b(`${vt}a${fs}b${fs}${fs}${cr}`));
    assert.deepEqual(r.frames, [`a${fs}b${fs}`]);
    // The same, with the FS ending a chunk.
    const s = recorder();
    s.decoder.push(b(`${vt}a${fs}`));
    s.decoder.push(b(`b${fs}`));
    s.decoder.push(b(cr));
    assert.deepEqual(s.frames, [`a${fs}b`]);
  });

  it('treats a VT inside a frame as the start of a new frame; the partial one is garbage', () => {
    const r = recorder();
    r.decoder.push(b(`${vt}partial${wrap('whole')}`));
    assert.deepEqual(r.frames, ['whole']);
    assert.equal(r.garbageTotal(), 1 + 'partial'.length);
    // Across chunks, and right after an FS.
    const s = recorder();
    s.decoder.push(b(`${vt}half${fs}`));
    s.decoder.push(b(`${wrap('next')}`));
    assert.deepEqual(s.frames, ['next']);
    assert.equal(s.garbageTotal(), 1 + 4 + 1);
  });

  it('reports a frame cut short by the end of the stream as garbage', () => {
    const r = recorder();
    r.decoder.push(b(`${wrap('ok')}${vt}MSH|half`));
    assert.equal(r.decoder.bufferedBytes, 'MSH|half'.length);
    r.decoder.end();
    assert.deepEqual(r.frames, ['ok']);
    assert.equal(r.garbageTotal(), 1 + 8);
    assert.equal(r.decoder.inFrame, false);
  });

  it('drops an oversize frame without buffering it, reports it, and resynchronises', () => {
    const r = recorder(10);
    const big = 'MSH|' + 'x'.repeat(5000);
    const stream = b(wrap('small') + wrap(big) + wrap('after'));
    // Fed in 7-byte chunks, the decoder never holds more than maxFrameBytes of payload.
    let maxBuffered = 0;
    for (let i = 0; i < stream.length; i += 7) {
      r.decoder.push(stream.subarray(i, i + 7));
      maxBuffered = Math.max(maxBuffered, r.decoder.bufferedBytes);
    }
    assert.ok(maxBuffered <= 10);
    assert.deepEqual(r.frames, ['small', 'after']);
    assert.equal(r.oversize.length, 1);
    assert.equal(r.oversize[0]!.byteCount, big.length);
    assert.equal(r.oversize[0]!.complete, true);
    // The head is what had arrived when the limit tripped: at least maxFrameBytes + 1 bytes.
    const head = r.oversize[0]!.head.toString('latin1');
    assert.ok(head.length > 10 && big.startsWith(head), head);
    assert.equal(r.garbageTotal(), 0);
  });

  it('keeps at most OVERSIZE_HEAD_BYTES of an oversize frame', () => {
    const r = recorder(4000);
    const big = 'y'.repeat(10_000);
    r.decoder.push(b(wrap(big)));
    assert.equal(r.oversize[0]!.head.length, OVERSIZE_HEAD_BYTES);
    assert.equal(r.oversize[0]!.byteCount, 10_000);
  });

  it('reports an oversize frame cut short by a VT or by the end of the stream as incomplete', () => {
    const r = recorder(4);
    r.decoder.push(b(`${vt}toolong${wrap('ok')}${vt}again-too-long`));
    r.decoder.end();
    assert.deepEqual(r.frames, ['ok']);
    assert.deepEqual(
      r.oversize.map((o) => [o.byteCount, o.complete]),
      [
        [7, false],
        [14, false],
      ],
    );
  });

  it('accepts a frame of exactly maxFrameBytes and refuses one byte more', () => {
    const r = recorder(5);
    r.decoder.push(b(wrap('12345') + wrap('123456')));
    assert.deepEqual(r.frames, ['12345']);
    assert.equal(r.oversize.length, 1);
    // An FS-as-payload that pushes the frame over the limit at a chunk boundary.
    const s = recorder(5);
    s.decoder.push(b(`${vt}12345${fs}`));
    s.decoder.push(b(`x${fs}${cr}`));
    assert.deepEqual(s.frames, []);
    assert.deepEqual(
      s.oversize.map((o) => o.byteCount),
      [7],
    );
  });

  it('property: random frames, garbage and chunkings decode to the same frames (seeded)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = prng(seed);
      const maxFrameBytes = 1 + Math.floor(rnd() * 400);
      const pieces: Buffer[] = [];
      const expected: Array<['frame', string] | ['oversize', number, boolean]> = [];
      let expectedGarbage = 0;
      const count = Math.floor(rnd() * 30);
      for (let k = 0; k < count; k++) {
        if (rnd() < 0.3) {
          // Garbage between frames: anything but VT.
          const g = Buffer.alloc(Math.floor(rnd() * 20));
          for (let i = 0; i < g.length; i++) {
            let c = Math.floor(rnd() * 256);
            if (c === VT) c = 0x41;
            g[i] = c;
          }
          pieces.push(g);
          expectedGarbage += g.length;
        }
        if (rnd() < 0.15) {
          // A frame cut short by the VT of the next frame.
          const p = randomPayload(rnd);
          pieces.push(Buffer.from([VT]), p);
          if (p.length > maxFrameBytes) expected.push(['oversize', p.length, false]);
          else expectedGarbage += 1 + p.length;
        }
        const p = randomPayload(rnd);
        // Built by hand: frame() refuses an FS in the payload, which the decoder must still accept.
        pieces.push(Buffer.from([VT]), p, Buffer.from([FS, CR]));
        if (p.length > maxFrameBytes) expected.push(['oversize', p.length, true]);
        else expected.push(['frame', p.toString('latin1')]);
      }
      const stream = Buffer.concat(pieces);
      const r = recorder(maxFrameBytes);
      let at = 0;
      while (at < stream.length) {
        const n = rnd() < 0.5 ? 1 + Math.floor(rnd() * 8) : 1 + Math.floor(rnd() * 600);
        r.decoder.push(stream.subarray(at, at + n));
        assert.ok(r.decoder.bufferedBytes <= maxFrameBytes, `seed ${seed}: memory bound`);
        at += n;
      }
      r.decoder.end();
      assert.deepEqual(r.events, expected, `seed ${seed}`);
      assert.equal(r.garbageTotal(), expectedGarbage, `seed ${seed}`);
    }
  });
});

describe('frame', () => {
  it('wraps a string or a buffer in VT … FS CR', () => {
    assert.deepEqual([...frame('AB')], [VT, 0x41, 0x42, FS, CR]);
    assert.deepEqual([...frame(Buffer.from([1, 2]))], [VT, 1, 2, FS, CR]);
    assert.deepEqual([...frame('é', 'latin1')], [VT, 0xe9, FS, CR]);
    assert.deepEqual([...frame('é')], [VT, 0xc3, 0xa9, FS, CR]);
  });

  it('refuses a payload holding a block character', () => {
    assert.throws(() => frame(`a${fs}b`), { code: 'MLLP_PAYLOAD_INVALID' });
    assert.throws(() => frame(Buffer.from([0x41, VT])), { code: 'MLLP_PAYLOAD_INVALID' });
  });

  it('refuses a latin1 payload with a character latin1 cannot carry, rather than corrupt it', () => {
    assert.throws(() => frame('OBX|1|ST|||5 €', 'latin1'), { code: 'MLLP_PAYLOAD_INVALID', context: { charOffset: 13 } });
    assert.deepEqual([...frame('ÿ', 'latin1')], [VT, 0xff, FS, CR]);
  });
});
