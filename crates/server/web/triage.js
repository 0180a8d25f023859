// triage.js — the alerts panel as a coordinator triages it: one row per
// (kind, subject) group (a box, centre, drone or lab) with its count and worst
// severity, expandable; filters by severity, kind and acknowledgement; one
// request to acknowledge a group or everything the filters show; and, opted in
// per browser, a desktop notice and/or a short beep for each new critical alert.

import { t, tStatus } from './i18n.js';
import { alertSubject, reasonText } from './phrases.js';
import { h, setText, setAttr, syncList, fmtTime } from './dom.js';

const RANK = { critical: 3, warning: 2, info: 1 };
const NOTIFY_KEY = 'labflight.alertNotify';
const SOUND_KEY = 'labflight.alertSound';

const filters = { severity: '', kind: '', acked: 'all' };
const expanded = new Set();
let wired = false;
let audio = null;
const watch = { mode: null, seen: new Set() };
let last = null; // the latest renderTriage arguments, for redraws on a filter or toggle

function redraw() {
  if (last) renderTriage(last.root, last.view, last.ctx);
}

/** Alerts newest first: by time, then by id. */
function newestFirst(a, b) {
  const ta = Date.parse(a.at) || 0;
  const tb = Date.parse(b.at) || 0;
  if (ta !== tb) return tb - ta;
  return String(b.id).localeCompare(String(a.id), 'en', { numeric: true });
}

function stored(key) {
  try { return localStorage.getItem(key) === '1'; } catch { return false; }
}

function store(key, on) {
  try { localStorage.setItem(key, on ? '1' : '0'); } catch { /* storage may be blocked */ }
}

function matches(a) {
  if (filters.severity && a.severity !== filters.severity) return false;
  if (filters.kind && a.kind !== filters.kind) return false;
  if (filters.acked === 'unacked' && a.acked_by) return false;
  if (filters.acked === 'acked' && !a.acked_by) return false;
  return true;
}

/** Groups of alerts about one subject of one kind, most urgent first. */
function groupAlerts(alerts) {
  const groups = new Map();
  for (const a of alerts) {
    const key = `${a.kind}|${a.subject}`;
    let g = groups.get(key);
    if (!g) {
      g = { key, kind: a.kind, subject: a.subject, items: [], severity: a.severity };
      groups.set(key, g);
    }
    g.items.push(a);
    if ((RANK[a.severity] ?? 0) > (RANK[g.severity] ?? 0)) g.severity = a.severity;
  }
  const list = [...groups.values()];
  for (const g of list) g.unacked = g.items.filter((a) => !a.acked_by).map((a) => a.id);
  return list.sort((x, y) => (y.unacked.length > 0) - (x.unacked.length > 0)
    || (RANK[y.severity] ?? 0) - (RANK[x.severity] ?? 0)
    || newestFirst(x.items[0], y.items[0]));
}

/** The filter bar's controls, wired once. */
function wire(panel, ctx) {
  if (wired) return;
  wired = true;
  const q = (id) => panel.querySelector(`[data-testid="${id}"]`);
  for (const [id, field] of [['alert-filter-severity', 'severity'], ['alert-filter-kind', 'kind'], ['alert-filter-acked', 'acked']]) {
    q(id).addEventListener('change', (e) => { filters[field] = e.currentTarget.value; redraw(); });
  }
  q('alert-ack-filtered').addEventListener('click', (e) => {
    const ids = (e.currentTarget.dataset.ids || '').split('\n').filter(Boolean);
    if (ids.length) ctx.control('/api/v1/alerts/ack', { ids }, e.currentTarget);
  });
  const notify = q('alert-notify');
  const sound = q('alert-sound');
  notify.checked = stored(NOTIFY_KEY);
  sound.checked = stored(SOUND_KEY);
  notify.addEventListener('change', async () => {
    store(NOTIFY_KEY, notify.checked);
    if (notify.checked && typeof Notification !== 'undefined' && Notification.permission === 'default') {
      const answer = await Notification.requestPermission().catch(() => 'denied');
      if (answer === 'denied') ctx.toast(t('triage.notify_denied'), true);
    }
  });
  // The audio context starts on this click: browsers let a page make sound only after a gesture.
  sound.addEventListener('change', () => {
    store(SOUND_KEY, sound.checked);
    if (sound.checked) audioContext();
  });
}

function audioContext() {
  const Ctor = window.AudioContext || window.webkitAudioContext;
  if (!Ctor) return null;
  if (!audio) audio = new Ctor();
  if (audio.state === 'suspended') audio.resume().catch(() => {});
  return audio;
}

/** A 0.25 s two-tone beep, made on the spot (no sound file to fetch). */
function beep() {
  const ac = audioContext();
  if (!ac) return;
  const start = ac.currentTime;
  const gain = ac.createGain();
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.25);
  gain.connect(ac.destination);
  const osc = ac.createOscillator();
  osc.type = 'sine';
  osc.frequency.setValueAtTime(880, start);
  osc.frequency.setValueAtTime(660, start + 0.12);
  osc.connect(gain);
  osc.start(start);
  osc.stop(start + 0.26);
}

/**
 * Notices and beeps for critical alerts first seen in this live view (none for
 * what was already there when the view opened). Counts what it did on the panel
 * (`data-notices`, `data-beeps`) so a test can tell.
 */
function announce(panel, view) {
  const mode = view.mode || 'live';
  const critical = (view.alerts || []).filter((a) => a.severity === 'critical' && !a.acked_by);
  if (watch.mode !== mode) {
    watch.mode = mode;
    watch.seen = new Set(critical.map((a) => a.id));
    return;
  }
  if (mode !== 'live') return;
  const fresh = critical.filter((a) => !watch.seen.has(a.id));
  for (const a of fresh) watch.seen.add(a.id);
  if (!fresh.length) return;
  const bump = (attr) => setAttr(panel, attr, String(Number(panel.getAttribute(attr) || 0) + 1));
  if (stored(SOUND_KEY)) {
    bump('data-beeps');
    try { beep(); } catch { /* no audio output: the count still tells */ }
  }
  if (stored(NOTIFY_KEY) && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
    const a = fresh[0];
    const more = fresh.length > 1 ? ` (+${fresh.length - 1})` : '';
    try {
      new Notification(`${t('triage.notice_title')}: ${tStatus('alertkind', a.kind)} · ${a.subject}${more}`,
        { body: reasonText(a.reason, a.message), tag: 'labflight-critical' });
      bump('data-notices');
    } catch { /* some browsers allow notices only from a service worker */ }
  }
}

function fillSelect(select, options) {
  const sig = JSON.stringify(options);
  if (select.dataset.sig === sig) return;
  select.dataset.sig = sig;
  const keep = select.value;
  select.replaceChildren(...options.map(([value, text]) => h('option', { value, text })));
  select.value = options.some(([v]) => v === keep) ? keep : options[0][0];
}

function alertItem(ctx) {
  return (a) => h('li', { class: 'alert-item', testid: 'alert-item' },
    h('div', { class: 'row' }, h('span', { class: 'badge sev' }), h('span', { class: 'at' })),
    h('div', { class: 'message' }),
    h('div', { class: 'row ack-row' },
      h('span', { class: 'acked' }),
      h('button', {
        type: 'button', class: 'btn small', testid: 'alert-ack',
        on: { click: (e) => ctx.control(`/api/v1/alerts/${encodeURIComponent(a.id)}/ack`, undefined, e.currentTarget) },
      })));
}

function updateItem(ctx) {
  return (li, a) => {
    setAttr(li, 'data-alert-id', a.id);
    setAttr(li, 'data-acked', a.acked_by ? 'true' : 'false');
    li.className = `alert-item sev-${a.severity}${a.acked_by ? ' is-acked' : ''}`;
    setText(li.querySelector('.sev'), tStatus('sev', a.severity));
    setText(li.querySelector('.at'), fmtTime(a.at));
    setText(li.querySelector('.message'), reasonText(a.reason, a.message));
    setText(li.querySelector('.acked'), a.acked_by ? t('alerts.acked', { user: a.acked_by, at: fmtTime(a.acked_at) }) : '');
    const btn = li.querySelector('[data-testid="alert-ack"]');
    setText(btn, t('alerts.ack'));
    btn.hidden = !!a.acked_by || ctx.role !== 'coordinator';
    if (!btn.dataset.busy) btn.disabled = !ctx.canControl();
  };
}

/**
 * Draws the alerts panel from `view`; returns the unacknowledged count for the
 * tab's badge: the store's true count (`alerts_unacked`), not the listed one.
 */
export function renderTriage(root, view, ctx) {
  last = { root, view, ctx };
  const panel = root.querySelector('[data-testid="alert-panel"]');
  wire(panel, ctx);
  const all = [...(view.alerts || [])].sort(newestFirst);
  const q = (id) => panel.querySelector(`[data-testid="${id}"]`);
  fillSelect(q('alert-filter-severity'), [['', t('triage.sev_all')],
    ...['critical', 'warning', 'info'].map((s) => [s, tStatus('sev', s)])]);
  const kinds = [...new Set(all.map((a) => a.kind))].sort();
  if (filters.kind && !kinds.includes(filters.kind)) kinds.push(filters.kind);
  fillSelect(q('alert-filter-kind'), [['', t('triage.kind_all')], ...kinds.map((k) => [k, tStatus('alertkind', k)])]);
  fillSelect(q('alert-filter-acked'), [['all', t('triage.acked_all')], ['unacked', t('triage.acked_no')], ['acked', t('triage.acked_yes')]]);
  for (const [id, field] of [['alert-filter-severity', 'severity'], ['alert-filter-kind', 'kind'], ['alert-filter-acked', 'acked']]) {
    q(id).value = filters[field];
  }
  const shown = all.filter(matches);
  const groups = groupAlerts(shown);
  const canAck = ctx.canControl();
  const coordinator = ctx.role === 'coordinator';

  const unackedShown = shown.filter((a) => !a.acked_by).map((a) => a.id);
  const bulk = q('alert-ack-filtered');
  bulk.dataset.ids = unackedShown.join('\n');
  setText(bulk, t('triage.ack_filtered', { n: unackedShown.length }));
  bulk.hidden = !coordinator || unackedShown.length === 0;
  if (!bulk.dataset.busy) bulk.disabled = !canAck;
  for (const label of panel.querySelectorAll('.triage-opt')) label.hidden = (view.mode || 'live') !== 'live';

  const total = view.alerts_unacked ?? all.filter((a) => !a.acked_by).length;
  setText(q('alert-unacked-total'), t('triage.total', { n: total, listed: all.length }));

  const list = q('alert-list');
  syncList(list, groups, (g) => g.key, (g) => {
    const li = h('li', { class: 'alert-group', testid: 'alert-group' },
      h('div', { class: 'row ag-head' },
        h('span', { class: 'badge sev' }), h('b', { class: 'ag-kind' }), h('span', { class: 'ag-subject' }),
        h('span', { class: 'badge ag-count' }), h('span', { class: 'at' })),
      h('div', { class: 'message ag-latest' }),
      h('div', { class: 'row ag-actions' },
        h('button', {
          type: 'button', class: 'btn small ag-toggle', testid: 'alert-group-toggle',
          on: { click: () => { if (expanded.has(g.key)) expanded.delete(g.key); else expanded.add(g.key); redraw(); } },
        }),
        h('button', {
          type: 'button', class: 'btn small', testid: 'alert-group-ack',
          on: { click: (e) => {
            const ids = (e.currentTarget.dataset.ids || '').split('\n').filter(Boolean);
            if (ids.length) ctx.control('/api/v1/alerts/ack', { ids }, e.currentTarget);
          } },
        })),
      h('ul', { class: 'ag-items' }));
    return li;
  }, (li, g) => {
    const single = g.items.length === 1;
    const open = single || expanded.has(g.key);
    setAttr(li, 'data-group', g.key);
    setAttr(li, 'data-count', String(g.items.length));
    setAttr(li, 'data-unacked', String(g.unacked.length));
    setAttr(li, 'data-severity', g.severity);
    setAttr(li, 'data-expanded', open ? 'true' : 'false');
    li.className = `alert-group sev-${g.severity}${g.unacked.length ? '' : ' is-acked'}`;
    setText(li.querySelector('.sev'), tStatus('sev', g.severity));
    setText(li.querySelector('.ag-kind'), tStatus('alertkind', g.kind));
    setText(li.querySelector('.ag-subject'), alertSubject(g.subject));
    const count = li.querySelector('.ag-count');
    count.hidden = single;
    setText(count, `×${g.items.length}`);
    setText(li.querySelector('.at'), fmtTime(g.items[0].at));
    const latest = li.querySelector('.ag-latest');
    latest.hidden = open;
    setText(latest, reasonText(g.items[0].reason, g.items[0].message));
    const toggle = li.querySelector('.ag-toggle');
    toggle.hidden = single;
    setText(toggle, open ? t('triage.collapse') : t('triage.expand', { n: g.items.length }));
    const ack = li.querySelector('[data-testid="alert-group-ack"]');
    ack.dataset.ids = g.unacked.join('\n');
    setText(ack, t('triage.ack_group', { n: g.unacked.length }));
    ack.hidden = single || !coordinator || g.unacked.length === 0;
    if (!ack.dataset.busy) ack.disabled = !canAck;
    const items = li.querySelector('.ag-items');
    items.hidden = !open;
    syncList(items, g.items, (a) => a.id, alertItem(ctx), updateItem(ctx));
  });
  if (!groups.length) list.append(h('li', { class: 'empty', text: all.length ? t('triage.none_match') : t('alerts.empty') }));
  announce(panel, view);
  return total;
}
