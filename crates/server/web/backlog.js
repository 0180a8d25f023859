// backlog.js — the labs tab as a coordinator weighs a diversion: per lab, each
// test family's queue, throughput, time to clear and last hour's trend (an
// arrow with the net change, and the queue every five minutes as a row of
// block characters), and "divert pending boxes to…": a lab picker that says
// what the server would answer (the boxes that would move, or why not), a
// confirmation, and the server's answer shown in place (a refusal in the
// chosen language, with the server's own words beside it).

import { t, tStatus } from './i18n.js';
import { api, enc } from './api.js';
import { h, setText, setAttr, syncList, fmtNum, clear } from './dom.js';
import { family, localName } from './phrases.js';

const BLOCKS = '▁▂▃▄▅▆▇█';

/** The queue history as block characters, scaled to its own highest point. */
export function sparkline(points) {
  const max = Math.max(0, ...points);
  return points.map((n) => BLOCKS[max === 0 ? 0 : Math.round((n / max) * (BLOCKS.length - 1))]).join('');
}

/** A refused diversion in words, from the code and values the server sends. */
export function divertReason(refused, to, ctx) {
  if (!refused) return '';
  const text = tStatus('divert.code', refused.code);
  if (text === String(refused.code)) return String(refused.code);
  return t(`divert.code.${refused.code}`, {
    to: ctx.labName(to),
    family: refused.family ? family(refused.family) : '—',
    box: refused.box_id ?? '—',
  });
}

/** Draws every lab's card into the labs panel, keeping open pickers as they are. */
export function renderBacklog(root, view, ctx) {
  const list = root.querySelector('[data-testid="lab-queues"]');
  syncList(list, view.labs || [], (l) => l.id, (l) => labCard(l.id, ctx), (card, l) => card.update(l, view));
  if (list.children.length === 0) list.append(h('p', { class: 'empty', text: t('labs.empty') }));
}

function labCard(id, ctx) {
  const name = h('button', { type: 'button', class: 'link lab-name', on: { click: () => ctx.select({ kind: 'lab', id }) } });
  const badge = h('span', { class: 'badge lab-state' });
  const down = h('div', { class: 'down' });
  const table = h('table', { class: 'queue backlog', testid: 'backlog-table' });
  const divert = divertControls(id, ctx);
  const card = h('div', { class: 'lab-card', testid: 'backlog-lab', data: { lab: id } },
    h('div', { class: 'row' }, name, badge), down, table, divert.el);
  card.update = (l) => {
    setText(name, localName(l.id, ctx.staticProps.labs.get(l.id), l));
    const state = l.closed ? 'closed' : l.unavailable ? 'unavailable' : 'open';
    badge.className = `badge lab-state ${state}`;
    setAttr(card, 'data-state', state);
    setText(badge, t(`labs.${state}`));
    const dn = l.analyzers_down || [];
    down.hidden = dn.length === 0;
    setText(down, `${t('labs.down')}: ${dn.join(', ')}`);
    fillLines(table, l.lines || []);
    divert.update(l);
  };
  return card;
}

/** The family table: queue, inbound, per hour, time to clear, last hour. */
function fillLines(table, lines) {
  if (!table.tHead) {
    table.append(h('thead', {}, h('tr', {}, ...['labs.family', 'labs.queue', 'labs.inbound', 'backlog.per_hour', 'backlog.clear', 'backlog.trend']
      .map((key) => h('th', { data: { i18n: key }, text: t(key) })))), h('tbody'));
  }
  for (const th of table.tHead.querySelectorAll('th')) setText(th, t(th.dataset.i18n));
  syncList(table.tBodies[0], lines, (x) => x.family, () => h('tr', { testid: 'backlog-line' },
    h('td', { class: 'bl-family' }), h('td', { class: 'bl-queue' }), h('td', { class: 'bl-inbound' }),
    h('td', { class: 'bl-rate' }), h('td', { class: 'bl-clear' }),
    h('td', { class: 'bl-trend' }, h('span', { class: 'arrow' }), ' ', h('span', { class: 'spark', 'aria-hidden': 'true' }))),
  (tr, x) => {
    setAttr(tr, 'data-family', x.family);
    setAttr(tr, 'data-queue', x.queue);
    setText(tr.querySelector('.bl-family'), family(x.family));
    setText(tr.querySelector('.bl-queue'), x.queue);
    setText(tr.querySelector('.bl-inbound'), x.inbound);
    setText(tr.querySelector('.bl-rate'), x.per_hour > 0 ? t('backlog.rate', { n: fmtNum(x.per_hour) }) : t('backlog.none_up'));
    const clearCell = tr.querySelector('.bl-clear');
    setText(clearCell, x.clear_min == null ? '—' : x.queue === 0 ? t('backlog.clear_now') : t('backlog.minutes', { n: fmtNum(x.clear_min) }));
    clearCell.classList.toggle('bad', x.clear_min == null && x.queue > 0);
    const trend = x.trend_last_hour ?? 0;
    const cell = tr.querySelector('.bl-trend');
    setAttr(cell, 'data-trend', trend);
    cell.classList.toggle('up', trend > 0);
    cell.classList.toggle('down', trend < 0);
    setText(cell.querySelector('.arrow'), `${trend > 0 ? '↑' : trend < 0 ? '↓' : '→'} ${trend > 0 ? '+' : ''}${trend}`);
    const points = x.queue_last_hour || [];
    setText(cell.querySelector('.spark'), sparkline(points));
    cell.title = t('backlog.trend_title', {
      received: x.received_last_hour ?? 0, reported: x.reported_last_hour ?? 0, points: points.join(' · '),
    });
  });
}

/** "Divert pending boxes to…": the button, the picker, and the server's last answer. */
function divertControls(from, ctx) {
  const open = h('button', { type: 'button', class: 'btn small', testid: 'divert-open' });
  const select = h('select', { class: 'divert-target', testid: 'divert-target' });
  const go = h('button', { type: 'button', class: 'btn small danger', testid: 'divert-submit' });
  const cancel = h('button', { type: 'button', class: 'btn small', testid: 'divert-cancel' });
  const hint = h('span', { class: 'divert-hint', testid: 'divert-hint' });
  const form = h('div', { class: 'row divert-form', hidden: true }, select, go, cancel, hint);
  const result = h('div', { class: 'divert-result', testid: 'divert-result', role: 'status', hidden: true });
  const el = h('div', { class: 'divert', testid: 'divert', data: { lab: from } }, open, form, result);
  let options = [];
  let shown = null; // the last answer: {outcome (pending, accepted, refused), to, attempt, reason, words}
  let attempts = 0;

  open.addEventListener('click', () => { form.hidden = !form.hidden; });
  cancel.addEventListener('click', () => { form.hidden = true; });
  select.addEventListener('change', () => showHint());
  go.addEventListener('click', async () => {
    const to = select.value;
    if (!to) return;
    const option = options.find((o) => o.to === to);
    if (!(await confirmDivert(from, to, option, ctx))) return;
    // The last answer gives way at once: nothing stale is read as this one's.
    attempts += 1;
    shown = { outcome: 'pending', to, attempt: attempts };
    drawResult();
    go.dataset.busy = '1';
    go.disabled = true;
    const res = await api(`/api/v1/control/labs/${enc(from)}/divert`, { method: 'POST', body: { to } });
    delete go.dataset.busy;
    go.disabled = !ctx.canControl();
    if (res.ok) {
      shown = { outcome: 'accepted', to, attempt: attempts };
      form.hidden = true;
      ctx.toast(t('ctl.accepted'));
    } else {
      // The server's refusal, worded from the preview when it says the same,
      // with the server's own words beside it (they name the box).
      const now = options.find((o) => o.to === to);
      shown = {
        outcome: 'refused', to, attempt: attempts,
        reason: now?.refused ? divertReason(now.refused, to, ctx) : '', words: res.error ?? '', status: res.status,
      };
      ctx.toast(t('divert.refused_short'), true);
    }
    drawResult();
  });

  function showHint() {
    const option = options.find((o) => o.to === select.value);
    setText(hint, option ? optionNote(option, ctx) : '');
    hint.classList.toggle('bad', !!option?.refused);
  }

  let drawn = '';
  function drawResult() {
    result.hidden = !shown;
    if (!shown) return;
    // Redrawn only when the answer or the language changes, not with every view.
    const sig = JSON.stringify([shown, t('divert.submit')]);
    if (sig === drawn) return;
    drawn = sig;
    setAttr(result, 'data-outcome', shown.outcome);
    setAttr(result, 'data-attempt', shown.attempt);
    result.className = `divert-result ${shown.outcome}`;
    setAttr(result, 'role', shown.outcome === 'refused' ? 'alert' : 'status');
    clear(result);
    const to = ctx.labName(shown.to);
    if (shown.outcome === 'pending') {
      result.append(h('b', { text: t('ctl.busy') }));
      return;
    }
    if (shown.outcome === 'accepted') {
      result.append(h('b', { text: t('divert.accepted', { from: ctx.labName(from), to }) }));
    } else {
      result.append(h('b', { text: t('divert.refused', { to }) }));
      if (shown.reason) result.append(h('div', { class: 'divert-reason', testid: 'divert-reason', text: shown.reason }));
      result.append(h('div', { class: 'divert-words' }, h('span', { class: 'lbl', text: `${t('divert.server_said', { status: shown.status })} ` }),
        h('q', { testid: 'divert-words', text: shown.words })));
    }
    result.append(h('button', { type: 'button', class: 'link', text: t('details.close'), on: { click: () => { shown = null; drawResult(); } } }));
  }

  function update(l) {
    el.hidden = ctx.role !== 'coordinator' || (l.divert || []).length === 0;
    setText(open, t('divert.open'));
    setText(go, t('divert.submit'));
    setText(cancel, t('confirm.cancel'));
    if (!open.dataset.busy) open.disabled = !ctx.canControl();
    if (!go.dataset.busy) go.disabled = !ctx.canControl();
    if (!ctx.canControl()) form.hidden = true;
    options = l.divert || [];
    const keep = select.value;
    const items = [{ to: '', pick: true }, ...options];
    syncList(select, items, (o) => (o.pick ? '-' : o.to), (o) => (o.pick ? h('option', { value: '', disabled: true }) : h('option')), (opt, o) => {
      if (o.pick) { setText(opt, t('divert.pick')); return; }
      opt.value = o.to;
      setAttr(opt, 'data-refused', o.refused ? o.refused.code : '');
      setText(opt, `${ctx.labName(o.to)} · ${optionNote(o, ctx)}`);
    });
    const want = options.some((o) => o.to === keep) ? keep : '';
    if (select.value !== want) select.value = want;
    showHint();
    if (shown) drawResult();
  }

  return { el, update };
}

function optionNote(option, ctx) {
  return option.refused ? divertReason(option.refused, option.to, ctx) : t('divert.boxes', { n: option.boxes });
}

let dialog = null;

/** Asks before diverting (a modal dialog); true to go ahead. */
function confirmDivert(from, to, option, ctx) {
  if (!dialog) {
    dialog = h('dialog', { class: 'confirm', testid: 'divert-confirm' },
      h('form', { method: 'dialog' },
        h('h2', { class: 'confirm-title' }),
        h('p', { class: 'confirm-text' }),
        h('p', { class: 'confirm-text divert-note' }),
        h('div', { class: 'confirm-actions' },
          h('button', { type: 'submit', value: 'cancel', class: 'btn', testid: 'divert-confirm-cancel' }),
          h('button', { type: 'submit', value: 'ok', class: 'btn danger', testid: 'divert-confirm-ok' }))));
    (document.getElementById('app') || document.body).append(dialog);
  }
  const names = { from: ctx.labName(from), to: ctx.labName(to) };
  setText(dialog.querySelector('.confirm-title'), t('divert.confirm_title', names));
  setText(dialog.querySelector('.confirm-text'), t('divert.confirm_text', names));
  const note = dialog.querySelector('.divert-note');
  setText(note, option ? optionNote(option, ctx) : '');
  note.classList.toggle('bad', !!option?.refused);
  setText(dialog.querySelector('[value="cancel"]'), t('confirm.cancel'));
  setText(dialog.querySelector('[value="ok"]'), t('divert.submit'));
  return new Promise((resolve) => {
    dialog.returnValue = '';
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' && ctx.canControl()), { once: true });
    dialog.showModal();
  });
}
