// Drives headless Chromium (Debian's /usr/bin/chromium) with playwright-core over the
// dashboard (examples/dashboard.py): waits for live updates over its WebSocket, clicks the
// LED button, waits for the answered command, saves a screenshot, prints a JSON summary.
//   node tests/dashboard_browser.cjs PLAYWRIGHT_CORE_DIR URL SCREENSHOT [UPDATES]
// (tests/test_dashboard_browser.py runs it; tools/setup.sh installs playwright-core.)
const [pwDir, url, shot, want] = process.argv.slice(2);
const { chromium } = require(pwDir);
const updates = Number(want || 10);

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const out = { frames_received: 0, frames_sent: 0, errors: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 640, height: 480 } });
    page.on('pageerror', (e) => out.errors.push(String(e)));
    page.on('websocket', (ws) => {
      out.ws_url = ws.url();
      ws.on('framereceived', () => out.frames_received++);
      ws.on('framesent', () => out.frames_sent++);
    });
    await page.goto(url, { timeout: 15000 });
    await page.waitForFunction((n) => window.__updates >= n, updates, { timeout: 20000 });
    out.updates_before_click = await page.evaluate(() => window.__updates);
    out.led_before = await page.textContent('#ledtxt');
    await page.click('#toggle');
    await page.waitForFunction(() => window.__acks >= 1, null, { timeout: 10000 });
    out.ack = await page.textContent('#ack');
    out.led_after = await page.textContent('#ledtxt');
    await page.waitForFunction((n) => window.__updates >= n + 2, out.updates_before_click, { timeout: 10000 });
    out.updates = await page.evaluate(() => window.__updates);
    out.temp = await page.textContent('#temp');
    out.state = await page.textContent('#state');
    await page.screenshot({ path: shot });
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
