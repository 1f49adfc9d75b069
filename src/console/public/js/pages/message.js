import { allows, api, ApiError } from '../api.js';
import { badge, h, mount, toast, when } from '../dom.js';
import { hl7Grid } from '../views/hl7-grid.js';
import { jsonTree } from '../views/json-tree.js';

/**
 * One message: what happened to it at every destination, and (integrators) what it held: the
 * raw input, the canonical report, each destination's output (ORU^R01 as a segment grid, FHIR
 * as a tree) and every attempt with its raw ACK or OperationOutcome. Resend (with the warning
 * when a newer version was acknowledged) and dismiss.
 */
export function messagePage(me, id) {
  const el = h('section', { 'aria-labelledby': 'm-title' }, h('h1', { id: 'm-title' }, 'Message ', h('code', {}, id)));
  const body = h('div', {}, h('p', {}, 'Loading…'));
  el.append(body);
  const load = async () => {
    try {
      const m = await api(`/api/messages/${encodeURIComponent(id)}`);
      mount(body, summary(m), actions(me, m, load), tabs(m));
    } catch (err) {
      mount(body, h('p', { class: 'error', role: 'alert' }, err.message));
    }
  };
  load();
  return { el };
}

function summary(m) {
  const row = (label, ...value) => [h('dt', {}, label), h('dd', {}, ...value)];
  return h(
    'dl',
    { class: 'summary' },
    row('Status', badge(m.status)),
    row('Channel', m.channelId),
    row('Received', when(m.receivedAt)),
    row('Source id', m.sourceId, ` (version ${m.sourceVersion})`),
    row('Version', m.current === false ? h('span', {}, 'superseded by ', h('a', { href: `#/messages/${encodeURIComponent(m.supersededBy)}` }, m.supersededBy)) : 'current'),
    m.mappingVersion ? row('Mapping', m.mappingVersion) : [],
    m.filteredBy ? row('Filtered by', m.filteredBy) : [],
    m.contentPrunedAt ? row('Content removed', when(m.contentPrunedAt), ' (retention)') : [],
  );
}

function actions(me, m, reload) {
  if (!allows(me, 'operator')) return null;
  const out = h('p', { class: 'error', role: 'alert' });
  const resend = async (force) => {
    out.textContent = '';
    try {
      const r = await api(`/api/messages/${encodeURIComponent(m.id)}/resend${force ? '?force=true' : ''}`, { method: 'POST' });
      toast(`Resent: ${r.requeued} queued again, ${r.broughtForward} brought forward`);
      setTimeout(reload, 500);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        mount(out, h('span', {}, err.message, ' '), h('button', { type: 'button', class: 'danger', onclick: () => resend(true) }, 'Resend this old version anyway'));
      } else out.textContent = err.message;
    }
  };
  const dismissable = m.deliveries.some((d) => (d.status === 'dead' || d.status === 'rejected') && !d.dismissedAt);
  return h(
    'div',
    { class: 'actions' },
    h('button', { type: 'button', onclick: () => resend(false) }, 'Resend'),
    dismissable
      ? h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: async () => {
              try {
                const r = await api(`/api/messages/${encodeURIComponent(m.id)}/dismiss`, { method: 'POST' });
                toast(`Dismissed ${r.dismissed} deliver${r.dismissed === 1 ? 'y' : 'ies'}`);
                reload();
              } catch (err) {
                out.textContent = err.message;
              }
            },
          },
          'Dismiss',
        )
      : null,
    out,
  );
}

/** Tabs with roving focus: arrow keys move between them, as the WAI-ARIA tabs pattern has it. */
function tabs(m) {
  const panels = [];
  if ('rawInput' in m) panels.push({ id: 'raw', label: 'Raw input', render: () => content(m.rawInput, m.inputFormat, 'Raw input') });
  if ('canonical' in m) panels.push({ id: 'canonical', label: 'Canonical report', render: () => (m.canonical ? jsonTree(m.canonical) : h('p', {}, 'No canonical report (stored as received).')) });
  for (const d of m.deliveries) panels.push({ id: `d-${d.destinationId}`, label: `${d.destinationId} ${d.follows ? '(status callback)' : ''}`.trim(), render: () => delivery(d) });
  if (panels.length === 0) return h('p', {}, 'No deliveries.');
  const list = h('div', { role: 'tablist', 'aria-label': 'Message parts', class: 'tabs' });
  const area = h('div', {});
  const buttons = panels.map((p, i) =>
    h('button', { type: 'button', role: 'tab', id: `tab-${p.id}`, 'aria-controls': `panel-${p.id}`, 'aria-selected': 'false', tabindex: -1, onclick: () => select(i) }, p.label),
  );
  const select = (i, focus = false) => {
    buttons.forEach((b, j) => {
      b.setAttribute('aria-selected', String(i === j));
      b.tabIndex = i === j ? 0 : -1;
    });
    mount(area, h('div', { role: 'tabpanel', id: `panel-${panels[i].id}`, 'aria-labelledby': `tab-${panels[i].id}`, tabindex: 0 }, panels[i].render()));
    if (focus) buttons[i].focus();
  };
  list.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: buttons.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    select((next + buttons.length) % buttons.length, true);
  });
  list.append(...buttons);
  select(0);
  return h('div', { class: 'tabbed' }, list, area);
}

function content(text, format, caption) {
  if (!text) return h('p', {}, 'Removed by retention.');
  if (format === 'hl7v2' || /^MSH/.test(text)) return hl7Grid(text, caption);
  try {
    return jsonTree(JSON.parse(text));
  } catch {
    return h('pre', {}, text);
  }
}

function delivery(d) {
  return h(
    'div',
    { class: 'delivery' },
    h(
      'dl',
      { class: 'summary' },
      h('dt', {}, 'Status'),
      h('dd', {}, badge(d.status), d.dismissedAt ? ` (dismissed by ${d.dismissedBy}, ${when(d.dismissedAt)})` : ''),
      h('dt', {}, 'Control id (MSH-10)'),
      h('dd', {}, h('code', {}, d.controlId)),
      d.mappingVersion ? [h('dt', {}, 'Mapping'), h('dd', {}, d.mappingVersion)] : [],
      d.nextAttemptAt ? [h('dt', {}, 'Next attempt'), h('dd', {}, when(d.nextAttemptAt))] : [],
      d.warnings?.length ? [h('dt', {}, 'Warnings'), h('dd', {}, h('ul', {}, d.warnings.map((w) => h('li', {}, w))))] : [],
    ),
    'payload' in d ? h('h3', {}, 'Sent') : null,
    'payload' in d ? content(d.payload, d.contentType === 'application/hl7-v2' || /^MSH/.test(d.payload) ? 'hl7v2' : 'json', `${d.destinationId}: the message sent`) : null,
    h('h3', {}, 'Attempts'),
    d.attempts.length === 0
      ? h('p', {}, 'None yet.')
      : h(
          'ol',
          { class: 'attempts' },
          d.attempts.map((a) =>
            h(
              'li',
              {},
              h('p', {}, h('strong', {}, `#${a.attempt}`), ` ${when(a.startedAt)} · ${a.outcome}${a.code ? ` · ${a.code}` : ''} · ${Math.round(a.latencyMs)} ms`),
              a.detail ? h('p', { class: 'help' }, a.detail) : null,
              a.response ? h('details', { class: 'answer' }, h('summary', {}, /^MSH/.test(a.response) ? 'ACK' : 'Response'), content(a.response, /^MSH/.test(a.response) ? 'hl7v2' : 'json', `attempt ${a.attempt}: the answer`)) : null,
            ),
          ),
        ),
    d.fhir?.outcome ? h('details', {}, h('summary', {}, 'OperationOutcome'), jsonTree(d.fhir.outcome)) : null,
  );
}
