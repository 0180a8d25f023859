// search.mjs — the coordinator's work views in the real dashboard (headless
// Chromium): the fleet table lists every drone, drone ids are on the map, the
// search box finds a drone and a tube barcode and opens them, the boxes waiting
// to fly are in deadline order and can be grouped, and in Chinese mode the main
// screens — alerts' texts and a mission's "why" included — show no English words
// (ids, barcodes and units aside), nor Chinese in English mode, where the
// dispatcher's reasons read exactly as the server's English for them.
//
// usage: node tests/dashboard/search.mjs <base-url> <coord-user> <coord-pw> <screenshot-dir> [other-user…]

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [base, user, password, shots, ...otherUsers] = process.argv.slice(2);
if (!shots) {
  console.error('usage: node search.mjs <base-url> <coordinator-user> <coordinator-password> <screenshot-dir> [other-user…]');
  process.exit(2);
}
fs.mkdirSync(shots, { recursive: true });

const WAIT = 30_000;
const MISSION_WAIT = 60_000; // a mission card with a coded why: the first may take a minute of service time
const TOTAL = 4 * 60_000;
const tid = (id) => `[data-testid="${id}"]`;
let browser;
let current = 'start';
const pageErrors = [];

async function fail(message) {
  console.error(`search check FAILED at "${current}": ${message}`);
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
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}${last ? ` (last: ${String(last).slice(0, 200)})` : ''}`);
}

async function shot(page, name) {
  const file = path.join(shots, name);
  await page.screenshot({ path: file });
  console.log(`    screenshot: ${file}`);
}

/** The View the server has now (the same the page renders). */
const HAN_RE = /[\u4e00-\u9fff]/;
const currentView = (page) => page.evaluate(async () => (await fetch('/api/v1/dashboard', { credentials: 'same-origin' })).json());

try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    timeout: WAIT,
  });
} catch (e) {
  await fail(`could not start Chromium: ${e.message.split('\n')[0]}`);
}
const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
const page = await ctx.newPage();
page.on('pageerror', (e) => pageErrors.push(e.message));
page.setDefaultTimeout(WAIT);

await step('s1. sign in as coordinator (Chinese), the live view arrives', async () => {
  await page.goto(base, { waitUntil: 'domcontentloaded', timeout: WAIT });
  await page.evaluate(() => localStorage.setItem('labflight.lang', 'zh'));
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.locator(tid('login-form')).waitFor({ state: 'visible' });
  await page.fill(tid('login-user'), user);
  await page.fill(tid('login-password'), password);
  await page.click(tid('login-submit'));
  await until(async () => (await page.locator(tid('conn-status')).getAttribute('data-state')) === 'open', WAIT, 'the live feed');
  await until(async () => (await page.locator('path[class*="dr-"]').count()) >= 1, WAIT, 'drones on the map');
  const zone = (await page.locator(tid('time-zone')).textContent()) || '';
  check(/UTC\+8/.test(zone), `the header states no zone: "${zone}"`);
});

await step('s2. the fleet table lists every drone with battery, state, mission and ETA', async () => {
  await page.click(tid('tab-fleet'));
  const table = page.locator(tid('fleet-table'));
  await table.waitFor({ state: 'visible' });
  const result = await until(async () => {
    const view = await currentView(page);
    const want = view.drones.map((d) => d.id).sort();
    const got = (await table.locator(tid('fleet-row')).evaluateAll((rows) => rows.map((r) => r.dataset.drone))).sort();
    return JSON.stringify(want) === JSON.stringify(got) && want.length > 0 && { view, n: want.length };
  }, WAIT, 'one fleet-row per drone of the view');
  const rows = await table.locator(tid('fleet-row')).evaluateAll((rs) => rs.map((r) => ({
    id: r.dataset.drone, cells: [...r.cells].map((c) => c.textContent.trim()),
  })));
  check(rows.every((r) => /\d+%|—/.test(r.cells[1]) && r.cells[2].length > 0), `rows without battery or state: ${JSON.stringify(rows.slice(0, 3))}`);
  const withEta = rows.filter((r) => /^\d\d:\d\d$/.test(r.cells[4]));
  const onMission = result.view.drones.filter((d) => d.mission && d.eta).length;
  console.log(`    ${result.n} drones listed, ${withEta.length} with an ETA (${onMission} on a mission in the view)`);
  await shot(page, 'fleet.png');
});

await step('s3. drone ids are on the map', async () => {
  const view = await currentView(page);
  await until(async () => {
    const labels = await page.locator('.drone-label').allTextContents();
    return view.drones.every((d) => labels.includes(d.id)) && labels.length;
  }, WAIT, `a label for each of the ${view.drones.length} drones`);
});

await step('s4. search finds a drone, opens it and centres the map on it', async () => {
  const view = await currentView(page);
  const drone = (view.drones.find((d) => d.mission) || view.drones[0]).id;
  await page.fill(tid('search-input'), drone);
  const hit = page.locator(`${tid('search-result')}[data-kind="drone"][data-id="${drone}"]`);
  await hit.waitFor({ state: 'visible' });
  await hit.click();
  const details = page.locator(tid('details'));
  await until(async () => (await details.getAttribute('data-kind')) === 'drone' && (await details.getAttribute('data-id')) === drone, WAIT, `the details of drone ${drone}`);
  await until(async () => {
    const m = await page.locator(tid('map')).boundingBox();
    const d = await page.locator(`path.dr-${drone}`).boundingBox();
    return m && d && d.x >= m.x && d.x <= m.x + m.width && d.y >= m.y && d.y <= m.y + m.height;
  }, WAIT, `drone ${drone} inside the map`);
  console.log(`    drone ${drone} found and opened`);
});

await step('s5. search finds a tube barcode and opens its chain of custody', async () => {
  const view = await until(async () => {
    const v = await currentView(page);
    return (v.boxes.some((b) => (b.barcodes || []).length) || v.at_risk.length) && v;
  }, WAIT, 'a tube barcode in the view');
  const barcode = view.boxes.flatMap((b) => b.barcodes || [])[0] || view.at_risk[0].barcode;
  await page.fill(tid('search-input'), barcode);
  const hit = page.locator(`${tid('search-result')}[data-kind="tube"][data-id="${barcode}"]`);
  await hit.waitFor({ state: 'visible' });
  await page.press(tid('search-input'), 'Enter');
  const details = page.locator(tid('details'));
  await until(async () => (await details.getAttribute('data-kind')) === 'tube' && (await details.getAttribute('data-id')) === barcode, WAIT, `the details of tube ${barcode}`);
  await until(async () => (await details.locator(tid('custody-step')).count()) >= 1, WAIT, `custody steps of ${barcode}`);
  await page.fill(tid('search-input'), 'no-such-thing-xyz');
  await until(async () => (await page.locator(tid('search-results')).textContent()).includes('没有匹配'), WAIT, 'the "no match" note in Chinese');
  await page.fill(tid('search-input'), barcode);
  await shot(page, 'search.png');
  await page.fill(tid('search-input'), '');
  await page.locator('.d-close').click();
  console.log(`    tube ${barcode} found and opened`);
});

await step('s6. boxes waiting and tubes at risk: soonest deadline first, grouped by centre on request', async () => {
  await page.click(tid('tab-boxes'));
  const list = page.locator(tid('box-list'));
  await list.waitFor({ state: 'visible' });
  const deadlines = await list.locator(tid('box-item')).evaluateAll((els) => els.map((e) => e.dataset.deadline));
  const sorted = [...deadlines].sort();
  check(JSON.stringify(deadlines) === JSON.stringify(sorted), `boxes not in deadline order: ${deadlines.slice(0, 6).join(', ')}`);
  await page.selectOption(tid('group-boxes'), 'station');
  if (deadlines.length) {
    await until(async () => (await list.locator(tid('group-head')).count()) >= 1, WAIT, 'group headings by centre');
  }
  check((await page.locator(tid('group-risk')).inputValue()) === 'station', 'the at-risk list did not follow the grouping choice');
  await page.selectOption(tid('group-boxes'), 'none');
  await until(async () => (await list.locator(tid('group-head')).count()) === 0, WAIT, 'no group headings');
  const risk = await currentView(page);
  const limits = risk.at_risk.map((r) => r.stability_limit);
  check(JSON.stringify(limits) === JSON.stringify([...limits].sort()), 'the view\'s at-risk list is not by stability limit');
  console.log(`    ${deadlines.length} boxes waiting, ${limits.length} tubes at risk`);
});

/**
 * Visible text of the main screens for each tab, with words of 4+ Latin letters
 * (no digit: ids and barcodes have one) or Chinese characters picked out.
 * Left out: the user names, the scenario's file name, the brand and the
 * language switch (it names the other language). Alerts' texts are in: they
 * are rendered from the dispatcher's reason codes.
 */
async function strayWords(lang) {
  const tabs = ['missions', 'risk', 'alerts', 'labs', 'fleet', 'boxes'];
  const found = [];
  for (const tab of tabs) {
    await page.click(`.tab[data-tab="${tab}"]`);
    await page.waitForTimeout(300);
    const words = await page.evaluate(({ tab, lang, allow }) => {
      const roots = ['header.top', '.side .kpis', '.side .fleet', '.side .tabs', `.panel[data-panel="${tab}"]`, '.legend', '.lab-label', '.drone-label'];
      const skip = '.whoami, .h-scenario, .brand > b, [data-testid="lang-toggle"], .search-results';
      const bad = lang === 'zh' ? /[A-Za-z]{4,}/g : /[\u4e00-\u9fff]+/g;
      const out = [];
      for (const sel of roots) {
        for (const root of document.querySelectorAll(sel)) {
          const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          for (let n = walk.nextNode(); n; n = walk.nextNode()) {
            const el = n.parentElement;
            if (!el || el.closest(skip) || !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
            for (const token of n.textContent.split(/[\s·,;:()（）/→×%]+/)) {
              if (!token || /\d/.test(token) || allow.includes(token)) continue;
              for (const w of token.match(bad) || []) out.push(`${w} (in "${n.textContent.trim().slice(0, 60)}", ${sel})`);
            }
          }
        }
      }
      return out;
    }, { tab, lang, allow: otherUsers.concat([user]) });
    found.push(...words.map((w) => `[${tab}] ${w}`));
  }
  return [...new Set(found)];
}

await step('s7. Chinese mode: no English words left on the main screens', async () => {
  check((await page.evaluate(() => document.documentElement.lang)) === 'zh-CN', 'the page is not in Chinese');
  const stray = await strayWords('zh');
  await page.click('.tab[data-tab="risk"]');
  await shot(page, 'zh.png');
  check(stray.length === 0, `English on the Chinese screens:\n      ${stray.slice(0, 12).join('\n      ')}`);
});

/** Words of 4+ Latin letters (no digit) in the details drawer's visible text. */
async function latinInDetails() {
  return page.locator(tid('details')).evaluate((root) => {
    const out = [];
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const el = n.parentElement;
      if (!el || !el.getClientRects().length) continue;
      for (const token of n.textContent.split(/[\s·,;:()（）/→×%]+/)) {
        if (!token || /\d/.test(token)) continue;
        for (const w of token.match(/[A-Za-z]{4,}/g) || []) out.push(`${w} (in "${n.textContent.trim().slice(0, 60)}")`);
      }
    }
    return out;
  });
}

/** Opens the details of a mission card whose plan carries a coded why; its view entry. */
async function openMissionWithWhy() {
  const found = await until(async () => {
    const view = await currentView(page);
    const m = (view.missions || []).find((c) => c.why?.reason && c.why.alternatives?.some((a) => a.reason));
    if (!m) return false;
    const card = page.locator(`${tid('mission-card')}[data-mission="${m.id}"]`);
    return (await card.count()) ? m : false;
  }, MISSION_WAIT, 'a mission card with a coded why');
  await page.click('.tab[data-tab="missions"]');
  await page.locator(`${tid('mission-card')}[data-mission="${found.id}"]`).first().click();
  const details = page.locator(tid('details'));
  await until(async () => (await details.getAttribute('data-kind')) === 'mission' && (await details.getAttribute('data-id')) === found.id,
    WAIT, `the details of ${found.id}`);
  await until(async () => ((await details.locator('.why-summary').textContent()) || '').trim().length > 0, WAIT, 'the why summary');
  return found;
}

await step('s7b. Chinese mode: a mission\'s why and its verdicts are Chinese', async () => {
  const m = await openMissionWithWhy();
  const details = page.locator(tid('details'));
  const summary = ((await details.locator('.why-summary').textContent()) || '').trim();
  check(HAN_RE.test(summary) && summary !== m.why.summary, `the why is not rendered in Chinese: "${summary}" (server: "${m.why.summary}")`);
  const stray = await latinInDetails();
  await shot(page, 'zh-why.png');
  check(stray.length === 0, `English in ${m.id}'s details:\n      ${stray.slice(0, 12).join('\n      ')}`);
  console.log(`    ${m.id}: ${summary}`);
  await details.locator('.d-close').click();
});

await step('s8. English mode: no Chinese left on the main screens', async () => {
  await page.click(tid('lang-toggle'));
  await until(async () => (await page.evaluate(() => document.documentElement.lang)) === 'en', WAIT, 'the page in English');
  const stray = await strayWords('en');
  await page.click('.tab[data-tab="fleet"]');
  await shot(page, 'en.png');
  check(stray.length === 0, `Chinese on the English screens:\n      ${stray.slice(0, 12).join('\n      ')}`);
});

await step('s8b. English mode: reasons read as the server\'s English (one sentence per code)', async () => {
  const m = await openMissionWithWhy();
  const details = page.locator(tid('details'));
  const summary = ((await details.locator('.why-summary').textContent()) || '').trim();
  const verdicts = await details.locator('table tbody tr td:last-child').allTextContents();
  // Case aside: the dashboard names a test family as the catalogue does (HbA1c), the core by its code (hba1c).
  const same = (a, b) => a.toLowerCase() === b.toLowerCase();
  check(same(summary, m.why.summary), `the why in English differs from the server's:\n      page:   "${summary}"\n      server: "${m.why.summary}"`);
  const want = m.why.alternatives.map((a) => a.verdict);
  check(same(JSON.stringify(verdicts), JSON.stringify(want)), `the verdicts differ: ${JSON.stringify(verdicts)} vs ${JSON.stringify(want)}`);
  await details.locator('.d-close').click();
  await page.click('.tab[data-tab="alerts"]');
  const view = await currentView(page);
  const server = new Map((view.alerts || []).filter((a) => a.reason).map((a) => [a.id, a.message]));
  const shown = await page.locator(`${tid('alert-item')}`).evaluateAll((els) => els
    .filter((e) => e.getClientRects().length)
    .map((e) => [e.dataset.alertId, e.querySelector('.message')?.textContent || '']));
  const differ = shown.filter(([id, text]) => server.has(id) && !same(server.get(id), text));
  check(differ.length === 0, `alerts whose English differs from the server's: ${JSON.stringify(differ.slice(0, 3).map(([id, t]) => [t, server.get(id)]))}`);
  console.log(`    why, ${verdicts.length} verdicts and ${shown.filter(([id]) => server.has(id)).length} listed alerts read as the server's English`);
  await page.click(tid('lang-toggle'));
});

await step('s9. the login error follows the language', async () => {
  const login = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const p = await login.newPage();
  p.on('pageerror', (e) => pageErrors.push(e.message));
  await p.goto(base, { waitUntil: 'domcontentloaded' });
  await p.locator(tid('login-form')).waitFor({ state: 'visible' });
  // An unknown name: the coordinator's own sign-in budget stays untouched.
  await p.fill(tid('login-user'), 'nobody-search-check');
  await p.fill(tid('login-password'), `${password}-wrong`);
  await p.click(tid('login-submit'));
  const err = p.locator(tid('login-error'));
  await err.waitFor({ state: 'visible' });
  const zh = (await err.textContent()) || '';
  check(/[\u4e00-\u9fff]/.test(zh), `the error is not Chinese: "${zh}"`);
  await p.click(tid('lang-toggle-login'));
  await until(async () => /wrong/i.test((await err.textContent()) || ''), WAIT, 'the login error in English');
  await p.fill(tid('login-password'), `${password}-wrong-again`);
  await p.click(tid('login-submit'));
  await until(async () => { const s = (await err.textContent()) || ''; return /wrong/i.test(s) && !/[\u4e00-\u9fff]/.test(s); }, WAIT, 'a fresh refusal in English');
  await login.close();
});

clearTimeout(overall);
await browser.close();
console.log('search check passed');
