// browser.mjs URL CHROMIUM TREE OUT_DIR: the web UI driven in headless
// chromium through playwright-core (run by browser.sh, which starts the
// server on a database of TREE). Each case states its claim; any console
// error, uncaught exception, failed request or dialog on any page fails the
// run. Prints the first contentful paint of a cold browser and the page's
// size (figures, not checked). Screenshots of the results page and the item
// view go to OUT_DIR.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { chromium } = await import(join(here, 'browser/node_modules/playwright-core/index.mjs'));
const [url, executablePath, tree, out] = process.argv.slice(2);
const HOSTILE = '<img src=x onerror=alert(1)>';
const problems = []; // console errors, page errors, failed requests, dialogs
let failed = 0;

function watch(page) {
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => { problems.push(`dialog: ${d.type()} ${d.message()}`); d.dismiss(); });
  page.on('requestfailed', (r) => {
    const why = r.failure() ? r.failure().errorText : '';
    if (!why.includes('ERR_ABORTED')) problems.push(`request failed: ${r.url()} ${why}`); // navigation aborts streams
  });
  return page;
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function run(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(2)}s)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}

const launch = () => chromium.launch({ executablePath, args: ['--headless=new', '--no-sandbox'] });
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
const page = watch(await context.newPage());

const selected = () => page.$eval('#results', (ol) =>
  [...ol.children].findIndex((li) => li.getAttribute('aria-selected') === 'true'));
const titles = (list = '#results') => page.$$eval(`${list} .title`, (as) => as.map((a) => a.textContent));

// Searches from the box: empties it (which clears results and status),
// types q, and waits for the answer to q itself to be shown (a prefix's
// answer, shown while typing, may hold no result).
async function searchFor(q) {
  await page.goto(`${url}#/`);
  await page.fill('#q', '');
  await page.waitForFunction(() => document.querySelector('#status').textContent === '' &&
    !document.querySelector('#results li'));
  await page.type('#q', q, { delay: 20 });
  await page.waitForFunction((want) => document.querySelector('#results').dataset.query === want &&
    document.querySelector('#status').textContent.includes('result'), q);
}

await run('typing_shows_results_and_the_keys_move_and_open', async () => {
  await page.goto(url);
  check(await page.evaluate(() => document.activeElement.id) === 'q', 'the box has the focus');
  await page.keyboard.type('otters', { delay: 40 }); // as a person types: debounced
  await page.waitForSelector('#results li:nth-child(3)');
  const t = await titles();
  check(t.length >= 4, `4 results, got ${t.length}`);
  check(await selected() === 0, 'the first result is selected');
  await page.keyboard.press('ArrowDown');
  check(await selected() === 1, 'ArrowDown selects the second');
  await page.keyboard.press('ArrowUp');
  check(await selected() === 0, 'ArrowUp goes back');
  await page.keyboard.press('Escape'); // leaves the box: j and k are keys now
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  check(await selected() === 2, 'j moves down');
  await page.keyboard.press('k');
  check(await selected() === 1, 'k moves up');
  await page.screenshot({ path: join(out, 'results.png') });
  await page.keyboard.press('Enter');
  await page.waitForSelector('#item-view:not([hidden]) #item:not([hidden])');
  check(await page.textContent('#item-title') === t[1], 'Enter opens the selected result');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#results-view:not([hidden])');
  await page.keyboard.press('/');
  check(await page.evaluate(() => document.activeElement.id) === 'q', '/ focuses the box');
});

await run('item_view_hide_and_unhide', async () => {
  await searchFor('beavers dams');
  const beavers = (await titles()).indexOf('Beavers') + 1;
  check(beavers > 0, 'the note is found');
  const id = await page.$eval(`#results li:nth-child(${beavers})`, (li) => li.dataset.id);
  await page.click(`#results li:nth-child(${beavers}) .title`);
  await page.waitForSelector('#item:not([hidden])');
  check(await page.textContent('#item-title') === 'Beavers', 'the item view shows its title');
  check((await page.textContent('#item-text')).includes('build dams'), 'and its text');
  check((await page.textContent('#item-meta')).includes('notes'), 'and its source');
  check(await page.isVisible('#item-original button'), 'a local file has a copy button');
  check((await page.textContent('#item-original code')).endsWith('/beavers.md'), 'and shows its path');
  await page.waitForFunction(() => document.querySelector('#like-note').textContent === '');
  check((await titles('#like-results')).length >= 1, 'more like this lists items');
  check(!(await titles('#like-results')).includes('Beavers'), 'but not the item itself');
  await page.screenshot({ path: join(out, 'item.png') });
  await page.click('#hide-btn');
  await page.waitForFunction(() => document.querySelector('#hide-btn').textContent === 'Unhide');
  check((await page.textContent('#hidden-note')).includes('Hidden'), 'it says it is hidden');
  await searchFor('beavers dams');
  check(!(await page.$$eval('#results li', (l) => l.map((li) => li.dataset.id))).includes(id),
    'a hidden item is not found');
  await page.goto(`${url}#/item/${id}`);
  await page.waitForFunction(() => document.querySelector('#hide-btn').textContent === 'Unhide');
  await page.click('#hide-btn');
  await page.waitForFunction(() => document.querySelector('#hide-btn').textContent === 'Hide');
  await searchFor('beavers dams');
  check((await page.$$eval('#results li', (l) => l.map((li) => li.dataset.id))).includes(id),
    'unhidden, it is found again');
});

await run('a_hostile_title_is_text', async () => {
  await page.evaluate(() => { window.alert = () => { window.__alerted = true; }; });
  await searchFor('hostile markup');
  const t = await titles();
  check(t.includes(HOSTILE), `the title shows as text: ${JSON.stringify(t)}`);
  check(await page.$$eval('#results img', (x) => x.length) === 0, 'no element was made of it');
  await page.click(`#results li:nth-child(${t.indexOf(HOSTILE) + 1}) .title`);
  await page.waitForSelector('#item:not([hidden])');
  check(await page.textContent('#item-title') === HOSTILE, 'the item view shows it as text');
  check(await page.$$eval('main img', (x) => x.length) === 0, 'no image anywhere');
  await page.waitForTimeout(300); // an onerror would have fired by now
  check(!(await page.evaluate(() => window.__alerted)), 'no script ran');
});

await run('a_scan_from_the_sources_page_shows_progress_then_completes', async () => {
  for (let i = 0; i < 150; i++) {
    writeFileSync(join(tree, `added-${i}.md`), `# Added note ${i}\n\nKingfishers and otters, note ${i}: ` +
      'a sentence or two, so that there is something to embed.\n');
  }
  await page.goto(`${url}#/sources`);
  await page.waitForSelector('.source');
  await page.evaluate(() => { // record what the progress box showed, however briefly
    window.__seen = { shown: false, stages: new Set() };
    new MutationObserver(() => {
      if (!document.querySelector('#progress').hidden) window.__seen.shown = true;
      for (const li of document.querySelectorAll('#stages li')) window.__seen.stages.add(li.textContent.split(' ')[0]);
    }).observe(document.querySelector('main'), { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await page.click('#scan-all');
  await page.waitForSelector('.scan-result.ok', { timeout: 300000 });
  const result = await page.textContent('#scan-result');
  check(result.startsWith('Scan complete.') && result.includes('150 new'), `the result: ${result}`);
  const seen = await page.evaluate(() => ({ shown: window.__seen.shown, stages: [...window.__seen.stages] }));
  check(seen.shown, 'progress was shown');
  check(['source', 'read', 'embed', 'write'].every((s) => seen.stages.includes(s)),
    `per-stage progress: ${seen.stages}`);
  check(await page.isHidden('#progress'), 'and hidden at the end');
  await page.waitForFunction(() => document.querySelector('.source .counts').textContent.startsWith('154 items'));
  check(!(await page.isDisabled('#scan-all')), 'scan is possible again');
});

await run('a_browser_sources_retention_and_excluded_domains_are_saved', async () => {
  const profile = join(dirname(tree), 'profile');
  mkdirSync(profile, { recursive: true });
  writeFileSync(join(profile, 'History'), 'SQLite format 3\0'); // what adding one checks
  await page.goto(`${url}#/sources`);
  await page.waitForSelector('.source');
  await page.fill('#add-form [name="name"]', 'web');
  await page.selectOption('#add-form [name="type"]', 'chromium-history');
  await page.fill('#add-form [name="location"]', profile);
  await page.click('#add-form button[type="submit"]');
  const form = '.source[data-name="web"] .web-edit';
  await page.waitForSelector(form);
  check(await page.inputValue(`${form} [name="retention"]`) === 'keep', 'retention keep at first');
  check(await page.$('.source[data-name="notes"] .web-edit') === null, 'no such form for a folder');
  await page.fill(`${form} [name="exclude_domains"]`, 'Bank.example, mail.example');
  await page.selectOption(`${form} [name="retention"]`, 'mirror');
  await page.click(`${form} button[type="submit"]`);
  await page.waitForSelector('.scan-result.ok');
  check((await page.textContent('#scan-result')).startsWith('web saved'), 'saved, it says');
  await page.waitForFunction((f) => {
    const input = document.querySelector(`${f} [name="exclude_domains"]`);
    return input && input.value === 'bank.example, mail.example';
  }, form); // listed back from the server, normalised
  check(await page.inputValue(`${form} [name="retention"]`) === 'mirror', 'retention mirror');
});

await run('usable_at_360px_and_follows_the_colour_scheme', async () => {
  await page.setViewportSize({ width: 360, height: 740 });
  await searchFor('otters');
  const wide = () => page.evaluate(() => document.documentElement.scrollWidth);
  check(await wide() <= 360, `results fit 360 px (${await wide()})`);
  await page.goto(`${url}#/sources`);
  await page.waitForSelector('.source');
  check(await wide() <= 360, `sources fit 360 px (${await wide()})`);
  const bg = () => page.evaluate(() => {
    const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
    return (r + g + b) / 3;
  });
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await bg();
  await page.emulateMedia({ colorScheme: 'light' });
  const light = await bg();
  check(dark < 80 && light > 200, `dark ${dark}, light ${light}`);
  await page.setViewportSize({ width: 1100, height: 760 });
});

await browser.close();

// A cold browser: a new process, nothing cached.
const cold = await launch();
const p2 = watch(await cold.newPage());
await p2.goto(url);
await p2.waitForSelector('#q');
const paint = await p2.evaluate(() => {
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const res = performance.getEntriesByType('resource').map((r) => [r.name.split('/').pop(), r.encodedBodySize]);
  return { fcp: fcp ? fcp.startTime : null, res };
});
await cold.close();
console.log(`first contentful paint, cold browser: ${paint.fcp === null ? '?' : paint.fcp.toFixed(0)} ms; ` +
  `files: ${paint.res.map(([n, s]) => `${n} ${s} B`).join(', ')}`);

for (const p of problems) console.log(`problem: ${p}`);
if (problems.length) failed++;
console.log(failed ? `${failed} failed` : 'all passed');
process.exit(failed ? 1 : 0);
