// worklist.js — the two lists a coordinator works down: tubes at risk and
// boxes waiting to fly, each soonest deadline first, optionally grouped by
// centre or by lab (one choice for both, kept in localStorage). Reasons are
// rendered from the forecast's risk code in the chosen language.

import { t, tStatus } from './i18n.js';
import { h, setText, syncList, fmtTime } from './dom.js';
import { riskReason } from './phrases.js';

const KEY = 'labflight.group';
const MODES = ['none', 'station', 'lab'];
let mode = 'none';
try {
  if (MODES.includes(localStorage.getItem(KEY))) mode = localStorage.getItem(KEY);
} catch { /* storage may be blocked */ }

const pickers = new Set();

/** A "group by" select placed before `list`; `onChange` redraws. */
export function mountGrouping(list, onChange, testid) {
  const select = h('select', { class: 'group-by', testid, 'aria-label': t('group.label') });
  select.addEventListener('change', () => {
    mode = MODES.includes(select.value) ? select.value : 'none';
    try { localStorage.setItem(KEY, mode); } catch { /* ignore */ }
    for (const p of pickers) p.value = mode;
    onChange();
  });
  pickers.add(select);
  list.before(h('div', { class: 'list-tools' }, h('label', {}, h('span', { class: 'lbl', data: { i18n: 'group.label' }, text: t('group.label') }), ' ', select)));
  relabelGrouping();
}

/** Refills the group options in the current language. */
export function relabelGrouping() {
  for (const select of pickers) {
    select.replaceChildren(...MODES.map((m) => h('option', { value: m, text: t(`group.${m}`) })));
    select.value = mode;
  }
}

const byTime = (a, b) => String(a ?? '\uffff').localeCompare(String(b ?? '\uffff'));

/**
 * Items sorted by `deadline(item)`, with a group heading row before each group
 * when grouping: `{heading: true, key, label, n}` rows among the items.
 */
function grouped(items, deadline, groupOf, label) {
  const sorted = [...items].sort((a, b) => byTime(deadline(a), deadline(b)));
  if (mode === 'none') return sorted;
  const groups = new Map();
  for (const it of sorted) {
    const g = groupOf(it, mode) || '';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(it);
  }
  // Groups in the order of their most urgent item.
  const rows = [];
  for (const [g, list] of groups) {
    rows.push({ heading: true, key: `g:${mode}:${g}`, label: label(g, mode), n: list.length });
    rows.push(...list);
  }
  return rows;
}

function headingRow(row) {
  return h('li', { class: 'group-head', testid: 'group-head' }, h('b', { class: 'g-label' }), ' ', h('i', { class: 'count g-count' }));
}

function groupLabel(ctx) {
  return (g, m) => (g ? (m === 'lab' ? ctx.labName(g) : ctx.stationName(g)) : t('group.no_lab'));
}

/** The at-risk list: soonest stability limit first; returns how many tubes. */
export function renderAtRisk(root, view, ctx) {
  const items = view.at_risk || [];
  const list = root.querySelector('[data-testid="at-risk-list"]');
  const rows = grouped(items, (r) => r.stability_limit, (r, m) => (m === 'lab' ? (r.risk?.lab || r.lab) : r.station), groupLabel(ctx));
  syncList(list, rows, (r) => (r.heading ? r.key : r.barcode), (r) => (r.heading ? headingRow(r) : h('li', { class: 'risk-item', testid: 'risk-item' },
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'link barcode', on: { click: (e) => ctx.select({ kind: 'tube', id: e.currentTarget.dataset.barcode }) } }),
      h('button', { type: 'button', class: 'link station', on: { click: (e) => ctx.select({ kind: 'station', id: e.currentTarget.dataset.station }) } }),
      h('span', { class: 'badge status' })),
    h('div', { class: 'row times' }, h('span', { class: 'limit' }), h('span', { class: 'predicted' }), h('span', { class: 'cutoff' })),
    h('div', { class: 'reason' }))),
  (li, r) => {
    if (r.heading) {
      setText(li.querySelector('.g-label'), r.label);
      setText(li.querySelector('.g-count'), r.n);
      return;
    }
    li.dataset.code = r.risk?.code ?? '';
    const bc = li.querySelector('.barcode');
    bc.dataset.barcode = r.barcode;
    setText(bc, r.barcode);
    const st = li.querySelector('.station');
    st.dataset.station = r.station ?? '';
    setText(st, `${r.station ?? '—'}${r.box ? ` / ${r.box}` : ''}`);
    setText(li.querySelector('.status'), tStatus('status', r.status));
    setText(li.querySelector('.limit'), `${t('risk.limit')} ${fmtTime(r.stability_limit)}`);
    const late = r.predicted_result && r.cutoff && new Date(r.predicted_result) > new Date(r.cutoff);
    const p = li.querySelector('.predicted');
    p.classList.toggle('late', !!late || !r.predicted_result);
    setText(p, `${t('risk.predicted')} ${r.predicted_result ? fmtTime(r.predicted_result) : t('risk.none')}`);
    setText(li.querySelector('.cutoff'), `${t('risk.cutoff')} ${fmtTime(r.cutoff)}`);
    setText(li.querySelector('.reason'), riskReason(r));
  });
  if (!list.children.length) list.append(h('p', { class: 'empty', text: t('risk.empty') }));
  return items.length;
}

/**
 * Boxes not yet aboard (waiting or assigned), soonest stability deadline first.
 * Their lab: the mission's, else the forecast's for an at-risk tube of theirs.
 */
export function renderPendingBoxes(list, view, ctx) {
  const missionLab = new Map((view.missions || []).map((m) => [m.id, m.lab]));
  const forecastLab = new Map();
  for (const r of view.at_risk || []) if (r.box && (r.risk?.lab || r.lab)) forecastLab.set(String(r.box), r.risk?.lab || r.lab);
  const labOf = (b) => (b.mission && missionLab.get(b.mission)) || forecastLab.get(String(b.id)) || '';
  const items = (view.boxes || []).filter((b) => b.status === 'waiting' || b.status === 'assigned');
  const rows = grouped(items, (b) => b.stability_deadline, (b, m) => (m === 'lab' ? labOf(b) : b.station), groupLabel(ctx));
  syncList(list, rows, (r) => (r.heading ? r.key : `b:${r.id}`), (r) => (r.heading ? headingRow(r) : h('li', { class: 'box-item', testid: 'box-item' },
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'link box', on: { click: (e) => ctx.select({ kind: 'box', id: e.currentTarget.dataset.box }) } }),
      h('button', { type: 'button', class: 'link station', on: { click: (e) => ctx.select({ kind: 'station', id: e.currentTarget.dataset.station }) } }),
      h('span', { class: 'badge status' })),
    h('div', { class: 'row times' }, h('span', { class: 'deadline' }), h('span', { class: 'meta' })))),
  (li, r) => {
    if (r.heading) {
      setText(li.querySelector('.g-label'), r.label);
      setText(li.querySelector('.g-count'), r.n);
      return;
    }
    li.dataset.deadline = r.stability_deadline ?? '';
    const bx = li.querySelector('.box');
    bx.dataset.box = r.id;
    setText(bx, r.id);
    const st = li.querySelector('.station');
    st.dataset.station = r.station ?? '';
    setText(st, r.station ?? '—');
    setText(li.querySelector('.status'), tStatus('status', r.status));
    setText(li.querySelector('.deadline'), `${t('details.deadline')} ${fmtTime(r.stability_deadline)}`);
    const lab = labOf(r);
    setText(li.querySelector('.meta'), `${t('details.tubes')} ${r.tubes ?? 0}${lab ? ` → ${lab}` : ''}`);
  });
  if (!list.children.length) list.append(h('p', { class: 'empty', text: t('boxes.empty') }));
  return items.length;
}
