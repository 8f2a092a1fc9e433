// Folds and unfolds a repeated-span group, highlights the critical path and zooms with the minimap
// in headless Chromium,
// printing what the page showed as JSON for tests/tests/trace_view_keyboard.rs.
//
// usage: node groups-and-critical-path.mjs URL_OF_N_PLUS_ONE_TRACE URL_OF_SLOW_ORDER_TRACE
import { launchChromium } from './chromium.mjs';

const [loopUrl, slowUrl] = process.argv.slice(2);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
const observations = {};
// Rows the waterfall shows (not only those in the DOM: rows are virtualised).
const rowCount = async () => Number(await page.locator('.waterfall').getAttribute('aria-rowcount')) - 1;
try {
  await page.goto(loopUrl);
  await page.waitForSelector('.wf-body .wf-row');
  observations.rowsFolded = await rowCount();
  const group = page.locator('.group-row');
  observations.groupSize = await group.getAttribute('data-group-size');
  observations.groupLabel = (await group.locator('.wf-label').textContent()).trim();
  observations.groupDuration = (await group.locator('.wf-duration').textContent()).trim();
  await group.click();
  observations.groupDetailTitle = await page.locator('.span-detail h2').textContent();
  await page.keyboard.press('ArrowRight'); // unfold the selected group
  observations.rowsUnfolded = await rowCount();
  await page.locator('.group-fold').click();
  observations.rowsFoldedAgain = await rowCount();

  await page.goto(slowUrl);
  await page.waitForSelector('.wf-body .wf-row');
  observations.criticalBefore = await page.locator('.wf-row.critical').count();
  await page.keyboard.press('c');
  observations.criticalRows = await page.locator('.wf-row.critical').count();
  observations.queryCriticalSegments = await page
    .locator('.wf-row', { has: page.locator('.name', { hasText: /^Query Execution$/ }) })
    .locator('.critical-segment')
    .count();
  await page.locator('.wf-row', { has: page.locator('.name', { hasText: /^Query Execution$/ }) }).click();
  observations.queryCriticalFact = await page.evaluate(() => {
    const terms = [...document.querySelectorAll('.span-detail dt')];
    return terms.find((term) => term.textContent === 'Critical path')?.nextElementSibling?.textContent ?? null;
  });

  // The minimap: drag across the middle of the trace to zoom the timeline, then reset.
  const ticks = async () => page.$$eval('.wf-head .tick', (all) => all.map((tick) => tick.textContent));
  observations.ticksBeforeZoom = await ticks();
  const minimap = await page.locator('.minimap').boundingBox();
  await page.mouse.move(minimap.x + minimap.width * 0.25, minimap.y + 10);
  await page.mouse.down();
  await page.mouse.move(minimap.x + minimap.width * 0.75, minimap.y + 10, { steps: 5 });
  await page.mouse.up();
  observations.zoomLabel = await page.locator('.zoom-label').textContent();
  observations.ticksAfterZoom = await ticks();
  // The root's bar (the whole trace) spans twice the timeline now: it starts a quarter of the
  // trace before the left edge.
  observations.rootBarAfterZoom = await page.evaluate(() => {
    const row = document.querySelector('.wf-body .wf-row');
    const timeline = row.querySelector('.wf-timeline').getBoundingClientRect();
    const bar = row.querySelector('.bar').getBoundingClientRect();
    return { widthRatio: bar.width / timeline.width, leftRatio: (bar.left - timeline.left) / timeline.width };
  });
  await page.getByRole('button', { name: 'Reset zoom' }).click();
  observations.zoomLabelsAfterReset = await page.locator('.zoom-label').count();
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(observations));
