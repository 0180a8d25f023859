// dom.js — small DOM helpers so no module ever builds HTML from strings:
// elements are made with textContent, lists are updated in place by key
// (so a card being clicked is never swapped out under the pointer).

/** Escapes text for the rare place HTML must be a string (Leaflet tooltips). */
export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

/**
 * Makes an element. `attrs`: `class`, `text`, `testid`, `data` (object),
 * `on` (object of listeners), anything else set as an attribute/property.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'testid') el.dataset.testid = v;
    else if (k === 'data') for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = dv;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Sets text only when it changed (keeps layout and selection stable). */
export function setText(el, text) {
  const s = String(text ?? '');
  if (el.textContent !== s) el.textContent = s;
}

export function setAttr(el, name, value) {
  const s = String(value);
  if (el.getAttribute(name) !== s) el.setAttribute(name, s);
}

/**
 * Makes `container`'s children match `items` by key, reusing elements:
 * `create(item)` makes a new element, `update(el, item)` refreshes one.
 */
export function syncList(container, items, key, create, update) {
  const old = new Map();
  for (const el of container.children) if (el.dataset.key != null) old.set(el.dataset.key, el);
  let prev = null;
  const keep = new Set();
  for (const item of items) {
    const k = String(key(item));
    let el = old.get(k);
    if (!el) {
      el = create(item);
      el.dataset.key = k;
    }
    update(el, item);
    keep.add(k);
    const want = prev ? prev.nextSibling : container.firstChild;
    if (want !== el) container.insertBefore(el, want);
    prev = el;
  }
  for (const [k, el] of old) if (!keep.has(k)) el.remove();
  // Anything without a key (an "empty" note) goes too.
  for (const el of [...container.children]) if (el.dataset.key == null) el.remove();
}

const fmt = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Asia/Shanghai', hourCycle: 'h23',
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

/**
 * Shenzhen local time of an ISO instant, the same in both languages:
 * 'time' (09:41), 'secs' (09:41:07) or 'full' (2026-05-12 09:41:07).
 */
export function fmtTime(iso, kind = 'time') {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = Object.fromEntries(fmt.formatToParts(d).map((x) => [x.type, x.value]));
  const hm = `${p.hour}:${p.minute}`;
  if (kind === 'time') return hm;
  if (kind === 'secs') return `${hm}:${p.second}`;
  return `${p.year}-${p.month}-${p.day} ${hm}:${p.second}`;
}

export function fmtNum(n, digits = 0) {
  if (n == null || Number.isNaN(Number(n))) return '—';
  return Number(n).toFixed(digits);
}

/** Removes every child. */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}
