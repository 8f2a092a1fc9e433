// Prints the DOM of a spanview page once the app has rendered its data, for tests that read it.
// (Chromium's own --dump-dom waits for the network to go quiet, which a page with a live
// server-sent-events feed never does.)
//
// usage: node dump-dom.mjs URL
import { launchChromium } from './chromium.mjs';

const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(process.argv[2]);
  // Rendered: the app mounted something into <main> and no "Loading…"/"Searching…" is left.
  await page.waitForFunction(() => {
    const main = document.querySelector('main');
    if (!main || main.children.length === 0) return false;
    const busy = [...document.querySelectorAll('.notice')].some((n) => /Loading|Searching/.test(n.textContent));
    return !busy && main.querySelector('section, .error, form, p') !== null;
  }, null, { timeout: 20_000 });
  await page.waitForTimeout(200);
  process.stdout.write(await page.content());
} finally {
  await browser.close();
}
