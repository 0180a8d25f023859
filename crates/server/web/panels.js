// panels.js — the side panels drawn from each View: KPI tiles, the mission
// board and hook deliveries (tubes at risk: worklist.js; alerts: triage.js; the
// labs' backlog: backlog.js). Lists are kept in place by key so a card under
// the pointer is never replaced mid-click.

import { t, tStatus } from './i18n.js';
import { h, setText, setAttr, syncList, fmtTime, fmtNum, clear } from './dom.js';
import { family } from './phrases.js';

const COLUMNS = ['queued', 'assigned', 'in_flight', 'delivered', 'aborted'];
const CAP = { delivered: 30, aborted: 30 };

/**
 * The server sends the board newest first; this only makes sure numbered
 * missions (M-000012) stay so, and leaves anything else (queued boxes) in order.
 */
const MISSION_NO = /^M-(\d+)$/;
function byIdDesc(a, b) {
  const x = MISSION_NO.exec(a.id);
  const y = MISSION_NO.exec(b.id);
  return x && y ? Number(y[1]) - Number(x[1]) : 0;
}

function empty(container, key) {
  if (container.children.length === 0) container.append(h('p', { class: 'empty', text: t(key) }));
}

export function renderKpis(root, view, ctx) {
  const k = view.kpis || {};
  const tile = (id, value, sub) => {
    const el = root.querySelector(`[data-testid="${id}"]`);
    setText(el.querySelector('.kpi-value'), value);
    if (sub !== undefined) setText(el.querySelector('.kpi-sub'), sub);
  };
  tile('kpi-on-track', k.on_track_pct == null ? '—' : `${fmtNum(k.on_track_pct, 1)}%`,
    `${t('kpi.tubes')} ${k.tubes ?? '—'}`);
  tile('kpi-tat', `${fmtNum(k.tat_p50_min)} / ${fmtNum(k.tat_p90_min)}`, t('unit.min'));
  tile('kpi-flights', k.flights ?? '—', `${t('kpi.reported')} ${k.reported ?? '—'}`);
  tile('kpi-drones', `${k.drones_available ?? '—'} / ${k.drones_total ?? '—'}`,
    `${t('kpi.at_risk')} ${k.at_risk ?? '—'}`);

  const grounded = !!k.fleet_grounded;
  const fleet = root.querySelector('[data-testid="fleet-state"]');
  setAttr(fleet, 'data-grounded', grounded ? 'true' : 'false');
  fleet.classList.toggle('grounded', grounded);
  setText(fleet, (grounded ? t('fleet.grounded') : t('fleet.flying')) +
    (grounded && k.grounded_by_weather ? t('fleet.weather') : ''));
  syncFleetControls(root, ctx);
}

/** Ground and release: shown to coordinators only, enabled while they can steer. */
export function syncFleetControls(root, ctx) {
  const can = ctx.canControl();
  for (const id of ['btn-ground', 'btn-release']) {
    const b = root.querySelector(`[data-testid="${id}"]`);
    b.hidden = ctx.role !== 'coordinator';
    if (!b.dataset.busy) b.disabled = !can;
  }
}

export function renderBoard(root, view, ctx) {
  const missions = view.missions || [];
  for (const col of COLUMNS) {
    const section = root.querySelector(`[data-board-column="${col}"]`);
    if (!section) continue;
    const all = missions.filter((m) => m.column === col).sort(byIdDesc);
    const shown = CAP[col] ? all.slice(0, CAP[col]) : all;
    setText(section.querySelector('.col-count'), all.length);
    section.hidden = col === 'aborted' && all.length === 0;
    const list = section.querySelector('.col-cards');
    syncList(list, shown, (m) => m.id, (m) => {
      const card = h('button', {
        type: 'button', class: 'mission-card', testid: 'mission-card',
        on: { click: () => ctx.select({ kind: 'mission', id: card.dataset.mission }) },
      },
      h('span', { class: 'mc-top' }, h('b', { class: 'mc-id' }), h('span', { class: 'mc-vehicle' })),
      h('span', { class: 'mc-route' }),
      h('span', { class: 'mc-meta' }));
      return card;
    }, (card, m) => {
      setAttr(card, 'data-mission', m.id);
      setAttr(card, 'data-column', m.column);
      card.classList.toggle('van', m.carrier === 'van');
      card.classList.toggle('selected', ctx.isSelected('mission', m.id));
      setText(card.querySelector('.mc-id'), m.id);
      setText(card.querySelector('.mc-vehicle'), m.vehicle ? `${tStatus('carrier', m.carrier)} ${m.vehicle}` : '');
      const first = m.pickup_pad ? t('board.from_pad', { pad: m.pickup_pad, station: m.station }) : (m.station || '—');
      const centres = [first, ...(m.later_stops || [])];
      setText(card.querySelector('.mc-route'), `${centres.join(' → ')} → ${m.lab || '—'}`);
      setText(card.querySelector('.mc-meta'), `${t('details.boxes')} ${(m.boxes || []).length}` +
        (m.planned_arrival ? ` · ${t('details.arrival')} ${fmtTime(m.planned_arrival)}` : '') +
        (m.column === 'queued' && m.deadline ? ` · ${t('details.deadline')} ${fmtTime(m.deadline)}` : ''));
    });
    const more = section.querySelector('.col-more');
    more.hidden = all.length <= shown.length;
    setText(more, t('board.more', { n: shown.length }));
    empty(list, 'board.empty');
  }
}

/** A family × (queue, inbound) table; rebuilt only when the numbers change. */
export function fillQueueTable(table, lab) {
  const queue = lab.queue || {};
  const inbound = lab.inbound || {};
  const families = [...new Set([...Object.keys(queue), ...Object.keys(inbound)])].sort();
  const sig = JSON.stringify([families.map((f) => [f, queue[f] ?? 0, inbound[f] ?? 0]), t('labs.queue')]);
  if (table.dataset.sig === sig) return;
  table.dataset.sig = sig;
  clear(table);
  table.append(h('thead', {}, h('tr', {},
    h('th', { text: t('labs.family') }), h('th', { text: t('labs.queue') }), h('th', { text: t('labs.inbound') }))));
  const body = h('tbody');
  for (const f of families) {
    body.append(h('tr', {}, h('td', { text: family(f) }), h('td', { text: queue[f] ?? 0 }), h('td', { text: inbound[f] ?? 0 })));
  }
  table.append(body);
}

export function renderHooks(root, view, ctx) {
  const hooks = view.hooks || { pending: 0, failed: 0, delivered: 0, recent: [] };
  const panel = root.querySelector('[data-testid="hook-panel"]');
  setText(panel.querySelector('.hk-pending'), hooks.pending ?? 0);
  setText(panel.querySelector('.hk-failed'), hooks.failed ?? 0);
  setText(panel.querySelector('.hk-delivered'), hooks.delivered ?? 0);
  panel.querySelector('.hk-failed').closest('.hk-count').classList.toggle('bad', (hooks.failed ?? 0) > 0);
  const list = panel.querySelector('.hk-recent');
  const items = (hooks.recent || []).map((r, i) => ({ ...r, _key: `${r.webhook_id}|${r.barcode}|${r.kind}|${i}` }));
  syncList(list, items, (r) => r._key, (r) => h('li', { class: 'hook-item' },
    h('div', { class: 'row' }, h('span', { class: 'badge hk-status' }), h('b', { class: 'hk-kind' }),
      h('button', { type: 'button', class: 'link barcode', on: { click: (e) => ctx.select({ kind: 'tube', id: e.currentTarget.dataset.barcode }) } })),
    h('div', { class: 'row' }, h('span', { class: 'hk-attempts' }), h('span', { class: 'hk-error' }),
      h('button', {
        type: 'button', class: 'btn small hk-resend',
        on: { click: (e) => ctx.control(`/api/v1/hooks/deliveries/${encodeURIComponent(e.currentTarget.dataset.webhook)}/resend`, undefined, e.currentTarget) },
      }))),
  (li, r) => {
    li.className = `hook-item hs-${r.status}`;
    const status = li.querySelector('.hk-status');
    status.className = `badge hk-status ${r.status}`;
    setText(status, tStatus('status', r.status));
    setText(li.querySelector('.hk-kind'), `${r.kind ?? ''} · #${r.webhook_id ?? ''}`);
    const bc = li.querySelector('.barcode');
    bc.dataset.barcode = r.barcode ?? '';
    setText(bc, r.barcode ?? '');
    setText(li.querySelector('.hk-attempts'), t('hooks.attempts', { n: r.attempts ?? 0 }));
    setText(li.querySelector('.hk-error'), r.last_error ?? '');
    const btn = li.querySelector('.hk-resend');
    btn.dataset.webhook = r.webhook_id ?? '';
    setText(btn, t('hooks.resend'));
    btn.hidden = ctx.role !== 'coordinator' || !(r.status === 'failed' || r.status === 'gone');
    if (!btn.dataset.busy) btn.disabled = !ctx.canControl();
  });
  empty(list, 'hooks.empty');
  return hooks.failed ?? 0;
}
