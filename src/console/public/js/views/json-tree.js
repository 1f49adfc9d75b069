import { h } from '../dom.js';

/**
 * A JSON value as a collapsible tree (FHIR Bundles, canonical reports): objects and arrays are
 * <details> (keyboard and screen readers know them), open to `openDepth` levels.
 */
export function jsonTree(value, openDepth = 2) {
  return h('div', { class: 'json-tree' }, node(undefined, value, 0, openDepth));
}

function node(key, value, depth, openDepth) {
  const label = key === undefined ? null : h('span', { class: 'key' }, `${key}: `);
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    const hint = Array.isArray(value) ? `[${value.length}]` : value.resourceType ? `${value.resourceType}` : `{${entries.length}}`;
    return h(
      'details',
      { open: depth < openDepth },
      h('summary', {}, label, h('span', { class: 'hint' }, hint)),
      h('ul', {}, entries.map(([k, v]) => h('li', {}, node(k, v, depth + 1, openDepth)))),
    );
  }
  return h('span', { class: 'leaf' }, label, h('span', { class: `v-${value === null ? 'null' : typeof value}` }, JSON.stringify(value)));
}
