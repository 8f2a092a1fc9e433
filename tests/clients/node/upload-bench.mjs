// Times opening one trace file in headless Chromium: from handing the file to the page until the
// opened-files panel lists its traces (read + parse in the wasm worker + hand-over), then until
// the first trace's waterfall is painted. Prints JSON. Not a test: see docs/benchmarks.md.
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
  const started = Date.now();
  await page.setInputFiles('.open-files input', [file]);
  await page.waitForSelector('.upload .upload-traces a, .upload .upload-error', { timeout: 120000 });
  result.listedMs = Date.now() - started;
  result.status = await page.locator('.upload .status, .upload .upload-error').first().textContent();
  result.workerParseMs = Number(await page.locator('.upload .status').first().getAttribute('data-parse-ms'));
  // The page's own marks, in ms after the file was chosen: read into memory, parsed by the
  // worker (reply received), traces decoded from the hand-over.
  result.pageSteps = await page.evaluate(() => {
    const at = (name) => performance.getEntriesByName('spanview:upload-' + name)[0]?.startTime;
    const chosen = at('chosen');
    return Object.fromEntries(['read', 'parsed', 'decoded'].map((step) => [step, Math.round(at(step) - chosen)]));
  });
  const clicked = Date.now();
  await page.locator('.upload .upload-traces a').first().click();
  await page.waitForSelector('.wf-body .wf-row');
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  result.waterfallPaintedMs = Date.now() - clicked;
  result.totalMs = Date.now() - started;
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
