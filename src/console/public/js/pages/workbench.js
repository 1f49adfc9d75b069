import { allows, api } from '../api.js';
import { h, mount, toast } from '../dom.js';
import { lineEditor } from '../views/editor.js';
import { hl7Grid } from '../views/hl7-grid.js';
import { jsonTree } from '../views/json-tree.js';

/**
 * The mapping workbench: pick a channel and a sample (or paste an input), edit its mapping, code
 * tables or channel file, and see the canonical report and every destination's output change as
 * you type, with problems inline (file, line, what was expected) and the diff against the golden
 * files. Nothing runs differently until Save, which writes only a configuration the engine takes.
 */
export function workbenchPage(me, params) {
  if (!allows(me, 'integrator')) return { el: h('p', { role: 'alert' }, 'The workbench needs the integrator role.') };
  const edited = {};
  let channels = [];
  let timer;
  let seq = 0;

  const channelSelect = h('select', { id: 'wb-channel' });
  const sampleSelect = h('select', { id: 'wb-sample' }, h('option', { value: '' }, 'paste an input below'));
  const pasted = h('textarea', { id: 'wb-input', rows: 6, spellcheck: 'false', placeholder: 'A platform event (JSON) or an HL7 v2 message' });
  const fileSelect = h('select', { id: 'wb-file' });
  const editor = lineEditor({
    id: 'wb-editor',
    label: 'File',
    onInput: (text) => {
      edited[fileSelect.value] = text;
      schedule();
    },
  });
  const status = h('p', { class: 'help', 'aria-live': 'polite' });
  const saveButton = h('button', { type: 'button', onclick: () => save() }, 'Save');
  const resetButton = h('button', { type: 'button', class: 'secondary', onclick: () => reset() }, 'Discard edits');
  const output = h('div', { class: 'wb-output', 'aria-live': 'polite' });

  const el = h(
    'section',
    { 'aria-labelledby': 'wb-title', class: 'workbench' },
    h('h1', { id: 'wb-title' }, 'Mapping workbench'),
    h(
      'div',
      { class: 'wb-controls' },
      h('div', { class: 'field' }, h('label', { for: 'wb-channel' }, 'Channel'), channelSelect),
      h('div', { class: 'field' }, h('label', { for: 'wb-sample' }, 'Sample'), sampleSelect),
      h('div', { class: 'field' }, h('label', { for: 'wb-file' }, 'Edit'), fileSelect),
    ),
    h('div', { class: 'field wide' }, h('label', { for: 'wb-input' }, 'Input'), pasted),
    h('div', { class: 'wb-main' }, h('div', { class: 'wb-edit' }, editor.el, h('div', { class: 'actions' }, saveButton, resetButton), status), output),
  );

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(run, 300);
  };

  async function run() {
    const mine = ++seq;
    const body = { channel: channelSelect.value, files: edited };
    if (sampleSelect.value) body.sample = sampleSelect.value;
    else body.input = pasted.value;
    if (!body.sample && !body.input.trim()) {
      mount(output, h('p', {}, 'Pick a sample or paste an input.'));
      return;
    }
    try {
      const r = await api('/api/workbench/preview', { method: 'POST', body });
      if (mine !== seq) return;
      show(r);
    } catch (err) {
      if (mine === seq) mount(output, h('p', { class: 'error', role: 'alert' }, err.message));
    }
  }

  function show(r) {
    const file = fileSelect.value;
    editor.problems((r.issues ?? []).filter((i) => i.file === file));
    const others = (r.issues ?? []).filter((i) => i.file !== file);
    const parts = [];
    if (r.issues?.length) {
      parts.push(
        h(
          'div',
          { class: 'card problems-all', role: 'alert' },
          h('h2', {}, `${r.issues.length} problem${r.issues.length === 1 ? '' : 's'}: the channel would not load like this`),
          others.length ? h('ul', {}, others.map((i) => h('li', {}, `${i.file}${i.line ? `:${i.line}` : ''} ${i.path ? `${i.path}: ` : ''}${i.message}`))) : null,
        ),
      );
    }
    const res = r.result;
    if (res?.refused) {
      parts.push(h('div', { class: 'card' }, h('h2', {}, `Input refused (${res.refused.code})`), h('ul', {}, res.refused.issues.map((i) => h('li', {}, `${i.path}: ${i.message}`)))));
    }
    for (const [n, report] of (res?.reports ?? []).entries()) {
      const title = res.reports.length > 1 ? `Report ${n + 1} of ${res.reports.length}` : 'Result';
      parts.push(
        h(
          'div',
          { class: 'card report' },
          h('h2', {}, title),
          report.filteredBy ? h('p', {}, `Filtered: ${report.filteredBy}`) : null,
          h('details', { open: true }, h('summary', {}, 'Canonical report'), report.canonical ? jsonTree(report.canonical, 1) : h('p', {}, 'none')),
          report.outputs.map((o) =>
            h(
              'details',
              { open: true, class: 'output', dataset: { destination: o.destination } },
              h('summary', {}, `${o.destination} (${o.contentType})`),
              o.warnings ? h('ul', { class: 'warnings' }, o.warnings.map((w) => h('li', {}, w))) : null,
              o.format === 'hl7v2' ? hl7Grid(o.payload, `${o.destination}: output`) : o.format === 'json' ? jsonTree(JSON.parse(o.payload), 2) : h('pre', {}, o.payload),
            ),
          ),
        ),
      );
    }
    if (res?.golden?.length) {
      parts.push(
        h(
          'div',
          { class: 'card golden' },
          h('h2', {}, 'Against the golden files'),
          h(
            'ul',
            {},
            res.golden.map((g) =>
              h('li', { class: `g-${g.status}` }, h('strong', {}, g.status), ` ${g.file}`, g.diff.length ? h('pre', { class: 'diff' }, g.diff.join('\n')) : null),
            ),
          ),
        ),
      );
    }
    mount(output, ...parts);
  }

  async function openFile(path) {
    fileSelect.value = path;
    if (edited[path] !== undefined) editor.value = edited[path];
    else {
      try {
        editor.value = (await api(`/api/workbench/file?path=${encodeURIComponent(path)}`)).text;
      } catch (err) {
        editor.value = '';
        status.textContent = err.message;
      }
    }
    schedule();
  }

  async function loadChannel() {
    const c = channels.find((x) => x.id === channelSelect.value);
    mount(sampleSelect, h('option', { value: '' }, 'paste an input below'));
    try {
      const { samples } = await api(`/api/workbench/samples?channel=${encodeURIComponent(channelSelect.value)}`);
      for (const s of samples) sampleSelect.append(h('option', { value: s.name }, s.name));
      if (samples[0]) sampleSelect.value = params.get('sample') && samples.some((s) => s.name === params.get('sample')) ? params.get('sample') : samples[0].name;
    } catch (err) {
      status.textContent = err.message;
    }
    const inbound = c?.mappings?.inbound?.split('@')[0];
    const path = inbound ? `mappings/${inbound}.yaml` : `channels/${c?.id}.yaml`;
    if ([...fileSelect.options].some((o) => o.value === path)) await openFile(path);
    else schedule();
  }

  async function save() {
    if (Object.keys(edited).length === 0) {
      status.textContent = 'Nothing edited.';
      return;
    }
    status.textContent = 'Saving…';
    try {
      const r = await api('/api/workbench/save', { method: 'POST', body: { files: edited } });
      for (const k of Object.keys(edited)) delete edited[k];
      status.textContent = `Saved ${r.files.join(', ')}; ${r.reload.applied ? 'the engine runs it now' : 'the engine did not reload it'}.`;
      toast('Saved');
    } catch (err) {
      const issues = err.body?.issues;
      status.textContent = issues ? `Not saved: ${issues.length} problem(s), shown beside the files.` : `Not saved: ${err.message}`;
      if (issues) show({ issues });
    }
  }

  function reset() {
    for (const k of Object.keys(edited)) delete edited[k];
    openFile(fileSelect.value);
    status.textContent = 'Edits discarded.';
  }

  channelSelect.addEventListener('change', loadChannel);
  sampleSelect.addEventListener('change', schedule);
  pasted.addEventListener('input', () => {
    sampleSelect.value = '';
    schedule();
  });
  fileSelect.addEventListener('change', () => openFile(fileSelect.value));

  (async () => {
    try {
      const [c, f] = await Promise.all([api('/api/channels'), api('/api/workbench/files')]);
      channels = c.channels.filter((x) => x.mappings?.inbound);
      for (const ch of channels) channelSelect.append(h('option', { value: ch.id }, ch.id));
      for (const p of f.files) fileSelect.append(h('option', { value: p }, p));
      if (params.get('channel') && channels.some((x) => x.id === params.get('channel'))) channelSelect.value = params.get('channel');
      await loadChannel();
    } catch (err) {
      status.textContent = err.message;
    }
  })();
  return { el, leave: () => clearTimeout(timer) };
}
