import { createHash } from 'node:crypto';
import { type AssigningAuthority, type Attachment, type CodedConcept, type Highlighting, LabReport, type Observation, type Patient, type ResultStatus } from '../../canonical/report.ts';
import { InputError } from '../../errors.ts';
import { DelimiterError, HL7_NULL, Hl7Message, Hl7ParseError } from '../../protocols/hl7v2/index.ts';
import { formatPath } from '../issues.ts';
import type { InboundInput, InboundMapping, MappedInput } from '../types.ts';
import { at, coded, conceptOf, conceptOrText, dateTime, Issues, isHl7Null, isUcum, type Located, leaf, loincOf, missingSegment, repetitionText } from './fields.ts';
import { type Note, type OrderGroup, orderGroups } from './groups.ts';
import { deriveStatus, observationStatus, resultStatus } from './statuses.ts';
import { mapPatient } from './patient.ts';
import { type Hl7v2OruSettings, TABLE_0001, TABLE_0085, TABLE_0123 } from './settings.ts';
import { type ObxValue, readValue, TEXT_TYPES } from './values.ts';

/** Settings with the HL7 tables merged in, built once per mapping. */
interface Context {
  readonly settings: Hl7v2OruSettings;
  readonly obxStatuses: Readonly<Record<string, ResultStatus>>;
  readonly obrStatuses: Readonly<Record<string, ResultStatus>>;
  readonly sexes: Readonly<Record<string, NonNullable<Patient['sex']>>>;
}

/** The inbound mapping kind `hl7v2-oru`: one ORU^R01 → one canonical report per order (OBR). */
export function createHl7v2OruMapping(id: string, settings: Hl7v2OruSettings): InboundMapping {
  const ctx: Context = {
    settings,
    obxStatuses: { ...TABLE_0085, ...settings.observationStatuses },
    obrStatuses: { ...TABLE_0123, ...settings.resultStatuses },
    sexes: { ...TABLE_0001, ...settings.administrativeSex },
  };
  return { id, format: 'hl7v2', map: (input: InboundInput) => mapOru(input.text, ctx) };
}

/** Maps with these settings; for tests and previews. */
export function mapOruR01(text: string, settings: Hl7v2OruSettings): MappedInput[] {
  return createHl7v2OruMapping('hl7v2-oru', settings).map({ text, format: 'hl7v2' }) as MappedInput[];
}

function parse(text: string): Hl7Message {
  try {
    return Hl7Message.parse(text);
  } catch (e) {
    if (e instanceof Hl7ParseError) throw new InputError('HL7_PARSE_FAILED', [{ path: e.location, code: 'invalid_value', message: e.message }]);
    if (e instanceof DelimiterError) throw new InputError('HL7_PARSE_FAILED', [{ path: 'MSH', code: 'invalid_value', message: e.message }]);
    throw e;
  }
}

/** The OBX fields that may carry the HL7 null `""`, by their canonical names. */
const NULLABLE = [
  ['value', 5],
  ['unit', 6],
  ['referenceRange', 7],
  ['flags', 8],
  ['observedAt', 14],
  ['operator', 16],
  ['device', 18],
] as const;

/** OBX-11 statuses under which an empty OBX-5 is expected: nothing to report (yet). */
const NO_VALUE: ReadonlySet<ResultStatus> = new Set(['registered', 'cancelled', 'entered-in-error']);

/** A report before its id is chosen, which needs every order of the message. */
interface Draft {
  readonly group: OrderGroup;
  readonly orderNumber: string | undefined;
  readonly report: Omit<LabReport, 'id'>;
}

function mapOru(text: string, ctx: Context): MappedInput[] {
  const message = parse(text);
  const { settings } = ctx;
  const issues = new Issues();
  const msh: Located = { segment: message.msh, index: 0 };
  const type = message.messageType;
  if (!settings.acceptedMessageTypes.includes(type)) {
    issues.add(at(msh, 9), 'unsupported', `expected ${settings.acceptedMessageTypes.join(' or ')}, got ${type || '(empty)'}`);
  }
  const version = message.msh.get(12, 1);
  if (version === '') issues.add(at(msh, 12), 'required', 'MSH-12 (version id) is empty');
  else if (!settings.acceptedVersions.includes(version)) {
    issues.add(at(msh, 12), 'unsupported', `MSH-12 version '${version}' is not accepted; expected one of ${settings.acceptedVersions.join(', ')}`);
  }
  const controlId = message.controlId;
  if (controlId === '') issues.add(at(msh, 10), 'required', 'MSH-10 (message control id) is empty: it is what makes a resend recognisable');
  // Not the message this mapping reads: its segments are not worth reporting on.
  if (issues.list.length > 0) throw new InputError('INPUT_INVALID', issues.list);

  const occurredAt = dateTime(msh, 7, issues, settings.defaultTimezoneOffset);
  const groups = orderGroups(message, issues);
  if (!settings.allowMissingPatient) missingPatient(groups, issues);
  const patients = new Map<number, Patient | undefined>();
  const drafts = groups.map((g) => {
    if (g.pid && !patients.has(g.pid.index)) patients.set(g.pid.index, mapPatient(g.pid, settings.patientIdentifierSystems, ctx.sexes, issues));
    return mapOrder(g, g.pid ? patients.get(g.pid.index) : undefined, ctx, issues);
  });
  if (issues.list.length > 0) throw new InputError('INPUT_INVALID', issues.list);

  const ids = reportIds(drafts, controlId, settings.reportIdentity);
  // A LIS whose counter restarted reuses MSH-10 for new results: the digest of the body
  // keeps those from being taken for resends, while a true resend (same MSH-10, same body,
  // whatever its MSH-7) is still one message.
  const body = message.segments.slice(1).map((s) => s.toString()).join('\r');
  const sourceVersion = createHash('sha256').update(body).digest('hex').slice(0, 16);
  const provenance = { kind: 'hl7v2' as const, eventId: controlId, eventType: type, ...(occurredAt ? { occurredAt } : {}) };
  return drafts.map((d, i) => {
    const parsed = LabReport.safeParse({ id: ids[i], ...d.report, provenance });
    if (!parsed.success) {
      throw new InputError(
        'INPUT_INVALID',
        parsed.error.issues.map((z) => ({ ...at(d.group.obr), code: z.code, message: `${formatPath(z.path)}: ${z.message}` })),
      );
    }
    return { report: parsed.data, sourceId: drafts.length === 1 ? controlId : `${controlId}#${d.group.n}`, sourceVersion };
  });
}

/**
 * Orders without a PID before them: refused, since their results would reach the receiver
 * with no patient to file them under (ERR-3 100: a required segment is missing).
 */
function missingPatient(groups: OrderGroup[], issues: Issues): void {
  const orphans = groups.filter((g) => g.pid === undefined);
  if (orphans.length === 0) return;
  const what = orphans.length === groups.length ? 'no PID segment' : `no PID segment before ${orphans.map((g) => at(g.obr)).join(', ')}`;
  issues.add(missingSegment('PID'), 'segment_missing', `${what}: a result must name its patient (set allowMissingPatient: true in the mapping for senders whose results have none)`);
}

/**
 * Report ids: the filler order number (OBR-3, else ORC-3), else the placer's (OBR-2, else
 * ORC-2), else MSH-10#n. Orders of one message sharing a number get their OBR-4 code
 * appended (`9700123/625-4`), and a position when even that repeats; with
 * `order-and-service`, every order number gets its OBR-4 code.
 */
function reportIds(drafts: Draft[], controlId: string, identity: Hl7v2OruSettings['reportIdentity']): string[] {
  const count = <T>(xs: T[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<T, number>());
  const base = drafts.map((d) => d.orderNumber ?? `${controlId}#${d.group.n}`);
  const baseCounts = count(base);
  const qualified = drafts.map((d, i) =>
    d.orderNumber !== undefined && (identity === 'order-and-service' || baseCounts.get(base[i]!)! > 1) ? `${base[i]}/${d.report.panel?.code ?? ''}` : base[i]!,
  );
  const counts = count(qualified);
  const seen = new Map<string, number>();
  return qualified.map((id) => {
    if (counts.get(id)! === 1) return id;
    const k = (seen.get(id) ?? 0) + 1;
    seen.set(id, k);
    return `${id}/${k}`;
  });
}

function mapOrder(g: OrderGroup, patient: Patient | undefined, ctx: Context, issues: Issues): Draft {
  const { settings } = ctx;
  const offset = settings.defaultTimezoneOffset;
  const obr = g.obr.segment;
  const panel = conceptOf(coded(obr, 4));
  if (!panel) {
    const what = obr.raw(4) === '' ? 'is empty' : 'has no identifier (component 1, or 4 for the alternate code)';
    issues.add(at(g.obr, 4), 'required', `OBR-4 (universal service identifier) ${what}: the order names no test or panel`);
  }
  const filler = orderNumber(g, 3);
  const placer = orderNumber(g, 2);
  const observedAt = dateTime(g.obr, 7, issues, offset);
  const issuedAt = dateTime(g.obr, 22, issues, offset);
  const obrStatus = resultStatus(g.obr, ctx.obrStatuses, issues);

  const comments = [...g.comments];
  const attachments: Attachment[] = [];
  const observations: DraftObservation[] = [];
  let device: LabReport['device'];
  let operator: LabReport['operator'];
  for (const { obx, comments: notes } of g.observations) {
    const read = readObservation(obx, notes, observedAt, ctx, issues);
    if (read?.kind === 'documents') {
      attachments.push(...read.attachments);
      // An ED has no observation to carry notes: they go to the report.
      comments.push(...notes);
    } else if (read) {
      observations.push(read.observation);
      device ??= deviceOf(obx);
      operator ??= operatorOf(obx);
    }
  }

  const statusCodes = g.observations.map(({ obx }) => obx.segment.get(11));
  const derived = obrStatus.status ?? deriveStatus(observations.map((o) => o.status).filter((s): s is ResultStatus => s !== undefined));
  if (obrStatus.text === undefined && statusCodes.every((c) => c === '')) {
    const what = statusCodes.length === 0 ? 'and the order has no OBX' : 'and no OBX-11 gives one';
    issues.add(at(g.obr, 25), 'required', `OBR-25 (result status) is empty ${what}: a result without a status cannot be passed on as final or as anything else`);
  }
  const correction = derived === 'corrected' || (statusCodes.length > 0 && statusCodes.every((c) => c === 'C'));
  // Without a status the order is refused above; 'unknown' only fills the draft.
  const status: ResultStatus = correction && derived === 'final' ? 'corrected' : (derived ?? 'unknown');
  const placerOrFiller = placer !== undefined || filler !== undefined;
  const order = {
    ...(placer !== undefined ? { id: placer.id } : {}),
    ...(filler !== undefined ? { accession: filler.id } : {}),
    ...(placer?.authority ? { placerAuthority: placer.authority } : {}),
    ...(filler?.authority ? { fillerAuthority: filler.authority } : {}),
  };
  const pv1Visit = g.pv1 && !isHl7Null(g.pv1.segment, 19) ? leaf(g.pv1.segment, 19) : undefined;
  const nulls = reportNulls(g);
  const firstTime = observedAt ?? observations.find((o) => o.observedAt)?.observedAt;
  return {
    group: g,
    orderNumber: (filler ?? placer)?.id,
    report: {
      version: 1,
      correction,
      status,
      ...(obrStatus.text !== undefined ? { statusText: obrStatus.text } : {}),
      ...(patient ? { patient } : {}),
      ...(pv1Visit ? { encounter: { id: pv1Visit } } : {}),
      ...(placerOrFiller ? { order } : {}),
      ...(device ? { device } : {}),
      ...(operator ? { operator } : {}),
      ...(panel ? { panel } : {}),
      ...(firstTime ? { observedAt: firstTime } : {}),
      ...(issuedAt ? { issuedAt } : {}),
      observations: observations.map((o) => ({ ...o, status: o.status ?? status })),
      attachments,
      ...(comments.length > 0 ? { comments: comments.map((c) => c.text) } : {}),
      ...commentHighlighting(comments),
      ...(nulls.length > 0 ? { nulls } : {}),
      provenance: { kind: 'hl7v2' },
    },
  };
}

/** The highlighting of each note, when any has some. */
function commentHighlighting(notes: readonly Note[]): { commentHighlighting?: Highlighting[] } {
  return notes.some((n) => n.highlighting) ? { commentHighlighting: notes.map((n) => n.highlighting ?? []) } : {};
}

/** The report's fields sent as the HL7 null `""` (an order number: in OBR, else in an ORC without one in OBR). */
function reportNulls(g: OrderGroup): NonNullable<LabReport['nulls']> {
  const out: NonNullable<LabReport['nulls']> = [];
  const pid = g.pid?.segment;
  if (pid && isHl7Null(pid, 3)) out.push('patientIdentifiers');
  if (pid && isHl7Null(pid, 5)) out.push('patientName');
  if (pid && isHl7Null(pid, 7)) out.push('birthDate');
  if (pid && isHl7Null(pid, 8)) out.push('sex');
  if (g.pv1 && isHl7Null(g.pv1.segment, 19)) out.push('encounter');
  const orderNull = (field: number) => isHl7Null(g.obr.segment, field) || (g.obr.segment.raw(field) === '' && g.orc !== undefined && isHl7Null(g.orc.segment, field));
  if (orderNull(2)) out.push('placerNumber');
  if (orderNull(3)) out.push('fillerNumber');
  if (isHl7Null(g.obr.segment, 7)) out.push('observedAt');
  if (isHl7Null(g.obr.segment, 22)) out.push('issuedAt');
  return out;
}

/**
 * OBR-2/OBR-3 (else ORC-2/ORC-3), an EI: the entity id, and who assigned it (EI-2 namespace,
 * EI-3 universal id, EI-4 its type) as sent.
 */
function orderNumber(g: OrderGroup, field: 2 | 3): { id: string; authority?: AssigningAuthority } | undefined {
  const has = (s: Located | undefined) => s !== undefined && leaf(s.segment, field) !== undefined && !isHl7Null(s.segment, field);
  const seg = has(g.obr) ? g.obr.segment : has(g.orc) ? g.orc!.segment : undefined;
  if (!seg) return undefined;
  const c = (n: number) => leaf(seg, field, n);
  const [namespace, universalId, universalIdType] = [c(2), c(3), c(4)];
  const authority = {
    ...(namespace !== undefined ? { namespace } : {}),
    ...(universalId !== undefined ? { universalId } : {}),
    ...(universalIdType !== undefined ? { universalIdType } : {}),
  };
  return { id: c(1)!, ...(Object.keys(authority).length > 0 ? { authority } : {}) };
}

type DraftObservation = Omit<Observation, 'status'> & { status: ResultStatus | undefined };

/**
 * One OBX: an observation (its status left undefined when OBX-11 is empty, to be filled with
 * the report's), or the documents of an ED; undefined when refused (issues recorded).
 */
function readObservation(
  obx: Located,
  notes: Note[],
  obrTime: string | undefined,
  ctx: Context,
  issues: Issues,
): { kind: 'observation'; observation: DraftObservation } | { kind: 'documents'; attachments: Attachment[] } | undefined {
  const seg = obx.segment;
  const offset = ctx.settings.defaultTimezoneOffset;
  const valueType = seg.get(2);
  const type = valueType.toUpperCase();
  const codes = coded(seg, 3);
  const code = conceptOf(codes);
  if (!code) {
    const what = seg.raw(3) === '' ? 'is empty' : 'has no identifier (component 1, or 4 for the alternate code)';
    issues.add(at(obx, 3), 'required', `OBX-3 (observation identifier) ${what}: a result must say what was measured`);
  }
  const { text: statusText, status, refused } = observationStatus(obx, ctx.obxStatuses, issues);
  const before = issues.list.length;
  const nulls = NULLABLE.filter(([, field]) => seg.raw(field) === HL7_NULL).map(([name]) => name);
  let v: ObxValue | undefined = { value: '', attachments: [], empty: true };
  // The HL7 null `""` is a value of its own ("delete it"), of any value type.
  if (nulls.includes('value')) v = { value: '', attachments: [], empty: false };
  else if (type !== '') v = readValue(obx, type, code?.display ?? code?.code ?? '', issues, offset);
  else if (seg.raw(5) !== '') {
    issues.add(at(obx, 2), 'required', 'OBX-2 (value type) is empty but OBX-5 has a value');
    v = undefined;
  }
  // A value refused for its content is not reported again as missing.
  if (!v || issues.list.length > before || refused) return undefined;
  const noResultExpected = (status !== undefined && NO_VALUE.has(status)) || statusText === 'U';
  if (v.empty && type !== '' && !TEXT_TYPES.has(type) && !noResultExpected) {
    const said = statusText === undefined ? '(empty)' : `'${statusText}'`;
    issues.add(at(obx, 5), 'required', `OBX-5 is empty, but OBX-11 ${said} does not say the result is pending, cancelled or deleted (I, O, X, N, D, W or U)`);
    return undefined;
  }
  if (type === 'ED' && !nulls.includes('value')) return { kind: 'documents', attachments: v.attachments };
  const loinc = loincOf(codes);
  const unitSent = !nulls.includes('unit');
  const unit = unitSent ? (leaf(seg, 6, 1) ?? leaf(seg, 6, 2)) : undefined;
  const unitCoding = unitSent ? conceptOrText(seg, 6) : undefined;
  const ucum = !unitSent ? undefined : isUcum(leaf(seg, 6, 3)) ? leaf(seg, 6, 1) : isUcum(leaf(seg, 6, 6)) ? leaf(seg, 6, 4) : undefined;
  const range = seg.raw(7) === '' || nulls.includes('referenceRange') ? undefined : repetitionText(seg.raw(7), seg);
  const subId = isHl7Null(seg, 4) ? HL7_NULL : leaf(seg, 4);
  // OBX-14, else OBR-7: the observation time of every OBX of the order that gives none.
  const time = nulls.includes('observedAt') ? undefined : (dateTime(obx, 14, issues, offset) ?? obrTime);
  return {
    kind: 'observation',
    observation: {
      code: code ?? { code: '' },
      ...(loinc ? { loinc } : {}),
      value: v.value,
      ...(valueType !== '' ? { valueType } : {}),
      ...(v.valueCoding ? { valueCoding: v.valueCoding } : {}),
      ...(v.moreValueCodings ? { moreValueCodings: v.moreValueCodings } : {}),
      ...(v.highlighting ? { highlighting: v.highlighting } : {}),
      ...(subId !== undefined ? { subId } : {}),
      ...(unit !== undefined ? { unit } : {}),
      ...(ucum !== undefined ? { ucum } : {}),
      ...(unitCoding && (unitCoding.system !== undefined || unitCoding.display !== undefined || unitCoding.alternates || unitCoding.originalText !== undefined || unitCoding.nullComponents || unitCoding.textOnly) ? { unitCoding } : {}),
      ...(range !== undefined ? { referenceRange: range } : {}),
      ...(nulls.includes('flags') ? { flags: [] } : flagsOf(obx)),
      status,
      ...(statusText !== undefined ? { statusText } : {}),
      ...(time !== undefined ? { observedAt: time } : {}),
      comments: notes.map((n) => n.text),
      ...commentHighlighting(notes),
      ...(nulls.length > 0 ? { nulls } : {}),
    },
  };
}

/**
 * OBX-8: the flags (see `flagText`), and where any of them is coded (a CWE, v2.7), every
 * flag as a coded element with its triplets and text as sent.
 */
function flagsOf(obx: Located): Pick<Observation, 'flags' | 'flagCodings'> {
  const seg = obx.segment;
  const sent = seg
    .repetitions(8)
    .map((raw, r) => ({ raw, text: flagText(raw, obx), concept: conceptOrText(seg, 8, r) }))
    .filter((f) => f.text !== '');
  const flags = sent.map((f) => f.text);
  const isCoded = seg.delimiters.component !== '' && sent.some((f) => f.raw.includes(seg.delimiters.component));
  if (!isCoded) return { flags };
  const flagCodings: CodedConcept[] = sent.map((f) => (f.concept && f.concept.code === f.text ? f.concept : { code: f.text }));
  return { flags, flagCodings };
}

/**
 * OBX-8, one flag per repetition, verbatim. A coded flag (a CWE naming its coding system,
 * as v2.7 senders write `A^Abnormal^HL70078`) gives its code.
 */
function flagText(raw: string, obx: Located): string {
  const d = obx.segment.delimiters;
  const parts = d.component === '' ? [raw] : raw.split(d.component);
  if (parts.length >= 3 && parts[2] !== '') return repetitionText(parts[0] || parts[1] || '', obx.segment);
  return repetitionText(raw, obx.segment);
}

/** OBX-18 equipment instance identifier (EI): EI-1 the device, EI-2 (namespace) its model. */
function deviceOf(obx: Located): LabReport['device'] {
  // The HL7 null names no device: it is not one called '""'.
  if (obx.segment.raw(18) === HL7_NULL) return undefined;
  const id = leaf(obx.segment, 18, 1);
  if (id === undefined) return undefined;
  const model = leaf(obx.segment, 18, 2);
  return { id, ...(model !== undefined ? { model } : {}) };
}

/** OBX-16 responsible observer (XCN): XCN-1 id, the name as "given family". */
function operatorOf(obx: Located): LabReport['operator'] {
  const seg = obx.segment;
  if (seg.raw(16) === HL7_NULL) return undefined;
  const id = leaf(seg, 16, 1);
  const name = [leaf(seg, 16, 3), leaf(seg, 16, 4), leaf(seg, 16, 2)].filter((x) => x !== undefined).join(' ');
  if (id === undefined && name === '') return undefined;
  return { ...(id !== undefined ? { id } : {}), ...(name !== '' ? { name } : {}) };
}
