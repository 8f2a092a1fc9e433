// Times core's `decode_file` in the browser's format worker, one worker decoding the same file
// RUNS times in a row: the wasm counterpart of `parse-bench --decode FILE --runs RUNS` (native,
// one process). Both report each run; their best runs compare the decoders once each is warm.
// Not a test: see docs/benchmarks.md.
//
// usage: node parse-wasm-warm.mjs BASE_URL FILE [RUNS]
import { launchChromium } from './chromium.mjs';

const [base, file, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 3);
const browser = await launchChromium();
const page = await browser.newPage();
let result;
try {
  await page.goto(base + '/');
  // The page loads a spare worker of its own 2 s after it opens: not while this one measures.
  await page.waitForFunction(
    () => performance.getEntriesByName('spanview:format-worker-ready').length > 0,
    null,
    { timeout: 20000 },
  );
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'bench-file';
    document.body.append(input);
  });
  await page.setInputFiles('#bench-file', [file]);
  result = await page.evaluate(async (runs) => {
    const file = document.getElementById('bench-file').files[0];
    const worker = new Worker('/parse-worker_loader.js');
    const messages = [];
    let wake = () => {};
    worker.onmessage = (event) => {
      // Progress reports are numbers: only the ready text and the replies count here.
      if (typeof event.data === 'number') return;
      messages.push(event.data);
      wake();
    };
    const next = () => new Promise((resolve) => {
      if (messages.length) resolve(messages.shift());
      else wake = () => { wake = () => {}; resolve(messages.shift()); };
    });
    if ((await next()) !== 'ready') throw new Error('the worker did not say ready');
    const parseMs = [];
    let format;
    for (let run = 0; run < runs; run++) {
      const bytes = await file.arrayBuffer();
      worker.postMessage(['parse', new Uint8Array(bytes)], [bytes]);
      const [text] = await next();
      const reply = JSON.parse(text);
      if (!reply.parsed) throw new Error(text);
      format = reply.parsed.format;
      parseMs.push(Math.round(reply.parsed.parse_millis));
    }
    worker.terminate();
    return { format, bytes: file.size, parseMs, bestMs: Math.min(...parseMs) };
  }, runs);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
