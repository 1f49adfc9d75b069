import { h } from '../dom.js';
import { fieldName } from './hl7-fields.js';

/**
 * An HL7 v2 message as a grid: a row per segment, a cell per field, each cell named on hover
 * and for screen readers (`OBX-5 Observation Value`). Components stay as sent (^ & ~), so what
 * is shown is what went on the wire.
 */
export function hl7Grid(text, caption) {
  const segments = text.split(/\r\n|\r|\n/).filter((s) => s.length > 0);
  const sep = segments[0]?.startsWith('MSH') ? segments[0][3] : '|';
  return h(
    'div',
    { class: 'hl7-grid', tabindex: 0, role: 'region', 'aria-label': caption },
    h(
      'table',
      {},
      h('caption', { class: 'sr-only' }, caption),
      h(
        'tbody',
        {},
        segments.map((line) => {
          const id = line.slice(0, 3);
          const parts = line.split(sep);
          // MSH-1 is the separator itself: the text after 'MSH|' starts at MSH-2.
          const fields = id === 'MSH' ? [sep, ...parts.slice(1)] : parts.slice(1);
          return h(
            'tr',
            {},
            h('th', { scope: 'row' }, id),
            fields.map((value, i) => {
              const n = i + 1;
              const name = `${id}-${n}${fieldName(id, n) ? ` ${fieldName(id, n)}` : ''}`;
              return h('td', { title: name, dataset: { field: `${id}-${n}` } }, h('span', { class: 'sr-only' }, `${name}: `), value);
            }),
          );
        }),
      ),
    ),
  );
}
