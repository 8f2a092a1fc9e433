// Times opening one trace file in headless Chromium: from the file being chosen until the
// opened-files panel lists its traces (read + parse in the wasm worker + hand-over), then from a
// click on the first trace until its waterfall is painted, all inside the page. Prints JSON. Not a
// test: see docs/benchmarks.md.
//
// usage: node upload-bench.mjs BASE_URL FILE [cold]
//
// By default the file is opened once the page's spare format worker is ready (2 s after the
// page loads, as for anyone who opens a page and then drops a file on it); `cold` opens it as
// soon as the file input exists, so the worker loads while the file is read.
import { launchChromium } from './chromium.mjs';

const [base, file, mode] = process.argv.slice(2);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const result = {};
try {
  await page.goto(base + '/');
  await page.waitForSelector('.open-files input', { state: 'attached' });
  result.warm = mode !== 'cold';
  if (result.warm) {
    await page.waitForFunction(
      () => performance.getEntriesByName('spanview:format-worker-ready').length > 0,
      null,
      { timeout: 20000 },
    );
  }
  // Timed inside the page, from the page's own `spanview:upload-chosen` mark: the driver's
  // polling adds a round trip per wait on this machine (a quarter of a second or more), which is
  // not the product's time. A mutation observer clicks the first listed trace at once (in its
  // own task, as a click is) and notes when the waterfall's rows are painted.
  await page.evaluate(() => {
    const bench = (window.__uploadBench = {});
    new MutationObserver(() => {
      if (bench.listed === undefined) {
        const link = document.querySelector('.upload .upload-traces a');
        const failed = document.querySelector('.upload .upload-error');
        if (link || failed) bench.listed = performance.now();
        if (failed) bench.failed = true;
        if (link) setTimeout(() => { bench.clicked = performance.now(); link.click(); }, 0);
      } else if (bench.rows === undefined && document.querySelector('.wf-body .wf-row')) {
        bench.rows = performance.now();
        requestAnimationFrame(() => requestAnimationFrame(() => { bench.painted = performance.now(); }));
      }
    }).observe(document.body, { childList: true, subtree: true });
  });
  const started = Date.now();
  await page.setInputFiles('.open-files input', [file]);
  await page.waitForFunction(() => window.__uploadBench.painted !== undefined || window.__uploadBench.failed, null, { timeout: 120000 });
  result.driverTotalMs = Date.now() - started;
  result.status = await page.locator('.upload .status, .upload .upload-error').first().textContent();
  result.workerParseMs = Number(await page.locator('.upload .status').first().getAttribute('data-parse-ms'));
  // The page's own marks, in ms after the file was chosen: read into memory, parsed by the
  // worker (reply received), traces decoded from the hand-over; then the observer's times.
  Object.assign(result, await page.evaluate(() => {
    const at = (name) => performance.getEntriesByName('spanview:upload-' + name)[0]?.startTime;
    const chosen = at('chosen');
    const bench = window.__uploadBench;
    return {
      pageSteps: Object.fromEntries(['read', 'parsed', 'decoded'].map((step) => [step, Math.round(at(step) - chosen)])),
      listedMs: Math.round(bench.listed - chosen),
      waterfallPaintedMs: Math.round(bench.painted - bench.clicked),
      totalMs: Math.round(bench.painted - chosen),
    };
  }));
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
