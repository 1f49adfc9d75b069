import type { Delimiters } from './delimiters.ts';
import { encodeSegment, type FieldInput, formatMessage } from './encode.ts';
import type { Hl7Message } from './message.ts';

/** HL7 table 0008, acknowledgment code (MSA-1). */
export const AckCode = {
  /** Original mode: application accept. */
  AA: 'AA',
  /** Original mode: application error; the sender may retry. */
  AE: 'AE',
  /** Original mode: application reject; retrying will not help. */
  AR: 'AR',
  /** Enhanced mode: commit accept. */
  CA: 'CA',
  /** Enhanced mode: commit error. */
  CE: 'CE',
  /** Enhanced mode: commit reject. */
  CR: 'CR',
} as const;
export type AckCode = (typeof AckCode)[keyof typeof AckCode];

export function isAckCode(value: string): value is AckCode {
  return Object.hasOwn(AckCode, value);
}

/** HL7 table 0357, message error condition codes (ERR-3). */
export const ErrorCondition = {
  accepted: '0',
  segmentSequenceError: '100',
  requiredFieldMissing: '101',
  dataTypeError: '102',
  tableValueNotFound: '103',
  unsupportedMessageType: '200',
  unsupportedEventCode: '201',
  unsupportedProcessingId: '202',
  unsupportedVersionId: '203',
  unknownKeyIdentifier: '204',
  duplicateKeyIdentifier: '205',
  applicationRecordLocked: '206',
  applicationInternalError: '207',
} as const;
export type ErrorCondition = (typeof ErrorCondition)[keyof typeof ErrorCondition];

const ERROR_TEXT: Record<ErrorCondition, string> = {
  '0': 'Message accepted',
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '103': 'Table value not found',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '202': 'Unsupported processing id',
  '203': 'Unsupported version id',
  '204': 'Unknown key identifier',
  '205': 'Duplicate key identifier',
  '206': 'Application record locked',
  '207': 'Application internal error',
};

export interface AckError {
  code: ErrorCondition;
  /** Segment id, e.g. 'OBX'; with sequence, field, repetition, component, subcomponent where known (ERR-2, ERL). */
  segment?: string;
  sequence?: number;
  field?: number;
  repetition?: number;
  component?: number;
  subcomponent?: number;
  /** Diagnostic text for ERR-8 (user message). Never patient data. */
  text: string;
  severity?: 'E' | 'W' | 'I';
}

export interface AckOptions {
  code: AckCode;
  /** MSH-10 of the acknowledgement itself. */
  controlId: string;
  /** DTM for MSH-7. */
  timestamp: string;
  errors?: AckError[];
  /** Used when the incoming message could not be parsed far enough to read its MSH. */
  fallback?: { controlId?: string; version?: string };
}

/**
 * Builds the acknowledgement for `message` (original or enhanced mode by `code`): MSH with
 * sender and receiver swapped, MSA echoing MSH-10, one ERR per error (v2.5 ERR layout).
 */
export function buildAck(message: Hl7Message | undefined, d: Delimiters, opts: AckOptions): string {
  const msh = message?.msh;
  const trigger = msh?.get(9, 2) ?? '';
  const version = msh?.get(12) || opts.fallback?.version || '2.5.1';
  const mshFields: FieldInput[] = [];
  mshFields[3] = msh ? [msh.get(5, 1), msh.get(5, 2), msh.get(5, 3)] : null;
  mshFields[4] = msh ? [msh.get(6, 1), msh.get(6, 2), msh.get(6, 3)] : null;
  mshFields[5] = msh ? [msh.get(3, 1), msh.get(3, 2), msh.get(3, 3)] : null;
  mshFields[6] = msh ? [msh.get(4, 1), msh.get(4, 2), msh.get(4, 3)] : null;
  mshFields[7] = opts.timestamp;
  mshFields[9] = ['ACK', trigger, 'ACK'];
  mshFields[10] = opts.controlId;
  mshFields[11] = msh?.get(11) || 'P';
  mshFields[12] = version;
  if (msh?.get(18)) mshFields[18] = msh.get(18);
  const segments = [encodeSegment('MSH', mshFields, d)];
  const echoed = message?.controlId ?? opts.fallback?.controlId ?? '';
  segments.push(encodeSegment('MSA', [null, opts.code, echoed], d));
  for (const e of opts.errors ?? []) {
    const err: FieldInput[] = [];
    err[2] = e.segment ? [e.segment, e.sequence?.toString(), e.field?.toString(), e.repetition?.toString(), e.component?.toString(), e.subcomponent?.toString()] : null;
    err[3] = [e.code, ERROR_TEXT[e.code], 'HL70357'];
    err[4] = e.severity ?? 'E';
    err[8] = e.text;
    segments.push(encodeSegment('ERR', err, d));
  }
  return formatMessage(segments);
}

export interface ParsedAck {
  code: AckCode;
  /** MSA-2: the control id of the message being acknowledged. */
  acknowledgedControlId: string;
  /** MSA-3 and ERR texts, for the attempt history. */
  text: string;
}

export class AckFormatError extends Error {
  override readonly name = 'AckFormatError';
}

export function readAck(message: Hl7Message): ParsedAck {
  const msa = message.segment('MSA');
  if (!msa) throw new AckFormatError('acknowledgement has no MSA segment');
  const code = msa.get(1);
  if (!isAckCode(code)) throw new AckFormatError(`MSA-1 '${code}' is not an HL7 table 0008 acknowledgment code`);
  // ERR-8 user message, else the text of ERR-3 (v2.5+) or of ERR-1.4 (v2.3/v2.4 CE: code&text&system).
  const texts = [msa.get(3), ...message.all('ERR').map((e) => e.get(8) || e.get(3, 2) || e.get(1, 4, 2) || e.get(1, 4))].filter(Boolean);
  return { code, acknowledgedControlId: msa.get(2), text: texts.join('; ') };
}
