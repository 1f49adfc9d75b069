import { api } from '../api.js';
import { badge, h, mount, when } from '../dom.js';

const STATUSES = ['received', 'filtered', 'queued', 'sent', 'errored', 'acknowledged', 'rejected', 'dead'];

/** A local datetime-local value → ISO 8601 (the API wants an offset). */
function iso(local) {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * The message browser: filters (channel, status, time range, source id, patient, MSH-10) kept in
 * the address, so a filtered list can be bookmarked or linked from the dashboard; newest first,
 * a page at a time (a cursor, so paging stays fast on a large store).
 */
export function messagesPage(me, params) {
  const field = (name, label, input) => h('div', { class: 'field' }, h('label', { for: `f-${name}` }, label), input);
  const text = (name, placeholder) => h('input', { id: `f-${name}`, name, type: 'text', value: params.get(name) ?? '', placeholder, autocomplete: 'off' });
  const channel = h('select', { id: 'f-channel', name: 'channel' }, h('option', { value: '' }, 'any'));
  const status = h('select', { id: 'f-status', name: 'status' }, h('option', { value: '' }, 'any'), STATUSES.map((s) => h('option', { value: s, selected: params.get('status') === s }, s)));
  const since = h('input', { id: 'f-since', name: 'since', type: 'datetime-local', step: 1, value: params.get('since') ?? '' });
  const until = h('input', { id: 'f-until', name: 'until', type: 'datetime-local', step: 1, value: params.get('until') ?? '' });
  const patient = text('patient', 'e.g. MRN-12345');
  const source = text('source', 'result id');
  const controlId = text('controlId', 'MSH-10');
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      'aria-label': 'Find messages',
      onsubmit: (e) => {
        e.preventDefault();
        const q = new URLSearchParams();
        for (const [k, v] of new FormData(form)) if (String(v).trim()) q.set(k, String(v).trim());
        location.hash = `#/messages?${q}`;
      },
    },
    field('channel', 'Channel', channel),
    field('status', 'Status', status),
    field('since', 'Received from', since),
    field('until', 'Received before', until),
    field('patient', 'Patient id', patient),
    field('source', 'Source id', source),
    field('controlId', 'Control id (MSH-10)', controlId),
    h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Find'), h('a', { href: '#/messages', class: 'button secondary' }, 'Clear')),
  );
  const results = h('div', { class: 'results', 'aria-live': 'polite' }, h('p', {}, 'Loading…'));
  const el = h('section', { 'aria-labelledby': 'msg-title' }, h('h1', { id: 'msg-title' }, 'Messages'), form, results);

  api('/api/channels').then(
    (c) => {
      for (const ch of c.channels) channel.append(h('option', { value: ch.id, selected: params.get('channel') === ch.id }, ch.id));
    },
    () => {},
  );

  const query = new URLSearchParams({ limit: '50' });
  for (const k of ['channel', 'status', 'patient', 'source', 'controlId']) if (params.get(k)) query.set(k, params.get(k));
  for (const k of ['since', 'until']) if (iso(params.get(k))) query.set(k, iso(params.get(k)));

  const pages = [];
  const load = async (cursor) => {
    const q = new URLSearchParams(query);
    if (cursor) q.set('cursor', cursor);
    try {
      const page = await api(`/api/messages?${q}`);
      pages.push(page);
      render(page);
    } catch (err) {
      mount(results, h('p', { class: 'error', role: 'alert' }, err.message));
    }
  };
  const render = (page) => {
    if (page.messages.length === 0) {
      mount(results, h('p', {}, pages.length > 1 ? 'No more messages.' : 'No message matches.'));
      return;
    }
    mount(
      results,
      h(
        'table',
        { class: 'messages' },
        h('caption', {}, `Messages ${pages.length > 1 ? `(page ${pages.length})` : ''}`),
        h('thead', {}, h('tr', {}, ['Received', 'Channel', 'Source id', 'Version', 'Status'].map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          {},
          page.messages.map((m) =>
            h(
              'tr',
              {},
              h('td', {}, h('a', { href: `#/messages/${encodeURIComponent(m.id)}` }, when(m.receivedAt))),
              h('td', {}, m.channelId),
              h('td', {}, m.sourceId),
              h('td', {}, m.sourceVersion, m.current === false ? h('span', { class: 'help' }, ' (superseded)') : null),
              h('td', {}, badge(m.status)),
            ),
          ),
        ),
      ),
      h(
        'div',
        { class: 'pager' },
        pages.length > 1 ? h('button', { type: 'button', class: 'secondary', onclick: () => previous() }, 'Previous page') : null,
        page.nextCursor ? h('button', { type: 'button', onclick: () => load(page.nextCursor) }, 'Next page') : null,
      ),
    );
  };
  const previous = () => {
    pages.pop();
    const last = pages.pop();
    if (last) {
      pages.push(last);
      render(last);
    } else load();
  };
  load();
  void me;
  return { el };
}
