// Issue 24: absolute start times on the trace list and the trace page, in the browser's zone
// (with its offset) or in UTC, a header setting remembered across reloads. The browser runs in
// Asia/Kolkata (UTC+05:30) so that local and UTC differ.
//
// usage: node time-zone.mjs BASE_URL TRACE_ID
import { launchChromium } from './chromium.mjs';

const [base, traceId] = process.argv.slice(2);
const browser = await launchChromium();
const context = await browser.newContext({ timezoneId: 'Asia/Kolkata', viewport: { width: 1440, height: 900 } });
const page = await context.newPage();
const seen = {};
const rowTime = () => page.locator(`tr[data-trace-id="${traceId}"] .started .at`).textContent();
try {
  await page.goto(base + '/');
  await page.waitForSelector(`tr[data-trace-id="${traceId}"]`);
  seen.switchFirst = await page.locator('.time-zone-switch').textContent();
  seen.listLocal = await rowTime();
  await page.locator('.time-zone-switch').click();
  seen.switchAfterClick = await page.locator('.time-zone-switch').textContent();
  seen.listUtc = await rowTime();
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/time-zone-list.png` });
  await page.reload();
  await page.waitForSelector(`tr[data-trace-id="${traceId}"]`);
  seen.listUtcAfterReload = await rowTime();
  await page.goto(`${base}/trace/${traceId}`);
  await page.waitForSelector('.wf-body .wf-row');
  seen.traceUtc = await page.locator('.trace-facts .started-at').textContent();
  await page.locator('.time-zone-switch').click();
  seen.traceLocal = await page.locator('.trace-facts .started-at').textContent();
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/time-zone-trace.png` });
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
