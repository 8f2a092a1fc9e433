// Issue 24: the scatter plot's time axis (round times under the plot, in the chosen zone) and its
// log scale for durations (an outlier no longer flattens the other dots).
//
// usage: node scatter-axes.mjs BASE_URL
import { launchChromium } from './chromium.mjs';

const [base] = process.argv.slice(2);
const browser = await launchChromium();
const context = await browser.newContext({ timezoneId: 'UTC', viewport: { width: 1024, height: 800 } });
const page = await context.newPage();
const seen = {};
// The dots' heights above the axis, as fractions of the plot's usable height, by trace id order.
const heights = () => page.$$eval('.scatter line.dot', (dots) => dots.map((dot) => Math.round((170 - Number(dot.getAttribute('y1'))) / 160 * 1000) / 1000).sort((a, b) => a - b));
try {
  await page.goto(base + '/');
  await page.waitForSelector('.scatter line.dot', { state: 'attached' });
  seen.timeLabels = await page.locator('.scatter .time-label').allTextContents();
  seen.labelsInside = await page.$$eval('.scatter .time-label', (labels) => {
    const plot = document.querySelector('.scatter svg').getBoundingClientRect();
    return labels.every((label) => {
      const box = label.getBoundingClientRect();
      return box.left >= plot.left - 40 && box.right <= plot.right + 40 && box.top >= plot.bottom - 2;
    });
  });
  seen.linearHeights = await heights();
  seen.bottomLinear = await page.locator('.scatter .axis-label.bottom').textContent();
  await page.getByRole('button', { name: 'Log scale' }).click();
  seen.logPressed = await page.getByRole('button', { name: 'Log scale' }).getAttribute('aria-pressed');
  seen.logHeights = await heights();
  seen.bottomLog = await page.locator('.scatter .axis-label.bottom').textContent();
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/scatter-log.png` });
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
