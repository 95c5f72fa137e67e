// serve_paint.mjs URL [RUNS] [CHROMIUM]: the page's first contentful paint
// from a cold browser on loopback: RUNS times (default 5), a new chromium
// process each time (headless, nothing cached), the paint time the browser
// records from the start of navigation. Prints each run and the median.
// Uses the playwright-core that scripts/deps.sh installs for the browser
// test (trove/tests/serve/browser/node_modules).
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { chromium } = await import(join(here, '../tests/serve/browser/node_modules/playwright-core/index.mjs'));
const [url, runs = '5', executablePath = '/usr/bin/chromium'] = process.argv.slice(2);

const times = [];
for (let i = 0; i < Number(runs); i++) {
  const browser = await chromium.launch({ executablePath, args: ['--headless=new', '--no-sandbox'] });
  const page = await browser.newPage();
  await page.goto(url, { waitUntil: 'load' });
  const fcp = await page.evaluate(() => new Promise((resolve) => {
    const seen = performance.getEntriesByName('first-contentful-paint')[0];
    if (seen) return resolve(seen.startTime);
    new PerformanceObserver((l) => resolve(l.getEntries()[0].startTime)).observe({ type: 'paint', buffered: true });
  }));
  times.push(fcp);
  await browser.close();
}
times.sort((a, b) => a - b);
console.log(`first contentful paint, ms: ${times.map((t) => t.toFixed(0)).join(' ')}; ` +
  `median ${times[Math.floor(times.length / 2)].toFixed(0)}`);
