// Issue 24: the dashboard's trace id box (16 or 32 hex digits) and "more match" with "Load more".
//
// usage: node trace-id-and-more.mjs BASE_URL SHORT_ID (16 hex digits of a stored 64-bit id) LONG_ID
import { launchChromium } from './chromium.mjs';

const [base, shortId, longId] = process.argv.slice(2);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1024, height: 800 } });
const seen = {};
const rows = () => page.locator('tr.trace-row').count();
try {
  await page.goto(base + '/?limit=2');
  await page.waitForSelector('tr.trace-row');
  seen.rowsAtLimit2 = await rows();
  seen.countAtLimit2 = await page.locator('.result-count').textContent();
  await page.getByRole('button', { name: 'Load more' }).click();
  await page.waitForURL(/limit=4/);
  await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length > 2);
  seen.urlAfterMore = new URL(page.url()).search;
  seen.rowsAfterMore = await rows();
  seen.countAfterMore = await page.locator('.result-count').textContent();
  seen.limitShown = await page.locator('select[name=limit]').inputValue();
  seen.loadMoreLeft = await page.getByRole('button', { name: 'Load more' }).count();
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/trace-id-box.png` });

  const box = page.getByRole('textbox', { name: /Trace id/ });
  await box.fill('not-an-id');
  await page.getByRole('button', { name: 'Go' }).click();
  seen.badIdError = await page.locator('.trace-id-box .error').textContent();
  await box.fill(` ${shortId} `);
  await page.getByRole('button', { name: 'Go' }).click();
  await page.waitForSelector('.wf-body .wf-row');
  seen.shortIdPath = new URL(page.url()).pathname;
  seen.shortIdTitle = await page.locator('.trace-header h1').textContent();

  await page.goto(base + '/');
  await page.getByRole('textbox', { name: /Trace id/ }).fill(longId.toUpperCase());
  await page.keyboard.press('Enter');
  await page.waitForSelector('.wf-body .wf-row');
  seen.longIdPath = new URL(page.url()).pathname;
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
