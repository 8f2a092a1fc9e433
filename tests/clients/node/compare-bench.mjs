// Times the comparison page in headless Chromium: navigation to the painted table of changes,
// then the switch to the side-by-side waterfalls. Prints JSON. Not a test: see docs/benchmarks.md.
//
// usage: node compare-bench.mjs COMPARE_URL
import { launchChromium } from './chromium.mjs';

const [url] = process.argv.slice(2);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const painted = () => page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
const result = { url };
// Inside the page, not from the driver: when the first table row is in the DOM, then two
// animation frames later (laid out and painted).
await page.addInitScript(() => {
  const observer = new MutationObserver(() => {
    if (!document.querySelector('.compare-table tbody tr')) return;
    observer.disconnect();
    requestAnimationFrame(() => requestAnimationFrame(() => { window.__spanviewPainted = performance.now(); }));
  });
  observer.observe(document, { childList: true, subtree: true });
});
try {
  await page.goto(url);
  await page.waitForFunction(() => window.__spanviewPainted !== undefined, null, { timeout: 120000, polling: 50 });
  result.navigationToTableMs = Math.round(await page.evaluate(() => window.__spanviewPainted));
  result.tableRows = await page.locator('.compare-table tbody tr').count();
  // The page's own marks: both traces decoded, then compared (core's `compare` in wasm).
  Object.assign(result, await page.evaluate(() => {
    const at = (name) => performance.getEntriesByName(name)[0]?.startTime;
    const [loaded, computed] = [at('spanview:compare-loaded'), at('spanview:compare-computed')];
    const painted = window.__spanviewPainted;
    return { tracesLoadedAtMs: Math.round(loaded), compareMs: Math.round(computed - loaded), computedToPaintMs: Math.round(painted - computed), loadedToPaintMs: Math.round(painted - loaded) };
  }));
  const clicked = Date.now();
  await page.click('button[role="tab"] >> text=Side by side');
  await page.waitForSelector('.aligned-row', { timeout: 120000 });
  await painted();
  result.sideBySideMs = Date.now() - clicked;
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
