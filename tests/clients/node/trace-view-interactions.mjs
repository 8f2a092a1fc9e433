// Drives the trace view in headless Chromium like a person with a keyboard, and prints what the
// page showed after each step as JSON, for tests/tests/trace_view_keyboard.rs to check.
//
// usage: node trace-view-interactions.mjs URL_OF_TRACE_PAGE
import { launchChromium } from './chromium.mjs';

const url = process.argv[2];
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const observations = {};
try {
  await page.goto(url);
  await page.waitForSelector('.wf-body .wf-row');

  const selectedName = async () =>
    page.evaluate(() => document.querySelector('.wf-row.selected .name')?.textContent ?? null);
  const detailTitle = async () =>
    page.evaluate(() => document.querySelector('.span-detail h2')?.textContent ?? null);
  const rowCount = async () => page.locator('.wf-body .wf-row').count();

  // Keyboard: the first ArrowDown selects the root, the next ones walk the tree.
  await page.keyboard.press('ArrowDown');
  observations.afterFirstDown = await selectedName();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  observations.afterThreeDowns = await selectedName();
  observations.detailTitle = await detailTitle();
  observations.urlAfterSelect = new URL(page.url()).search;
  await page.keyboard.press('ArrowLeft'); // a leaf: go to its parent
  observations.afterLeftOnLeaf = await selectedName();
  await page.keyboard.press('ArrowLeft'); // the root, expanded: collapse it
  observations.rowsAfterCollapsingRoot = await rowCount();
  await page.keyboard.press('ArrowRight'); // expand again
  observations.rowsAfterExpandingRoot = await rowCount();

  // Collapse all, then expanding the root shows one level, not the whole tree.
  await page.getByRole('button', { name: 'Collapse all' }).click();
  observations.rowsAfterCollapseAll = await rowCount();
  await page.locator('.wf-body .wf-row').first().getByRole('button', { name: 'Expand' }).click();
  observations.rowsAfterExpandingRootOnly = await rowCount();

  // "/" focuses the search; Enter goes to the next match and reveals it.
  await page.keyboard.press('/');
  await page.keyboard.type('Query Execution');
  observations.matchCount = await page.locator('.match-count').textContent();
  await page.keyboard.press('Enter');
  observations.afterSearchEnter = await selectedName();
  await page.locator('#trace-search').fill('mysql');
  await page.getByLabel('matches only').check();
  observations.rowsMatchesOnly = await rowCount();

  // "?" shows the shortcut help; Escape closes it and the details.
  await page.locator('#trace-search').blur();
  await page.keyboard.press('?');
  observations.helpShown = await page.locator('.shortcut-help').isVisible();
  await page.keyboard.press('Escape');
  observations.helpAfterEscape = await page.locator('.shortcut-help').count();
  observations.detailAfterEscape = await detailTitle();

  // The call-out jumps to the slowest span.
  await page.getByLabel('matches only').uncheck();
  await page.locator('.call-out').first().click();
  observations.afterCallOut = await selectedName();

  // The statistics tab: who did the work.
  await page.getByRole('tab', { name: 'Statistics' }).click();
  observations.statisticsFirstRow = await page.$$eval('.stats-table tbody tr:first-child td',
    (cells) => cells.map((cell) => cell.textContent.trim()));
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(observations));
