'use strict';
// The voting app in a real browser: Debian's headless Chromium driven by playwright-core.
// Voter 1 opens the vote page, clicks Cats and sees it marked, then changes to Dogs; the result
// page, opened once and never reloaded, must then follow the votes of two more voters live over
// its event stream. Expects a fresh stack (no votes yet). Screenshots go to --out.
//
// Usage: node voting.js --vote-url URL --result-url URL --out DIR [--chromium PATH]
// Exits 0 when every check held, 1 with "voting.js: FAIL: ..." otherwise.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const STEP_TIMEOUT_MS = 20000;

function parseArgs(argv) {
  const args = { chromium: process.env.CHROMIUM || '/usr/bin/chromium' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['vote-url', 'result-url', 'out', 'chromium'].includes(key) || argv[i + 1] === undefined) {
      throw new Error(`usage: voting.js --vote-url URL --result-url URL --out DIR (bad '${argv[i]}')`);
    }
    args[key] = argv[i + 1];
  }
  for (const key of ['vote-url', 'result-url', 'out']) {
    if (!args[key]) throw new Error(`missing --${key}`);
  }
  return args;
}

function log(msg) {
  console.log(`voting.js: ${msg}`);
}

function check(ok, msg) {
  if (!ok) throw new Error(msg);
}

// The page state the tests compare, in one evaluate so it is read at a single moment.
async function voteState(page) {
  return page.evaluate(() => ({
    buttons: [...document.querySelectorAll('button[name="vote"]')].map((b) => ({
      value: b.value,
      text: b.textContent.trim(),
      chosen: b.classList.contains('chosen'),
    })),
    chosen: document.querySelector('#chosen')?.dataset.vote ?? null,
  }));
}

async function resultState(page) {
  return page.evaluate(() => ({
    a: document.getElementById('pct-a').textContent,
    b: document.getElementById('pct-b').textContent,
    total: document.getElementById('total').textContent,
    bar: document.getElementById('bar-a').style.width,
    status: document.getElementById('status').textContent,
    marker: window.e2eMarker ?? null,
  }));
}

// Opens the vote page as the context's voter, clicks the button for `choice` (the form posts
// and the server answers with the page marking the vote) and checks only that button is marked.
async function vote(page, url, choice, label) {
  if (page.url() !== `${url}/`) await page.goto(url);
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click(`button[name="vote"][value="${choice}"]`),
  ]);
  const state = await voteState(page);
  const marked = state.buttons.filter((b) => b.chosen).map((b) => b.value);
  check(
    marked.length === 1 && marked[0] === choice && state.chosen === choice,
    `${label}: after clicking '${choice}' the page marks ${JSON.stringify(marked)} ` +
      `(data-vote ${state.chosen})`,
  );
  const button = state.buttons.find((b) => b.value === choice);
  check(button.text.endsWith('\u2713'), `${label}: the chosen button has no check mark: '${button.text}'`);
  log(`${label} voted ${choice}: the '${button.text}' button is marked chosen`);
}

// Waits until the (never reloaded) result page shows `want`, failing with what it showed last.
async function waitResult(page, want, label) {
  try {
    await page.waitForFunction(
      (w) =>
        document.getElementById('pct-a').textContent === w.a &&
        document.getElementById('pct-b').textContent === w.b &&
        document.getElementById('total').textContent === w.total,
      want,
      { timeout: STEP_TIMEOUT_MS, polling: 100 },
    );
  } catch (err) {
    const got = await resultState(page);
    throw new Error(`${label}: result page never showed ${JSON.stringify(want)}; it shows ${JSON.stringify(got)}`);
  }
  const got = await resultState(page);
  check(got.marker === 'not reloaded', `${label}: the result page was reloaded`);
  check(got.status === '', `${label}: the result page says '${got.status}'`);
  check(got.bar === want.a, `${label}: the bar is ${got.bar}, want ${want.a}`);
  log(`${label}: result page shows ${want.a} / ${want.b}, '${want.total}', without reloading`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const voteUrl = args['vote-url'].replace(/\/$/, '');
  const resultUrl = args['result-url'].replace(/\/$/, '');
  fs.mkdirSync(args.out, { recursive: true });
  const shot = (name) => path.join(args.out, name);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccompose-chromium-'));

  // A persistent context is how playwright takes our own, fresh --user-data-dir.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: args.chromium,
    headless: true,
    viewport: { width: 900, height: 380 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const errors = [];
  try {
    const votePage = await context.newPage();
    votePage.on('pageerror', (err) => errors.push(`vote page: ${err.message}`));
    await votePage.goto(voteUrl);
    const fresh = await voteState(votePage);
    check(
      fresh.buttons.map((b) => b.text).join(' / ') === 'Cats / Dogs',
      `vote page buttons are ${JSON.stringify(fresh.buttons.map((b) => b.text))}, want Cats / Dogs`,
    );
    check(!fresh.buttons.some((b) => b.chosen) && fresh.chosen === null, 'a new voter sees a choice marked');
    await votePage.screenshot({ path: shot('vote-fresh.png') });

    await vote(votePage, voteUrl, 'a', 'voter 1');
    await votePage.screenshot({ path: shot('vote-chosen-a.png') });
    await vote(votePage, voteUrl, 'b', 'voter 1 (changing)');
    await votePage.screenshot({ path: shot('vote-chosen-b.png') });

    // The result page is opened once; a marker on its window shows it is never reloaded.
    const resultPage = await context.newPage();
    resultPage.on('pageerror', (err) => errors.push(`result page: ${err.message}`));
    await resultPage.goto(resultUrl);
    await resultPage.evaluate(() => {
      window.e2eMarker = 'not reloaded';
    });
    await waitResult(resultPage, { a: '0%', b: '100%', total: '1 vote' }, 'after voter 1');
    await resultPage.screenshot({ path: shot('result-1.png') });

    // Voters 2 and 3 are new visitors: no cookie, so the vote page gives each a voter id.
    for (const [n, want] of [
      [2, { a: '50%', b: '50%', total: '2 votes' }],
      [3, { a: '67%', b: '33%', total: '3 votes' }],
    ]) {
      await context.clearCookies();
      await votePage.goto(voteUrl);
      await vote(votePage, voteUrl, 'a', `voter ${n}`);
      await waitResult(resultPage, want, `after voter ${n}`);
    }
    // 'disabled' finishes the bar's width transition before the picture is taken.
    await resultPage.screenshot({ path: shot('result.png'), animations: 'disabled' });
    check(errors.length === 0, `script errors: ${errors.join('; ')}`);
    log(`ok; screenshots in ${args.out}`);
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`voting.js: FAIL: ${err.message}`);
  process.exit(1);
});
