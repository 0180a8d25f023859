// details.js — the details drawer: what a click on a centre, lab, drone, box,
// mission or tube shows, with that thing's controls. Each kind builds its DOM
// once and then refreshes it in place from every View while it stays open.

import { t, tStatus } from './i18n.js';
import { h, setText, syncList, fmtTime, fmtNum, clear } from './dom.js';
import { api, enc } from './api.js';
import { fillQueueTable } from './panels.js';
import { riskReason, family, localName, reasonText } from './phrases.js';

/** A definition list whose rows are set by key and updated in place. */
function kvList() {
  const el = h('dl', { class: 'kv' });
  const rows = new Map();
  return {
    el,
    set(key, label, value) {
      let row = rows.get(key);
      if (!row) {
        row = { dt: h('dt'), dd: h('dd') };
        rows.set(key, row);
        el.append(row.dt, row.dd);
      }
      setText(row.dt, label);
      if (value instanceof Node) {
        if (row.dd.firstChild !== value) row.dd.replaceChildren(value);
      } else {
        setText(row.dd, value ?? '—');
      }
    },
  };
}

const section = (titleKey, ...children) => h('section', { class: 'd-section' },
  h('h3', { text: t(titleKey) }), ...children);

/**
 * Box → barcodes from `GET /api/v1/boxes`, for a View whose boxes carry no
 * `barcodes` list; at most one call per 10 s.
 */
function boxBarcodes() {
  let at = 0;
  let map = new Map();
  let inflight = null;
  return async function get(force = false) {
    if (inflight) return inflight;
    if (!force && Date.now() - at < 10000) return map;
    inflight = (async () => {
      const res = await api('/api/v1/boxes', { timeoutMs: 15000 });
      at = Date.now();
      if (res.ok && Array.isArray(res.data)) {
        map = new Map();
        for (const b of res.data) {
          const id = typeof b.id === 'object' ? Object.values(b.id)[0] : b.id;
          const tubes = (b.tubes || []).map((tb) => (typeof tb === 'string' ? tb : tb.barcode))
            .map((bc) => (bc && typeof bc === 'object' ? Object.values(bc)[0] : bc)).filter(Boolean);
          map.set(String(id), tubes);
        }
      }
      inflight = null;
      return map;
    })();
    return inflight;
  };
}

export function createDetails(root, ctx) {
  const titleEl = root.querySelector('.d-title');
  const body = root.querySelector('.d-body');
  const backBtn = root.querySelector('.d-back');
  const closeBtn = root.querySelector('.d-close');
  const barcodesOf = boxBarcodes();
  let stack = [];
  let current = null; // {sel, view: {el, update}}
  let lastView = null;

  backBtn.addEventListener('click', () => {
    stack.pop();
    const prev = stack.pop();
    if (prev) open(prev); else close();
  });
  closeBtn.addEventListener('click', () => close());

  const tubeBtn = (barcode) => h('button', {
    type: 'button', class: 'link barcode', data: { barcode },
    on: { click: () => open({ kind: 'tube', id: barcode }) },
  }, barcode);
  const linkBtn = (kind, id, label) => h('button', {
    type: 'button', class: `link to-${kind}`, data: { id },
    on: { click: () => open({ kind, id }) },
  }, label ?? id);
  const ctlBtn = (labelKey, path, bodyFn, extraClass = '') => {
    const b = h('button', { type: 'button', class: `btn ctl ${extraClass}`, text: t(labelKey) });
    b.addEventListener('click', () => {
      const payload = bodyFn ? bodyFn() : undefined;
      if (payload === null) return; // cancelled
      ctx.control(typeof path === 'function' ? path() : path, payload, b);
    });
    return b;
  };
  const controlsRow = (...buttons) => h('div', { class: 'd-controls coord-only' }, ...buttons);
  function syncControls(container) {
    const can = ctx.canControl();
    container.hidden = ctx.role !== 'coordinator';
    for (const b of container.querySelectorAll('button, select')) if (!b.dataset.busy) b.disabled = !can;
  }

  // --- one builder per kind: returns {el, update(view)} ---

  function station(id) {
    const kv = kvList();
    const ctl = controlsRow(ctlBtn('ctl.force_pickup', `/api/v1/control/stations/${enc(id)}/force-pickup`));
    const missions = h('div', { class: 'chips' });
    const boxes = h('ul', { class: 'd-list boxes' });
    const risk = h('ul', { class: 'd-list risk' });
    const el = h('div', {}, kv.el, ctl,
      section('details.boxes', boxes), section('details.at_risk', risk), section('details.missions', missions));
    let barcodes = new Map();
    function update(view) {
      const s = (view.stations || []).find((x) => x.id === id);
      const props = ctx.staticProps.stations.get(id) || {};
      setText(titleEl, `${t('details.station')} · ${localName(id, props, s)}`);
      kv.set('id', t('details.id'), id);
      if (props.subdistrict) kv.set('sub', t('details.subdistrict'), props.subdistrict);
      if (props.tier) kv.set('tier', t('details.tier'), `${props.tier}${props.centrifuge ? ` · ${t('details.centrifuge')}` : ''}`);
      kv.set('pending', t('details.pending'), s ? s.pending : '—');
      kv.set('risk', t('details.at_risk'), s ? s.at_risk : '—');
      syncControls(ctl);
      const bx = (view.boxes || []).filter((b) => b.station === id && b.status !== 'delivered');
      if (bx.some((b) => !Array.isArray(b.barcodes))) {
        barcodesOf().then((m) => { if (m !== barcodes) { barcodes = m; if (lastView && current?.view.el === el) update(lastView); } });
      }
      syncList(boxes, bx, (b) => b.id, (b) => h('li', {},
        h('div', { class: 'row' }, linkBtn('box', b.id), h('span', { class: 'badge status' }), h('span', { class: 'meta' })),
        h('div', { class: 'chips tubes' })), (li, b) => {
        setText(li.querySelector('.status'), tStatus('status', b.status));
        setText(li.querySelector('.meta'), `${b.tubes ?? 0} · ${b.temp_c == null ? '' : `${fmtNum(b.temp_c, 1)}°C`}`);
        const codes = b.barcodes || barcodes.get(String(b.id)) || [];
        const chips = li.querySelector('.tubes');
        if (chips.dataset.sig !== codes.join(',')) {
          chips.dataset.sig = codes.join(',');
          chips.replaceChildren(...codes.map(tubeBtn));
        }
      });
      if (!bx.length) boxes.replaceChildren(h('li', { class: 'empty', text: t('details.no_boxes') }));
      const rs = (view.at_risk || []).filter((r) => r.station === id);
      syncList(risk, rs, (r) => r.barcode, (r) => h('li', {}, tubeBtn(r.barcode), h('span', { class: 'reason' })),
        (li, r) => setText(li.querySelector('.reason'), riskReason(r)));
      if (!rs.length) risk.replaceChildren(h('li', { class: 'empty', text: t('risk.empty') }));
      const ms = (view.missions || []).filter((m) => (m.station === id || (m.later_stops || []).includes(id)) && m.column !== 'delivered' && m.column !== 'aborted');
      syncList(missions, ms, (m) => m.id, (m) => linkBtn('mission', m.id), (b, m) => setText(b, `${m.id} · ${tStatus('status', m.column)}`));
    }
    return { el, update };
  }

  function lab(id) {
    const kv = kvList();
    const ctl = controlsRow(
      ctlBtn('ctl.unavailable', `/api/v1/control/labs/${enc(id)}/unavailable`),
      ctlBtn('ctl.available', `/api/v1/control/labs/${enc(id)}/available`));
    const table = h('table', { class: 'queue' });
    const analyzers = h('ul', { class: 'd-list' });
    const el = h('div', {}, kv.el, ctl, section('details.queues', table), section('details.analyzers', analyzers));
    function update(view) {
      const l = (view.labs || []).find((x) => x.id === id);
      const props = ctx.staticProps.labs.get(id) || {};
      setText(titleEl, `${t('details.lab')} · ${localName(id, props, l)}`);
      kv.set('id', t('details.id'), id);
      const state = !l ? '—' : l.closed ? t('labs.closed') : l.unavailable ? t('labs.unavailable') : t('labs.open');
      kv.set('state', t('details.status'), state);
      kv.set('down', t('labs.down'), l && l.analyzers_down?.length ? l.analyzers_down.join(', ') : '—');
      syncControls(ctl);
      if (l) fillQueueTable(table, l);
      const down = new Set(l?.analyzers_down || []);
      const list = (props.analyzers || []).map((a) => (typeof a === 'string' ? { id: a } : a));
      syncList(analyzers, list, (a) => a.id, () => h('li'), (li, a) => {
        li.classList.toggle('down', down.has(a.id));
        setText(li, `${a.id}${a.family ? ` · ${family(a.family)}` : ''}${down.has(a.id) ? ' ✕' : ''}`);
      });
    }
    return { el, update };
  }

  function drone(id) {
    const kv = kvList();
    const battery = h('span', { class: 'battery' }, h('span', { class: 'bar' }, h('i')), h('b'));
    const ctl = controlsRow(
      ctlBtn('ctl.pause', `/api/v1/control/drones/${enc(id)}/pause`),
      ctlBtn('ctl.resume', `/api/v1/control/drones/${enc(id)}/resume`));
    const mission = h('span');
    const el = h('div', {}, kv.el, ctl);
    function update(view) {
      const d = (view.drones || []).find((x) => x.id === id);
      setText(titleEl, `${t('details.drone')} · ${id}`);
      if (!d) { kv.set('missing', '', t('details.missing')); return; }
      const pct = d.battery_pct == null ? null : Math.max(0, Math.min(100, d.battery_pct));
      battery.querySelector('i').style.width = `${pct ?? 0}%`;
      battery.classList.toggle('low', pct != null && pct < 25);
      setText(battery.lastChild, pct == null ? '—' : `${Math.round(pct)}%`);
      kv.set('battery', t('details.battery'), battery);
      const flags = [tStatus('status', d.status)];
      if (d.paused) flags.push(t('status.paused'));
      if (d.link_lost) flags.push(t('status.link_lost'));
      kv.set('status', t('details.status'), flags.join(' · '));
      if (mission.dataset.id !== String(d.mission ?? '')) {
        mission.dataset.id = d.mission ?? '';
        mission.replaceChildren(d.mission ? linkBtn('mission', d.mission) : '—');
      }
      kv.set('mission', t('details.mission_of'), mission);
      kv.set('flights', t('details.flights'), d.flights ?? '—');
      kv.set('pos', t('details.position'), `${fmtNum(d.lat, 5)}, ${fmtNum(d.lon, 5)}`);
      syncControls(ctl);
      ctx.highlight(d.mission || null);
    }
    return { el, update };
  }

  function box(id) {
    const kv = kvList();
    const tubes = h('div', { class: 'chips tubes' });
    const el = h('div', {}, kv.el, section('details.tubes', tubes));
    const station = h('span');
    const mission = h('span');
    let barcodes = new Map();
    function update(view) {
      const b = (view.boxes || []).find((x) => String(x.id) === String(id));
      if (b && !Array.isArray(b.barcodes)) {
        barcodesOf().then((m) => { if (m !== barcodes) { barcodes = m; if (lastView && current?.view.el === el) update(lastView); } });
      }
      setText(titleEl, `${t('details.box')} · ${id}`);
      if (!b) { kv.set('missing', '', t('details.missing')); }
      if (b) {
        kv.set('status', t('details.status'), tStatus('status', b.status));
        if (station.dataset.id !== b.station) {
          station.dataset.id = b.station;
          station.replaceChildren(linkBtn('station', b.station));
        }
        kv.set('station', t('details.station'), station);
        if (mission.dataset.id !== String(b.mission ?? '')) {
          mission.dataset.id = b.mission ?? '';
          mission.replaceChildren(b.mission ? linkBtn('mission', b.mission) : '—');
        }
        kv.set('mission', t('details.mission_of'), mission);
        kv.set('tubes', t('details.tubes'), b.tubes ?? '—');
        kv.set('temp', t('details.temp'), b.temp_c == null ? '—' : `${fmtNum(b.temp_c, 1)} °C`);
        kv.set('deadline', t('details.deadline'), fmtTime(b.stability_deadline, 'full'));
      }
      const fromRisk = (view.at_risk || []).filter((r) => String(r.box) === String(id)).map((r) => r.barcode);
      const codes = [...new Set([...(b?.barcodes || barcodes.get(String(id)) || []), ...fromRisk])];
      if (tubes.dataset.sig !== codes.join(',')) {
        tubes.dataset.sig = codes.join(',');
        tubes.replaceChildren(...(codes.length ? codes.map(tubeBtn) : [h('span', { class: 'empty', text: t('details.no_tubes') })]));
      }
    }
    return { el, update };
  }

  function mission(id) {
    const kv = kvList();
    const links = { vehicle: h('span'), station: h('span'), lab: h('span') };
    const boxes = h('div', { class: 'chips' });
    const summary = h('p', { class: 'why-summary' });
    const alts = h('table', { class: 'alts' });
    const select = h('select', { class: 'drone-select', 'aria-label': t('ctl.pick_drone') });
    const reassignBtn = ctlBtn('ctl.reassign', `/api/v1/control/missions/${enc(id)}/reassign`,
      () => (select.value ? { drone: select.value } : null));
    const noDrone = h('p', { class: 'd-status reassign-why', testid: 'reassign-why' });
    const ctl = controlsRow(select, reassignBtn, noDrone);
    const el = h('div', {}, kv.el, ctl, section('details.boxes', boxes), section('details.why', summary, alts));
    const setLink = (slot, kind, value) => {
      const span = links[slot];
      if (span.dataset.id === String(value ?? '')) return;
      span.dataset.id = value ?? '';
      span.replaceChildren(value && kind ? linkBtn(kind, value) : (value ?? '—'));
    };
    function update(view) {
      const m = (view.missions || []).find((x) => x.id === id);
      setText(titleEl, `${t('details.mission')} · ${id}`);
      ctx.highlight(id);
      if (!m) { kv.set('missing', '', t('details.missing')); return; }
      kv.set('column', t('details.column'), tStatus('status', m.column));
      kv.set('carrier', t('details.carrier'), tStatus('carrier', m.carrier));
      setLink('vehicle', m.carrier === 'drone' ? 'drone' : null, m.vehicle);
      kv.set('vehicle', t('details.vehicle'), links.vehicle);
      setLink('station', 'station', m.station);
      kv.set('station', t('details.station'), links.station);
      if (m.pickup_pad) kv.set('pickup_pad', t('details.pickup_pad'), m.pickup_pad);
      setLink('lab', 'lab', m.lab);
      kv.set('lab', t('details.lab'), links.lab);
      kv.set('arrival', t('details.arrival'), m.planned_arrival ? fmtTime(m.planned_arrival, 'full') : '—');
      syncList(boxes, m.boxes || [], (b) => b, (b) => linkBtn('box', b), () => {});
      setText(summary, m.why ? reasonText(m.why.reason, m.why.summary) || t('details.why_none') : t('details.why_none'));
      const rows = m.why?.alternatives || [];
      const sig = JSON.stringify([rows, t('details.option')]); // the language is in the signature: a switch redraws the verdicts
      if (alts.dataset.sig !== sig) {
        alts.dataset.sig = sig;
        clear(alts);
        if (rows.length) {
          alts.append(h('thead', {}, h('tr', {}, h('th', { text: t('details.option') }),
            h('th', { text: t('details.score') }), h('th', { text: t('details.verdict') }))));
          alts.append(h('tbody', {}, ...rows.map((r) => h('tr', {},
            h('td', { text: r.option ?? '' }), h('td', { class: 'num', text: r.score == null ? '—' : fmtNum(r.score, 2) }),
            h('td', { text: reasonText(r.reason, r.verdict) })))));
        }
      }
      // Only a mission with a drone assigned can move to another drone (a queued card is a box).
      const open = m.column === 'assigned' && m.carrier === 'drone';
      const idle = (view.drones || []).filter((d) => d.status === 'idle' && !d.paused && d.id !== m.vehicle);
      const want = ['', ...idle.map((d) => d.id)];
      const have = [...select.options].map((o) => o.value);
      if (want.join(',') !== have.join(',')) {
        const keep = select.value;
        select.replaceChildren(h('option', { value: '', text: idle.length ? t('ctl.pick_drone') : t('ctl.no_idle') }),
          ...idle.map((d) => h('option', { value: d.id, text: `${d.id} · ${Math.round(d.battery_pct ?? 0)}%` })));
        if (want.includes(keep)) select.value = keep;
      }
      ctl.hidden = !open;
      syncControls(ctl);
      if (!open) ctl.hidden = true;
      // With no drone to offer, say why instead of an empty list.
      noDrone.hidden = idle.length > 0;
      select.hidden = idle.length === 0;
      if (idle.length === 0) {
        setText(noDrone, whyNoDrone(view, m));
        reassignBtn.disabled = true;
      }
    }
    return { el, update };
  }

  /** Why no drone can take mission `m` over: grounded, all idle ones paused, or none idle. */
  function whyNoDrone(view, m) {
    if (view.kpis?.fleet_grounded) return t('reassign.grounded');
    const others = (view.drones || []).filter((d) => d.id !== m.vehicle);
    if (others.some((d) => d.status === 'idle' && d.paused)) return t('reassign.paused');
    const n = (...statuses) => others.filter((d) => statuses.includes(d.status)).length;
    return t('reassign.none_idle', { busy: n('on_mission', 'returning'), charging: n('charging'), down: n('fault', 'lost') });
  }

  function tube(barcode) {
    const kv = kvList();
    const timeline = h('ol', { class: 'timeline' });
    const refresh = h('button', { type: 'button', class: 'btn small', text: t('details.refresh') });
    const received = h('button', { type: 'button', class: 'btn', text: t('ctl.received') });
    const rejected = h('button', { type: 'button', class: 'btn danger', text: t('ctl.rejected') });
    const labRow = h('div', { class: 'd-controls lab-only' }, received, rejected);
    labRow.hidden = ctx.role !== 'lab';
    const status = h('p', { class: 'd-status' });
    const el = h('div', {}, status, kv.el, labRow, section('details.custody', timeline), refresh);
    let loadedAt = 0;
    let loading = false;
    received.addEventListener('click', async () => {
      await ctx.control(`/api/v1/lab/tubes/${enc(barcode)}/received`, undefined, received);
      load();
    });
    rejected.addEventListener('click', async () => {
      const reason = window.prompt(t('ctl.reject_reason'));
      if (reason == null || !reason.trim()) return;
      await ctx.control(`/api/v1/lab/tubes/${enc(barcode)}/rejected`, { reason: reason.trim() }, rejected);
      load();
    });
    refresh.addEventListener('click', () => load());
    async function load() {
      if (loading) return;
      loading = true;
      setText(status, t('details.loading'));
      const res = await api(`/api/v1/tubes/${enc(barcode)}`);
      loading = false;
      loadedAt = Date.now();
      if (current?.sel.kind !== 'tube' || current.sel.id !== barcode) return;
      if (!res.ok) { setText(status, res.error); return; }
      setText(status, '');
      const state = res.data?.state;
      if (state && typeof state === 'object') {
        for (const [k, v] of Object.entries(state)) {
          if (k === 'barcode') continue;
          kv.set(k, tStatus('field', k), stateValue(k, v));
        }
      }
      const steps = res.data?.custody || [];
      syncList(timeline, steps.map((s, i) => ({ ...s, _i: i })), (s) => `${s._i}|${s.step}|${s.at}`,
        () => h('li', { class: 'custody-step', testid: 'custody-step' },
          h('span', { class: 'cs-at' }), h('b', { class: 'cs-step' }), h('span', { class: 'cs-where' })),
        (li, s) => {
          li.dataset.step = s.step;
          setText(li.querySelector('.cs-at'), fmtTime(s.at, 'full'));
          setText(li.querySelector('.cs-step'), tStatus('step', s.step));
          const where = [];
          if (s.place) where.push(`${t('details.place')} ${ctx.placeName(s.place)}`);
          if (s.by) where.push(`${t('details.by')} ${s.by}`);
          setText(li.querySelector('.cs-where'), where.join(' · '));
        });
      if (!steps.length) timeline.replaceChildren(h('li', { class: 'empty', text: t('details.no_custody') }));
    }
    load();
    function update(view) {
      setText(titleEl, `${t('details.tube')} · ${barcode}`);
      labRow.hidden = ctx.role !== 'lab';
      for (const b of [received, rejected]) if (!b.dataset.busy) b.disabled = view.mode === 'replay';
      // A live tube moves on: reload its custody now and then while it is shown.
      if (view.mode !== 'replay' && Date.now() - loadedAt > 15000) load();
    }
    return { el, update };
  }

  /** One field of a tube's state as text, or a link for a box or a lab. */
  function stateValue(key, v) {
    if (v == null || v === '') return '—';
    if ((key === 'box_id' || key === 'box') && typeof v === 'string') return linkBtn('box', v);
    if (key === 'lab' && typeof v === 'string') return linkBtn('lab', v);
    if (key === 'status' && typeof v === 'string') return tStatus('status', v);
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
    if (typeof v === 'object') return JSON.stringify(v);
    if (/^\d{4}-\d\d-\d\dT/.test(String(v))) return fmtTime(v, 'full');
    return String(v);
  }

  const builders = { station, lab, drone, box, mission, tube };

  function open(sel) {
    const build = builders[sel.kind];
    if (!build) return;
    const top = stack[stack.length - 1];
    if (!top || top.kind !== sel.kind || top.id !== sel.id) stack.push(sel);
    if (stack.length > 20) stack = stack.slice(-20);
    ctx.highlight(null);
    current = { sel, view: build(sel.id) };
    body.replaceChildren(current.view.el);
    body.scrollTop = 0;
    root.hidden = false;
    root.dataset.kind = sel.kind;
    root.dataset.id = sel.id;
    backBtn.hidden = stack.length < 2;
    if (lastView) current.view.update(lastView);
    else setText(titleEl, t(`details.${sel.kind}`));
    ctx.onOpen(sel);
  }

  function close() {
    current = null;
    stack = [];
    root.hidden = true;
    clear(body);
    ctx.highlight(null);
    ctx.onOpen(null);
  }

  function update(view) {
    lastView = view;
    if (current) current.view.update(view);
  }

  /** Rebuilds the open drawer in the new language. */
  function relabel() {
    if (!current) return;
    const sel = current.sel;
    stack.pop();
    open(sel);
  }

  return { open, close, update, relabel, isOpen: (kind, id) => current?.sel.kind === kind && current.sel.id === id };
}
