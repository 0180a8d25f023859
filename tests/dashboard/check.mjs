// check.mjs — drives the real dashboard in the system's headless Chromium
// against a running labflight (e.g. `labflight demo --http 127.0.0.1:0`), the
// way a coordinator, a viewer and a tablet user would; stops at the first
// failure with what was expected.
//
// usage: node tests/dashboard/check.mjs <base-url> <coord-user> <coord-pw> <viewer-user> <viewer-pw> <screenshot-dir>

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [base, coordUser, coordPw, viewerUser, viewerPw, shots] = process.argv.slice(2);
if (!shots) {
  console.error('usage: node check.mjs <base-url> <coordinator-user> <coordinator-password> <viewer-user> <viewer-password> <screenshot-dir>');
  process.exit(2);
}
fs.mkdirSync(shots, { recursive: true });

const WAIT = 30_000; // no single wait is longer than this…
const MISSION_WAIT = 60_000; // …except the first mission card, which may take a minute of service time,
const REPLAY_OPEN_WAIT = 90_000; // and the first open of a run, which rebuilds its frames (38 s seen on a debug build)
const TOTAL = 6 * 60_000; // and the whole script is bounded too
const HAN = /[\u4e00-\u9fff]/;
const tid = (id) => `[data-testid="${id}"]`;

let browser;
let current = 'start';
const pageErrors = [];

async function fail(message) {
  console.error(`dashboard check FAILED at "${current}": ${message}`);
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
    await fail(e && e.message ? e.message.split('\n').slice(0, 6).join('\n') : String(e));
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
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}${last ? ` (last: ${String(last).slice(0, 200)})` : ''}`);
}

/** Moves the replay slider to frame `v` as a user's drag would. */
async function scrub(slider, v) {
  await slider.evaluate((el, i) => {
    el.value = String(i);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, v);
}

function watch(page, label) {
  page.on('pageerror', (e) => pageErrors.push(`[${label}] ${e.message}`));
  page.setDefaultTimeout(WAIT);
}

async function login(page, user, password) {
  await page.locator(tid('login-form')).waitFor({ state: 'visible', timeout: WAIT });
  await page.fill(tid('login-user'), user);
  await page.fill(tid('login-password'), password);
  await page.click(tid('login-submit'));
}

async function whoamiIs(page, user, role) {
  const seen = await until(async () => {
    const err = page.locator(tid('login-error'));
    if (await err.isVisible()) return { refused: ((await err.textContent()) || '').trim() };
    const text = await page.locator(tid('whoami')).textContent();
    return text && text.includes(user) && text.includes(role) && { text };
  }, WAIT, `whoami to contain "${user}" and "${role}"`);
  check(!seen.refused, `the login of "${user}" was refused: ${seen.refused}`);
}

/** Opens a tube's details from whatever the drawer shows, returns true once custody is listed. */
async function openTubeFromDetails(page) {
  const details = page.locator(tid('details'));
  const barcode = details.locator('button.barcode').first();
  await barcode.waitFor({ state: 'visible', timeout: WAIT });
  const code = (await barcode.textContent()).trim();
  await barcode.click();
  await until(async () => (await details.getAttribute('data-kind')) === 'tube' && (await details.getAttribute('data-id')) === code,
    WAIT, `the details drawer to show tube ${code}`);
  await until(async () => (await details.locator(tid('custody-step')).count()) >= 1, WAIT, `custody steps of tube ${code}`);
  return code;
}

const launchOpts = {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  timeout: WAIT,
};

try {
  browser = await chromium.launch(launchOpts);
} catch (e) {
  await fail(`could not start Chromium at ${launchOpts.executablePath}: ${e.message.split('\n')[0]}`);
}

const desktop = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
const page = await desktop.newPage();
watch(page, 'desktop');

await step('1. login: a wrong password is refused, the right one signs in as coordinator', async () => {
  const res = await page.goto(base, { waitUntil: 'domcontentloaded', timeout: WAIT });
  check(res && res.ok(), `GET ${base} answered ${res && res.status()}`);
  await login(page, coordUser, `${coordPw}-wrong`);
  await page.locator(tid('login-error')).waitFor({ state: 'visible', timeout: WAIT });
  check(((await page.locator(tid('login-error')).textContent()) || '').trim().length > 0, 'login-error is empty');
  await login(page, coordUser, coordPw);
  await whoamiIs(page, coordUser, 'coordinator');
});

await step('2. the map is drawn and live views arrive', async () => {
  await page.locator(`${tid('map')}.leaflet-container`).waitFor({ state: 'visible', timeout: WAIT });
  const n = await until(async () => {
    const c = await page.locator('path[class*="st-"]').count();
    return c >= 100 && c;
  }, WAIT, 'at least 100 station markers (path[class*="st-"])');
  check(n >= 100, `only ${n} station markers`);
  await until(async () => (await page.locator(tid('conn-status')).getAttribute('data-state')) === 'open', WAIT, 'conn-status data-state="open"');
  const first = await until(async () => {
    const s = (await page.locator(tid('service-time')).textContent()).trim();
    return /\d/.test(s) && s;
  }, WAIT, 'a service time');
  await until(async () => {
    const s = (await page.locator(tid('service-time')).textContent()).trim();
    return s !== first && /\d/.test(s);
  }, WAIT, `service-time to change from "${first}"`);
});

await step('3. labels are Chinese by default, English after the toggle, Chinese again', async () => {
  const ground = page.locator(tid('btn-ground'));
  const zh = (await ground.textContent()) || '';
  check(HAN.test(zh), `the ground button should be Chinese by default, it says "${zh}"`);
  await page.click(tid('lang-toggle'));
  await until(async () => /ground/i.test((await ground.textContent()) || ''), WAIT, 'the ground button in English');
  const en = (await ground.textContent()) || '';
  check(!HAN.test(en), `English ground button still has Chinese: "${en}"`);
  const lang = await page.evaluate(() => localStorage.getItem('labflight.lang'));
  check(lang === 'en', `the language choice was not stored (localStorage says ${lang})`);
  await page.click(tid('lang-toggle'));
  await until(async () => HAN.test((await ground.textContent()) || ''), WAIT, 'the ground button back in Chinese');
});

await step('4. a mission appears; a centre\'s details lead to a tube\'s chain of custody', async () => {
  await until(async () => (await page.locator(tid('mission-card')).count()) >= 1, MISSION_WAIT, 'a mission-card');
  const cols = await page.locator(tid('mission-card')).evaluateAll((els) => els.map((e) => [e.dataset.mission, e.dataset.column]));
  check(cols.every(([id, col]) => id && col), `mission cards without data-mission/data-column: ${JSON.stringify(cols.slice(0, 3))}`);
  const details = page.locator(tid('details'));
  // Prefer a centre with pending or at-risk tubes on the map; else the centre of a mission.
  let opened = false;
  const busy = page.locator('path[class*="st-"].is-risk, path[class*="st-"].is-pending');
  for (let i = 0; i < Math.min(await busy.count(), 5) && !opened; i++) {
    await busy.nth(i).dispatchEvent('click');
    await until(async () => (await details.getAttribute('data-kind')) === 'station', WAIT, 'the station details');
    opened = await details.locator('button.barcode').first().waitFor({ state: 'visible', timeout: 5000 }).then(() => true, () => false);
  }
  if (!opened) {
    const cards = page.locator(tid('mission-card'));
    for (let i = 0; i < Math.min(await cards.count(), 5) && !opened; i++) {
      await cards.nth(i).click();
      await until(async () => (await details.getAttribute('data-kind')) === 'mission', WAIT, 'the mission details');
      await details.locator('button.to-station').first().click();
      await until(async () => (await details.getAttribute('data-kind')) === 'station', WAIT, 'the station details from a mission');
      opened = await details.locator('button.barcode').first().waitFor({ state: 'visible', timeout: 5000 }).then(() => true, () => false);
    }
  }
  check(opened, 'no centre\'s details listed any tube barcode (neither a pending centre on the map nor a mission\'s centre)');
  const code = await openTubeFromDetails(page);
  const steps = await details.locator(tid('custody-step')).count();
  console.log(`    tube ${code}: ${steps} custody steps`);
  await page.screenshot({ path: path.join(shots, 'desktop.png') });
});

await step('5. grounding the fleet asks first (cancel keeps it flying); a new critical alert beeps and shows a desktop notice; release', async () => {
  // Opt in to the critical-alert sound; the choice is kept per browser.
  await page.click('.tab[data-tab="alerts"]');
  const sound = page.locator(tid('alert-sound'));
  if (!(await sound.isChecked())) await sound.check();
  await desktop.grantPermissions(['notifications'], { origin: new URL(base).origin });
  const notify = page.locator(tid('alert-notify'));
  if (!(await notify.isChecked())) await notify.check();
  const kept = await page.evaluate(() => localStorage.getItem('labflight.alertSound'));
  check(kept === '1', `the sound choice was not stored (localStorage says ${kept})`);
  const panel = page.locator(tid('alert-panel'));
  const beeps = async () => Number((await panel.getAttribute('data-beeps')) || 0);
  const notices = async () => Number((await panel.getAttribute('data-notices')) || 0);
  const fleet = page.locator(tid('fleet-state'));
  if ((await fleet.getAttribute('data-grounded')) === 'true') {
    await page.click(tid('btn-release'));
    await until(async () => (await fleet.getAttribute('data-grounded')) === 'false', 20_000, 'the fleet to be released before the test');
  }
  const beeps0 = await beeps();
  const notices0 = await notices();
  const dialog = page.locator(tid('confirm-dialog'));
  await page.click(tid('btn-ground'));
  await dialog.waitFor({ state: 'visible', timeout: WAIT });
  await page.click(tid('confirm-cancel'));
  await dialog.waitFor({ state: 'hidden', timeout: WAIT });
  await page.waitForTimeout(2500);
  check((await fleet.getAttribute('data-grounded')) === 'false', 'cancelling the confirmation grounded the fleet');
  await page.click(tid('btn-ground'));
  await dialog.waitFor({ state: 'visible', timeout: WAIT });
  const text = (await dialog.textContent()) || '';
  check(HAN.test(text), `the confirmation should be Chinese by default: "${text}"`);
  const confirmShot = path.join(shots, 'confirm-ground.png');
  await page.screenshot({ path: confirmShot });
  console.log(`    screenshot ${confirmShot}`);
  await page.click(tid('confirm-ok'));
  await until(async () => (await fleet.getAttribute('data-grounded')) === 'true', 20_000, 'fleet-state data-grounded="true" after confirming');
  // Grounding raises a critical fleet alert: the opted-in sound plays for it.
  await until(async () => (await beeps()) > beeps0, WAIT, 'a beep for the new critical alert');
  await until(async () => (await notices()) > notices0, WAIT, 'a desktop notice for the new critical alert');
  await page.click(tid('btn-release'));
  await until(async () => (await fleet.getAttribute('data-grounded')) === 'false', 20_000, 'fleet-state data-grounded="false" after releasing');
  await page.click('.tab[data-tab="missions"]');
});

await step('6. alert triage: groups, a severity filter, one acknowledgement, a bulk one that lowers the true count', async () => {
  await page.click('.tab[data-tab="alerts"]');
  await page.locator(tid('alert-list')).waitFor({ state: 'visible', timeout: WAIT });
  await until(async () => (await page.locator(tid('alert-group')).count()) >= 1, WAIT, 'an alert group');
  const groups = await page.locator(tid('alert-group')).evaluateAll((els) => els.map((e) => ({
    key: e.dataset.group, count: Number(e.dataset.count), sev: e.dataset.severity,
    items: e.querySelectorAll('[data-testid="alert-item"]').length,
  })));
  const keys = groups.map((g) => g.key);
  check(new Set(keys).size === keys.length, `alert groups repeat a key: ${keys.join(', ')}`);
  const wrong = groups.find((g) => g.count !== g.items);
  check(!wrong, `group ${wrong?.key} says ${wrong?.count} alerts but holds ${wrong?.items}`);
  // Grounding and releasing both alerted about "fleet": one group of at least two, expandable.
  const fleetGroup = page.locator(`${tid('alert-group')}[data-group="fleet_grounded|fleet"]`);
  await until(async () => Number((await fleetGroup.getAttribute('data-count')) || 0) >= 2, WAIT, 'one fleet_grounded|fleet group of two or more alerts');
  check((await fleetGroup.getAttribute('data-expanded')) === 'false', 'a group of several alerts should start collapsed');
  await fleetGroup.locator(tid('alert-group-toggle')).click();
  await until(async () => (await fleetGroup.getAttribute('data-expanded')) === 'true'
    && (await fleetGroup.locator(`${tid('alert-item')}:visible`).count()) >= 2, WAIT, 'the fleet group to expand to its alerts');
  // Severity filter: only critical groups remain.
  await page.selectOption(tid('alert-filter-severity'), 'critical');
  await until(async () => {
    const sevs = await page.locator(tid('alert-group')).evaluateAll((els) => els.map((e) => e.dataset.severity));
    return sevs.length >= 1 && sevs.every((x) => x === 'critical');
  }, WAIT, 'only critical groups under the critical filter');
  await page.selectOption(tid('alert-filter-severity'), '');
  // One acknowledgement, as before.
  const ack = page.locator(`${tid('alert-item')}[data-acked="false"] ${tid('alert-ack')}:visible`);
  if ((await ack.count()) === 0) {
    console.log('    (no single unacknowledged alert to acknowledge)');
  } else {
    const item = page.locator(`${tid('alert-item')}[data-acked="false"]`).filter({ has: page.locator(`${tid('alert-ack')}:visible`) }).first();
    const id = await item.getAttribute('data-alert-id');
    await item.locator(tid('alert-ack')).click();
    const acked = page.locator(`${tid('alert-item')}[data-alert-id="${id}"]`);
    await until(async () => (await acked.getAttribute('data-acked')) === 'true', WAIT, `alert ${id} to be marked acknowledged`);
    check(!(await acked.locator(tid('alert-ack')).isVisible()), `alert ${id} still offers an acknowledge button`);
    console.log(`    alert ${id} acknowledged`);
  }
  // Bulk: everything the "unacknowledged" filter shows, in one request.
  await page.selectOption(tid('alert-filter-acked'), 'unacked');
  const badge = page.locator('[data-count="alerts"]');
  const before = Number((await badge.textContent()) || 0);
  const ids = await page.locator(`${tid('alert-item')}[data-acked="false"]`).evaluateAll((els) => els.map((e) => e.dataset.alertId));
  check(ids.length >= 1, 'no unacknowledged alert listed after grounding the fleet');
  check(before >= ids.length, `the badge (${before}) counts fewer than the ${ids.length} unacknowledged alerts listed`);
  const requests = [];
  page.on('request', (r) => { if (r.url().endsWith('/api/v1/alerts/ack')) requests.push(r.postDataJSON()); });
  await page.click(tid('alert-ack-filtered'));
  await until(async () => (await page.evaluate((list) => list.filter((id) => document.querySelector(`[data-alert-id="${id}"][data-acked="false"]`)).length, ids)) === 0,
    WAIT, `the ${ids.length} bulk-acknowledged alerts to leave the unacknowledged list`);
  check(requests.length === 1 && ids.every((id) => requests[0].ids.includes(id)),
    `expected one bulk request naming all ${ids.length} ids, saw ${JSON.stringify(requests.map((r) => r.ids.length))}`);
  const after = await until(async () => {
    const shown = Number((await badge.textContent()) || 0);
    const server = await page.evaluate(async () => (await (await fetch('/api/v1/dashboard')).json()).alerts_unacked);
    return shown === server && shown < before && { shown };
  }, WAIT, `the badge to drop below ${before} and match the server's true count`);
  console.log(`    ${ids.length} alerts acknowledged in one request; unacknowledged ${before} → ${after.shown}`);
  const shot = path.join(shots, 'alerts.png');
  await page.screenshot({ path: shot });
  console.log(`    screenshot ${shot}`);
  await page.selectOption(tid('alert-filter-acked'), 'all');
  await page.click('.tab[data-tab="missions"]');
});

await step('6b. reassign never offers an empty list: idle drones, or why there are none', async () => {
  const card = page.locator(`${tid('mission-card')}[data-column="assigned"]:not(.van)`).first();
  const found = await until(async () => (await card.count()) > 0, MISSION_WAIT, 'an assigned drone mission').then(() => true, () => false);
  if (!found) {
    console.log('    (no assigned drone mission to reassign)');
    return;
  }
  const id = await card.getAttribute('data-mission');
  await card.click();
  const details = page.locator(tid('details'));
  await until(async () => (await details.getAttribute('data-kind')) === 'mission', WAIT, `the details of ${id}`);
  const select = details.locator('select.drone-select');
  const why = details.locator(tid('reassign-why'));
  const seen = await until(async () => {
    if (await select.isVisible()) return (await select.locator('option').count()) >= 2 && 'drones';
    const text = ((await why.textContent()) || '').trim();
    return (await why.isVisible()) && text && `reason: ${text}`;
  }, WAIT, `reassign of ${id} to offer drones or say why not`);
  console.log(`    ${id}: ${seen}`);
  await details.locator('.d-close').click();
});

await step('7. replay: open the first run, scrub to the middle, back to live', async () => {
  await page.click(tid('mode-replay'));
  // Before a run is opened: a "pick a run" note, no live panels, no controls.
  await page.locator(tid('replay-empty')).waitFor({ state: 'visible', timeout: WAIT });
  check(!(await page.locator(tid('btn-ground')).isVisible()), 'btn-ground is visible in replay before a run is opened');
  check(!(await page.locator(tid('mission-board')).isVisible()), 'the live mission board still shows in replay before a run is opened');
  const clock = ((await page.locator(tid('service-time')).textContent()) || '').trim();
  check(!/\d/.test(clock), `the header still shows the live service time "${clock}" before a run is opened`);
  const emptyShot = path.join(shots, 'replay-empty.png');
  await page.screenshot({ path: emptyShot });
  console.log(`    screenshot ${emptyShot}`);
  const select = page.locator(tid('replay-run-select'));
  await until(async () => (await select.locator('option').count()) >= 1, WAIT, 'a run in replay-run-select');
  const run = await select.locator('option').first().getAttribute('value');
  await select.selectOption(run);
  await page.click(tid('replay-open'));
  const slider = page.locator(tid('replay-slider'));
  const max = await until(async () => {
    const m = Number(await slider.getAttribute('max'));
    return !(await slider.isDisabled()) && m > 0 && m;
  }, REPLAY_OPEN_WAIT, `replay of ${run} to open (slider enabled with frames)`);
  const mid = Math.floor(max / 2);
  await scrub(slider, mid);
  const time = page.locator(tid('replay-time'));
  await until(async () => {
    const s = (await time.textContent()) || '';
    return /\d{1,2}:\d\d/.test(s) && s.includes(String(mid + 1)) && s;
  }, WAIT, `replay-time to show the time of frame ${mid}`);
  const map = page.locator(tid('map'));
  await until(async () => (await map.getAttribute('data-view-mode')) === 'replay', WAIT, 'the map to show a replay frame');
  check(!(await page.locator(tid('replay-empty')).isVisible()), 'the "pick a run" note stays after a run is opened');
  await until(async () => (await page.locator('path[class*="dr-"]').count()) >= 1, WAIT, 'drones on the map in the replay frame');
  // Play a moment: the slider moves on by itself.
  await page.click(tid('replay-play'));
  await until(async () => Number(await slider.inputValue()) > mid, WAIT, 'playback to advance the slider');
  await page.click(tid('replay-play'));
  check(await page.locator(tid('btn-ground')).isDisabled(), 'controls should be disabled in replay');
  await page.screenshot({ path: path.join(shots, 'replay.png') });
  await page.click(tid('mode-live'));
  await until(async () => (await page.locator(tid('conn-status')).getAttribute('data-state')) === 'open', WAIT, 'the live feed to reopen');
  await until(async () => (await map.getAttribute('data-view-mode')) === 'live', WAIT, 'the map back on the live view');
});

await step('7b. replay a day by medical group whole: the filter narrows it to one group, and zoomed out the centres cluster', async () => {
  await page.click(tid('mode-replay'));
  const select = page.locator(tid('replay-run-select'));
  const runs = await until(async () => {
    const values = await select.locator('option').evaluateAll((os) => os.map((o) => o.value));
    return values.some((v) => v.includes('partitioned') && !v.includes('~')) && values;
  }, WAIT, 'the day by medical group (partitioned-…) in replay-run-select');
  const whole = runs.find((v) => v.includes('partitioned') && !v.includes('~'));
  check(runs.some((v) => v.startsWith(`${whole}~`)), `each partition of ${whole} is listed too: ${runs}`);
  await select.selectOption(whole);
  await page.click(tid('replay-open'));
  // The run before stays on screen until this one opens: its first frame is the
  // first with the medical-group filter.
  const filter = page.locator(tid('partition-select'));
  await filter.waitFor({ state: 'visible', timeout: REPLAY_OPEN_WAIT });
  const slider = page.locator(tid('replay-slider'));
  const max = await until(async () => {
    const m = Number(await slider.getAttribute('max'));
    return !(await slider.isDisabled()) && m > 0 && m;
  }, WAIT, `replay of ${whole} to open`);
  const mid = Math.floor(max / 2);
  await scrub(slider, mid);
  await until(async () => ((await page.locator(tid('replay-time')).textContent()) || '').includes(`${mid + 1}/`), WAIT, `frame ${mid} of ${whole}`);
  const groups = await until(async () => {
    const values = await filter.locator('option').evaluateAll((os) => os.map((o) => o.value));
    return values.length >= 3 && values;
  }, WAIT, 'the medical groups in partition-select');
  check(groups[0] === '', `"all" comes first in partition-select: ${groups}`);
  const stations = page.locator('path[class*="st-"]');
  const cards = page.locator(tid('mission-card'));
  const all = await until(async () => {
    const n = await stations.count();
    return n >= 100 && (await cards.count()) >= 1 && n;
  }, WAIT, 'every centre and some missions in the whole day');
  const missionGroups = async () => (await cards.evaluateAll((cs) => cs.map((c) => c.dataset.mission)))
    .map((id) => groups.find((g) => g && id.startsWith(`M-${g}-`)));
  // Narrowed to a group other than the first card's: that card must go.
  const before = await missionGroups();
  check(before[0] != null, `a mission card of no known group: ${before}`);
  const group = groups.find((g) => g && g !== before[0]);
  await filter.selectOption(group);
  await until(async () => {
    const n = await stations.count();
    return n > 0 && n < all;
  }, WAIT, `only ${group}'s centres on the map`);
  await until(async () => {
    const of = await missionGroups();
    return of.every((g) => g === group);
  }, WAIT, `only ${group}'s missions on the board`);
  await page.screenshot({ path: path.join(shots, 'replay-group.png') });
  await filter.selectOption('');
  await until(async () => (await stations.count()) === all, WAIT, 'every centre back with "all"');
  // Zoomed out past the district the centres cluster; back in, each is drawn again.
  // One click at a time: a click during the zoom's animation is dropped.
  const zoom = async (dir) => {
    for (let i = 0; i < 3; i++) {
      await page.click(`.leaflet-control-zoom-${dir}`);
      await page.waitForTimeout(500);
    }
  };
  await zoom('out');
  await until(async () => (await page.locator('.marker-cluster').count()) >= 1, WAIT, 'clusters of centres zoomed out');
  check((await stations.count()) < all, 'zoomed out, every centre is still drawn on its own');
  await zoom('in');
  await until(async () => (await stations.count()) === all && (await page.locator('.marker-cluster').count()) === 0, WAIT, 'each centre on its own zoomed back in');
  await page.click(tid('mode-live'));
  await until(async () => (await page.locator(tid('conn-status')).getAttribute('data-state')) === 'open', WAIT, 'the live feed to reopen');
});

await step('8. a viewer has no controls and the server refuses theirs', async () => {
  await page.click(tid('logout'));
  await page.locator(tid('login-form')).waitFor({ state: 'visible', timeout: WAIT });
  await login(page, viewerUser, viewerPw);
  await whoamiIs(page, viewerUser, 'viewer');
  await until(async () => (await page.locator(tid('conn-status')).getAttribute('data-state')) === 'open', WAIT, 'the viewer\'s live feed');
  const ground = page.locator(tid('btn-ground'));
  const absent = (await ground.count()) === 0 || !(await ground.isVisible()) || (await ground.isDisabled());
  check(absent, 'btn-ground is visible and enabled for a viewer');
  const status = await page.evaluate(async () => (await fetch('/api/v1/control/fleet/ground', { method: 'POST', credentials: 'same-origin' })).status);
  check(status === 403, `a viewer's POST /api/v1/control/fleet/ground answered ${status}, expected 403`);
});

await step('9. tablet: 768×1024 shows the map and the mission board without sideways scrolling', async () => {
  for (const [w, hgt, shot] of [[768, 1024, 'tablet.png'], [1024, 768, null]]) {
    const ctx = await browser.newContext({ viewport: { width: w, height: hgt }, hasTouch: true, isMobile: false, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const tab = await ctx.newPage();
    watch(tab, `tablet ${w}x${hgt}`);
    await tab.goto(base, { waitUntil: 'domcontentloaded', timeout: WAIT });
    await login(tab, coordUser, coordPw);
    await whoamiIs(tab, coordUser, 'coordinator');
    await tab.locator(`${tid('map')}.leaflet-container`).waitFor({ state: 'visible', timeout: WAIT });
    await until(async () => (await tab.locator('path[class*="st-"]').count()) >= 100, WAIT, 'station markers on the tablet');
    await tab.locator(tid('mission-board')).waitFor({ state: 'visible', timeout: WAIT });
    await until(async () => (await tab.locator(tid('mission-card')).count()) >= 1, WAIT, 'mission cards on the tablet');
    const box = await tab.locator(tid('map')).boundingBox();
    check(box && box.width > 200 && box.height > 200, `the map is too small on ${w}×${hgt}: ${JSON.stringify(box)}`);
    const board = await tab.locator(tid('mission-board')).boundingBox();
    check(board && board.y < hgt && board.x >= 0 && board.x + board.width <= w + 2, `the mission board is off screen on ${w}×${hgt}: ${JSON.stringify(board)}`);
    const sw = await tab.evaluate(() => document.scrollingElement.scrollWidth);
    check(sw <= w + 2, `the page scrolls sideways on ${w}×${hgt}: scrollWidth ${sw}`);
    // A mission's details open: every tab stays reachable (the drawer covers the map, not the tabs).
    await tab.locator(tid('mission-card')).first().click();
    await tab.locator(tid('details')).waitFor({ state: 'visible', timeout: WAIT });
    for (const name of ['alerts', 'risk', 'missions']) {
      await tab.click(`.tab[data-tab="${name}"]`, { timeout: 5000 });
      await until(async () => tab.locator(`.panel[data-panel="${name}"]`).isVisible(), WAIT, `the ${name} panel after its tab on ${w}×${hgt} with details open`);
    }
    check(await tab.locator(tid('details')).isVisible(), `the details closed on ${w}×${hgt} while switching tabs`);
    if (shot) {
      await tab.screenshot({ path: path.join(shots, shot) });
      console.log(`    screenshot ${path.join(shots, shot)}`);
    }
    await ctx.close();
  }
});

await step('10. 1440×900: the whole mission board, "in flight" and "delivered" included, is on screen', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const wide = await ctx.newPage();
  watch(wide, 'desktop 1440x900');
  await wide.goto(base, { waitUntil: 'domcontentloaded', timeout: WAIT });
  await login(wide, coordUser, coordPw);
  await whoamiIs(wide, coordUser, 'coordinator');
  await until(async () => (await wide.locator(tid('mission-card')).count()) >= 1, WAIT, 'mission cards at 1440×900');
  for (const col of ['queued', 'assigned', 'in_flight', 'delivered']) {
    const box = await wide.locator(`[data-board-column="${col}"]`).boundingBox();
    check(box && box.x >= 0 && box.x + box.width <= 1440 + 1 && box.y >= 0 && box.y + 40 <= 900,
      `the board's ${col} column is off screen at 1440×900: ${JSON.stringify(box)}`);
  }
  const sw = await wide.evaluate(() => document.scrollingElement.scrollWidth);
  check(sw <= 1442, `the page scrolls sideways at 1440×900: scrollWidth ${sw}`);
  const shot = path.join(shots, 'board-1440.png');
  await wide.screenshot({ path: shot });
  console.log(`    screenshot ${shot}`);
  await ctx.close();
});

clearTimeout(overall);
await browser.close();
console.log('dashboard check passed');
