import type { Highlighting } from '../../canonical/report.ts';
import type { Hl7Message, Hl7Segment } from '../../protocols/hl7v2/index.ts';
import { at, type Issues, type Located, missingSegment, textAndHighlighting } from './fields.ts';

/** An OBX and the NTEs that follow it. */
export interface ObservationGroup {
  readonly obx: Located;
  readonly comments: Note[];
}

/** An NTE-3: its text, and where the sender highlighted it (`\H\`, `\N\`). */
export interface Note {
  readonly text: string;
  readonly highlighting?: Highlighting;
}

function note(segment: Hl7Segment): Note {
  const { value, highlighting } = textAndHighlighting(segment.repetitions(3), segment);
  return { text: value, ...(highlighting ? { highlighting } : {}) };
}

/** One order (ORU^R01 ORDER_OBSERVATION group): one canonical report. */
export interface OrderGroup {
  /** 1-based position among the message's orders. */
  readonly n: number;
  readonly pid: Located | undefined;
  readonly pv1: Located | undefined;
  /** The ORC just before this OBR; an OBR without its own ORC has none (no carry-over). */
  readonly orc: Located | undefined;
  readonly obr: Located;
  /** NTEs after the OBR (or between its ORC and OBR), before any OBX. */
  readonly comments: Note[];
  readonly observations: ObservationGroup[];
}

/** Where an NTE that comes next belongs. */
type NoteTarget =
  | { kind: 'none' }
  | { kind: 'pending' }
  | { kind: 'order'; group: OrderGroup }
  | { kind: 'observation'; observation: ObservationGroup };

/**
 * Splits an ORU^R01 into its orders, following the v2.5.1 ORU_R01 structure loosely, as
 * analysers and LIS send it:
 * - several PATIENT_RESULT groups (several PIDs) are allowed; an order belongs to the last
 *   PID (and its PV1) before it;
 * - an OBX belongs to the last OBR before it; an OBX before any OBR is refused;
 * - NTEs after an OBR are the report's comments, after an OBX that observation's; NTEs after
 *   PID (patient notes) or SPM (specimen notes) are not carried;
 * - every other segment (SFT, PD1, PV2, NK1, TQ1, CTD, SPM, PRT, FT1, CTI, TXA, Z segments …)
 *   is ignored where it stands.
 */
export function orderGroups(message: Hl7Message, issues: Issues): OrderGroup[] {
  const groups: OrderGroup[] = [];
  const counts = new Map<string, number>();
  let pid: Located | undefined;
  let pv1: Located | undefined;
  let orc: Located | undefined;
  let current: OrderGroup | undefined;
  let target: NoteTarget = { kind: 'none' };
  let pending: Note[] = [];
  for (const segment of message.segments) {
    const index = counts.get(segment.name) ?? 0;
    counts.set(segment.name, index + 1);
    const s: Located = { segment, index };
    switch (segment.name) {
      case 'MSH':
        if (index > 0) issues.add(at(s), 'unsupported', 'a second MSH: one input must hold one message (batches are not accepted)');
        break;
      case 'PID':
        pid = s;
        pv1 = undefined;
        orc = undefined;
        current = undefined;
        target = { kind: 'none' };
        break;
      case 'PV1':
        if (current === undefined) pv1 = s;
        break;
      case 'ORC':
        orc = s;
        pending = [];
        target = { kind: 'pending' };
        break;
      case 'OBR':
        current = { n: groups.length + 1, pid, pv1, orc, obr: s, comments: pending, observations: [] };
        groups.push(current);
        orc = undefined;
        pending = [];
        target = { kind: 'order', group: current };
        break;
      case 'OBX':
        if (!current) {
          issues.add(at(s), 'unsupported', 'OBX before any OBR: an observation must follow the OBR of its order');
          target = { kind: 'none' };
          break;
        }
        target = { kind: 'observation', observation: { obx: s, comments: [] } };
        current.observations.push(target.observation);
        break;
      case 'NTE':
        if (target.kind === 'pending') pending.push(note(segment));
        else if (target.kind === 'order') target.group.comments.push(note(segment));
        else if (target.kind === 'observation') target.observation.comments.push(note(segment));
        break;
      case 'SPM':
        target = { kind: 'none' };
        break;
      default:
        break;
    }
  }
  if (groups.length === 0) issues.add(missingSegment('OBR'), 'required', 'no OBR segment: an ORU^R01 carries its results in at least one order (OBR)');
  return groups;
}
