import { ConduitError } from '../../errors.ts';
import { CR, FS, VT } from './constants.ts';

const NOT_LATIN1 = /[^\u0000-\u00ff]/;

/** Text encodings a payload given as a string may be written in. */
export type MllpEncoding = 'utf-8' | 'latin1';

/**
 * Wraps one payload in an MLLP block: `<VT> payload <FS><CR>` (HL7 v2.5.1 Appendix C, C.4.3).
 * A string payload is encoded with `encoding`. A payload holding VT or FS would be cut or
 * mis-framed by the receiver, and a latin1 payload with a character above U+00FF would be
 * corrupted: both are refused with MLLP_PAYLOAD_INVALID.
 */
export function frame(payload: string | Buffer, encoding: MllpEncoding = 'utf-8'): Buffer {
  if (encoding === 'latin1' && typeof payload === 'string') {
    // Buffer would silently keep only the low byte of such a character: refuse, not corrupt.
    const at = payload.search(NOT_LATIN1);
    if (at !== -1) {
      throw new ConduitError('MLLP_PAYLOAD_INVALID', 'the payload has a character that latin1 cannot encode', {
        context: { charOffset: at },
      });
    }
  }
  let out: Buffer;
  let length: number;
  if (typeof payload === 'string') {
    length = Buffer.byteLength(payload, encoding);
    out = Buffer.allocUnsafe(length + 3);
    out.write(payload, 1, length, encoding);
  } else {
    length = payload.length;
    out = Buffer.allocUnsafe(length + 3);
    payload.copy(out, 1);
  }
  out[0] = VT;
  out[length + 1] = FS;
  out[length + 2] = CR;
  const body = out.subarray(1, length + 1);
  const vt = body.indexOf(VT);
  const fs = body.indexOf(FS);
  if (vt !== -1 || fs !== -1) {
    const at = vt === -1 ? fs : fs === -1 ? vt : Math.min(vt, fs);
    throw new ConduitError('MLLP_PAYLOAD_INVALID', undefined, { context: { byteOffset: at } });
  }
  return out;
}
