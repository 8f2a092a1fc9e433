// Issue 24: the dashboard's search form with the attribute syntax (a quoted value with spaces, an
// event attribute), the kind and status selects, and a syntax error, in headless Chromium;
// prints what it saw as JSON for tests/tests/search_syntax.rs.
//
// usage: node search-syntax.mjs BASE_URL
import { launchChromium } from './chromium.mjs';

const base = process.argv[2];
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const seen = {};
const rowIds = async () =>
  page.$$eval('tr.trace-row', (rows) => rows.map((row) => row.getAttribute('data-trace-id')));
// Submits the form and waits for the URL to carry `urlPart` and the list to hold `count` rows.
const submit = async (urlPart, count) => {
  await page.click('.search-form button[type="submit"]');
  await page.waitForURL((url) => url.search.includes(urlPart));
  await page.waitForFunction((n) => document.querySelectorAll('tr.trace-row').length === n, count);
};
try {
  await page.goto(base + '/');
  await page.waitForSelector('tr.trace-row');
  seen.allTraces = await rowIds();
  seen.help = (await page.locator('#attr-help').textContent()).trim();
  seen.kinds = await page.$$eval('select[name="kind"] option', (options) => options.map((o) => o.value));
  seen.statuses = await page.$$eval('select[name="status"] option', (options) => options.map((o) => o.value));

  // A quoted value with spaces.
  await page.fill('input[name="attr"]', 'db.statement="SELECT * FROM carts WHERE user_id = $1"');
  await submit('attr=', 1);
  seen.statementUrl = new URL(page.url()).search;
  seen.statementTraces = await rowIds();
  // The URL alone brings back the same text and results.
  await page.goto(page.url());
  await page.waitForSelector('tr.trace-row');
  seen.reloadedAttr = await page.inputValue('input[name="attr"]');
  seen.reloadedTraces = await rowIds();

  // An event attribute.
  await page.fill('input[name="attr"]', 'exception.message="connection refused by db:5432"');
  await submit('exception.message', 1);
  seen.eventTraces = await rowIds();

  // Kind and status, without attributes.
  await page.fill('input[name="attr"]', '');
  await page.selectOption('select[name="kind"]', 'server');
  await page.selectOption('select[name="status"]', 'unset');
  await submit('status=unset', 1);
  seen.kindStatusUrl = new URL(page.url()).search;
  seen.kindStatusTraces = await rowIds();
  await page.goto(page.url());
  await page.waitForSelector('tr.trace-row');
  seen.reloadedKind = await page.inputValue('select[name="kind"]');
  seen.reloadedStatus = await page.inputValue('select[name="status"]');
  if (process.env.SCREENSHOT_DIR) {
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/search-syntax.png` });
  }

  // A syntax error is shown with the server's message.
  await page.selectOption('select[name="kind"]', '');
  await page.selectOption('select[name="status"]', '');
  await page.fill('input[name="attr"]', 'db.statement="SELECT *');
  await page.click('.search-form button[type="submit"]');
  await page.waitForFunction(() => document.body.textContent.includes('is not closed'));
  seen.errorShown = await page.evaluate(() => {
    const text = document.body.textContent;
    const at = text.indexOf('the quote opened');
    return at < 0 ? null : text.slice(at, text.indexOf('is not closed', at) + 'is not closed'.length);
  });
  seen.rowsOnError = await page.locator('tr.trace-row').count();
  if (process.env.SCREENSHOT_DIR) {
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/search-syntax-error.png` });
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
