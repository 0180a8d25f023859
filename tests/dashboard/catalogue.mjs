// catalogue.mjs — no untranslated key reaches either language: every key the
// dashboard's code uses (t('…'), data-i18n attributes, key literals) and every
// code the server can send (risk codes, alert kinds, severities, test families,
// drone/box/tube/mission statuses, custody steps, divert refusals, and every
// dispatcher reason code of labflight_core::Reason — read from the Rust sources)
// has a Chinese entry (with Chinese in it) and an English one (with none); a
// reason's placeholders are fields of its variant.
//
// usage: node tests/dashboard/catalogue.mjs [repo-root]; exits 1 listing what is missing.

import fs from 'node:fs';
import path from 'node:path';

const root = process.argv[2] || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const web = path.join(root, 'crates/server/web');
const read = (p) => fs.readFileSync(path.join(root, p), 'utf8');
const HAN = /[\u4e00-\u9fff]/;
// Full-width CJK punctuation: a Chinese entry that is only placeholders and
// separators (`{lab}：{why}`, `；`) must use it instead of Han characters.
const CJK_PUNCT = /[\u3000-\u303f\uff00-\uffef]/;
const problems = [];

// --- the table, evaluated from i18n.js's STRINGS literal ---
const i18n = fs.readFileSync(path.join(web, 'i18n.js'), 'utf8');
const start = i18n.indexOf('const STRINGS = {');
const end = i18n.indexOf('\n};', start);
if (start < 0 || end < 0) {
  console.error('catalogue check FAILED: no `const STRINGS = {…};` in i18n.js');
  process.exit(1);
}
// A key written twice silently keeps the last entry (two branches adding the same key).
const seen = new Set();
for (const m of i18n.slice(start, end).matchAll(/^\s*(['"])([^'"]+)\1\s*:/gm)) {
  if (seen.has(m[2])) problems.push(`${m[2]}: defined twice in i18n.js`);
  seen.add(m[2]);
}
const STRINGS = new Function(`return ${i18n.slice(start + 'const STRINGS = '.length, end + 2)}`)();
// Entries meant to be in the other language: the switch names the language it switches to.
const CROSS = new Set(['lang.toggle']);
for (const [key, entry] of Object.entries(STRINGS)) {
  if (!Array.isArray(entry) || entry.length !== 2 || entry.some((s) => typeof s !== 'string' || !s.trim())) {
    problems.push(`${key}: not a [Chinese, English] pair of non-empty strings`);
    continue;
  }
  const [zh, en] = entry;
  if (CROSS.has(key)) continue;
  const punctuationOnly = !/[\p{L}\p{N}]/u.test(zh.replace(/\{\w+\}/g, ''));
  if (!(HAN.test(zh) || (punctuationOnly && CJK_PUNCT.test(zh)))) problems.push(`${key}: the Chinese entry has no Chinese: "${zh}"`);
  if (HAN.test(en)) problems.push(`${key}: the English entry has Chinese: "${en}"`);
  const vars = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
  if (vars(zh) !== vars(en)) problems.push(`${key}: placeholders differ: {${vars(zh)}} vs {${vars(en)}}`);
}

// --- keys the web code uses literally ---
const used = new Map(); // key -> where
const use = (key, where) => { if (!used.has(key)) used.set(key, where); };
const KEYLIKE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;
const prefixes = new Set(Object.keys(STRINGS).map((k) => k.split('.')[0]));
for (const file of fs.readdirSync(web).filter((f) => f.endsWith('.js') || f.endsWith('.html'))) {
  const src = fs.readFileSync(path.join(web, file), 'utf8');
  for (const m of src.matchAll(/\bt\(\s*['"]([^'"]+)['"]/g)) use(m[1], `${file}: t('${m[1]}')`);
  for (const m of src.matchAll(/data-i18n(?:-placeholder|-title)?="([^"]+)"/g)) use(m[1], `${file}: data-i18n`);
  for (const m of src.matchAll(/\bi18n(?:Placeholder|Title)?:\s*['"]([^'"]+)['"]/g)) use(m[1], `${file}: data.i18n`);
  // Any other key-like literal whose first part names a section of the table
  // (e.g. column headings kept in a list), except storage keys.
  // Selectors ($('header.top')) and tStatus's prefix argument are not keys.
  if (file === 'i18n.js') continue; // the table itself: its keys are definitions, not uses
  for (const m of src.matchAll(/(\$\(|querySelector(?:All)?\(|tStatus\(\s*)?'([a-z][a-z0-9_.]*)'/g)) {
    if (m[1]) continue;
    const s = m[2];
    if (KEYLIKE.test(s) && prefixes.has(s.split('.')[0]) && !s.startsWith('labflight.')) use(s, `${file}: '${s}'`);
  }
  // tStatus('prefix', 'word') with a literal word.
  for (const m of src.matchAll(/tStatus\(\s*'([a-z_.]+)'\s*,\s*'([a-z_]+)'/g)) use(`${m[1]}.${m[2]}`, `${file}: tStatus`);
}

// --- codes the server sends, read from the Rust sources ---
const snake = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
function enumVariants(file, name) {
  const src = read(file);
  const at = src.indexOf(`pub enum ${name} {`);
  if (at < 0) throw new Error(`${file}: no enum ${name}`);
  const body = src.slice(at, src.indexOf('\n}', at));
  return [...body.matchAll(/^\s{4}([A-Z][A-Za-z0-9]*)\s*[,{(]/gm)].map((m) => snake(m[1]));
}
/** The `=> "name"` strings of the first `fn <fname>(` after `anchor`. */
function arms(file, anchor, fname) {
  const src = read(file);
  const at = src.indexOf(anchor);
  if (at < 0) throw new Error(`${file}: no "${anchor}"`);
  const f = src.indexOf(`fn ${fname}(`, at);
  const body = src.slice(f, src.indexOf('\n    }\n', f) > 0 ? src.indexOf('\n    }\n', f) : src.indexOf('\n}\n', f));
  const out = [...body.matchAll(/=>\s*"([a-z0-9_]+)"/g)].map((m) => m[1]);
  if (!out.length) throw new Error(`${file}: no names in fn ${fname} after "${anchor}"`);
  return out;
}
/** Each variant of `labflight_core::Reason` (snake_case code) and its fields. */
function reasonVariants() {
  const src = read('crates/core/src/reason.rs');
  const at = src.indexOf('pub enum Reason {');
  if (at < 0) throw new Error('crates/core/src/reason.rs: no enum Reason');
  const body = src.slice(at + 'pub enum Reason {'.length, src.indexOf('\n}', at));
  const out = [];
  for (const m of body.matchAll(/^ {4}([A-Z][A-Za-z0-9]*)\s*(,|\{)/gm)) {
    const fields = [];
    if (m[2] === '{') {
      const end = body.indexOf('\n    },', m.index);
      for (const f of body.slice(m.index, end).matchAll(/^ {8}([a-z_][a-z0-9_]*):/gm)) fields.push(f[1]);
    }
    out.push([snake(m[1]), fields]);
  }
  return out;
}
const reasonFields = new Map();
const server = [];
const sends = (prefix, names, from) => { for (const n of names) server.push([`${prefix}.${n}`, from]); };
try {
  sends('risk.code', arms('crates/server/src/view/risk.rs', 'fn risk_code', 'risk_code'), 'view/risk.rs risk_code');
  sends('alertkind', enumVariants('crates/core/src/command.rs', 'AlertKind'), 'command.rs AlertKind');
  sends('sev', enumVariants('crates/core/src/command.rs', 'Severity'), 'command.rs Severity');
  sends('family', arms('crates/core/src/lab.rs', 'impl TestFamily', 'as_str'), 'lab.rs TestFamily');
  sends('status', arms('crates/dispatch/src/state.rs', 'impl DroneStatus', 'name'), 'DroneStatus');
  sends('status', arms('crates/dispatch/src/state.rs', 'impl BoxStatus', 'name'), 'BoxStatus');
  sends('status', arms('crates/dispatch/src/state.rs', 'impl TubeStatus', 'name'), 'TubeStatus');
  const board = read('crates/server/src/view/board.rs');
  const cols = [...board.matchAll(/MissionStatus::\w+\s*=>\s*"([a-z_]+)"/g)].map((m) => m[1]);
  sends('status', ['queued', ...cols], 'view/board.rs mission columns');
  sends('policy', arms('crates/dispatch/src/policy/mod.rs', 'impl PolicyKind', 'name'), 'PolicyKind');
  sends('step', arms('crates/core/src/custody.rs', 'impl CustodyStepKind', 'as_str'), 'CustodyStepKind');
  sends('divert.code', enumVariants('crates/dispatch/src/divert.rs', 'DivertRefused'), 'divert.rs DivertRefused');
  sends('claim', arms('crates/dispatch/src/lab_claims.rs', 'impl LabClaim', 'name'), 'lab_claims.rs LabClaim::name');
  for (const [code, fields] of reasonVariants()) {
    server.push([`reason.${code}`, 'reason.rs Reason']);
    reasonFields.set(code, fields);
  }
  if (reasonFields.size < 10) throw new Error(`crates/core/src/reason.rs: only ${reasonFields.size} Reason variants read`);
} catch (e) {
  console.error(`catalogue check FAILED: could not read the server's codes: ${e.message}`);
  process.exit(1);
}
for (const [key, from] of server) use(key, `sent by the server (${from})`);

for (const [key, where] of used) {
  if (!STRINGS[key]) problems.push(`${key}: used but not in the table (${where})`);
}
// A reason's sentence may only name its variant's values.
for (const [code, fields] of reasonFields) {
  const entry = STRINGS[`reason.${code}`];
  if (!Array.isArray(entry)) continue;
  for (const name of new Set([...entry.join(" ").matchAll(/\{(\w+)\}/g)].map((m) => m[1]))) {
    if (!fields.includes(name)) problems.push(`reason.${code}: placeholder {${name}} is not a field of Reason::${code} (${fields.join(', ') || 'none'})`);
  }
}
if (problems.length) {
  console.error(`catalogue check FAILED (${problems.length}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`catalogue check passed: ${Object.keys(STRINGS).length} entries, ${used.size} keys used (${server.length} server codes), each in Chinese and English`);
