/**
 * MLLP block characters. HL7 v2.5.1 Implementation Guide, Appendix C (Lower Layer Protocols),
 * section C.4.3 "Block format": a message is sent as `<SB> data <EB><CR>`.
 */

/** Start block (SB), vertical tab: the first byte of every frame. */
export const VT = 0x0b;

/** End block (EB), file separator: the first of the two bytes that end a frame. */
export const FS = 0x1c;

/** Carriage return: the last byte of a frame, right after FS. */
export const CR = 0x0d;
