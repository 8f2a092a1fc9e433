// Keeps the dashboard open in headless Chromium while the real OpenTelemetry JS exporter sends a
// trace, and reports whether the trace appeared without a reload, live and paused; whether a
// live update kept the sort order, the ticked traces and the scroll position (issue 24); and
// whether resuming caught up with the trace sent while paused.
//
// usage: node dashboard-live.mjs BASE_URL
import { launchChromium } from './chromium.mjs';
import { exportSpans } from './export-spans.mjs';

const base = process.argv[2];
const browser = await launchChromium();
// Short, so that the list scrolls.
const page = await browser.newPage({ viewport: { width: 1024, height: 500 } });
const seen = {};
const nowNanos = () => (BigInt(Date.now()) * 1_000_000n).toString();
const exportOne = async (name, millis = 5n) => {
  const start = nowNanos();
  const [span] = await exportSpans({
    endpoint: `${base}/v1/traces`, protocol: 'json', serviceName: 'checkout',
    spans: [{ name, parent: null, kind: 1, startNanos: start, endNanos: (BigInt(start) + millis * 1_000_000n).toString() }],
  });
  return span.traceId;
};
const isListed = (traceId) => page.locator(`tr[data-trace-id="${traceId}"]`).count();
try {
  await page.goto(base + '/');
  await page.waitForSelector('tr.trace-row');
  seen.rowsBefore = await page.locator('tr.trace-row').count();

  const liveTrace = await exportOne('GET /live');
  await page.waitForSelector(`tr[data-trace-id="${liveTrace}"]`, { timeout: 10_000 });
  seen.liveTraceListed = (await isListed(liveTrace)) === 1;
  seen.rowsAfterLive = await page.locator('tr.trace-row').count();

  // Sort by duration, tick two traces, scroll down: a live update keeps all three.
  await page.locator('th button.sort', { hasText: 'Duration' }).click();
  const ticks = page.locator('tr.trace-row input[type=checkbox]');
  await ticks.nth(0).check();
  await ticks.nth(2).check();
  const orderBefore = await page.$$eval('tr.trace-row', (rows) => rows.map((row) => row.dataset.traceId));
  await page.evaluate(() => window.scrollTo(0, 200));
  seen.scrollBefore = await page.evaluate(() => window.scrollY);
  const sortedTrace = await exportOne('GET /while-sorted', 1n);
  await page.waitForSelector(`tr[data-trace-id="${sortedTrace}"]`, { state: 'attached', timeout: 10_000 });
  const orderAfter = await page.$$eval('tr.trace-row', (rows) => rows.map((row) => row.dataset.traceId));
  seen.durationSort = await page.locator('th', { hasText: 'Duration' }).getAttribute('aria-sort');
  // The 1 ms trace goes last, after every trace listed before, in their order.
  seen.orderKept = JSON.stringify(orderAfter) === JSON.stringify([...orderBefore, sortedTrace]);
  seen.ticked = await page.$$eval('tr.trace-row', (rows) => rows
    .filter((row) => row.querySelector('input[type=checkbox]').checked)
    .map((row) => row.dataset.traceId));
  seen.tickedBefore = [orderBefore[0], orderBefore[2]];
  seen.scrollAfter = await page.evaluate(() => window.scrollY);
  seen.compareEnabled = await page.locator('button.compare-pair').isEnabled();

  await page.getByRole('button', { name: 'Live' }).click();
  seen.toggleText = (await page.locator('.live-toggle').textContent()).trim();
  const pausedTrace = await exportOne('GET /paused');
  await page.waitForTimeout(2500);
  seen.pausedTraceListed = (await isListed(pausedTrace)) === 1;
  // Resuming catches up with what arrived while paused.
  await page.getByRole('button', { name: 'Live: paused' }).click();
  await page.waitForSelector(`tr[data-trace-id="${pausedTrace}"]`, { state: 'attached', timeout: 10_000 });
  seen.caughtUp = (await isListed(pausedTrace)) === 1;
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
