// Keeps the dashboard open in headless Chromium while the real OpenTelemetry JS exporter sends a
// trace, and reports whether the trace appeared without a reload, live and paused.
//
// usage: node dashboard-live.mjs BASE_URL
import { launchChromium } from './chromium.mjs';
import { exportSpans } from './export-spans.mjs';

const base = process.argv[2];
const browser = await launchChromium();
const page = await browser.newPage();
const seen = {};
const nowNanos = () => (BigInt(Date.now()) * 1_000_000n).toString();
const exportOne = async (name) => {
  const start = nowNanos();
  const [span] = await exportSpans({
    endpoint: `${base}/v1/traces`, protocol: 'json', serviceName: 'checkout',
    spans: [{ name, parent: null, kind: 1, startNanos: start, endNanos: (BigInt(start) + 5_000_000n).toString() }],
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

  await page.getByRole('button', { name: 'Live' }).click();
  seen.toggleText = (await page.locator('.live-toggle').textContent()).trim();
  const pausedTrace = await exportOne('GET /paused');
  await page.waitForTimeout(2500);
  seen.pausedTraceListed = (await isListed(pausedTrace)) === 1;
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
