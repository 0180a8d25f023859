// replay.js — the analyst's replay bar: pick a recorded run, open it, scrub a
// slider over its frames or play them at 1/5/20 frames per second. Frames are
// fetched one at a time (never overlapping), and failures back off and stop.

import { t } from './i18n.js';
import { api, enc } from './api.js';
import { h, setText, fmtTime } from './dom.js';

const MAX_FAILURES = 4;

/** `bar`: the replay bar element; `onView(view)` renders a frame. */
export function createReplay(bar, { onView, toast }) {
  const q = (id) => bar.querySelector(`[data-testid="${id}"]`);
  const runSelect = q('replay-run-select');
  const openBtn = q('replay-open');
  const slider = q('replay-slider');
  const timeEl = q('replay-time');
  const playBtn = q('replay-play');
  const speedSel = bar.querySelector('.replay-speed');
  const note = bar.querySelector('.replay-note');

  let session = null; // {id, frames, ...}
  let wanted = null;
  let shown = null;
  let pumping = false;
  let playing = false;
  let playTimer = null;
  let failures = 0;
  let active = false;
  let lastNow = null;

  function setPlaying(on) {
    playing = on;
    clearTimeout(playTimer);
    playBtn.dataset.playing = on ? 'true' : 'false';
    setText(playBtn, on ? `❚❚ ${t('replay.pause')}` : `▶ ${t('replay.play')}`);
    if (on) tick();
  }

  function tick() {
    if (!playing || !session) return;
    const fps = Number(speedSel.value) || 1;
    const next = (shown ?? Number(slider.value)) + 1;
    if (next >= session.frames) {
      setPlaying(false);
      return;
    }
    // Ask for the next frame only once the previous one is on screen.
    if (!pumping) want(next);
    playTimer = setTimeout(tick, 1000 / fps);
  }

  function want(i) {
    wanted = i;
    slider.value = String(i);
    pump();
  }

  async function pump() {
    if (pumping || !session) return;
    pumping = true;
    while (active && session && wanted != null && wanted !== shown) {
      const i = wanted;
      const sid = session.id;
      const res = await api(`/api/v1/replay/${enc(sid)}/frame?i=${i}`, { timeoutMs: 20000 });
      if (!session || session.id !== sid || !active) break;
      if (res.ok && res.data) {
        failures = 0;
        shown = i;
        lastNow = res.data.now;
        showTime();
        onView(res.data);
      } else {
        failures += 1;
        toast(res.error, true);
        if (failures >= MAX_FAILURES) {
          setPlaying(false);
          wanted = shown;
          break;
        }
        await new Promise((r) => setTimeout(r, 500 * 2 ** failures));
      }
    }
    pumping = false;
  }

  function showTime() {
    if (!session) {
      setText(timeEl, '—');
      return;
    }
    setText(timeEl, `${fmtTime(lastNow, 'full')} · ${t('replay.frame', { i: (shown ?? 0) + 1, n: session.frames })}`);
  }

  async function loadRuns() {
    const res = await api('/api/v1/replay/runs');
    const runs = res.ok && Array.isArray(res.data) ? res.data : [];
    const keep = runSelect.value;
    runSelect.replaceChildren(...runs.map((r) => h('option', {
      value: r.id, text: `${r.id} · ${r.scenario ?? ''} · ${r.policy ?? ''} · ${r.events ?? ''}`,
    })));
    if (runs.some((r) => r.id === keep)) runSelect.value = keep;
    openBtn.disabled = runs.length === 0;
    setText(note, res.ok ? (runs.length ? '' : t('replay.no_runs')) : res.error);
  }

  async function openRun() {
    const run = runSelect.value;
    if (!run) return;
    setPlaying(false);
    openBtn.disabled = true;
    setText(note, t('replay.opening'));
    const res = await api('/api/v1/replay/open', { method: 'POST', body: { run }, timeoutMs: 120000 });
    openBtn.disabled = false;
    if (!active) return;
    if (!res.ok || !res.data) {
      setText(note, res.error);
      return;
    }
    setText(note, '');
    session = res.data;
    shown = null;
    failures = 0;
    slider.min = '0';
    slider.max = String(Math.max(0, (session.frames || 1) - 1));
    slider.step = '1';
    slider.disabled = false;
    playBtn.disabled = false;
    bar.dataset.session = session.id;
    want(0);
  }

  openBtn.addEventListener('click', openRun);
  slider.addEventListener('input', () => {
    if (session) want(Number(slider.value));
  });
  playBtn.addEventListener('click', () => setPlaying(!playing));

  function show() {
    active = true;
    bar.hidden = false;
    loadRuns();
    if (session) {
      shown = null;
      want(Number(slider.value));
    }
  }

  function hide() {
    active = false;
    setPlaying(false);
    bar.hidden = true;
  }

  function relabel() {
    setPlaying(playing);
    showTime();
  }

  slider.disabled = true;
  playBtn.disabled = true;
  setPlaying(false);

  return { show, hide, relabel };
}
