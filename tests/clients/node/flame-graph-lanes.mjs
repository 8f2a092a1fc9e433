// The flame graph of a trace with concurrent siblings in headless Chromium: what the pointer
// finds at points of the canvas (fraction of the width, level), so a test can check which lane
// each span was drawn in. Prints {boxes, height, at: {"fraction@level": tooltip}} as JSON. With
// SCREENSHOTS=DIR it also saves light and dark screenshots of the tab.
//
// usage: node flame-graph-lanes.mjs URL_OF_TRACE_PAGE FRACTION@LEVEL...
import { launchChromium } from './chromium.mjs';

const [url, ...probes] = process.argv.slice(2);
const screenshots = process.env.SCREENSHOTS;
const LEVEL_PX = 20;
const browser = await launchChromium();
const seen = { at: {} };
try {
  for (const scheme of ['light', 'dark']) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, colorScheme: scheme });
    await page.goto(`${url}?view=flame`);
    await page.waitForSelector('.flame-graph canvas[data-boxes]');
    const canvas = page.locator('.flame-graph canvas');
    if (scheme === 'light') {
      Object.assign(seen, await canvas.evaluate((element) => ({
        boxes: Number(element.dataset.boxes),
        height: element.clientHeight,
      })));
      for (const probe of probes) {
        const [fraction, level] = probe.split('@').map(Number);
        const box = await canvas.boundingBox();
        await page.mouse.move(box.x + fraction * box.width, box.y + (level + 0.5) * LEVEL_PX);
        seen.at[probe] = await page.evaluate(() =>
          document.querySelector('.flame-tooltip')?.innerText.replace(/\s+/g, ' ').trim() ?? null);
      }
    }
    if (screenshots) {
      const box = await canvas.boundingBox();
      await page.mouse.move(box.x + 0.3 * box.width, box.y + 2.5 * LEVEL_PX);
      await page.screenshot({ path: `${screenshots}/flame-lanes-${scheme}.png` });
    }
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
