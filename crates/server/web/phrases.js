// phrases.js — sentences and names built from the one string table (i18n.js)
// in the chosen language: an at-risk tube's reason from its risk code and
// values, the dispatcher's reasons (why a mission, a verdict, an alert) from
// their code and values, alert kinds and test families by code, and a place's
// local name.

import { t, tStatus, getLang } from './i18n.js';
import { fmtTime } from './dom.js';

/** Why a tube is at risk, from `risk: {code, lab, at, limit}`; the server's English `reason` only for a code the table lacks. */
export function riskReason(item) {
  const risk = item?.risk || {};
  const key = `risk.code.${risk.code}`;
  const text = tStatus('risk.code', risk.code);
  if (!risk.code || text === String(risk.code)) return item?.reason ?? '';
  return t(key, {
    lab: risk.lab ?? item.lab ?? '—',
    at: fmtTime(risk.at),
    limit: fmtTime(risk.limit ?? item.stability_limit),
  });
}

/** A reason's number with the precision `Reason::english` writes it with, by the value's name. */
function reasonNumber(key, v) {
  const digits = key.endsWith('_kg') ? 2
    : (key === 'lat' || key === 'lon') ? 5
      : (key === 'temp_c' || key.endsWith('_mps') || key.endsWith('_mm_h')) ? 1
        : ['per_hour', 'battery_pct', 'min_c', 'max_c'].includes(key) ? 0 : null;
  return digits == null ? String(v) : fixedHalfEven(v, digits);
}

/** `v` with `d` decimals, an exact tie rounded to even as Rust's `{:.d}` does (`toFixed` rounds it up: 28.5 → 29). */
function fixedHalfEven(v, d) {
  const [int, frac] = Math.abs(v).toFixed(d + 30).split('.');
  if (!/^50*$/.test(frac.slice(d))) return v.toFixed(d);
  const last = Number(d ? frac[d - 1] : int.slice(-1));
  const down = Number(d ? `${int}.${frac.slice(0, d)}` : int);
  return (Math.sign(v) * (last % 2 === 0 ? down : down + 10 ** -d)).toFixed(d);
}

/** One value of a reason in words: an instant (`…_at`) on the local clock, a family or status by name, a nested reason, a list. */
function reasonValue(key, v) {
  if (v == null) return '—';
  if (Array.isArray(v)) {
    const nested = v.some((x) => x && typeof x === 'object');
    return v.map((x) => reasonValue(key, x)).join(nested ? t('reason.sep_list') : t('reason.sep_ids'));
  }
  if (typeof v === 'object') return reasonText(v);
  if (key.endsWith('_at')) return fmtTime(v);
  if (key === 'family') return family(v);
  if (key === 'status') return tStatus('status', v);
  if (key === 'claim') return tStatus('claim', v);
  if (typeof v === 'number') return reasonNumber(key, v);
  return String(v);
}

/**
 * A dispatcher's reason `{code, …values}` (a mission's why, an option's
 * verdict, an alert) in the chosen language; `fallback` (the server's English)
 * when there is none or the table lacks its code.
 */
export function reasonText(reason, fallback = '') {
  const code = reason?.code;
  if (!code || tStatus('reason', code) === String(code)) return fallback ?? '';
  const vars = {};
  for (const [k, v] of Object.entries(reason)) if (k !== 'code') vars[k] = reasonValue(k, v);
  return t(`reason.${code}`, vars);
}

/** An alert kind (`no_feasible_drone`) in words. */
export function alertKind(kind) {
  return kind ? tStatus('alertkind', kind) : '';
}

/** What an alert is about: an id, or a word the table knows (`fleet`). */
export function alertSubject(subject) {
  return subject ? tStatus('subject', subject) : '';
}

/** A test family (`hematology`) in words. */
export function family(code) {
  return tStatus('family', code);
}

/**
 * A centre's or lab's name in the chosen language: in Chinese its `name_zh`
 * (or a name already in Chinese), else its id; in English its `name`.
 */
export function localName(id, ...sources) {
  const HAN = /[\u4e00-\u9fff]/;
  for (const s of sources) {
    if (!s) continue;
    if (getLang() === 'zh') {
      if (s.name_zh) return s.name_zh;
      if (s.name && HAN.test(s.name)) return s.name;
    } else if (s.name) {
      return s.name;
    }
  }
  return id ?? '—';
}
