// Issue 24: opened files show where the user looks (above the dashboard's list, in view while
// they parse), and a file opened on its own that holds one trace opens that trace at once.
//
// usage: node upload-in-view.mjs BASE_URL ONE_TRACE_FILE OTHER_FILE
import { launchChromium } from './chromium.mjs';

const [base, oneTraceFile, otherFile] = process.argv.slice(2);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
const seen = {};
try {
  await page.goto(base + '/');
  await page.waitForSelector('tr.trace-row');
  // Two files at once: both listed in the panel, which is in view above the list; no trace opens.
  await page.setInputFiles('.open-files input', [oneTraceFile, otherFile]);
  await page.waitForSelector('.uploads-panel .upload');
  const box = async (selector) => page.locator(selector).first().boundingBox();
  const panel = await box('.uploads-panel');
  seen.panelTopWhileOpening = Math.round(panel.y);
  await page.waitForFunction(() => {
    const entries = [...document.querySelectorAll('.upload')];
    return entries.length === 2 && entries.every((entry) => !entry.querySelector('progress'));
  }, null, { timeout: 30000 });
  const loadedPanel = await box('.uploads-panel');
  const table = await box('.trace-table');
  seen.panelAboveList = loadedPanel.y + loadedPanel.height <= table.y;
  seen.panelBottomInView = loadedPanel.y + loadedPanel.height <= 768;
  seen.pathAfterTwo = new URL(page.url()).pathname;
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/uploads-panel.png` });
  // Close both; then one file of one trace: its trace opens.
  while (await page.locator('.upload .forget').count() > 0) await page.locator('.upload .forget').first().click();
  seen.panelGone = (await page.locator('.uploads-panel').count()) === 0;
  await page.setInputFiles('.open-files input', [oneTraceFile]);
  await page.waitForURL(/\/trace\//, { timeout: 30000 });
  await page.waitForSelector('.wf-body .wf-row');
  seen.openedPath = new URL(page.url()).pathname;
  seen.openedTitle = await page.locator('.trace-header h1').textContent();
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
