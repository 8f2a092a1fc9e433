// Takes the README walkthrough's screenshots of each step of the scenario, in headless Chromium,
// against a spanview that the demo services have filled (`spanview serve --run-demo`).
//
// usage: node readme-screenshots.mjs BASE_URL OUT_DIR [light|dark] [SLOW_ID FIXED_ID N_PLUS_ONE_ID]
// (the ids are in the demo's report; without them the API's search picks matching traces)
import { launchChromium } from './chromium.mjs';

const [base, outDir, scheme = 'light', ...ids] = process.argv.slice(2);
const api = async (path) => (await fetch(base + path)).json();
const firstTrace = async (query) => {
  const { traces } = await api('/api/traces?' + query);
  if (!traces.length) throw new Error(`no trace for ${query}: has the demo finished?`);
  return traces[0].traceId;
};
const slow = ids[0] ?? await firstTrace('service=order-service&minDuration=3s');
const fixed = ids[1] ?? await firstTrace('service=order-service&maxDuration=500ms');
const nPlusOne = ids[2] ?? await firstTrace('service=product-list&minDuration=3s');

const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 860 }, colorScheme: scheme });
const shot = async (name) => page.screenshot({ path: `${outDir}/${name}.png` });
try {
  // 1. Search: order-service traces slower than 2 s; the slow one stands out in the plot.
  await page.goto(base + '/?service=order-service&minDuration=2s');
  await page.waitForSelector('tr.trace-row');
  await page.waitForTimeout(300);
  await shot('1-search');
  // 2. The waterfall: GET /stock is 87.5 % of the trace, called out in the header.
  await page.goto(`${base}/trace/${slow}`);
  await page.waitForSelector('.wf-row');
  await page.waitForTimeout(300);
  await shot('2-waterfall');
  // 3. The attributes that explain it: the MySQL span's statement and rows examined.
  await page.setViewportSize({ width: 1400, height: 1300 });
  await page.click('.wf-row:has(.name:text-matches("^SELECT (FROM )?inventory"))');
  await page.waitForSelector('.span-detail');
  await page.waitForTimeout(200);
  await shot('3-attributes');
  await page.setViewportSize({ width: 1400, height: 860 });
  // 4. The N+1 banner on the product list.
  await page.goto(`${base}/trace/${nPlusOne}`);
  await page.waitForSelector('.n-plus-one');
  await page.waitForTimeout(300);
  await shot('4-n-plus-one');
  // 5. The comparison: before and after the fix.
  await page.goto(`${base}/compare/${slow}/${fixed}`);
  await page.waitForSelector('.compare-table tbody tr');
  await page.waitForTimeout(200);
  await shot('5-compare');
  await page.click('button[role="tab"] >> text=Side by side');
  await page.waitForSelector('.aligned-row');
  await shot('6-side-by-side');
  // 7. The flame graph of the slow order: GET /stock's box spans most of the width.
  await page.goto(`${base}/trace/${slow}?view=flame`);
  await page.waitForSelector('.flame-graph canvas[data-boxes]');
  await page.waitForTimeout(300);
  await shot('7-flame-graph');
  // 8. The service map of the last hour: calls between the demo's services, with rates and latencies.
  await page.goto(`${base}/services/map?range=1h`);
  await page.waitForSelector('.map-node');
  await page.waitForTimeout(300);
  await shot('8-service-map');
  // 9. inventory-service's performance over time, per operation.
  await page.goto(`${base}/services/inventory-service?range=1h`);
  await page.waitForSelector('.chart-row');
  await page.waitForTimeout(300);
  await shot('9-service-performance');
} finally {
  await browser.close();
}
console.log(JSON.stringify({ slow, fixed, nPlusOne }));
