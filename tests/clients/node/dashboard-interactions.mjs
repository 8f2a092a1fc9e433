// Uses the dashboard's search form in headless Chromium like a person, then reloads the page from
// its URL, and prints what it saw as JSON for tests/tests/dashboard.rs.
//
// usage: node dashboard-interactions.mjs BASE_URL
import { launchChromium } from './chromium.mjs';

const base = process.argv[2];
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const seen = {};
const rowIds = async () =>
  page.$$eval('tr.trace-row', (rows) => rows.map((row) => row.getAttribute('data-trace-id')));
try {
  await page.goto(base + '/');
  await page.waitForSelector('tr.trace-row');
  seen.allTraces = await rowIds();
  // The service list comes from the API.
  await page.waitForSelector('select[name="service"] option[value="order-service"]', { state: 'attached' });
  await page.selectOption('select[name="service"]', 'order-service');
  await page.fill('input[name="minDuration"]', '2s');
  await page.click('.search-form button[type="submit"]');
  await page.waitForURL(/minDuration=2s/);
  await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 1);
  seen.url = new URL(page.url()).search;
  seen.searchTraces = await rowIds();
  // Reload from the URL alone: same results, same form.
  await page.goto(page.url());
  await page.waitForSelector('tr.trace-row');
  seen.reloadedTraces = await rowIds();
  seen.reloadedService = await page.inputValue('select[name="service"]');
  seen.reloadedMinDuration = await page.inputValue('input[name="minDuration"]');
  // Sorting by duration, ascending after two clicks.
  await page.goto(base + '/');
  await page.waitForSelector('tr.trace-row');
  await page.click('th >> text=Duration');
  seen.slowestFirst = (await rowIds())[0];
  await page.click('th >> text=Duration');
  seen.fastestFirst = (await rowIds())[0];
  // Select the two newest traces (the order pages) and compare them: the older one is "before".
  await page.goto(base + '/');
  await page.waitForSelector('tr.trace-row');
  const checkboxes = page.getByLabel('Select for comparison');
  await checkboxes.nth(0).check();
  seen.compareButtonWithOne = await page.locator('.compare-pair').isEnabled();
  await checkboxes.nth(1).check();
  await page.locator('.compare-pair').click();
  await page.waitForSelector('.compare-summary');
  seen.compareUrl = new URL(page.url()).pathname;
  seen.compareTotal = (await page.locator('.compare-summary .value').textContent()).trim();
  seen.compareDelta = (await page.locator('.compare-summary .delta').textContent()).trim();
  seen.compareFirstRow = (await page.locator('.compare-table tbody tr:first-child .span-name').textContent()).trim();
  seen.compareStockRow = await page.$$eval('.compare-table tbody tr', (rows) => {
    const row = rows.find((candidate) => candidate.textContent.includes('GET /stock'));
    return row ? [...row.querySelectorAll('td')].map((cell) => cell.textContent.trim()) : null;
  });

  // Side by side: the two waterfalls aligned row by row, ghosts where a trace lacks the span.
  await page.click('button[role="tab"] >> text=Side by side');
  await page.waitForSelector('.aligned-row');
  seen.tableHiddenSideBySide = await page.locator('.compare-table').isHidden();
  seen.alignedRows = await page.locator('.aligned-row').count();
  seen.tableRows = await page.locator('.compare-table tbody tr').count();
  seen.alignedNames = await page.$$eval('.aligned-row .span-name', (names) => names.slice(0, 3).map((name) => name.textContent.trim()));
  seen.ghosts = await page.$$eval('.track.ghost', (tracks) => tracks.map((track) => track.textContent.trim()));
  const afterRootWidth = async () => page.locator('.aligned-row').first().locator('.track.after .bar')
    .evaluate((bar) => Math.round(parseFloat(bar.style.width) * 10) / 10);
  seen.afterRootWidthSameScale = await afterRootWidth();
  await page.uncheck('.scale-toggle input');
  seen.afterRootWidthOwnScale = await afterRootWidth();
  seen.stockLabels = await page.$$eval('.aligned-row', (rows) => {
    const row = rows.find((candidate) => candidate.textContent.includes('GET /stock'));
    return [...row.querySelectorAll('.track-label')].map((label) => label.textContent.trim());
  });
  if (process.env.SCREENSHOT_DIR) {
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/side-by-side.png`, fullPage: true });
  }

  // The services overview: closed at first with a headline; open it, read a row, and follow a
  // service's link to a search for that service.
  await page.goto(base + '/');
  await page.waitForSelector('.services-overview');
  seen.overviewOpenAtFirst = await page.locator('.services-overview').evaluate((details) => details.open);
  seen.overviewHeadline = (await page.locator('.overview-headline').textContent()).trim();
  await page.click('.services-overview summary');
  seen.overviewInventoryRow = await page.$$eval('.overview-table tr[data-service="inventory-service"] td',
    (cells) => cells.map((cell) => cell.textContent.trim()));
  await page.click('.overview-table tr[data-service="mysql"] a');
  await page.waitForURL(/service=mysql/);
  await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 2);
  seen.overviewFilteredTraces = await rowIds();
  seen.overviewOpenRemembered = await page.locator('.services-overview').evaluate((details) => details.open);

  // Brushing: dragging across the left part of the scatter plot narrows the search to that time.
  await page.goto(base + '/');
  await page.waitForSelector('tr.trace-row');
  const plot = await page.locator('.scatter svg').boundingBox();
  await page.mouse.move(plot.x + 2, plot.y + plot.height / 2);
  await page.mouse.down();
  await page.mouse.move(plot.x + plot.width * 0.2, plot.y + plot.height / 2, { steps: 4 });
  await page.mouse.move(plot.x + plot.width * 0.45, plot.y + plot.height / 2, { steps: 4 });
  seen.brushVisible = await page.locator('.scatter .brush').count();
  await page.mouse.up();
  await page.waitForURL(/range=custom/);
  await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 2);
  const brushed = new URL(page.url()).searchParams;
  seen.brushedHasStartAndEnd = brushed.has('start') && brushed.has('end');
  seen.brushedTraces = await rowIds();
  seen.brushedFormStart = await page.inputValue('input[name="start"]');

  // The theme switch sets and remembers the theme.
  await page.click('.theme-switch');
  seen.themeAfterOneClick = await page.evaluate(() => document.documentElement.getAttribute('data-theme'));
  await page.goto(base + '/');
  await page.waitForSelector('tr.trace-row');
  seen.themeAfterReload = await page.evaluate(() => document.documentElement.getAttribute('data-theme'));
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seen));
