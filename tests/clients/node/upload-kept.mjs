// Issue 24: opened files are kept in the browser (IndexedDB) until the user closes them: a
// reload lists them again, a link to one of their traces opens after a reload, and a closed file
// stays closed.
//
// usage: node upload-kept.mjs BASE_URL ONE_TRACE_FILE OTHER_FILE TRACE_ID_IN_ONE_TRACE_FILE
import { launchChromium } from './chromium.mjs';

const [base, oneTraceFile, otherFile, traceId] = process.argv.slice(2);
const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
const page = await context.newPage();
const seen = {};
const loadedFiles = async (count) => {
  await page.waitForFunction((count) => {
    const entries = [...document.querySelectorAll('.uploads-panel .upload')];
    return entries.length === count && entries.every((entry) => !entry.querySelector('progress'));
  }, count, { timeout: 30_000 });
  return page.$$eval('.uploads-panel .upload', (entries) => entries.map((entry) => entry.dataset.fileName));
};
// The browser's database holds `count` files. Keeping and forgetting commit asynchronously: a
// reload within milliseconds of a file loading or closing (as the script's would be) can cut
// them off, so the script waits for them before reloading.
const keptFiles = (count) => page.waitForFunction((count) => new Promise((resolve) => {
  const open = indexedDB.open('spanview', 1);
  open.onerror = () => resolve(false);
  open.onsuccess = () => {
    const counting = open.result.transaction('opened-files').objectStore('opened-files').count();
    counting.onerror = () => { open.result.close(); resolve(false); };
    counting.onsuccess = () => { open.result.close(); resolve(counting.result === count); };
  };
}), count, { timeout: 10_000 });
try {
  await page.goto(base + '/');
  await page.waitForSelector('tr.trace-row');
  await page.setInputFiles('.open-files input', [oneTraceFile, otherFile]);
  seen.opened = await loadedFiles(2);
  await keptFiles(2);
  await page.reload();
  seen.afterReload = await loadedFiles(2);
  // Straight to a trace that only a kept file holds.
  await page.goto(`${base}/trace/${traceId}`);
  await page.waitForSelector('.trace-header h1:not(.notice), .trace-page .error', { timeout: 30_000 });
  seen.traceTitleAfterReload = await page.locator('.trace-header h1:not(.notice), .trace-page .error').first().textContent();
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/upload-kept.png` });
  // Close the one-trace file: it stays closed after a reload, and its trace is gone.
  await page.locator(`.upload[data-file-name="${oneTraceFile.split('/').pop()}"] .forget`).click();
  await keptFiles(1);
  await page.goto(base + '/');
  await page.waitForSelector('tr.trace-row');
  seen.afterClose = await loadedFiles(1);
  await page.goto(`${base}/trace/${traceId}`);
  await page.waitForSelector('.trace-header h1:not(.notice), .trace-page .error', { timeout: 30_000 });
  seen.closedTrace = await page.locator('.trace-header h1:not(.notice), .trace-page .error').first().textContent();
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
