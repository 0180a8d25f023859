// app.js — starts the dashboard: session (login/logout), the live feed or a
// replay, and hands each View to the map, the panels and the details drawer.
// Roles decide which controls exist; replay disables every control, and until
// a run is opened it shows no panels at all (nothing stale from the live view).

import { t, tStatus, getLang, setLang, onLangChange, applyStatic } from './i18n.js';
import { api, setUnauthorizedHandler } from './api.js';
import { h, setText, setAttr, fmtTime } from './dom.js';
import { createMap } from './map.js';
import { renderKpis, renderBoard, renderHooks, syncFleetControls } from './panels.js';
import { renderBacklog } from './backlog.js';
import { renderTriage } from './triage.js';
import { renderAtRisk, renderPendingBoxes, mountGrouping, relabelGrouping } from './worklist.js';
import { mountFleet, renderFleet, relabelFleet } from './fleet.js';
import { mountSearch } from './search.js';
import { addTab } from './tabs.js';
import { localName } from './phrases.js';
import { createDetails } from './details.js';
import { createLive } from './live.js';
import { createReplay } from './replay.js';
import { mountDayViews } from './dayviews.js';
import { createPartitionFilter, filterByPartition } from './partition.js';

const $ = (sel, root = document) => root.querySelector(sel);
const tid = (id) => $(`[data-testid="${id}"]`);

const state = {
  user: null,
  mode: 'live',
  view: null,
  mapReady: false,
  tab: 'missions',
  // The medical group the panels and the map are narrowed to (a day dispatched by partitions).
  partition: null,
};

let map = null;
let details = null;
let search = null;
let fleetTable = null;
let boxList = null;
let dayViews = null;
let renderPending = false;

// --- the context panels and the drawer use ---
const ctx = {
  get role() { return state.user?.role ?? ''; },
  canControl: () => state.user?.role === 'coordinator' && state.mode === 'live',
  select: (sel) => details.open(sel),
  isSelected: (kind, id) => details?.isOpen(kind, id) ?? false,
  highlight: (missionId) => map?.highlight(missionId),
  onOpen: (sel) => {
    if (sel && map) map.panTo(sel.kind, sel.id);
    document.body.classList.toggle('details-open', !!sel);
    if (state.view) scheduleRender();
  },
  staticProps: { stations: new Map(), labs: new Map() },
  focus: (kind, id) => map?.focus(kind, id),
  stationName: (id) => localName(id, ctx.staticProps.stations.get(id)),
  labName: (id) => localName(id, ctx.staticProps.labs.get(id)),
  placeName: (place) => {
    const name = localName(place, ctx.staticProps.stations.get(place) || ctx.staticProps.labs.get(place));
    return name !== place ? `${name} (${place})` : place;
  },
  control,
  toast,
};

/** POSTs a control; disables `btn` while it runs; shows the error text if refused. */
async function control(path, body, btn) {
  if (btn) {
    btn.dataset.busy = '1';
    btn.disabled = true;
  }
  const res = await api(path, { method: 'POST', body });
  if (btn) {
    delete btn.dataset.busy;
    btn.disabled = !ctx.canControl() && state.user?.role !== 'lab';
  }
  if (res.ok) toast(t('ctl.accepted'));
  else toast(res.error, true);
  return res;
}

let toastTimer = null;
function toast(text, isError = false) {
  const el = $('.toast');
  el.textContent = text ?? '';
  el.classList.toggle('error', isError);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, isError ? 8000 : 2500);
}

// --- rendering ---

function showView(view) {
  if (!view) return;
  if ((view.mode || 'live') !== state.mode) return; // a late live frame in replay, or vice versa
  state.view = view;
  delete document.body.dataset.awaiting;
  scheduleRender();
}

function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  setTimeout(() => {
    renderPending = false;
    render(state.view);
  }, 0);
}

function render(whole) {
  if (!whole || !state.user) return;
  partitionFilter.sync(whole);
  const view = filterByPartition(whole, state.partition);
  setText(tid('service-time'), fmtTime(view.now, 'full'));
  setAttr(tid('service-time'), 'datetime', view.now ?? '');
  setText($('.h-scenario'), view.scenario ?? '—');
  setText($('.h-policy'), view.policy ? tStatus('policy', view.policy) : '—');
  setText($('.h-speed'), view.speed == null || view.mode === 'replay' ? '—' : `${view.speed}×`);
  setText($('.h-cutoff'), fmtTime(view.cutoff));
  // A standby serves this screen from the owner's journal: say so (controls are
  // refused until it takes over).
  const standby = tid('standby-badge');
  standby.hidden = !view.standby;
  setText(standby, view.standby ? t('header.standby', { owner: view.standby }) : '');
  const side = $('.side');
  renderKpis(side, view, ctx);
  renderBoard(side, view, ctx);
  const risk = renderAtRisk(side, view, ctx);
  const unacked = renderTriage(side, view, ctx);
  renderBacklog(side, view, ctx);
  const failed = renderHooks(side, view, ctx);
  renderFleet(fleetTable, view, ctx);
  setCount('boxes', renderPendingBoxes(boxList, view, ctx));
  setCount('risk', risk);
  setCount('alerts', unacked);
  setCount('hooks', failed);
  if (map && state.mapReady) map.render(view);
  details.update(view);
}

/** The header without a view: no time, scenario or speed from the mode just left. */
function clearHeader() {
  setText(tid('service-time'), '—');
  setAttr(tid('service-time'), 'datetime', '');
  for (const sel of ['.h-scenario', '.h-policy', '.h-speed', '.h-cutoff']) setText($(sel), '—');
}

function setCount(name, n) {
  const el = $(`[data-count="${name}"]`);
  setText(el, n ? String(n) : '');
}

// --- connection badge ---

function setConn(s) {
  const el = tid('conn-status');
  setAttr(el, 'data-state', s);
  setText(el, t(`conn.${s}`));
}

const live = createLive({
  onView: showView,
  onState: (s) => { if (state.mode === 'live') setConn(s); },
  onUnauthorized: () => showLogin(),
});

const replay = createReplay($('.replay-bar'), { onView: showView, toast });

const partitionFilter = createPartitionFilter($('.partition-filter'), (group) => {
  state.partition = group;
  if (state.view) scheduleRender();
});

// --- session ---

function showLogin(message) {
  live.stop();
  replay.hide();
  state.user = null;
  state.view = null;
  document.body.dataset.role = '';
  $('#app').hidden = true;
  $('#login').hidden = false;
  const err = tid('login-error');
  delete err.dataset.i18n;
  err.hidden = !message;
  err.textContent = message ?? '';
  details?.close();
  tid('login-user').focus();
}

async function startSession(user) {
  state.user = user;
  document.body.dataset.role = user.role;
  // The role's controls at once, not when the first view arrives: a viewer signing
  // in after a coordinator must never see the coordinator's buttons.
  syncFleetControls(document, ctx);
  // Replays show every lab's items: a lab account has none (the server refuses them too).
  tid('mode-replay').hidden = user.role === 'lab';
  showWhoami();
  $('#login').hidden = true;
  $('#app').hidden = false;
  if (!map) {
    map = createMap($('#map'), { onSelect: (sel) => details.open(sel) });
  }
  if (!state.mapReady) loadStaticMap(1000);
  setMode('live', true);
}

/** User, role (translated, with the role's own name) and lab, e.g. "li · 调度员 (coordinator)". */
function showWhoami() {
  const { user, role, lab } = state.user;
  const label = t(`role.${role}`);
  setText(tid('whoami'), `${user} · ${label === role ? role : `${label} (${role})`}${lab ? ` · ${lab}` : ''}`);
}

/** Loads the district's layers; retries with backoff (up to 30 s apart) until it works. */
async function loadStaticMap(wait) {
  const res = await api('/api/v1/map', { timeoutMs: 20000 });
  if (!state.user) return;
  if (res.ok && res.data) {
    for (const f of res.data.stations?.features || []) ctx.staticProps.stations.set(f.properties.id, f.properties);
    for (const f of res.data.labs?.features || []) ctx.staticProps.labs.set(f.properties.id, f.properties);
    map.loadStatic(res.data);
    state.mapReady = true;
    if (state.view) scheduleRender();
    return;
  }
  toast(t('err.map'), true);
  setTimeout(() => loadStaticMap(Math.min(wait * 2, 30000)), wait);
}

async function login(e) {
  e.preventDefault();
  const user = tid('login-user').value.trim();
  const password = tid('login-password').value;
  const err = tid('login-error');
  const btn = tid('login-submit');
  btn.disabled = true;
  err.hidden = true;
  const res = await api('/api/v1/auth/login', { method: 'POST', body: { user, password }, quiet401: true });
  btn.disabled = false;
  if (res.ok && res.data) {
    tid('login-password').value = '';
    startSession(res.data);
  } else {
    // A refusal stays keyed, so the language switch on the login form re-translates it.
    if (res.status === 401) err.dataset.i18n = 'login.failed';
    else delete err.dataset.i18n;
    err.textContent = res.status === 401 ? t('login.failed') : res.error;
    if (res.status === 401 && res.data?.error) err.title = res.data.error;
    err.hidden = false;
  }
}

async function logout() {
  live.stop();
  await api('/api/v1/auth/logout', { method: 'POST', quiet401: true });
  showLogin();
}

// --- modes and tabs ---

async function setMode(mode, force = false) {
  if (!force && mode === state.mode) return;
  state.mode = mode;
  state.view = null;
  document.body.dataset.mode = mode;
  for (const b of document.querySelectorAll('.seg-btn')) {
    b.classList.toggle('active', b.dataset.mode === mode);
    b.setAttribute('aria-pressed', b.dataset.mode === mode ? 'true' : 'false');
  }
  // Until a view of this mode arrives, nothing of the other mode stays on screen.
  if (mode === 'replay') {
    document.body.dataset.awaiting = 'run';
    clearHeader();
  } else {
    delete document.body.dataset.awaiting;
  }
  details?.close();
  syncFleetControls(document, ctx);
  if (mode === 'replay') {
    live.stop();
    setConn('replay');
    map?.clearDynamic();
    replay.show();
  } else {
    replay.hide();
    map?.clearDynamic();
    setConn('connecting');
    live.start();
    const res = await api('/api/v1/dashboard');
    if (res.ok && res.data && state.mode === 'live') showView(res.data);
  }
}

function setTab(name) {
  state.tab = name;
  for (const b of document.querySelectorAll('.tab')) {
    const on = b.dataset.tab === name;
    b.classList.toggle('active', on);
    b.setAttribute('aria-selected', on ? 'true' : 'false');
  }
  for (const p of document.querySelectorAll('.panel')) p.hidden = p.dataset.panel !== name;
}

// --- wiring ---

/** The search box, the fleet and boxes tabs and the grouping choice: built here, labelled by applyStatic. */
function mountWorkViews() {
  search = mountSearch($('.side'), ctx, () => state.view);
  const clock = $('.clock');
  clock.append(h('span', { class: 'zone', testid: 'time-zone', data: { i18n: 'header.zone' } }));
  fleetTable = mountFleet(addTab('fleet', 'tab.fleet'));
  const boxes = addTab('boxes', 'tab.boxes');
  boxList = h('ul', { class: 'list', testid: 'box-list' });
  boxes.append(boxList);
  const redraw = () => { if (state.view) scheduleRender(); };
  mountGrouping($('[data-testid="at-risk-list"]'), redraw, 'group-risk');
  mountGrouping(boxList, redraw, 'group-boxes');
  dayViews = mountDayViews(ctx);
}

function init() {
  mountWorkViews();
  applyStatic(document);
  details = createDetails(tid('details'), ctx);
  setUnauthorizedHandler(() => { if (state.user) showLogin(); });
  tid('login-form').addEventListener('submit', login);
  tid('logout').addEventListener('click', logout);
  for (const b of document.querySelectorAll('[data-action="lang"]')) {
    b.addEventListener('click', () => setLang(getLang() === 'zh' ? 'en' : 'zh'));
  }
  onLangChange(() => {
    if (state.user) showWhoami();
    setConn(tid('conn-status').dataset.state);
    map?.relabel();
    replay.relabel();
    partitionFilter.relabel();
    search.relabel();
    relabelFleet(fleetTable);
    relabelGrouping();
    details.relabel();
    dayViews.relabel();
    for (const table of document.querySelectorAll('table.queue')) delete table.dataset.sig;
    if (state.view) render(state.view);
  });
  for (const b of document.querySelectorAll('.seg-btn')) b.addEventListener('click', () => setMode(b.dataset.mode));
  for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => setTab(b.dataset.tab));
  tid('btn-ground').addEventListener('click', async (e) => {
    const btn = e.currentTarget;
    if (await confirmGround()) control('/api/v1/control/fleet/ground', undefined, btn);
  });
  tid('btn-release').addEventListener('click', (e) => control('/api/v1/control/fleet/release', undefined, e.currentTarget));
  setTab('missions');
  setConn('connecting');
  checkSession();
}

/** Asks in the page (a modal dialog) before grounding the whole fleet; true to go ahead. */
function confirmGround() {
  const dialog = tid('confirm-dialog');
  return new Promise((resolve) => {
    dialog.returnValue = '';
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' && ctx.canControl()), { once: true });
    dialog.showModal();
  });
}

async function checkSession() {
  const res = await api('/api/v1/auth/me', { quiet401: true });
  if (res.ok && res.data) startSession(res.data);
  else showLogin();
}

init();
