import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { jsonTree } from '../views/json-tree.js';

/** The admin API's reference, read from its OpenAPI 3.1 description (/api/openapi.json). */
export function referencePage() {
  const body = h('div', {}, h('p', {}, 'Loading…'));
  const el = h(
    'section',
    { 'aria-labelledby': 'ref-title' },
    h('h1', { id: 'ref-title' }, 'Admin API'),
    h('p', {}, 'Every route takes ', h('code', {}, 'Authorization: Bearer <token>'), '. The machine-readable description: ', h('a', { href: '/api/openapi.json' }, '/api/openapi.json'), ' (OpenAPI 3.1).'),
    body,
  );
  api('/api/openapi.json').then(
    (doc) => {
      const ops = [];
      for (const [path, methods] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(methods)) ops.push({ path, method, op });
      mount(
        body,
        ops.map(({ path, method, op }) => {
          const id = `${method}-${path}`.replace(/[^a-z0-9]+/gi, '-');
          const params = op.parameters ?? [];
          const ok = Object.entries(op.responses).find(([code]) => code.startsWith('2'));
          const okSchema = ok?.[1]?.content?.['application/json']?.schema;
          return h(
            'article',
            { class: 'card route', 'aria-labelledby': id },
            h('h2', { id }, h('span', { class: `method m-${method}` }, method.toUpperCase()), ' ', h('code', {}, path)),
            h('p', {}, op.summary),
            h('p', { class: 'help' }, op.description),
            params.length
              ? h(
                  'table',
                  {},
                  h('caption', {}, 'Parameters'),
                  h('thead', {}, h('tr', {}, ['Name', 'In', 'Required', 'Schema'].map((t) => h('th', { scope: 'col' }, t)))),
                  h(
                    'tbody',
                    {},
                    params.map((p) => h('tr', {}, h('th', { scope: 'row' }, p.name), h('td', {}, p.in), h('td', {}, p.required ? 'yes' : 'no'), h('td', {}, h('code', {}, schemaText(p.schema)), p.description ? h('span', { class: 'help' }, ` ${p.description}`) : null))),
                  ),
                )
              : null,
            op.requestBody ? h('details', {}, h('summary', {}, 'Request body'), jsonTree(op.requestBody.content['application/json'].schema, 1)) : null,
            okSchema ? h('details', {}, h('summary', {}, `Answer ${ok[0]}`), jsonTree(okSchema, 1)) : null,
          );
        }),
      );
    },
    (err) => mount(body, h('p', { class: 'error', role: 'alert' }, err.message)),
  );
  return { el };
}

function schemaText(s) {
  if (!s) return '';
  if (s.enum) return s.enum.join(' | ');
  return [s.type, s.format, s.pattern ? `/${s.pattern}/` : undefined, s.default !== undefined ? `default ${s.default}` : undefined].filter(Boolean).join(', ');
}
