// Issue 23: the service map and a service's performance page in headless Chromium: prints the
// services and edges the map drew, the charts of the service page, and takes screenshots when
// OUT_DIR is given.
// usage: node service-map.mjs BASE_URL SERVICE [OUT_DIR]
import { launchChromium } from './chromium.mjs';

const [baseUrl, service, outDir] = process.argv.slice(2);
const browser = await launchChromium();
const result = {};
for (const scheme of ['light', 'dark']) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 }, colorScheme: scheme });
  await page.goto(`${baseUrl}/services/map?range=1h`);
  await page.waitForSelector('.map-node', { timeout: 20000 });
  result.nodes = await page.$$eval('.map-node', (nodes) => nodes.map((n) => ({
    service: n.getAttribute('data-service'),
    peer: n.classList.contains('peer'),
    text: n.textContent,
  })));
  result.edges = await page.$$eval('.map-edge', (edges) => edges.map((e) => ({
    caller: e.getAttribute('data-caller'),
    callee: e.getAttribute('data-callee'),
    label: e.querySelector('text').textContent,
  })));
  if (outDir) await page.screenshot({ path: `${outDir}/service-map-${scheme}.png`, fullPage: true });
  await page.goto(`${baseUrl}/services/${encodeURIComponent(service)}?range=1h`);
  await page.waitForSelector('.chart-row', { timeout: 20000 });
  result.charts = await page.$$eval('.chart-row', (rows) => rows.map((r) => ({
    operation: r.getAttribute('data-operation'),
    dots: r.querySelectorAll('circle.dot').length,
  })));
  if (outDir) await page.screenshot({ path: `${outDir}/service-${scheme}.png`, fullPage: true });
  // A click on a node opens the dashboard's search for its traces.
  await page.goto(`${baseUrl}/services/map?range=1h`);
  await page.waitForSelector('.map-node');
  await page.click(`.map-node[data-service="${service}"] rect`);
  await page.waitForURL((url) => url.pathname === '/' && url.searchParams.get('service') === service, { timeout: 10000 });
  result.clickedTo = new URL(page.url()).search;
  await page.close();
}
await browser.close();
console.log(JSON.stringify(result));
