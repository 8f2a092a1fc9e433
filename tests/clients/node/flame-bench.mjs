// Times the flame graph tab in headless Chromium: the canvas's own draw (layout in core and
// painting, the `data-draw-ms` the component records), the time from the trace's data in wasm
// (mark `spanview:trace-loaded`) to the flame graph drawn (`spanview:flame-drawn`), and a redraw
// after zooming into the root and back. Prints JSON per URL. Not a test: see docs/benchmarks.md.
//
// usage: node flame-bench.mjs TRACE_URL...
import { launchChromium } from './chromium.mjs';

const runs = Number(process.env.RUNS ?? 5);
const browser = await launchChromium();
const results = [];
try {
  for (const url of process.argv.slice(2)) {
    const samples = [];
    for (let run = 0; run < runs; run++) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${url}?view=flame`);
      await page.waitForSelector('.flame-graph canvas[data-draw-ms]', { timeout: 60000 });
      const canvas = page.locator('.flame-graph canvas');
      const first = await page.evaluate(() => {
        const element = document.querySelector('.flame-graph canvas');
        const loaded = performance.getEntriesByName('spanview:trace-loaded')[0];
        const drawn = performance.getEntriesByName('spanview:flame-drawn').at(-1);
        return {
          drawMs: Number(element.dataset.drawMs),
          boxes: Number(element.dataset.boxes),
          dataInWasmToDrawnMs: drawn.startTime - loaded.startTime,
        };
      });
      // Zoom into the root (the first box on level 0) and back out: each a full redraw.
      const box = await canvas.boundingBox();
      await page.mouse.click(box.x + 2, box.y + 10);
      await page.waitForSelector('.flame-breadcrumb li:nth-child(2)');
      const zoomedMs = Number(await canvas.getAttribute('data-draw-ms'));
      await page.getByRole('button', { name: 'Whole trace' }).click();
      await page.waitForFunction(() => document.querySelectorAll('.flame-breadcrumb li').length === 1);
      const backMs = Number(await canvas.getAttribute('data-draw-ms'));
      samples.push({ ...first, zoomedMs, backMs });
      await page.close();
    }
    results.push({ url, samples });
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results, null, 1));
