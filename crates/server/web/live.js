// live.js — the live feed: one EventSource on /api/v1/live (the browser
// reconnects it by itself), our own backed-off reopen when it gives up, and a
// watchdog for a stream that stays open but goes quiet.

import { api } from './api.js';

const QUIET_MS = 20000;
const MAX_BACKOFF_MS = 30000;

/**
 * `onView(view)` for each View; `onState('open'|'connecting'|'closed')` for the
 * badge; `onUnauthorized()` when the session has gone.
 */
export function createLive({ onView, onState, onUnauthorized }) {
  let es = null;
  let running = false;
  let backoff = 1000;
  let reopenTimer = null;
  let watchdog = null;
  let lastEvent = 0;

  function setState(s) {
    onState(s);
  }

  function open() {
    if (!running) return;
    closeSource();
    es = new EventSource('/api/v1/live');
    lastEvent = Date.now();
    setState('connecting');
    es.addEventListener('open', () => setState('open'));
    es.addEventListener('view', (e) => {
      lastEvent = Date.now();
      backoff = 1000;
      let view;
      try { view = JSON.parse(e.data); } catch { return; }
      setState('open');
      onView(view);
    });
    // The server ends the feed when the session ends (sign-out, password change).
    es.addEventListener('signed_out', () => {
      stop();
      onUnauthorized();
    });
    es.addEventListener('error', () => {
      if (!es) return;
      if (es.readyState === EventSource.CONNECTING) {
        setState('connecting'); // the browser retries by itself
      } else if (es.readyState === EventSource.CLOSED) {
        setState('connecting');
        scheduleReopen();
      }
    });
  }

  function closeSource() {
    if (es) {
      es.close();
      es = null;
    }
  }

  /** The browser gave up (e.g. a 401 or 5xx): check the session, then retry later. */
  function scheduleReopen() {
    closeSource();
    clearTimeout(reopenTimer);
    const wait = backoff;
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    reopenTimer = setTimeout(async () => {
      if (!running) return;
      const me = await api('/api/v1/auth/me', { quiet401: true, timeoutMs: 10000 });
      if (!running) return;
      if (me.status === 401) {
        onUnauthorized();
        return;
      }
      if (me.ok) {
        const snap = await api('/api/v1/dashboard');
        if (running && snap.ok && snap.data) onView(snap.data);
      }
      open();
    }, wait);
  }

  function start() {
    if (running) return;
    running = true;
    backoff = 1000;
    open();
    clearInterval(watchdog);
    watchdog = setInterval(() => {
      if (running && es && es.readyState === EventSource.OPEN && Date.now() - lastEvent > QUIET_MS) {
        setState('connecting');
        scheduleReopen();
      }
    }, 5000);
  }

  function stop() {
    running = false;
    clearTimeout(reopenTimer);
    clearInterval(watchdog);
    closeSource();
  }

  return { start, stop, isRunning: () => running };
}
