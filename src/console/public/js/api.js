/** The admin API with the signed-in token (kept for this browser tab only). */
const KEY = 'conduit.token';

export const session = {
  get token() {
    return sessionStorage.getItem(KEY);
  },
  set(token) {
    sessionStorage.setItem(KEY, token);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

/** An answer that is not 2xx: its status and what the OperationOutcome says. */
export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
  }
}

function describe(status, body) {
  const issues = body?.issue?.map((i) => i.diagnostics).filter(Boolean);
  if (issues?.length) return issues.join('; ');
  return `the engine answered ${status}`;
}

/** GET/POST to the admin API; resolves with the JSON body, rejects with ApiError. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { authorization: `Bearer ${session.token ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.status === 401) {
    session.clear();
    window.dispatchEvent(new CustomEvent('conduit:signed-out', { detail: describe(401, json) }));
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

const RANK = ['viewer', 'operator', 'integrator', 'admin'];

/** Whether the signed-in role may do what needs `role`. */
export function allows(me, role) {
  return RANK.indexOf(me?.role) >= RANK.indexOf(role);
}
