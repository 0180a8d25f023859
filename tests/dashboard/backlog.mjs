// backlog.mjs — a coordinator's morning in the real dashboard (headless
// Chromium) against a fresh `labflight demo`: grounding the fleet from the UI
// (after its confirmation) makes the at-risk list grow, the on-track share fall
// and the drones tile stop saying every drone is available; the labs tab shows
// each lab's backlog lines (queue, throughput, time to clear, last hour's
// trend); diverting a lab's pending boxes to a lab lacking a test family is
// refused with the reason shown, a valid diversion is accepted and both are in
// the audit log; on a 768×1024 tablet every tab stays reachable while a
// details drawer is open. Stops at the first failure with what was expected.
//
// usage: node tests/dashboard/backlog.mjs <base-url> <coord-user> <coord-pw> <screenshot-dir>

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [base, user, password, shots] = process.argv.slice(2);
if (!shots) {
  console.error('usage: node backlog.mjs <base-url> <coordinator-user> <coordinator-password> <screenshot-dir>');
  process.exit(2);
}
fs.mkdirSync(shots, { recursive: true });

const WAIT = 30_000; // no single wait is longer than this…
const DAY_WAIT = 120_000; // …except waiting for the morning's boxes to be sealed or bound for a lab,
const TOTAL = 6 * 60_000; // and the whole script is bounded too
const HISTORY_POINTS = 13; // crate::lab_backlog::HISTORY_POINTS
const tid = (id) => `[data-testid="${id}"]`;
let browser;
let current = 'start';
const pageErrors = [];

async function fail(message) {
  console.error(`backlog check FAILED at "${current}": ${message}`);
  if (pageErrors.length) console.error(`page errors:\n  ${pageErrors.join('\n  ')}`);
  try { await browser?.close(); } catch { /* ignore */ }
  process.exit(1);
}
const overall = setTimeout(() => fail(`the whole check took longer than ${TOTAL / 1000} s`), TOTAL);

async function step(name, fn) {
  current = name;
  const started = Date.now();
  try {
    await fn();
  } catch (e) {
    await fail(e && e.message ? e.message.split('\n').slice(0, 8).join('\n') : String(e));
  }
  if (pageErrors.length) await fail(`uncaught error in the page: ${pageErrors[0]}`);
  console.log(`ok  ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

/** Polls `fn` until it returns a truthy value, at most `ms`. */
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e.message; }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}${last ? ` (last: ${String(last).slice(0, 300)})` : ''}`);
}

async function shot(page, name) {
  const file = path.join(shots, name);
  await page.screenshot({ path: file });
  console.log(`    screenshot: ${file}`);
}

/** The View the server has now (the same the page renders). */
const serverView = (page) => page.evaluate(async () => (await fetch('/api/v1/dashboard', { credentials: 'same-origin' })).json());

async function login(page) {
  await page.goto(base, { waitUntil: 'domcontentloaded', timeout: WAIT });
  await page.locator(tid('login-form')).waitFor({ state: 'visible', timeout: WAIT });
  await page.fill(tid('login-user'), user);
  await page.fill(tid('login-password'), password);
  await page.click(tid('login-submit'));
  await until(async () => ((await page.locator(tid('whoami')).textContent()) || '').includes(user), WAIT, `whoami to name ${user}`);
  await until(async () => /\d/.test((await page.locator(tid('service-time')).textContent()) || ''), WAIT, 'a service time');
}

function watch(page, label) {
  page.on('pageerror', (e) => pageErrors.push(`[${label}] ${e.message}`));
  page.setDefaultTimeout(WAIT);
}

const launch = {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  timeout: WAIT,
};
try {
  browser = await chromium.launch(launch);
} catch (e) {
  await fail(`could not start Chromium at ${launch.executablePath}: ${e.message.split('\n')[0]}`);
}

const desktop = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
const page = await desktop.newPage();
watch(page, 'desktop');

/** What the coordinator reads on screen: at-risk count, on-track %, the drones tile. */
async function tiles() {
  const risk = Number(((await page.locator('[data-count="risk"]').textContent()) || '0').trim() || 0);
  const onTrack = parseFloat(((await page.locator(`${tid('kpi-on-track')} .kpi-value`).textContent()) || '').trim());
  const drones = ((await page.locator(`${tid('kpi-drones')} .kpi-value`).textContent()) || '').trim();
  const [available, total] = drones.split('/').map((s) => Number(s.trim()));
  return { risk, onTrack, drones, available, total };
}

await step('1. sign in as coordinator; the live view arrives', async () => {
  await login(page);
});

await step('2. the at-risk list against a grounded fleet: ground from the UI (confirmed), at-risk grows, on-track falls, drones unavailable; release', async () => {
  // Tubes sealed and waiting at their centres: what grounding puts at risk.
  const pending = await until(async () => {
    const v = await serverView(page);
    const n = (v.stations || []).reduce((s, x) => s + (x.pending || 0), 0);
    return !v.kpis.fleet_grounded && n >= 10 && n;
  }, DAY_WAIT, 'at least 10 tubes pending at the centres, fleet flying');
  const before = await tiles();
  check(Number.isFinite(before.onTrack) && before.total > 0, `the tiles are not filled: ${JSON.stringify(before)}`);
  console.log(`    before: ${pending} tubes pending; at risk ${before.risk}, on track ${before.onTrack}%, drones ${before.drones}`);
  const dialog = page.locator(tid('confirm-dialog'));
  await page.click(tid('btn-ground'));
  await dialog.waitFor({ state: 'visible', timeout: WAIT });
  await page.click(tid('confirm-ok'));
  await until(async () => (await page.locator(tid('fleet-state')).getAttribute('data-grounded')) === 'true', WAIT, 'fleet-state data-grounded="true"');
  const after = await until(async () => {
    const now = await tiles();
    return now.risk > before.risk && now.onTrack < before.onTrack && now.available === 0 && now.total === before.total && now;
  }, WAIT, `the at-risk count above ${before.risk}, on track below ${before.onTrack}% and drones "0 / ${before.total}"`);
  // The list holds the tubes the badge counts, and the server says why: the grounding.
  await page.click('.tab[data-tab="risk"]');
  await until(async () => (await page.locator(tid('risk-item')).count()) >= 1, WAIT, 'risk items in the at-risk list');
  const v = await serverView(page);
  const grounded = (v.at_risk || []).filter((t) => String(t.risk?.code || '').startsWith('grounded')).length;
  check(grounded >= 1, `no tube at risk for the grounding: codes ${JSON.stringify([...new Set((v.at_risk || []).map((t) => t.risk?.code))])}`);
  console.log(`    grounded: at risk ${before.risk} → ${after.risk} (${grounded} for the grounding now), on track ${before.onTrack}% → ${after.onTrack}%, drones ${before.drones} → ${after.drones}`);
  await shot(page, 'grounded-risk.png');
  await page.click(tid('btn-release'));
  await until(async () => (await page.locator(tid('fleet-state')).getAttribute('data-grounded')) === 'false', WAIT, 'the fleet released');
});

await step('3. the labs tab: per lab, every family line with queue, throughput, time to clear and the last hour', async () => {
  await page.click('.tab[data-tab="labs"]');
  const v = await serverView(page);
  check((v.labs || []).length >= 2, `the view has ${(v.labs || []).length} labs`);
  for (const lab of v.labs) {
    const card = page.locator(`${tid('backlog-lab')}[data-lab="${lab.id}"]`);
    await card.waitFor({ state: 'visible', timeout: WAIT });
    const families = lab.lines.map((l) => l.family).sort();
    const shown = await until(async () => {
      const rows = await card.locator(tid('backlog-line')).evaluateAll((els) => els.map((e) => ({
        family: e.dataset.family,
        cells: [...e.querySelectorAll('td')].map((td) => td.textContent.trim()),
        spark: e.querySelector('.spark').textContent,
        trend: e.querySelector('.bl-trend').dataset.trend,
      })));
      return JSON.stringify(rows.map((r) => r.family).sort()) === JSON.stringify(families) && rows;
    }, WAIT, `${lab.id}'s lines for ${families.join(', ')}`);
    for (const row of shown) {
      check(row.cells.length === 6 && row.cells.every((c) => c.length > 0), `${lab.id} ${row.family}: an empty cell in ${JSON.stringify(row.cells)}`);
      check([...row.spark].length === HISTORY_POINTS, `${lab.id} ${row.family}: the trend shows ${[...row.spark].length} points, not ${HISTORY_POINTS}: "${row.spark}"`);
      check(/^-?\d+$/.test(row.trend ?? ''), `${lab.id} ${row.family}: no trend number (${row.trend})`);
      const line = lab.lines.find((l) => l.family === row.family);
      check(line.queue_last_hour.length === HISTORY_POINTS, `${lab.id} ${row.family}: the server sent ${line.queue_last_hour.length} history points`);
      if (line.per_hour > 0) check(row.cells[3].includes(String(Math.round(line.per_hour))), `${lab.id} ${row.family}: throughput "${row.cells[3]}" is not ${line.per_hour}/h`);
    }
  }
  const hema = v.labs.flatMap((l) => l.lines).find((l) => l.family === 'hematology' && l.per_hour > 0);
  check(hema, 'no lab runs hematology with an analyzer up');
  await shot(page, 'backlog.png');
});

/** Opens lab `from`'s divert picker, picks `to`, submits, confirms; returns the answer shown. */
async function divert(from, to, confirmShot) {
  const card = page.locator(`${tid('backlog-lab')}[data-lab="${from}"]`);
  const form = card.locator(tid('divert-target'));
  if (!(await form.isVisible())) await card.locator(tid('divert-open')).click();
  await form.waitFor({ state: 'visible', timeout: WAIT });
  await form.selectOption(to);
  const hint = ((await card.locator(tid('divert-hint')).textContent()) || '').trim();
  const result = card.locator(tid('divert-result'));
  const before = Number((await result.getAttribute('data-attempt')) || 0);
  const dialog = page.locator(tid('divert-confirm'));
  await card.locator(tid('divert-submit')).click();
  await dialog.waitFor({ state: 'visible', timeout: WAIT });
  const asked = ((await dialog.textContent()) || '').trim();
  if (confirmShot) await shot(page, confirmShot);
  await page.click(tid('divert-confirm-ok'));
  await dialog.waitFor({ state: 'hidden', timeout: WAIT });
  // This attempt's answer, not the last one still shown.
  const outcome = await until(async () => {
    const attempt = Number((await result.getAttribute('data-attempt')) || 0);
    const said = await result.getAttribute('data-outcome');
    return (await result.isVisible()) && attempt > before && said !== 'pending' && said;
  }, WAIT, `the server's answer to diverting ${from} to ${to}`);
  return {
    outcome, hint, asked,
    text: ((await result.textContent()) || '').trim(),
    reason: outcome === 'refused' ? ((await result.locator(tid('divert-reason')).textContent()) || '').trim() : '',
    words: outcome === 'refused' ? ((await result.locator(tid('divert-words')).textContent()) || '').trim() : '',
  };
}

let refusedPair = null;
await step('4. diverting to a lab lacking a test a pending box needs is refused, with the reason shown', async () => {
  // A lab with boxes on their way that need a family another lab does not run.
  const found = await until(async () => {
    const v = await serverView(page);
    for (const lab of v.labs) {
      for (const o of lab.divert || []) {
        if (o.refused?.code !== 'lacks_test') continue;
        const line = lab.lines.find((l) => l.family === o.refused.family);
        if ((line?.inbound ?? 0) >= 2) return { from: lab.id, to: o.to, family: o.refused.family, box: o.refused.box_id };
      }
    }
    return null;
  }, DAY_WAIT, 'a lab whose pending boxes need a family another lab lacks');
  console.log(`    ${found.from} → ${found.to}: ${found.to} lacks ${found.family} (box ${found.box})`);
  const familyZh = await page.evaluate(async (f) => (await import('/assets/phrases.js')).family(f), found.family);
  const answer = await divert(found.from, found.to, 'divert-confirm.png');
  check(answer.hint.includes(familyZh), `the picker's note "${answer.hint}" does not name ${familyZh} before sending`);
  check(answer.outcome === 'refused', `the server accepted the diversion of ${found.from} to ${found.to} (the boxes needing ${found.family} reached the lab meanwhile?): "${answer.text}"`);
  check(answer.reason.includes(familyZh) && /[\u4e00-\u9fff]/.test(answer.reason), `the reason shown "${answer.reason}" does not name ${familyZh} in Chinese`);
  check(answer.words.includes(`does not run ${found.family}`), `the server's own words "${answer.words}" are not shown`);
  console.log(`    refused: ${answer.reason} / server: ${answer.words}`);
  await shot(page, 'divert-refused.png');
  refusedPair = found;
});

await step('5. a valid diversion is accepted, takes the lab out, and both attempts are in the audit log; the lab is made available again', async () => {
  const from = refusedPair.from;
  const to = await until(async () => {
    const v = await serverView(page);
    const lab = v.labs.find((l) => l.id === from);
    return (lab.divert || []).find((o) => !o.refused)?.to;
  }, WAIT, `a lab that would take ${from}'s pending boxes`);
  const answer = await divert(from, to, null);
  check(answer.outcome === 'accepted', `diverting ${from} to ${to} was not accepted: "${answer.text}"`);
  const card = page.locator(`${tid('backlog-lab')}[data-lab="${from}"]`);
  await until(async () => (await card.getAttribute('data-state')) === 'unavailable', WAIT, `${from} marked unavailable after the diversion`);
  const audit = await page.evaluate(async () => (await fetch('/api/v1/audit?limit=100', { credentials: 'same-origin' })).json());
  const ok = audit.find((e) => e.action === 'divert_lab' && e.target === `${from} → ${to}` && e.outcome === 'ok');
  check(ok && ok.user === user && ok.role === 'coordinator', `no "ok" divert_lab audit entry for ${from} → ${to} by ${user}: ${JSON.stringify(audit.slice(0, 5))}`);
  const refused = audit.find((e) => e.action === 'divert_lab' && e.target === `${refusedPair.from} → ${refusedPair.to}` && e.outcome.startsWith('refused'));
  check(refused && refused.outcome.includes(refusedPair.family), `no refused divert_lab audit entry naming ${refusedPair.family}: ${JSON.stringify(audit.slice(0, 5))}`);
  console.log(`    audit: "${ok.action} ${ok.target} ${ok.outcome}", "${refused.target} ${refused.outcome}"`);
  await shot(page, 'divert-accepted.png');
  const status = await page.evaluate(async (id) => (await fetch(`/api/v1/control/labs/${encodeURIComponent(id)}/available`, { method: 'POST', credentials: 'same-origin' })).status, from);
  check(status === 202, `making ${from} available again answered ${status}`);
  await until(async () => (await card.getAttribute('data-state')) === 'open', WAIT, `${from} open again`);
});

await step('6. tablet 768×1024: with a lab\'s details open, every tab stays reachable and uncovered', async () => {
  const ctx = await browser.newContext({ viewport: { width: 768, height: 1024 }, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const tab = await ctx.newPage();
  watch(tab, 'tablet');
  await login(tab);
  await tab.click('.tab[data-tab="labs"]');
  const first = tab.locator(`${tid('backlog-lab')} .lab-name`).first();
  await first.waitFor({ state: 'visible', timeout: WAIT });
  await first.click();
  const details = tab.locator(tid('details'));
  await until(async () => (await details.isVisible()) && (await details.getAttribute('data-kind')) === 'lab', WAIT, 'the lab details drawer');
  const names = await tab.locator('.tab').evaluateAll((els) => els.map((e) => e.dataset.tab));
  check(names.length >= 5, `only ${names.length} tabs: ${names.join(', ')}`);
  for (const name of names) {
    const button = tab.locator(`.tab[data-tab="${name}"]`);
    await button.scrollIntoViewIfNeeded(); // the tab strip may scroll sideways: reachable means there
    const covered = await button.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const x = r.left + r.width / 2;
      const y = r.top + r.height / 2;
      const hit = document.elementFromPoint(x, y);
      if (r.width === 0 || x < 0 || y < 0 || x > innerWidth || y > innerHeight) return `off screen at ${Math.round(x)},${Math.round(y)}`;
      return hit && (hit === el || el.contains(hit)) ? null : `covered by ${hit ? `${hit.tagName.toLowerCase()}.${hit.className}` : 'nothing'}`;
    });
    check(!covered, `the ${name} tab is not reachable with the details open: ${covered}`);
    await button.click({ timeout: 5000 });
    await until(async () => tab.locator(`.panel[data-panel="${name}"]`).isVisible(), WAIT, `the ${name} panel`);
    check(await details.isVisible(), `the details closed when the ${name} tab was chosen`);
  }
  await tab.click('.tab[data-tab="labs"]');
  const sw = await tab.evaluate(() => document.scrollingElement.scrollWidth);
  check(sw <= 770, `the page scrolls sideways on the tablet: scrollWidth ${sw}`);
  const open = tab.locator(tid('divert-open')).first();
  await open.scrollIntoViewIfNeeded();
  const box = await open.boundingBox();
  check(box && box.x >= 0 && box.x + box.width <= 768, `the divert button is off screen on the tablet: ${JSON.stringify(box)}`);
  await shot(tab, 'backlog-tablet.png');
  await ctx.close();
});

clearTimeout(overall);
await browser.close();
console.log('backlog check passed');
