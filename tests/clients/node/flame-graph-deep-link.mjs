// The flame graph opened straight from a link (`?view=flame&span=`) on a trace page that also
// looks up the previous trace of its operation ("Compare with…") and shows its start time in the
// chosen zone (issue 24's additions). The merge of both once hung this page: the flame graph was
// built while the page waited for that look-up, off the page, measured a width of 0 and woke
// itself for ever. Also: the canvas follows its container's width, and a flame graph built
// hidden draws once shown. Prints what it saw as JSON
// for tests/tests/flame_graph.rs.
//
// usage: node flame-graph-deep-link.mjs BASE_URL TRACE_ID SPAN_ID
import { launchChromium } from './chromium.mjs';

const [base, traceId, spanId] = process.argv.slice(2);
const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
await context.addInitScript(() => localStorage.setItem('spanview.timeZone', 'utc'));
const page = await context.newPage();
const seen = {};
const canvasWidths = () =>
  page.evaluate(() => {
    const canvas = document.querySelector('.flame-graph canvas');
    return { canvas: canvas.clientWidth, container: canvas.parentElement.clientWidth };
  });
try {
  await page.goto(`${base}/trace/${traceId}?view=flame&span=${spanId}`);
  await page.waitForSelector('.flame-graph canvas[data-boxes]', { timeout: 15_000 });
  seen.boxes = Number(await page.locator('.flame-graph canvas').getAttribute('data-boxes'));
  seen.tabSelected = await page.getByRole('tab', { name: 'Flame graph' }).getAttribute('aria-selected');
  seen.selection = await page.locator('.flame-selection').textContent();
  await page.waitForSelector('.compare-with .compare-previous', { timeout: 15_000 });
  seen.previousHref = await page.locator('.compare-with .compare-previous').getAttribute('href');
  seen.started = await page.locator('.trace-facts .started-at').textContent();
  seen.query = new URL(page.url()).search;
  seen.at1440 = await canvasWidths();
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/flame-deep-link-1440.png` });
  await page.setViewportSize({ width: 1024, height: 900 });
  await page.waitForFunction(() => {
    const canvas = document.querySelector('.flame-graph canvas');
    return canvas.clientWidth === canvas.parentElement.clientWidth;
  }, null, { timeout: 5_000 }).catch(() => {});
  seen.at1024 = await canvasWidths();
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/flame-deep-link-1024.png` });

  // The flame graph built where it has no layout yet (hidden), then shown: it draws once it has
  // a width, and the page answers meanwhile.
  const hidden = await context.newPage();
  await hidden.addInitScript(() => {
    const style = document.createElement('style');
    style.id = 'hide-flame';
    style.textContent = '.flame-graph { display: none }';
    document.addEventListener('DOMContentLoaded', () => document.head.append(style));
  });
  await hidden.goto(`${base}/trace/${traceId}?view=flame`);
  await hidden.waitForSelector('.flame-graph canvas', { state: 'attached', timeout: 15_000 });
  seen.hiddenDrawn = await hidden.evaluate(() => document.querySelector('.flame-graph canvas').hasAttribute('data-boxes'));
  await hidden.evaluate(() => document.getElementById('hide-flame').remove());
  await hidden.waitForSelector('.flame-graph canvas[data-boxes]', { timeout: 5_000 });
  seen.shownBoxes = Number(await hidden.locator('.flame-graph canvas').getAttribute('data-boxes'));
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
