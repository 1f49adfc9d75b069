import { CR, FS, VT } from './constants.ts';

/**
 * How many payload bytes of an oversize frame are kept for `OversizeFrame.head`: enough for
 * the MSH segment, so the receiver can still answer with an AE that echoes MSH-10.
 */
export const OVERSIZE_HEAD_BYTES = 1024;

/** A frame longer than `maxFrameBytes`. Its payload was dropped as it arrived, never buffered. */
export interface OversizeFrame {
  /** Payload bytes seen (VT, FS and CR not counted). */
  readonly byteCount: number;
  /** A copy of the first payload bytes, at most `OVERSIZE_HEAD_BYTES`. */
  readonly head: Buffer;
  /** True when the frame ended with FS CR; false when a VT or the end of the stream cut it short. */
  readonly complete: boolean;
}

export interface MllpDecoderOptions {
  /** Largest payload accepted (VT, FS and CR not counted). */
  readonly maxFrameBytes: number;
  /**
   * One complete payload, without VT and FS CR. It may share memory with the chunk it came
   * from: copy it to keep it long after the handler returns.
   */
  readonly onFrame: (frame: Buffer) => void;
  /** Bytes that belong to no frame: outside any frame, or a frame cut short by a VT or the end of the stream. */
  readonly onGarbage?: (byteCount: number) => void;
  readonly onOversize?: (frame: OversizeFrame) => void;
}

/** The decoder's position in the block format (see HAPI `llp/MllpDecoderState.java`). */
const State = {
  /** Between frames: bytes up to the next VT are garbage. */
  idle: 0,
  /** Inside a frame: payload until FS CR. A VT here starts a new frame. */
  frame: 1,
  /** Inside a frame, and the previous chunk ended with FS: CR ends the frame, anything else is payload. */
  afterFs: 2,
  /** Inside an oversize frame: dropping payload until FS CR or the next VT. */
  discard: 3,
  /** Inside an oversize frame, and the previous chunk ended with FS. */
  discardAfterFs: 4,
} as const;
type State = (typeof State)[keyof typeof State];

const EMPTY = Buffer.alloc(0);
const FS_BYTE = Buffer.from([FS]);

/**
 * A streaming MLLP frame decoder (HL7 v2.5.1 Appendix C, C.4.3: `<VT> payload <FS><CR>`).
 * Pure: feed it chunks as they arrive, in any sizes; it calls back with each complete frame.
 *
 * - An FS not followed by CR is payload, as the block format only ends a frame on FS CR.
 * - A VT inside a frame starts a new frame; the bytes of the cut-short frame count as garbage.
 * - A frame over `maxFrameBytes` is reported once it ends (or is cut short) and is never held
 *   in memory: the decoder keeps at most `maxFrameBytes` of payload at any time.
 *
 * Callbacks run synchronously inside `push` and must not throw.
 */
export class MllpDecoder {
  readonly maxFrameBytes: number;
  private readonly onFrame: (frame: Buffer) => void;
  private readonly onGarbage: ((byteCount: number) => void) | undefined;
  private readonly onOversize: ((frame: OversizeFrame) => void) | undefined;

  private state: State = State.idle;
  /** Payload of the current frame from earlier chunks. */
  private parts: Buffer[] = [];
  /** Payload bytes of the current frame so far (held in `parts`, or dropped when discarding). */
  private size = 0;
  private head: Buffer = EMPTY;
  /** Garbage bytes not yet reported. */
  private garbage = 0;

  /** Totals since construction, for metrics. */
  frames = 0;
  garbageBytes = 0;
  oversizeFrames = 0;

  constructor(options: MllpDecoderOptions) {
    if (!Number.isInteger(options.maxFrameBytes) || options.maxFrameBytes < 1) {
      throw new RangeError('maxFrameBytes must be a positive integer');
    }
    this.maxFrameBytes = options.maxFrameBytes;
    this.onFrame = options.onFrame;
    this.onGarbage = options.onGarbage;
    this.onOversize = options.onOversize;
  }

  /** Payload bytes held for the frame in progress. */
  get bufferedBytes(): number {
    return this.state === State.frame || this.state === State.afterFs ? this.size : 0;
  }

  /** Whether a frame has started and not yet ended. */
  get inFrame(): boolean {
    return this.state !== State.idle;
  }

  push(chunk: Buffer): void {
    const len = chunk.length;
    let pos = 0;
    // Next VT and FS at or after the scan position, found with indexOf (memchr) and reused
    // until passed: each byte is looked at a bounded number of times per chunk.
    let nextVt = -2;
    let nextFs = -2;
    while (pos < len) {
      switch (this.state) {
        case State.idle: {
          if (nextVt !== -1 && nextVt < pos) nextVt = chunk.indexOf(VT, pos);
          if (nextVt === -1) {
            this.garbage += len - pos;
            pos = len;
          } else {
            this.garbage += nextVt - pos;
            pos = nextVt + 1;
            this.startFrame();
          }
          break;
        }
        case State.afterFs: {
          if (chunk[pos] === CR) {
            pos += 1;
            this.emit(chunk, pos, pos);
          } else {
            // The FS ending the previous chunk was payload.
            this.parts.push(FS_BYTE);
            this.size += 1;
            this.state = State.frame;
            if (this.size > this.maxFrameBytes) this.beginDiscard(chunk, pos, pos);
          }
          break;
        }
        case State.frame: {
          const start = pos;
          let scan = pos;
          let end: number;
          // 0: FS CR at `end`; 1: VT at `end`; 2: FS ends the chunk; 3: payload runs to the end of the chunk.
          let kind: 0 | 1 | 2 | 3;
          for (;;) {
            if (nextFs !== -1 && nextFs < scan) nextFs = chunk.indexOf(FS, scan);
            if (nextVt !== -1 && nextVt < scan) nextVt = chunk.indexOf(VT, scan);
            if (nextVt !== -1 && (nextFs === -1 || nextVt < nextFs)) {
              end = nextVt;
              kind = 1;
            } else if (nextFs === -1) {
              end = len;
              kind = 3;
            } else if (nextFs + 1 === len) {
              end = nextFs;
              kind = 2;
            } else if (chunk[nextFs + 1] === CR) {
              end = nextFs;
              kind = 0;
            } else {
              scan = nextFs + 1; // FS without CR is payload
              continue;
            }
            break;
          }
          const size = this.size + (end - start);
          if (size > this.maxFrameBytes) {
            // The discard state takes over at `end` and sees the same VT or FS.
            this.beginDiscard(chunk, start, end);
            pos = end;
          } else if (kind === 0) {
            pos = end + 2;
            this.emit(chunk, start, end);
          } else if (kind === 1) {
            // A VT inside a frame: the cut-short frame (with its own VT) is garbage.
            this.garbage += size + 1;
            this.startFrame();
            pos = end + 1;
          } else {
            if (end > start) this.parts.push(chunk.subarray(start, end));
            this.size = size;
            if (kind === 2) this.state = State.afterFs;
            pos = len;
          }
          break;
        }
        case State.discardAfterFs: {
          if (chunk[pos] === CR) {
            pos += 1;
            this.endOversize(true);
          } else {
            this.size += 1;
            this.state = State.discard;
          }
          break;
        }
        case State.discard: {
          let scan = pos;
          for (;;) {
            if (nextFs !== -1 && nextFs < scan) nextFs = chunk.indexOf(FS, scan);
            if (nextVt !== -1 && nextVt < scan) nextVt = chunk.indexOf(VT, scan);
            if (nextVt !== -1 && (nextFs === -1 || nextVt < nextFs)) {
              this.size += nextVt - pos;
              pos = nextVt + 1;
              this.endOversize(false);
              this.startFrame();
            } else if (nextFs === -1) {
              this.size += len - pos;
              pos = len;
            } else if (nextFs + 1 === len) {
              this.size += nextFs - pos;
              this.state = State.discardAfterFs;
              pos = len;
            } else if (chunk[nextFs + 1] === CR) {
              this.size += nextFs - pos;
              pos = nextFs + 2;
              this.endOversize(true);
            } else {
              scan = nextFs + 1;
              continue;
            }
            break;
          }
          break;
        }
        default:
          this.state satisfies never;
      }
    }
    this.flushGarbage();
  }

  /**
   * The stream has ended: a frame in progress will never complete. Its bytes are reported as
   * garbage (or as an incomplete oversize frame) and the decoder is ready for a new stream.
   */
  end(): void {
    switch (this.state) {
      case State.idle:
        break;
      case State.frame:
      case State.afterFs:
        this.garbage += this.size + 1 + (this.state === State.afterFs ? 1 : 0);
        this.reset();
        break;
      case State.discard:
      case State.discardAfterFs:
        if (this.state === State.discardAfterFs) this.size += 1;
        this.endOversize(false);
        break;
      default:
        this.state satisfies never;
    }
    this.flushGarbage();
  }

  /** Forgets any frame in progress without reporting it. */
  reset(): void {
    this.state = State.idle;
    this.parts = [];
    this.size = 0;
    this.head = EMPTY;
  }

  private startFrame(): void {
    this.state = State.frame;
    this.parts = [];
    this.size = 0;
  }

  /** Completes the frame made of `parts` and `chunk[start, end)`. */
  private emit(chunk: Buffer, start: number, end: number): void {
    const parts = this.parts;
    let frame: Buffer;
    if (parts.length === 0) {
      frame = chunk.subarray(start, end);
    } else {
      if (end > start) parts.push(chunk.subarray(start, end));
      frame = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.size + (end - start));
    }
    this.state = State.idle;
    this.parts = [];
    this.size = 0;
    this.flushGarbage();
    this.frames += 1;
    this.onFrame(frame);
  }

  /** The frame went over the limit: keep a copy of its head, drop the rest. */
  private beginDiscard(chunk: Buffer, start: number, end: number): void {
    const pieces: Buffer[] = [];
    let kept = 0;
    for (const p of [...this.parts, chunk.subarray(start, end)]) {
      if (kept >= OVERSIZE_HEAD_BYTES) break;
      const piece = p.subarray(0, OVERSIZE_HEAD_BYTES - kept);
      pieces.push(piece);
      kept += piece.length;
    }
    // A copy, so the dropped chunks can be collected.
    this.head = Buffer.concat(pieces, kept);
    this.size += end - start;
    this.parts = [];
    this.state = State.discard;
  }

  private endOversize(complete: boolean): void {
    const frame: OversizeFrame = { byteCount: this.size, head: this.head, complete };
    this.reset();
    this.flushGarbage();
    this.oversizeFrames += 1;
    this.onOversize?.(frame);
  }

  private flushGarbage(): void {
    if (this.garbage === 0) return;
    const n = this.garbage;
    this.garbage = 0;
    this.garbageBytes += n;
    this.onGarbage?.(n);
  }
}
