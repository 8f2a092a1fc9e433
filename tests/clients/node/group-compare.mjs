// Builds a group comparison in headless Chromium like a person: select the "before" traces on the
// dashboard, keep them as the before group, select the "after" traces, compare. Prints what the
// comparison page shows as JSON for tests/tests/dashboard.rs.
//
// usage: node group-compare.mjs BASE_URL BEFORE_IDS AFTER_IDS   (ids comma-separated)
import { launchChromium } from './chromium.mjs';

const [base, beforeIds, afterIds] = process.argv.slice(2);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const seen = {};
const pick = async (ids) => {
  for (const id of ids.split(',')) {
    await page.check(`tr.trace-row[data-trace-id="${id}"] input[type="checkbox"]`);
  }
};
try {
  await page.goto(base + '/?service=order-service&range=7d');
  await page.waitForSelector('tr.trace-row');
  seen.rows = await page.locator('tr.trace-row').count();
  // Select all, then none: the header checkbox.
  await page.check('input[aria-label="Select all traces"]');
  seen.keepLabelAll = (await page.textContent('button.keep-before')).trim();
  await page.uncheck('input[aria-label="Select all traces"]');
  await pick(beforeIds);
  seen.keepLabel = (await page.textContent('button.keep-before')).trim();
  await page.click('button.keep-before');
  seen.beforeGroup = (await page.textContent('.before-group')).trim();
  seen.checkedAfterKeeping = await page.locator('tr.trace-row input:checked').count();
  await pick(afterIds);
  await page.click('button.compare-groups');
  await page.waitForURL(/\/compare\/groups\?/);
  seen.url = new URL(page.url()).pathname + new URL(page.url()).search;
  await page.waitForSelector('.group-compare-table tbody tr');
  seen.median = await page.$$eval('.compare-summary .big-number > span',
    (spans) => spans.map((span) => span.textContent.trim()).join(' '));
  seen.notes = await page.$$eval('.variability-notes > span',
    (spans) => spans.map((span) => span.textContent.trim()));
  seen.stockRow = await page.$$eval('tr.group-row', (rows) => {
    const row = rows.find((candidate) => candidate.textContent.includes('GET /stock'));
    return row ? [...row.querySelectorAll('td')].map((cell) => cell.textContent.trim()).join(' | ') : null;
  });
  seen.rowCount = await page.locator('.group-compare-table tbody tr').count();
  if (process.env.SCREENSHOT_DIR) {
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/group-compare.png`, fullPage: true });
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
