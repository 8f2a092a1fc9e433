// Issue 24 at 1024 px (and 1440): the waterfall's time-axis labels do not overlap (the detail
// panel open narrows the axis), the compare page and the group comparison table fit the
// window, and the detail panel's values break between words, not inside them.
//
// usage: node layout-1024.mjs BASE_URL BEFORE_ID AFTER_ID FAILED_ID (FAILED_ID's root has a long
// status message)
import { launchChromium } from './chromium.mjs';

const [base, before, after, failed] = process.argv.slice(2);
const browser = await launchChromium();
const seen = {};
const shots = process.env.SCREENSHOT_DIR;
// Visible tick labels that overlap a neighbour, or stick out of the axis.
const tickProblems = (page) =>
  page.evaluate(() => {
    const axis = document.querySelector('.wf-head .wf-timeline').getBoundingClientRect();
    const boxes = [...document.querySelectorAll('.wf-head .tick')]
      .map((tick) => ({ text: tick.textContent, box: tick.getBoundingClientRect() }))
      .filter(({ box }) => box.width > 0);
    const problems = [];
    boxes.forEach(({ text, box }, index) => {
      if (box.left < axis.left - 1 || box.right > axis.right + 15) problems.push(`${text} outside the axis`);
      const next = boxes[index + 1];
      if (next && next.box.left < box.right + 2) problems.push(`${text} overlaps ${next.text}`);
    });
    return { shown: boxes.map(({ text }) => text), problems };
  });
// Words of the detail panel's values split over two lines.
const splitWords = (page) =>
  page.evaluate(() => {
    const split = [];
    for (const dd of document.querySelectorAll('.span-detail .facts dd')) {
      const walker = document.createTreeWalker(dd, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const words = node.textContent.matchAll(/\S+/g);
        for (const word of words) {
          // Ids and other words wider than the column may break; nothing else.
          if (word[0].length > 16) continue;
          const range = document.createRange();
          range.setStart(node, word.index);
          range.setEnd(node, word.index + word[0].length);
          const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
          if (lines.size > 1) split.push(word[0]);
        }
      }
    }
    return split;
  });
const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
try {
  for (const width of [1024, 1440]) {
    const page = await browser.newPage({ viewport: { width, height: 800 } });
    await page.goto(`${base}/trace/${after}`);
    await page.waitForSelector('.wf-body .wf-row');
    seen[`ticks${width}`] = await tickProblems(page);
    // The detail panel narrows the axis.
    await page.locator('.wf-body .wf-row').nth(1).click();
    await page.waitForSelector('.span-detail .facts dd');
    seen[`ticksWithDetail${width}`] = await tickProblems(page);
    if (width === 1024) {
      // The name column, narrowed by the detail panel: drag its header's edge 40 px to the right, then double-click it back.
      const labelWidth = () => page.locator('.wf-body .wf-row .wf-label').first().evaluate((label) => Math.round(label.getBoundingClientRect().width));
      const cutNames = () => page.$$eval('.wf-body .wf-row .wf-label', (labels) => labels.filter((label) => label.scrollWidth > label.clientWidth + 1).length);
      seen.nameColumn = { before: await labelWidth(), cutBefore: await cutNames() };
      const handle = await page.locator('.wf-head .wf-resize').boundingBox();
      await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
      await page.mouse.down();
      await page.mouse.move(handle.x + 20, handle.y + handle.height / 2, { steps: 5 });
      await page.mouse.move(handle.x + 43, handle.y + handle.height / 2, { steps: 5 });
      await page.mouse.up();
      seen.nameColumn.afterDrag = await labelWidth();
      seen.nameColumn.cutAfterDrag = await cutNames();
      seen.nameColumn.headAfterDrag = await page.locator('.wf-head .wf-label').evaluate((label) => Math.round(label.getBoundingClientRect().width));
      if (shots) await page.screenshot({ path: `${shots}/layout-resized-${width}.png` });
      await page.locator('.wf-head .wf-resize').dblclick();
      seen.nameColumn.afterReset = await labelWidth();
      seen.nameColumn.rowTitle = await page.locator('.wf-body .wf-row').nth(4).getAttribute('title');
    }
    // A long status message wraps in the value column.
    await page.goto(`${base}/trace/${failed}`);
    await page.waitForSelector('.wf-body .wf-row');
    await page.locator('.wf-body .wf-row').first().click();
    await page.waitForSelector('.span-detail .facts dd');
    seen[`statusLines${width}`] = await page.evaluate(() => {
      const status = [...document.querySelectorAll('.span-detail .facts dd')].find((dd) => dd.textContent.startsWith('error'));
      return Math.round(status.getBoundingClientRect().height / parseFloat(getComputedStyle(status).lineHeight || '18'));
    });
    seen[`splitWords${width}`] = await splitWords(page);
    if (shots) await page.screenshot({ path: `${shots}/layout-trace-${width}.png` });
    await page.goto(`${base}/compare/${before}/${after}`);
    await page.waitForSelector('.compare-table tbody tr');
    seen[`compareOverflow${width}`] = await overflow(page);
    if (shots) await page.screenshot({ path: `${shots}/layout-compare-${width}.png` });
    await page.goto(`${base}/compare/groups?before=${before}&after=${after}`);
    await page.waitForSelector('.group-compare-table tbody tr');
    seen[`groupOverflow${width}`] = await overflow(page);
    seen[`groupTableRight${width}`] = await page.evaluate(() =>
      Math.round(document.querySelector('.group-compare-table').getBoundingClientRect().right) - window.innerWidth);
    if (shots) {
      await page.screenshot({ path: `${shots}/layout-groups-${width}.png` });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: `${shots}/layout-groups-${width}-dark.png` });
    }
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
