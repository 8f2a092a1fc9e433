// Issue 24's small ones, in headless Chromium: no request fails on load (the favicon), "1 span"
// in singular, the group detail's button and the custom range's date inputs styled like the
// page's, and "Expand to depth" not keeping a depth the rows no longer show.
//
// usage: node small-polish.mjs BASE_URL ONE_SPAN_TRACE_ID N_PLUS_ONE_TRACE_ID
import { launchChromium } from './chromium.mjs';

const [base, oneSpanTrace, loopTrace] = process.argv.slice(2);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const seen = { failedRequests: [] };
page.on('response', (response) => {
  if (response.status() >= 400) seen.failedRequests.push(`${response.status()} ${response.url()}`);
});
const style = (locator, properties) => locator.evaluate((element, properties) => {
  const computed = getComputedStyle(element);
  return Object.fromEntries(properties.map((name) => [name, computed.getPropertyValue(name)]));
}, properties);
const looks = ['border-top-style', 'border-radius', 'padding-top', 'background-color', 'color', 'font-size'];
try {
  await page.goto(base + '/?range=custom');
  await page.waitForSelector('tr.trace-row');
  await page.waitForTimeout(500);
  seen.hasIcon = (await page.locator('link[rel=icon]').count()) === 1;
  seen.oneSpanTooltip = await page.locator(`tr[data-trace-id="${oneSpanTrace}"]`).count() === 1
    ? await page.locator('.scatter line.dot title').allTextContents()
    : [];
  seen.dateInput = await style(page.locator('input[name=start]'), looks);
  seen.textInput = await style(page.locator('input[name=minDuration]'), looks);

  await page.goto(`${base}/trace/${loopTrace}`);
  await page.waitForSelector('.wf-body .wf-row');
  await page.locator('.group-row').first().click();
  const show = page.locator('.span-detail > button', { hasText: 'Show the repeated spans' });
  seen.showButton = await style(show, looks);
  seen.toolbarButton = await style(page.getByRole('button', { name: 'Expand all' }), looks);
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/group-detail.png` });
  await page.locator('.span-detail .close').click();
  const depth = page.locator('.wf-toolbar label', { hasText: 'Expand to depth' }).locator('select');
  await depth.selectOption('1');
  seen.depthChosen = await depth.inputValue();
  seen.rowsAtDepth1 = await page.locator('.wf-body .wf-row').count();
  await page.getByRole('button', { name: 'Expand all' }).click();
  seen.depthAfterExpandAll = await depth.inputValue();
  await depth.selectOption('2');
  seen.depthChosenAgain = await depth.inputValue();

} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
