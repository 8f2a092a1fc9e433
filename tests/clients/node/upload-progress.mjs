// Opens one large trace file through the file picker in headless Chromium and records what its
// entry in the opened-files panel showed while the worker parsed it: every value of its progress
// bar with the status beside it, and the status it ended with; also the page's long tasks
// meanwhile (the page must not freeze while a large file is read and parsed). Prints JSON for
// tests/tests/upload.rs.
//
// usage: node upload-progress.mjs BASE_URL FILE
import { launchChromium } from './chromium.mjs';

const [base, file] = process.argv.slice(2);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const seen = {};
try {
  await page.goto(base + '/');
  await page.waitForSelector('.open-files input', { state: 'attached' });
  await page.evaluate(() => {
    const shown = (window.__progressShown = []);
    const longTasks = (window.__longTasks = []);
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longTasks.push(Math.round(entry.duration));
    }).observe({ type: 'longtask' });
    new MutationObserver(() => {
      const bar = document.querySelector('.upload progress');
      const status = document.querySelector('.upload .status')?.textContent ?? '';
      if (!bar || !status.startsWith('parsing')) return;
      const value = bar.hasAttribute('value') ? Number(bar.getAttribute('value')) : null;
      const last = shown[shown.length - 1];
      if (!last || last.value !== value || last.status !== status) shown.push({ value, status });
    }).observe(document.body, { childList: true, subtree: true, attributes: true, characterData: true });
  });
  await page.setInputFiles('.open-files input', [file]);
  await page.waitForFunction(
    () => document.querySelector('.upload') && !document.querySelector('.upload progress'),
    null,
    { timeout: 60000 },
  );
  seen.parsing = await page.evaluate(() => window.__progressShown);
  seen.longTasksMs = await page.evaluate(() => window.__longTasks);
  seen.totalMs = await page.evaluate(() => Math.round(performance.now()
    - performance.getEntriesByName('spanview:upload-chosen')[0].startTime));
  seen.status = await page.locator('.upload .status, .upload .upload-error').first().textContent();
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
