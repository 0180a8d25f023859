// dayviews.mjs — the day views in the real dashboard (headless Chromium): the
// per-centre service-level page opens with a row per centre and three uPlot
// charts with data points, sorts by a column, opens a centre's details on a
// click; the CSV downloads with its header, a row per centre and totals that
// add up; the printable report renders every centre, states the zone once and
// prints (PDF); a replayed run shows its whole day; a lab account has no such
// page and the API refuses it.
//
// usage: node tests/dashboard/dayviews.mjs <base-url> <coord-user> <coord-pw> <lab-user> <lab-pw> <screenshot-dir>

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [base, user, password, labUser, labPassword, shots] = process.argv.slice(2);
if (!shots) {
  console.error('usage: node dayviews.mjs <base-url> <coordinator-user> <coordinator-password> <lab-user> <lab-password> <screenshot-dir>');
  process.exit(2);
}
fs.mkdirSync(shots, { recursive: true });

const WAIT = 30_000;
const TOTAL = 4 * 60_000;
const CSV_HEADER = 'date,centre_id,centre_name,centre_name_zh,drawn,on_time,late,at_risk,on_track,redraws,on_time_pct';
const tid = (id) => `[data-testid="${id}"]`;
let browser;
let current = 'start';
const pageErrors = [];

async function fail(message) {
  console.error(`day views check FAILED at "${current}": ${message}`);
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

async function shot(page, name, fullPage = false) {
  const file = path.join(shots, name);
  await page.screenshot({ path: file, fullPage });
  console.log(`    screenshot: ${file}`);
}

/** GET `p` from the page, with its session: {status, body}. */
const fetchIn = (page, p) => page.evaluate(async (url) => {
  const r = await fetch(url, { credentials: 'same-origin' });
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: r.status, body };
}, p);

async function signIn(page, name, pw) {
  await page.goto(base, { waitUntil: 'domcontentloaded', timeout: WAIT });
  await page.evaluate(() => localStorage.setItem('labflight.lang', 'en'));
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.locator(tid('login-form')).waitFor({ state: 'visible' });
  await page.fill(tid('login-user'), name);
  await page.fill(tid('login-password'), pw);
  await page.click(tid('login-submit'));
  await until(async () => (await page.locator(tid('conn-status')).getAttribute('data-state')) === 'open', WAIT, 'the live feed');
}

/** The number of non-white pixels of a chart's canvas (its curves and axes drawn). */
const inked = (page, chart) => page.locator(`${tid(chart)} canvas`).first().evaluate((c) => {
  const g = c.getContext('2d');
  const { data } = g.getImageData(0, 0, c.width, c.height);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && (data[i] < 200 || data[i + 1] < 200 || data[i + 2] < 200)) n += 1;
  return n;
});

async function chartsDrawn(page, minPoints) {
  for (const chart of ['chart-on-track', 'chart-in-flight', 'chart-lab-queues']) {
    const el = page.locator(tid(chart));
    await el.waitFor({ state: 'visible' });
    const points = Number(await el.getAttribute('data-points'));
    check(points >= minPoints, `${chart} has ${points} points, want at least ${minPoints}`);
    const ink = await inked(page, chart);
    check(ink > 500, `${chart}'s canvas is blank (${ink} inked pixels)`);
  }
}

try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    timeout: WAIT,
  });
} catch (e) {
  await fail(`could not start Chromium: ${e.message.split('\n')[0]}`);
}
const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-GB', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
const page = await ctx.newPage();
page.on('pageerror', (e) => pageErrors.push(e.message));
page.setDefaultTimeout(WAIT);
let centres = 0;

await step('d1. sign in as coordinator; the service samples the day minute by minute', async () => {
  await signIn(page, user, password);
  const day = await until(async () => {
    const r = await fetchIn(page, '/api/v1/day');
    return r.status === 200 && r.body.series.minutes.length >= 4 && r.body.report.totals.drawn > 0 && r.body;
  }, 90_000, 'tubes drawn and four minutes of samples from GET /api/v1/day');
  centres = day.report.centres.length;
  check(centres > 0, 'the day has no centres');
  const m = day.series.minutes;
  check(m.every((x, i) => i === 0 || x > m[i - 1]), `sample minutes not ascending: ${m.slice(0, 10)}`);
  check(day.report.zone === 'UTC+08:00', `zone ${day.report.zone}`);
  console.log(`    ${centres} centres, ${m.length} samples, ${day.report.totals.drawn} tubes drawn so far`);
});

await step('d2. the per-centre page: a row per centre, totals, three charts with data points', async () => {
  await page.click(tid('open-day-views'));
  await page.locator(tid('day-page')).waitFor({ state: 'visible' });
  await until(async () => (await page.locator(tid('day-row')).count()) === centres, WAIT, `${centres} rows`);
  await page.locator(tid('day-total')).waitFor({ state: 'visible' });
  await chartsDrawn(page, 4);
  const meta = (await page.locator(tid('day-meta')).textContent()) || '';
  check(/UTC\+08:00/.test(meta) && (meta.match(/UTC\+08:00/g) || []).length === 1, `the zone is not stated once: "${meta}"`);
  await shot(page, 'day-views.png');
});

await step('d3. the table sorts by a column, both ways', async () => {
  const drawn = async () => page.locator(tid('day-row')).evaluateAll((rows) => rows.map((r) => Number(r.cells[1].textContent)));
  await page.click(tid('day-sort-drawn'));
  let v = await drawn();
  check(v.every((x, i) => i === 0 || v[i - 1] >= x), `not by drawn, descending: ${v.slice(0, 12)}`);
  check(v[0] > 0, 'no centre has drawn a tube');
  await page.click(tid('day-sort-drawn'));
  v = await drawn();
  check(v.every((x, i) => i === 0 || v[i - 1] <= x), `not by drawn, ascending: ${v.slice(0, 12)}`);
  await page.click(tid('day-sort-id'));
  const ids = await page.locator(tid('day-row')).evaluateAll((rows) => rows.map((r) => r.dataset.id));
  check(ids.every((x, i) => i === 0 || ids[i - 1].localeCompare(x) <= 0), `not by centre id: ${ids.slice(0, 6)}`);
});

await step('d4. the CSV downloads: header, a row per centre, totals that add up', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(tid('day-csv'))]);
  const file = path.join(shots, 'day-report.csv');
  await download.saveAs(file);
  check(/^labflight-\d{4}-\d\d-\d\d\.csv$/.test(download.suggestedFilename()), `file name ${download.suggestedFilename()}`);
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  check(lines[0] === CSV_HEADER, `header: ${lines[0]}`);
  check(lines.length === centres + 2, `${lines.length} lines for ${centres} centres`);
  const rows = lines.slice(1).map((l) => l.split(','));
  const total = rows.at(-1);
  check(total[1] === 'TOTAL', `last row: ${lines.at(-1)}`);
  for (const col of [4, 5, 6, 7, 8, 9]) {
    const sum = rows.slice(0, -1).reduce((s, r) => s + Number(r.at(col - 11 + r.length)), 0);
    check(sum === Number(total[col]), `column ${CSV_HEADER.split(',')[col]}: centres add to ${sum}, total says ${total[col]}`);
  }
  const first = await page.locator(tid('day-row')).first().getAttribute('data-id');
  check(rows.some((r) => r[1] === first), `no CSV row for ${first}`);
  console.log(`    ${file}: ${lines.length} lines; ${lines.at(-1)}`);
});

await step('d5. the printable report: every centre, the zone once, prints to PDF', async () => {
  const [report] = await Promise.all([ctx.waitForEvent('page'), page.click(tid('day-report'))]);
  report.on('pageerror', (e) => pageErrors.push(`report: ${e.message}`));
  await report.waitForLoadState('domcontentloaded');
  await until(async () => (await report.locator('body').getAttribute('data-ready')) === '1', 60_000, 'the report to render');
  check((await report.locator(tid('report-row')).count()) === centres, 'not a report row per centre');
  await report.locator(tid('report-total')).waitFor({ state: 'visible' });
  const zone = (await report.locator(tid('report-zone')).textContent()) || '';
  const body = (await report.locator(tid('report-body')).textContent()) || '';
  check(/Shenzhen time \(UTC\+08:00\)/.test(zone), `zone: "${zone}"`);
  check((body.match(/UTC\+08:00/g) || []).length === 1, 'the zone is stated more than once');
  check((await report.locator(`${tid('report-charts')} canvas`).count()) >= 3, 'the report has no charts');
  await report.emulateMedia({ media: 'print' });
  check(!(await report.locator(tid('report-print')).isVisible()), 'the print button prints too');
  await shot(report, 'day-report-print.png', true);
  const pdf = path.join(shots, 'day-report.pdf');
  await report.pdf({ path: pdf, format: 'A4', printBackground: true });
  const size = fs.statSync(pdf).size;
  check(size > 20_000, `the PDF is ${size} bytes`);
  console.log(`    ${pdf}: ${size} bytes`);
  await report.close();
});

await step('d6. a click on a centre opens its details', async () => {
  const row = page.locator(tid('day-row')).first();
  const id = await row.getAttribute('data-id');
  await row.click();
  const details = page.locator(tid('details'));
  await until(async () => (await details.getAttribute('data-kind')) === 'station' && (await details.getAttribute('data-id')) === id, WAIT, `the details of centre ${id}`);
  check(await page.locator(tid('day-page')).isHidden(), 'the day page stays over the details');
});

await step('d7. a replayed run shows its whole day', async () => {
  await page.click(tid('mode-replay'));
  const select = page.locator(tid('replay-run-select'));
  await until(async () => (await select.locator('option').count()) > 0, WAIT, 'recorded runs');
  await page.click(tid('replay-open'));
  await until(async () => (await page.locator('.replay-bar').getAttribute('data-session')), 120_000, 'the run to open');
  const run = await page.locator('.replay-bar').getAttribute('data-session');
  await page.click(tid('open-day-views'));
  await until(async () => ((await page.locator(tid('day-meta')).textContent()) || '').includes(run), 120_000, `the day of run ${run}`);
  check((await page.locator(tid('day-row')).count()) === centres, 'not a row per centre');
  await chartsDrawn(page, 60);
  const total = await page.locator(tid('day-total')).evaluate((r) => [...r.cells].map((c) => c.textContent));
  check(Number(total[1]) > 0 && Number(total[2]) > 0, `the replayed day's totals: ${total}`);
  await shot(page, 'day-replay.png');
  await page.click(tid('day-close'));
});

await step('d8. a lab account has no day views, and the API refuses it', async () => {
  const labCtx = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'Asia/Shanghai' });
  const lab = await labCtx.newPage();
  lab.on('pageerror', (e) => pageErrors.push(`lab: ${e.message}`));
  await signIn(lab, labUser, labPassword);
  check(!(await lab.locator(tid('open-day-views')).isVisible()), 'a lab sees the day views button');
  for (const p of ['/api/v1/day', '/api/v1/day/report.csv']) {
    const r = await fetchIn(lab, p);
    check(r.status === 403, `${p} as a lab: ${r.status}`);
  }
  await labCtx.close();
});

clearTimeout(overall);
await browser.close();
console.log('day views check passed');
