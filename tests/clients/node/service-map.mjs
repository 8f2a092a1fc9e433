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
    label: document.querySelector(`.map-label[data-caller="${CSS.escape(e.getAttribute('data-caller'))}"][data-callee="${CSS.escape(e.getAttribute('data-callee'))}"] text`).textContent,
  })));
  // The edge labels as drawn: each on its curve (or, for a call across several layers, within
  // 60 px of it), none over another label or a node.
  result.labels = await page.$$eval('.map-edge', (edges) => {
    const name = (e) => `${e.getAttribute('data-caller')} -> ${e.getAttribute('data-callee')}`;
    const labelOf = (e) => document.querySelector(
      `.map-label[data-caller="${CSS.escape(e.getAttribute('data-caller'))}"][data-callee="${CSS.escape(e.getAttribute('data-callee'))}"] text`);
    const drawn = edges.map((e) => ({ name: name(e), text: labelOf(e), path: e.querySelector('path') }));
    const boxes = drawn.map((d) => d.text.getBBox());
    const apart = (a, b) => a.x + a.width <= b.x + 0.5 || b.x + b.width <= a.x + 0.5
      || a.y + a.height <= b.y + 0.5 || b.y + b.height <= a.y + 0.5;
    const overlaps = [];
    const offCurve = [];
    const overNodes = [];
    const nodes = Array.from(document.querySelectorAll('.map-node rect')).map((r) => r.getBBox());
    // Layers are the nodes' columns: a call to the next column has its label on its curve; a
    // call across several may run through the nodes between, its label then close by.
    const columns = [...new Set(nodes.map((node) => node.x))].sort((a, b) => a - b);
    const column = (service) => columns.indexOf(
      document.querySelector(`.map-node[data-service="${CSS.escape(service)}"] rect`).getBBox().x);
    const toNextColumn = (e) =>
      column(e.getAttribute('data-callee')) === column(e.getAttribute('data-caller')) + 1;
    drawn.forEach((d, i) => {
      boxes.slice(i + 1).forEach((other, k) => {
        if (!apart(boxes[i], other)) overlaps.push(`${d.name} / ${drawn[i + 1 + k].name}`);
      });
      if (nodes.some((node) => !apart(boxes[i], node))) overNodes.push(d.name);
      const centre = { x: boxes[i].x + boxes[i].width / 2, y: boxes[i].y + boxes[i].height / 2 };
      const length = d.path.getTotalLength();
      let nearest = Infinity;
      for (let step = 0; step <= 400; step++) {
        const point = d.path.getPointAtLength((length * step) / 400);
        nearest = Math.min(nearest, Math.hypot(point.x - centre.x, point.y - centre.y));
      }
      if (nearest > (toNextColumn(edges[i]) ? 3 : 60)) offCurve.push(`${d.name}: ${nearest.toFixed(1)} px`);
    });
    const charWidths = drawn.map((d, i) => boxes[i].width / d.text.textContent.length);
    return { n: drawn.length, overlaps, offCurve, overNodes, widestCharPx: Math.max(...charWidths) };
  });
  if (outDir) await page.screenshot({ path: `${outDir}/service-map-${scheme}.png`, fullPage: true });
  await page.goto(`${baseUrl}/services/${encodeURIComponent(service)}?range=1h`);
  await page.waitForSelector('.chart-row', { timeout: 20000 });
  result.charts = await page.$$eval('.chart-row', (rows) => rows.map((r) => ({
    operation: r.getAttribute('data-operation'),
    dots: r.querySelectorAll('circle.dot').length,
    // The axes of each chart (requests, errors, latency).
    timeLabels: Array.from(r.querySelectorAll('.chart')).map((c) =>
      Array.from(c.querySelectorAll('.time-label')).map((t) => t.textContent)),
    valueLabels: Array.from(r.querySelectorAll('.chart')).map((c) =>
      Array.from(c.querySelectorAll('.value-label')).map((t) => t.textContent)),
  })));
  if (outDir) await page.screenshot({ path: `${outDir}/service-${scheme}.png`, fullPage: true });
  // A click on a point of the requests chart opens the dashboard's search for that minute.
  await page.click('.chart-row circle.dot.rate');
  await page.waitForURL((url) => url.pathname === '/' && url.searchParams.get('start') !== null, { timeout: 10000 });
  result.pointClickedTo = new URL(page.url()).search;
  await page.waitForSelector('.trace-row', { timeout: 10000 });
  result.tracesOfThePoint = await page.$$eval('.trace-row', (rows) => rows.map((r) => r.getAttribute('data-trace-id')));
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
