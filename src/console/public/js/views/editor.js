import { h } from '../dom.js';

/**
 * A plain text editor: a textarea with line numbers beside it, lines with a problem marked in
 * the gutter. Keyboard and screen readers get a real textarea; nothing to load.
 */
export function lineEditor({ id, label, onInput }) {
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  const area = h('textarea', { id, spellcheck: 'false', autocomplete: 'off', wrap: 'off', 'aria-describedby': `${id}-problems` });
  const problems = h('ul', { id: `${id}-problems`, class: 'problems', 'aria-live': 'polite' });
  let marked = new Set();
  const renumber = () => {
    const n = area.value.split('\n').length;
    const lines = [];
    for (let i = 1; i <= n; i++) lines.push(h('div', { class: marked.has(i) ? 'bad' : undefined }, String(i)));
    gutter.replaceChildren(...lines);
    gutter.scrollTop = area.scrollTop;
  };
  area.addEventListener('input', () => {
    renumber();
    onInput(area.value);
  });
  area.addEventListener('scroll', () => {
    gutter.scrollTop = area.scrollTop;
  });
  // Tab indents (YAML), Escape leaves the editor for the keyboard's next control.
  area.addEventListener('keydown', (e) => {
    if (e.key === 'Tab' && !e.shiftKey && !area.dataset.escaped) {
      e.preventDefault();
      area.setRangeText('  ', area.selectionStart, area.selectionEnd, 'end');
      area.dispatchEvent(new Event('input'));
    } else if (e.key === 'Escape') {
      area.dataset.escaped = '1';
    }
  });
  area.addEventListener('blur', () => delete area.dataset.escaped);
  const el = h('div', { class: 'editor' }, h('label', { for: id }, label), h('div', { class: 'code' }, gutter, area), problems);
  return {
    el,
    get value() {
      return area.value;
    },
    set value(text) {
      area.value = text;
      renumber();
    },
    /** Marks lines and lists the problems of this file; each problem moves the caret to its line. */
    problems(list) {
      marked = new Set(list.map((p) => p.line).filter(Boolean));
      renumber();
      problems.replaceChildren(
        ...list.map((p) =>
          h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => goTo(p.line) }, `${p.file}${p.line ? `:${p.line}` : ''}`), ` ${p.path ? `${p.path}: ` : ''}${p.message}`),
        ),
      );
    },
  };
  function goTo(line) {
    if (!line) return area.focus();
    const lines = area.value.split('\n');
    const at = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    area.focus();
    area.setSelectionRange(at, at + (lines[line - 1]?.length ?? 0));
    area.scrollTop = Math.max(0, (line - 3) * parseFloat(getComputedStyle(area).lineHeight || '18'));
  }
}
