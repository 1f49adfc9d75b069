import { z } from 'zod';

/**
 * A request plan: what the `json-template` encoder produces and the `http` destination sends.
 * One message is one plan: a JSON array of requests, sent in order within one delivery
 * attempt. Values only known once an earlier answer is in (the id the partner gave a new
 * patient) are `{{name}}` placeholders, filled from that answer's `saveAs`.
 */

/** Content type of a plan: the destination sends any other payload as one POST to its baseUrl. */
export const REQUEST_PLAN_CONTENT_TYPE = 'application/vnd.conduit.http-requests+json';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** A saved value's name, as placeholders and `skipIfSaved` name it. */
export const SAVED_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `{{patientId}}`: a value saved from an earlier answer of the same message. */
const PLACEHOLDER = /\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}$/;

/** A file part of a multipart/form-data body (RFC 7578), its content in base64. */
export const PlannedFile = z
  .object({
    filename: z.string().min(1),
    contentType: z.string().min(1),
    base64: z.string(),
  })
  .strict();
export type PlannedFile = z.infer<typeof PlannedFile>;

export const PlannedRequest = z
  .object({
    /** The mapping step this request comes from, for messages. */
    step: z.string().min(1),
    method: z.enum(HTTP_METHODS),
    /** Appended to the destination's baseUrl; may hold placeholders (filled URL-encoded). */
    path: z.string().regex(/^\//, 'expected a path starting with /'),
    headers: z.record(z.string(), z.string()).optional(),
    /** A JSON body; strings in it may hold placeholders. */
    body: z.unknown().optional(),
    /** A multipart/form-data body instead: text fields and files. */
    form: z.record(z.string(), z.union([z.string(), PlannedFile])).optional(),
    /** Values to keep from the answer: name → JSONata over the answer's JSON body (`$status`, `$headers` bound). */
    saveAs: z.record(z.string().regex(SAVED_NAME), z.string().min(1)).optional(),
    /** The request is skipped when any of these values is already saved (found by an earlier search). */
    skipIfSaved: z.array(z.string().regex(SAVED_NAME)).optional(),
  })
  .strict()
  .refine((r) => r.body === undefined || r.form === undefined, { message: 'a request has a JSON body or a form, not both' });
export type PlannedRequest = z.infer<typeof PlannedRequest>;

export const RequestPlan = z.array(PlannedRequest);
export type RequestPlan = z.infer<typeof RequestPlan>;

/** The placeholder names in `text`. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Values saved so far in one message, by name. */
export type Saved = Readonly<Record<string, unknown>>;

function scalarText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Fills the placeholders of a path, each value URL-encoded (RFC 3986 unreserved characters
 * kept). Names without a saved value are added to `missing`.
 */
export function fillPath(path: string, saved: Saved, missing: Set<string>): string {
  return path.replace(PLACEHOLDER, (whole, name: string) => {
    const v = saved[name];
    if (v === undefined || v === null) {
      missing.add(name);
      return whole;
    }
    return encodeURIComponent(scalarText(v));
  });
}

/** Fills the placeholders of a header value or form field. */
export function fillText(text: string, saved: Saved, missing: Set<string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const v = saved[name];
    if (v === undefined || v === null) {
      missing.add(name);
      return whole;
    }
    return scalarText(v);
  });
}

/**
 * Fills the placeholders in every string of a JSON value: a string that is one placeholder
 * becomes the saved value itself (a number stays a number), one placeholder among other text
 * is replaced by the value's text.
 */
export function fillJson(value: unknown, saved: Saved, missing: Set<string>): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(value);
    if (whole) {
      const v = saved[whole[1]!];
      if (v === undefined || v === null) missing.add(whole[1]!);
      return v ?? value;
    }
    return value.includes('{{') ? fillText(value, saved, missing) : value;
  }
  if (Array.isArray(value)) return value.map((v) => fillJson(v, saved, missing));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillJson(v, saved, missing)]));
  }
  return value;
}
