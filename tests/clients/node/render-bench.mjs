// Times the trace view in headless Chromium: navigation to painted rows, the app's own time from
// the trace's data arriving in wasm to painted rows (a performance mark set by the trace page),
// and frame times while scrolling the waterfall (100 px per frame, like a wheel, and 600 px, a fling). Prints JSON per URL. Not a test: see
// docs/benchmarks.md.
//
// usage: node render-bench.mjs TRACE_URL...
import { launchChromium } from './chromium.mjs';

const browser = await launchChromium();
const results = [];
try {
  for (const url of process.argv.slice(2)) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // Inside the page, not from the driver: note when the first row is in the DOM, then when two
    // animation frames later it has been laid out and painted (the driver's polling would add
    // its own latency).
    await page.addInitScript(() => {
      const observer = new MutationObserver(() => {
        if (!document.querySelector('.wf-body .wf-row')) return;
        observer.disconnect();
        requestAnimationFrame(() => requestAnimationFrame(() => { window.__spanviewPainted = performance.now(); }));
      });
      observer.observe(document, { childList: true, subtree: true });
    });
    await page.goto(url);
    await page.waitForFunction(() => window.__spanviewPainted !== undefined, null, { timeout: 60000, polling: 50 });
    const timings = await page.evaluate(() => {
        const loaded = performance.getEntriesByName('spanview:trace-loaded')[0];
        // The page's own steps, in ms after the data arrived.
        const steps = {};
        for (const entry of performance.getEntriesByType('mark')) {
          if (loaded && entry.name.startsWith('spanview:') && entry !== loaded) {
            steps[entry.name.slice('spanview:'.length)] = Math.round(entry.startTime - loaded.startTime);
          }
        }
        return { painted: window.__spanviewPainted, loaded: loaded ? loaded.startTime : null, steps };
    });
    // performance.now() counts from the navigation's start.
    const navigationToPaintMs = Math.round(timings.painted);
    // Frame intervals over 120 animation frames, scrolling 600 px per frame or idle: headless
    // Chromium's own frame clock is the floor, so the idle figure is the baseline to compare with.
    const frameIntervals = (scrollBy) => page.evaluate((scrollBy) => new Promise((resolve) => {
      const scroller = document.querySelector('.waterfall');
      const deltas = [];
      let longTasks = 0;
      const observer = new PerformanceObserver((list) => { longTasks += list.getEntries().length; });
      observer.observe({ type: 'longtask' });
      let last = performance.now();
      let step = 0;
      const tick = (now) => {
        deltas.push(now - last);
        last = now;
        scroller.scrollTop += scrollBy;
        if (++step < 120) requestAnimationFrame(tick);
        else { observer.disconnect(); resolve({ deltas: deltas.slice(1), longTasks }); }
      };
      requestAnimationFrame(tick);
    }), scrollBy);
    const idle = await frameIntervals(0);
    // A wheel notch is about 100 px; 600 px per frame is a fast fling.
    const wheel = await frameIntervals(100);
    const scrolled = await frameIntervals(600);
    const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.floor(values.length * p)];
    const frames = [...scrolled.deltas].sort((a, b) => a - b);
    const p95 = percentile(frames, 0.95);
    const rowCount = await page.locator('.waterfall').getAttribute('aria-rowcount');
    results.push({
      url,
      rows: Number(rowCount) - 1,
      navigationToPaintMs,
      dataToPaintMs: timings.loaded === null ? null : Math.round(timings.painted - timings.loaded),
      stepsAfterDataMs: timings.steps,
      idleFrameP95Ms: Math.round(percentile(idle.deltas, 0.95) * 10) / 10,
      wheelScrollFrameP95Ms: Math.round(percentile(wheel.deltas, 0.95) * 10) / 10,
      scrollFrameMedianMs: Math.round(percentile(frames, 0.5) * 10) / 10,
      scrollFrameP95Ms: Math.round(p95 * 10) / 10,
      scrollLongTasks: scrolled.longTasks,
      scrollFrameMaxMs: Math.round(frames[frames.length - 1] * 10) / 10,
    });
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results, null, 1) + '\n');
