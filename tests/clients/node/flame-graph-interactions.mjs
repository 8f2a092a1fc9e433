// Drives the trace page's flame graph in headless Chromium: what the pointer finds at points of
// the canvas (the boxes' places), a click zooming into a subtree, the breadcrumb back, the
// keyboard, the search's highlighting and the deep link. Prints what it saw as JSON for
// tests/tests/flame_graph.rs. With SCREENSHOTS=DIR it also saves light and dark screenshots.
//
// usage: node flame-graph-interactions.mjs URL_OF_TRACE_PAGE
import { launchChromium } from './chromium.mjs';

const url = process.argv[2];
const screenshots = process.env.SCREENSHOTS;
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const seen = {};
const LEVEL_PX = 20;
try {
  await page.goto(`${url}?view=flame`);
  await page.waitForSelector('.flame-graph canvas[data-boxes]');
  const canvas = page.locator('.flame-graph canvas');
  const rect = async () => canvas.boundingBox();
  const tooltip = async () =>
    page.evaluate(() => document.querySelector('.flame-tooltip')?.innerText.replace(/\s+/g, ' ').trim() ?? null);
  // The box at `fraction` of the width on `level`, as its tooltip reads.
  const at = async (fraction, level) => {
    const box = await rect();
    await page.mouse.move(box.x + fraction * box.width, box.y + (level + 0.5) * LEVEL_PX);
    return tooltip();
  };
  const breadcrumb = async () =>
    page.$$eval('.flame-breadcrumb button', (buttons) => buttons.map((button) => button.textContent));
  const selection = async () => page.locator('.flame-selection').textContent();
  // The colour drawn at a point (CSS pixels from the canvas's top-left).
  const pixel = async (fraction, level) =>
    canvas.evaluate((element, [fraction, level, levelPx]) => {
      const ratio = element.width / element.clientWidth;
      const x = Math.floor(fraction * element.clientWidth * ratio);
      const y = Math.floor((level + 0.5) * levelPx * ratio);
      return Array.from(element.getContext('2d').getImageData(x, y, 1, 1).data);
    }, [fraction, level, LEVEL_PX]);
  const drawn = async () =>
    canvas.evaluate((element) => ({ boxes: Number(element.dataset.boxes), height: element.clientHeight }));

  seen.tabSelected = await page.getByRole('tab', { name: 'Flame graph' }).getAttribute('aria-selected');
  seen.whole = await drawn();
  if (screenshots) await page.screenshot({ path: `${screenshots}/flame-light.png` });
  // The slow order is 3200 ms: GET /products/batch runs 145-265 ms, GET /stock 270-3070 ms.
  seen.rootAt10 = await at(0.1, 0);
  seen.stockAtHalf = await at(0.5, 1);
  seen.productsAt200ms = await at(200 / 3200, 1);
  seen.gapAt267ms = await at(267 / 3200, 1); // the root's own time: no box
  seen.stockAt273ms = await at(273 / 3200, 1);
  seen.queryAtHalf = await at(0.5, 3);
  seen.belowTheLeaves = await at(0.5, 4);

  // Click GET /stock: it fills the width, its subtree below it.
  await at(0.5, 1);
  await page.mouse.down();
  await page.mouse.up();
  seen.breadcrumbAfterClick = await breadcrumb();
  seen.zoomed = await drawn();
  seen.zoomedTop = await at(0.5, 0);
  seen.zoomedMysql = await at(0.5, 1);
  seen.selectionAfterClick = await selection();
  seen.urlAfterClick = new URL(page.url()).search;
  if (screenshots) await page.screenshot({ path: `${screenshots}/flame-zoomed-light.png` });

  // The keyboard: down to the first child, right to its sibling, Enter zooms into it, Escape
  // zooms out a level at a time.
  await page.mouse.move(0, 0);
  await page.keyboard.press('ArrowDown');
  seen.afterDown = await selection();
  await page.keyboard.press('ArrowRight');
  seen.afterRight = await selection();
  await page.keyboard.press('Enter');
  seen.breadcrumbAfterEnter = await breadcrumb();
  await page.keyboard.press('Escape');
  seen.breadcrumbAfterEscape = await breadcrumb();
  await page.keyboard.press('ArrowUp');
  seen.afterUp = await selection();

  // The breadcrumb's first step shows the whole trace again.
  await page.getByRole('button', { name: 'Whole trace' }).click();
  seen.breadcrumbAfterWholeTrace = await breadcrumb();
  seen.afterWholeTrace = await drawn();

  // Search: matches keep their colour, the rest are dimmed.
  const rootBefore = await pixel(0.03, 0);
  const stockBefore = await pixel(0.5, 1);
  await page.keyboard.press('/');
  await page.keyboard.type('mysql');
  seen.matchCount = await page.locator('.flame-toolbar .match-count').textContent();
  seen.rootDimmed = JSON.stringify(await pixel(0.03, 0)) !== JSON.stringify(rootBefore);
  seen.stockKept = JSON.stringify(await pixel(0.5, 1)) === JSON.stringify(stockBefore);
  if (screenshots) await page.screenshot({ path: `${screenshots}/flame-search-light.png` });
  if (screenshots) {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.locator('#flame-search').fill('');
    await at(0.5, 1);
    await page.screenshot({ path: `${screenshots}/flame-dark.png` });
    await page.emulateMedia({ colorScheme: 'light' });
  }

  // Leaving the tab takes view=flame out of the URL and keeps the selection.
  await page.getByRole('tab', { name: 'Statistics' }).click();
  seen.urlOnStatistics = new URL(page.url()).search;

  // A deep link opens the flame graph with the span selected.
  await page.goto(`${url}${seen.urlAfterClick}`);
  await page.waitForSelector('.flame-graph canvas[data-boxes]');
  seen.deepLinkTab = await page.getByRole('tab', { name: 'Flame graph' }).getAttribute('aria-selected');
  seen.deepLinkSelection = await selection();
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
