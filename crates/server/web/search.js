// search.js — one box atop the side panels that finds a tube barcode, box, centre,
// lab, drone or mission in the current View (client-side, nothing fetched);
// choosing a result opens its details and centres the map on it.

import { t } from './i18n.js';
import { h } from './dom.js';
import { localName } from './phrases.js';

const LIMIT = 12;

/** Everything findable in `view`: `{kind, id, label, focus: {kind, id}}`. */
function entries(view, ctx) {
  const out = [];
  const boxOf = new Map();
  for (const b of view.boxes || []) {
    out.push({ kind: 'box', id: String(b.id), label: b.station, focus: { kind: 'box', id: String(b.id) } });
    for (const bc of b.barcodes || []) boxOf.set(bc, b);
  }
  const tubes = new Set([...boxOf.keys(), ...(view.at_risk || []).map((r) => r.barcode)]);
  for (const bc of tubes) {
    const b = boxOf.get(bc);
    out.push({ kind: 'tube', id: bc, label: b ? `${b.id} · ${b.station}` : '', focus: b ? { kind: 'box', id: String(b.id) } : null });
  }
  for (const s of view.stations || []) {
    const props = ctx.staticProps.stations.get(s.id);
    out.push({ kind: 'station', id: s.id, label: localName(s.id, props, s), names: [s.name, props?.name_zh], focus: { kind: 'station', id: s.id } });
  }
  for (const l of view.labs || []) {
    const props = ctx.staticProps.labs.get(l.id);
    out.push({ kind: 'lab', id: l.id, label: localName(l.id, props, l), names: [l.name, props?.name_zh], focus: { kind: 'lab', id: l.id } });
  }
  for (const d of view.drones || []) {
    out.push({ kind: 'drone', id: d.id, label: d.mission ?? '', focus: { kind: 'drone', id: d.id } });
  }
  for (const m of view.missions || []) {
    if (m.column === 'queued') continue; // a queued card is a box, listed above
    const focus = m.carrier === 'drone' && m.vehicle ? { kind: 'drone', id: m.vehicle } : { kind: 'station', id: m.station };
    out.push({ kind: 'mission', id: m.id, label: `${m.vehicle || ''} → ${m.lab || ''}`, focus });
  }
  return out;
}

/** Exact id, then id prefix, then id or name containing the query. */
export function findIn(view, ctx, query) {
  const q = query.trim().toLowerCase();
  if (!q || !view) return [];
  const rank = (e) => {
    const id = e.id.toLowerCase();
    if (id === q) return 0;
    if (id.startsWith(q)) return 1;
    if (id.includes(q)) return 2;
    if ((e.names || []).some((n) => n && n.toLowerCase().includes(q))) return 3;
    return -1;
  };
  return entries(view, ctx)
    .map((e) => ({ e, r: rank(e) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || a.e.id.localeCompare(b.e.id, 'en', { numeric: true }))
    .slice(0, LIMIT)
    .map((x) => x.e);
}

/** Puts the search box at the top of `side`; `getView()` is the View on screen. */
export function mountSearch(side, ctx, getView) {
  const input = h('input', {
    type: 'search', class: 'search-input', testid: 'search-input', autocomplete: 'off', spellcheck: 'false',
    'aria-label': t('search.label'), placeholder: t('search.placeholder'),
    data: { i18nPlaceholder: 'search.placeholder' },
  });
  const results = h('ul', { class: 'search-results', testid: 'search-results', role: 'listbox', hidden: true });
  const wrap = h('div', { class: 'search', role: 'search' }, input, results);
  side.prepend(wrap);

  let shown = [];
  function choose(e) {
    results.hidden = true;
    input.blur();
    ctx.select({ kind: e.kind, id: e.id });
    if (e.focus) ctx.focus(e.focus.kind, e.focus.id);
  }
  function refresh() {
    shown = findIn(getView(), ctx, input.value);
    results.replaceChildren(...(shown.length ? shown.map((e) => h('li', {},
      h('button', {
        type: 'button', class: 'search-result', testid: 'search-result', role: 'option',
        data: { kind: e.kind, id: e.id }, on: { click: () => choose(e) },
      }, h('span', { class: 'badge sr-kind', text: t(`details.${e.kind}`) }), ' ', h('b', { text: e.id }), ' ',
      h('span', { class: 'sr-label', text: e.label && e.label !== e.id ? e.label : '' }))))
      : [h('li', { class: 'empty', text: t('search.none') })]));
    results.hidden = !input.value.trim();
  }
  input.addEventListener('input', refresh);
  input.addEventListener('focus', () => { if (input.value.trim()) refresh(); });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && shown.length) { ev.preventDefault(); choose(shown[0]); }
    if (ev.key === 'Escape') { results.hidden = true; input.blur(); }
  });
  document.addEventListener('click', (ev) => { if (!wrap.contains(ev.target)) results.hidden = true; });
  return { relabel: () => { input.setAttribute('aria-label', t('search.label')); if (!results.hidden) refresh(); } };
}
