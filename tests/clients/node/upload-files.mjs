// Opens trace files through the file picker in headless Chromium, follows an uploaded trace into
// the waterfall, saves a file to the server and exports a trace, printing what it saw as JSON for
// tests/tests/upload.rs.
//
// usage: node upload-files.mjs BASE_URL EXPORT_PATH FILE...
import { launchChromium } from './chromium.mjs';

const [base, exportPath, ...files] = process.argv.slice(2);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
const seen = {};
try {
  await page.goto(base + '/');
  await page.waitForSelector('.open-files input', { state: 'attached' });
  await page.setInputFiles('.open-files input', files);
  // Every file ends loaded or failed (no "reading"/"parsing" left).
  await page.waitForFunction((count) => {
    const entries = [...document.querySelectorAll('.upload')];
    return entries.length === count && entries.every((entry) => !entry.querySelector('progress'));
  }, files.length, { timeout: 30000 });
  seen.entries = await page.$$eval('.upload', (entries) => entries.map((entry) => ({
    name: entry.getAttribute('data-file-name'),
    status: entry.querySelector('.status')?.textContent ?? null,
    error: entry.querySelector('.upload-error')?.textContent ?? null,
    traces: entry.querySelectorAll('.upload-traces a').length,
  })));

  // The first file's first trace opens in the waterfall, without the server knowing it.
  const first = page.locator('.upload').first();
  await first.locator('.upload-traces a').first().click();
  await page.waitForSelector('.wf-body .wf-row');
  seen.traceTitle = await page.locator('.trace-header h1').textContent();
  seen.traceSpans = await page.locator('.trace-facts div:nth-child(2) dd').textContent();
  seen.tracePath = new URL(page.url()).pathname;

  // Export as OTLP JSON: a real download.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'OTLP JSON' }).click(),
  ]);
  await download.saveAs(exportPath);
  seen.exportName = download.suggestedFilename();

  // Save the first file to the server.
  await page.locator('.upload').first().getByRole('button', { name: 'Save to server' }).click();
  await page.waitForSelector('.upload .saved');
  seen.saved = await page.locator('.upload .saved').first().textContent();
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
