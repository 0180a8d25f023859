// fleet.js — the fleet table: every drone with its battery, state, mission
// and the mission's planned arrival (ETA), in id order; a row opens the drone.

import { t, tStatus } from './i18n.js';
import { h, setText, syncList, fmtTime } from './dom.js';

/** Builds the table inside `panel`; returns its body for `renderFleet`. */
export function mountFleet(panel) {
  const head = h('thead', {}, h('tr'));
  const body = h('tbody');
  const table = h('table', { class: 'fleet-table', testid: 'fleet-table' }, head, body);
  panel.append(h('div', { class: 'fleet-wrap' }, table));
  relabelFleet(table);
  return table;
}

const COLUMNS = [['id', 'details.drone'], ['battery', 'details.battery'], ['status', 'details.status'], ['mission', 'details.mission_of'], ['eta', 'fleet.eta']];

export function relabelFleet(table) {
  table.tHead.rows[0].replaceChildren(...COLUMNS.map(([c, key]) => h('th', { class: `fc-${c}`, text: t(key) })));
}

const ORDER = (a, b) => String(a.id).localeCompare(String(b.id), 'en', { numeric: true });

/** One row per drone; returns how many are flying a mission. */
export function renderFleet(table, view, ctx) {
  const drones = [...(view.drones || [])].sort(ORDER);
  syncList(table.tBodies[0], drones, (d) => d.id, () => h('tr', { testid: 'fleet-row' },
    h('td', {}, h('button', { type: 'button', class: 'link drone', on: { click: (e) => ctx.select({ kind: 'drone', id: e.currentTarget.dataset.id }) } })),
    h('td', { class: 'num' }, h('span', { class: 'battery' }, h('span', { class: 'bar' }, h('i')), h('b'))),
    h('td', { class: 'state' }),
    h('td', {}, h('button', { type: 'button', class: 'link mission', on: { click: (e) => ctx.select({ kind: 'mission', id: e.currentTarget.dataset.id }) } })),
    h('td', { class: 'eta' })),
  (tr, d) => {
    tr.dataset.drone = d.id;
    const id = tr.querySelector('.drone');
    id.dataset.id = d.id;
    setText(id, d.id);
    const pct = d.battery_pct == null ? null : Math.max(0, Math.min(100, d.battery_pct));
    const bat = tr.querySelector('.battery');
    bat.querySelector('i').style.width = `${pct ?? 0}%`;
    bat.classList.toggle('low', pct != null && pct < 25);
    setText(bat.lastChild, pct == null ? '—' : `${Math.round(pct)}%`);
    const flags = [tStatus('status', d.status)];
    if (d.paused) flags.push(t('status.paused'));
    if (d.link_lost) flags.push(t('status.link_lost'));
    setText(tr.querySelector('.state'), flags.join(' · '));
    const m = tr.querySelector('.mission');
    m.dataset.id = d.mission ?? '';
    m.hidden = !d.mission;
    setText(m, d.mission ?? '');
    setText(tr.querySelector('.eta'), d.eta ? fmtTime(d.eta) : '—');
    tr.classList.toggle('selected', ctx.isSelected('drone', d.id));
  });
  return drones.filter((d) => d.mission).length;
}
