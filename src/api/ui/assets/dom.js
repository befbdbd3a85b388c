// A tiny element builder. Every value goes in as text, never as markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    // Through the CSSOM: the page's CSP refuses style attributes.
    else if (k === 'style') Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const TERMINAL = ['completed', 'failed', 'cancelled', 'timed_out', 'terminated'];
export const isTerminal = (status) => TERMINAL.includes(status);

export function badge(status) {
  return h('span', { class: `badge s-${status}` }, status.replace('_', ' '));
}

export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return h(
    'time',
    { datetime: iso, title: iso },
    d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }),
  );
}

export function duration(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} m`;
}

export const span = (from, to) => (from ? (to ? Date.parse(to) : Date.now()) - Date.parse(from) : undefined);

export function code(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2) ?? 'null');
}

export function toast(message, kind = 'info') {
  const box = document.getElementById('toast');
  const item = h('div', { class: `toast ${kind}` }, message);
  box.append(item);
  setTimeout(() => item.remove(), 5000);
}

/** A section heading with actions on its right. */
export function heading(title, ...actions) {
  return h('div', { class: 'heading' }, h('h1', {}, title), h('div', { class: 'actions' }, actions));
}

export function failure(err) {
  return h('div', { class: 'alert', role: 'alert' }, err instanceof Error ? err.message : String(err));
}

/** A button that runs `action` once at a time and reports its failure. */
export function actionButton(label, action, attrs = {}) {
  const button = h('button', { type: 'button', ...attrs }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), 'error');
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
