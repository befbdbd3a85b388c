// A JSON editor for definitions, checked as you type against POST /v1/workflows/validate (the
// same checks as saving: schema, ids, references, expressions), every problem with its pointer.
import { api } from './api.js';
import { h, toast } from './dom.js';

export function editor({ initial, saveLabel, onSave }) {
  const area = h('textarea', {
    class: 'code',
    id: 'definition',
    spellcheck: 'false',
    rows: 26,
    'aria-label': 'Definition (JSON)',
    'aria-describedby': 'validation',
  });
  area.value = JSON.stringify(initial, null, 2);
  const report = h('div', { class: 'validation', id: 'validation', role: 'status', 'aria-live': 'polite' });
  const save = h('button', { type: 'button', class: 'primary', title: 'Ctrl+S' }, saveLabel);
  let seq = 0;
  let timer;

  const show = (problems) => {
    report.replaceChildren();
    report.classList.toggle('ok', problems.length === 0);
    if (!problems.length) return void report.append('✓ Valid');
    report.append(
      h(
        'ul',
        {},
        problems.map((p) => h('li', {}, p.pointer ? h('code', {}, p.pointer) : null, p.pointer ? ' ' : '', p.message)),
      ),
    );
  };
  /** The parsed definition when it is valid; otherwise shows why and answers undefined. */
  const validate = async () => {
    const mine = ++seq;
    let parsed;
    try {
      parsed = JSON.parse(area.value);
    } catch (err) {
      show([{ pointer: '', message: `not JSON: ${err.message}` }]);
      return undefined;
    }
    try {
      await api('POST', '/v1/workflows/validate', parsed);
      if (mine === seq) show([]);
      return parsed;
    } catch (err) {
      if (mine === seq) show(err.problem?.errors ?? [{ pointer: '', message: err.message }]);
      return undefined;
    }
  };
  const submit = async () => {
    const parsed = await validate();
    if (!parsed) return void toast('Fix the definition first', 'error');
    save.disabled = true;
    try {
      await onSave(parsed);
    } catch (err) {
      show(err.problem?.errors ?? [{ pointer: '', message: err.message }]);
    } finally {
      save.disabled = false;
    }
  };

  area.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void validate(), 300);
  });
  area.addEventListener('keydown', (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.key !== 's') return;
    e.preventDefault();
    void submit();
  });
  save.addEventListener('click', () => void submit());
  void validate();
  return h('div', { class: 'editor' }, area, report, h('div', { class: 'actions' }, save));
}
