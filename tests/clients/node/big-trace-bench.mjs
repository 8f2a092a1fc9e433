// Times the trace view of a big trace (100,000 or 1,000,000 spans) in headless Chromium, with the
// main thread's long tasks (PerformanceObserver 'longtask', tasks over 50 ms) from navigation on:
// - load: navigation to painted rows, the trace's bytes received (resource timing) and decoded in
//   wasm (`spanview:trace-loaded`) to painted rows, and the long tasks before that paint;
// - first scroll: the page scrolls the waterfall 100 px per frame from the frame after the first
//   paint for SCROLL_FRAMES frames (a wheel), while the work deferred until after that paint (the
//   minimap, repeated work, health, the rows outside the view) runs: frame intervals, and the
//   long tasks from the first paint until the deferred work is done (`spanview:analysis-done`,
//   or `spanview:n-plus-one-detected` and `spanview:minimap-painted`), the scroll has ended and a
//   second has passed (`longTasksAfterPaintMs`, `maxLongTaskAfterPaintMs`);
// - settled scroll: the same scroll again once the page is idle, and a fling (600 px per frame),
//   with their long tasks apart (`longTasksSettledScrollMs`).
// Prints JSON per URL and run. Not a test (tests/tests/big_trace.rs is the test): see
// docs/benchmarks.md, "Big traces".
//
// usage: node big-trace-bench.mjs [--runs N] TRACE_URL...
import { launchChromium } from './chromium.mjs';

const SCROLL_FRAMES = 240;
const args = process.argv.slice(2);
let runs = 1;
const urls = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else urls.push(args[i]);
}

const browser = await launchChromium();
const results = [];
try {
  for (const url of urls) {
    for (let run = 0; run < runs; run++) {
      results.push(await measure(url));
    }
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results, null, 1) + '\n');

async function measure(url) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.addInitScript((scrollFrames) => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        window.__longTasks.push({ start: entry.startTime, duration: entry.duration });
      }
    }).observe({ type: 'longtask', buffered: true });
    // Scrolls `frames` frames by `step` px, resolving with the frame intervals.
    window.__scroll = (step, frames) => new Promise((resolve) => {
      const scroller = document.querySelector('.waterfall');
      const deltas = [];
      let last = performance.now();
      let n = 0;
      const tick = (now) => {
        deltas.push(now - last);
        last = now;
        scroller.scrollTop += step;
        if (++n < frames) requestAnimationFrame(tick);
        else resolve(deltas.slice(1));
      };
      requestAnimationFrame(tick);
    });
    const observer = new MutationObserver(() => {
      if (!document.querySelector('.wf-body .wf-row')) return;
      observer.disconnect();
      requestAnimationFrame(() => requestAnimationFrame(() => {
        window.__painted = performance.now();
        window.__scroll(100, scrollFrames).then((deltas) => {
          window.__firstScroll = deltas;
          window.__firstScrollEnd = performance.now();
        });
      }));
    });
    observer.observe(document, { childList: true, subtree: true });
  }, SCROLL_FRAMES);
  await page.goto(url);
  const timeout = 180000;
  await page.waitForFunction(() => window.__firstScroll !== undefined, null, { timeout, polling: 100 });
  // The deferred work is done (a mark from the page), then a second of quiet.
  await page.waitForFunction(() =>
    performance.getEntriesByName('spanview:analysis-done').length > 0
    || (performance.getEntriesByName('spanview:n-plus-one-detected').length > 0
      && performance.getEntriesByName('spanview:minimap-painted').length > 0),
  null, { timeout, polling: 100 });
  await page.waitForTimeout(1000);
  const settledStart = await page.evaluate(() => performance.now());
  const settledWheel = await page.evaluate(() => window.__scroll(100, 120));
  const settledFling = await page.evaluate(() => window.__scroll(600, 120));
  const timings = await page.evaluate(() => {
    const mark = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
    const response = performance.getEntriesByType('resource')
      .find((entry) => /\/api\/traces\/[0-9a-f]+/.test(entry.name));
    const loaded = mark('spanview:trace-loaded');
    const steps = {};
    for (const entry of performance.getEntriesByType('mark')) {
      if (entry.name.startsWith('spanview:')) steps[entry.name.slice('spanview:'.length)] = Math.round(entry.startTime);
    }
    return {
      painted: window.__painted,
      firstScrollEnd: window.__firstScrollEnd,
      firstScroll: window.__firstScroll,
      responseEnd: response ? response.responseEnd : null,
      loaded,
      steps,
      longTasks: window.__longTasks,
      rows: Number(document.querySelector('.waterfall').getAttribute('aria-rowcount')) - 1,
      banner: document.querySelector('.n-plus-one .headline')?.textContent ?? null,
      // Chromium's JS heap once the view has settled (wasm's linear memory is not counted in it).
      heap: performance.memory ? performance.memory.usedJSHeapSize : null,
    };
  });
  await page.close();
  const round = (value) => Math.round(value * 10) / 10;
  const percentile = (values, p) => {
    const sorted = [...values].sort((a, b) => a - b);
    return round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]);
  };
  const frames = (deltas) => ({ p50: percentile(deltas, 0.5), p95: percentile(deltas, 0.95), max: percentile(deltas, 1) });
  const done = Math.max(timings.steps['analysis-done'] ?? timings.steps['n-plus-one-detected'] ?? 0, timings.steps['minimap-painted'] ?? 0);
  const before = timings.longTasks.filter((task) => task.start < timings.painted);
  // From the first paint until the deferred work is done and the first scroll has ended (and
  // the second of quiet after it), then the settled scrolls (wheel and fling).
  const after = timings.longTasks.filter((task) => task.start >= timings.painted && task.start < settledStart);
  const settled = timings.longTasks.filter((task) => task.start >= settledStart);
  const durations = (tasks) => tasks.map((task) => Math.round(task.duration)).sort((a, b) => b - a);
  return {
    url,
    rows: timings.rows,
    banner: timings.banner,
    jsHeapMb: timings.heap === null ? null : Math.round(timings.heap / 1048576),
    navigationToPaintMs: Math.round(timings.painted),
    responseToPaintMs: timings.responseEnd === null ? null : Math.round(timings.painted - timings.responseEnd),
    decodedToPaintMs: timings.loaded === null ? null : Math.round(timings.painted - timings.loaded),
    paintToAnalysisDoneMs: Math.round(done - timings.painted),
    marksMs: timings.steps,
    longTasksBeforePaintMs: durations(before),
    longTasksAfterPaintMs: durations(after),
    maxLongTaskAfterPaintMs: Math.max(0, ...durations(after)),
    // [ms after the first paint, duration] of each, to set beside the marks.
    longTasksAfterPaintAt: after.map((task) => [Math.round(task.start - timings.painted), Math.round(task.duration)]),
    longTasksSettledScrollMs: durations(settled),
    firstScrollFramesMs: frames(timings.firstScroll),
    settledWheelFramesMs: frames(settledWheel),
    settledFlingFramesMs: frames(settledFling),
  };
}
