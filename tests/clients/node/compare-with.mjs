// Issue 24: the trace page's "Compare with…": the previous trace of the same root operation, or
// one picked from a search (the dashboard then offers a "Compare" link per row).
//
// usage: node compare-with.mjs BASE_URL OLDEST_ID PREVIOUS_ID LATEST_ID
import { launchChromium } from './chromium.mjs';

const [base, oldest, previous, latest] = process.argv.slice(2);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const seen = {};
try {
  await page.goto(`${base}/trace/${latest}`);
  await page.waitForSelector('.compare-with .compare-previous');
  seen.previousHref = await page.locator('.compare-with .compare-previous').getAttribute('href');
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/compare-with.png` });
  await page.locator('.compare-with .compare-previous').click();
  await page.waitForURL(/\/compare\//);
  seen.previousPath = new URL(page.url()).pathname;

  await page.goto(`${base}/trace/${latest}`);
  await page.locator('.compare-with .compare-pick').click();
  await page.waitForSelector('.compare-with-banner');
  const url = new URL(page.url());
  seen.pickSearch = Object.fromEntries(url.searchParams);
  seen.rowsWithCompare = await page.locator('tr.trace-row .compare-link').count();
  await page.locator(`tr[data-trace-id="${oldest}"] .compare-link`).click();
  await page.waitForURL(/\/compare\//);
  seen.pickedPath = new URL(page.url()).pathname;
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
