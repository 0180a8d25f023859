// phrases.js — sentences and names built from the one string table (i18n.js)
// in the chosen language: an at-risk tube's reason from its risk code and
// values, alert kinds and test families by code, and a place's local name.

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
