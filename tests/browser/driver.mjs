// Open one page in headless Debian Chromium (playwright-core from web/node_modules) and
// print, as one JSON object, what the page reported plus everything the browser saw:
// requests, failed requests, console errors, page errors and CSP violations.
//
//   node driver.mjs '{"chromium": "/usr/bin/chromium", "userDataDir": "/tmp/p", "url": "...",
//                     "mode": "smoke" | "graphiql", "timeoutMs": 60000}'
//
// mode "smoke": waits for the page's window.__smoke (set by frontend/smoke.js).
// mode "graphiql": waits for GraphiQL, runs the query in the editor, returns the result text.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const config = JSON.parse(process.argv[2]);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-proxy-server'];

const seen = { requests: [], failedRequests: [], consoleErrors: [], pageErrors: [] };
const context = await chromium.launchPersistentContext(config.userDataDir, {
  executablePath: config.chromium, headless: true, args: FLAGS, timeout: config.timeoutMs,
});
try {
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
    });
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(config.timeoutMs);
  page.on('request', (r) => seen.requests.push({ method: r.method(), url: r.url() }));
  page.on('requestfailed', (r) => seen.failedRequests.push({ url: r.url(), error: r.failure()?.errorText }));
  page.on('console', (m) => { if (m.type() === 'error') seen.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => seen.pageErrors.push(String(e)));
  await page.goto(config.url);
  let result;
  if (config.mode === 'smoke') {
    await page.waitForFunction(() => window.__smoke !== undefined);
    result = await page.evaluate(() => window.__smoke);
  } else if (config.mode === 'graphiql') {
    await page.locator('.graphiql-execute-button').click();
    await page.waitForFunction(() => (document.querySelector('.result-window')?.textContent ?? '').includes('"data"'));
    result = {
      text: await page.locator('.result-window').textContent(),
      title: await page.title(),
    };
  } else {
    throw new Error(`unknown mode ${config.mode}`);
  }
  const cspViolations = await page.evaluate(() => window.__cspViolations);
  process.stdout.write(JSON.stringify({ result, cspViolations, ...seen }));
} finally {
  await context.close();
}
