// Issue 24: the compare page shows resource attribute changes (a service's new version), and
// its Markdown export names both traces with links back to them and to the comparison.
//
// usage: node compare-resources.mjs BASE_URL BEFORE_ID AFTER_ID
import { readFile } from 'node:fs/promises';
import { launchChromium } from './chromium.mjs';

const [base, before, after] = process.argv.slice(2);
const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
const page = await context.newPage();
const seen = {};
try {
  await page.goto(`${base}/compare/${before}/${after}`);
  await page.waitForSelector('.compare-summary .delta');
  seen.resourceChanges = await page.$$eval('.resource-changes li', (items) =>
    items.map((item) => item.textContent.replace(/\s+/g, ' ').trim()));
  if (process.env.SCREENSHOT_DIR) {
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/compare-resources-light.png` });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/compare-resources-dark.png` });
    await page.emulateMedia({ colorScheme: 'light' });
  }
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export Markdown' }).click(),
  ]);
  seen.markdownName = download.suggestedFilename();
  seen.markdown = await readFile(await download.path(), 'utf8');
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
