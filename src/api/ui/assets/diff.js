// Side-by-side line diff of two JSON documents (longest common subsequence over lines).
import { h } from './dom.js';

const MAX_CELLS = 4_000_000;

export function diffView(left, right) {
  const a = JSON.stringify(left, null, 2).split('\n');
  const b = JSON.stringify(right, null, 2).split('\n');
  const rows = pair(ops(a, b));
  const changed = rows.filter((r) => r.kind !== 'same').length;
  return h(
    'div',
    { class: 'diff' },
    h('p', { class: 'muted' }, changed ? `${changed} changed line${changed === 1 ? '' : 's'}` : 'No differences'),
    h(
      'table',
      { class: 'diff-table' },
      h(
        'tbody',
        {},
        rows.map((r) =>
          h('tr', { class: r.kind }, h('td', { class: 'del' }, r.left ?? ''), h('td', { class: 'add' }, r.right ?? '')),
        ),
      ),
    ),
  );
}

function ops(a, b) {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_CELLS) return [...a.map((l) => ['del', l]), ...b.map((l) => ['add', l])];
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) out.push(['same', a[i++], b[j++]]);
    else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) out.push(['add', b[j++]]);
    else out.push(['del', a[i++]]);
  }
  return out;
}

/** Deleted and added runs next to each other become one changed row per line. */
function pair(list) {
  const rows = [];
  let dels = [];
  let adds = [];
  const flush = () => {
    for (let k = 0; k < Math.max(dels.length, adds.length); k++)
      rows.push({
        kind: dels[k] !== undefined && adds[k] !== undefined ? 'change' : dels[k] !== undefined ? 'removed' : 'added',
        left: dels[k],
        right: adds[k],
      });
    dels = [];
    adds = [];
  };
  for (const [kind, x, y] of list) {
    if (kind === 'del') dels.push(x);
    else if (kind === 'add') adds.push(x);
    else {
      flush();
      rows.push({ kind: 'same', left: x, right: y });
    }
  }
  flush();
  return rows;
}
