// Issue 24: comparing a trace with an identical one shows no change in red (or green).
//
// usage: node compare-same.mjs BASE_URL BEFORE_ID AFTER_ID
import { launchChromium } from './chromium.mjs';

const [base, before, after] = process.argv.slice(2);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const seen = {};
try {
  await page.goto(`${base}/compare/${before}/${after}`);
  await page.waitForSelector('.compare-summary .delta');
  seen.delta = await page.locator('.compare-summary .delta').first().textContent();
  seen.summaryClass = await page.locator('.compare-summary').first().getAttribute('class');
  seen.deltaColor = await page.locator('.compare-summary .delta').first().evaluate((element) => getComputedStyle(element).color);
  seen.textColor = await page.evaluate(() => getComputedStyle(document.body).color);
  seen.redRows = await page.locator('.compare-row.slower').count();
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
