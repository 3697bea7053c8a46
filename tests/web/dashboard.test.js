// The dashboard in headless Chromium: the city page shows all 50 districts,
// a district drills down, the language switches, the report prints, and an
// event appended with the CLI shows on the open page within two seconds.
//
// Env: PRONGSAI_BIN (the binary; the test runs `prongsai serve --demo`),
// PRONGSAI_WEB_OUT (where screenshots go).
'use strict';

const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SKIP = 77;
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.log('SKIP: tests/web/node_modules is missing; run `npm ci` in tests/web');
  process.exit(SKIP);
}

const BIN = process.env.PRONGSAI_BIN;
const OUT = process.env.PRONGSAI_WEB_OUT || path.join(os.tmpdir(), 'prongsai-web');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
assert.ok(BIN, 'PRONGSAI_BIN must name the prongsai binary');
fs.mkdirSync(OUT, { recursive: true });

function startServer(dataDir) {
  const [cmd, args] =
    [BIN, ['serve', '--insecure-dev', '--demo', '--data', dataDir, '--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0']];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 120 s:\n${out}`)), 120000);
    const onData = chunk => {
      out += chunk;
      const http = out.match(/serving HTTP on (http:\/\/[^\s]+)/);
      const grpc = out.match(/serving gRPC on port (\d+)/);
      if (http && grpc) {
        clearTimeout(timer);
        resolve({ child, url: http[1].replace(/\/$/, ''), grpc: `127.0.0.1:${grpc[1]}` });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', code => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${out}`)); });
  });
}

async function waitFor(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'prongsai-web-'));
  const server = await startServer(dataDir);
  // playwright-core gives every launch a fresh, temporary --user-data-dir.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const shot = async (page, name) => {
    const file = path.join(OUT, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    const top = path.join(OUT, `${name}-top.png`);
    await page.screenshot({ path: top });
    console.log(`screenshot ${file} ${top}`);
  };
  const failures = [];
  const step = async (name, fn) => {
    const t0 = Date.now();
    try {
      await fn();
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      console.log(`FAIL ${name}: ${e.stack || e}`);
      failures.push(name);
    }
  };
  try {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    const requests = [];
    page.on('request', r => requests.push(r.url()));
    page.on('pageerror', e => failures.push(`page error: ${e.message}`));

    await step('city page shows the 50 districts in Thai, marked as demo data', async () => {
      await page.goto(`${server.url}/`);
      await page.waitForSelector('#city-grid tbody tr');
      assert.equal(await page.locator('#city-grid tbody tr').count(), 50);
      assert.equal(await page.getAttribute('html', 'lang'), 'th');
      assert.match(await page.textContent('h1'), /สำนักงานเขต/);
      await page.waitForSelector('#demo-banner:not([hidden])');
      assert.match(await page.textContent('#demo-banner'), /สาธิต/);
      const heads = await page.locator('#city-grid thead th').count();
      assert.equal(heads, 1 + 10 + 2, 'district, ten indicators, overall, alerts');
      // The views may still be catching up with the demo data.
      await waitFor('the city BMA OSS on-time rate', async () => /^\d[\d.,]*%$/.test(await page.textContent('#card-oss .num')), 20000);
      await shot(page, 'city-th');
    });

    await step('city page filters and sorts', async () => {
      await page.fill('#filter', 'วังทองหลาง');
      await waitFor('filtered grid', async () => (await page.locator('#city-grid tbody tr').count()) === 1, 2000);
      assert.equal(await page.getAttribute('#city-grid tbody tr', 'data-district'), '1045');
      await page.fill('#filter', '');
      await page.selectOption('#sort', 'progress-desc');
      const first = await page.locator('#city-grid tbody tr').count();
      assert.equal(first, 50);
      await page.focus('#city-grid tbody tr:first-child th a');
      await page.keyboard.press('ArrowRight');
      const focused = await page.evaluate(() => document.activeElement.dataset.c);
      assert.equal(focused, '1', 'arrow keys move between cells');
    });

    await step('drills into district 1045 with its report, timeline, gifts, complaints and audit', async () => {
      await page.fill('#filter', '1045');
      await page.click('#city-grid tbody tr[data-district="1045"] th a');
      await page.waitForURL(/\/districts\/1045/);
      await page.waitForSelector('#timeline li[data-measure]');
      assert.match(await page.textContent('#district-name'), /วังทองหลาง/);
      const reportText = await page.locator('#report-host').evaluate(h => h.shadowRoot ? h.shadowRoot.textContent : '');
      assert.match(reportText, /ITA|ตัวชี้วัด/);
      assert.ok(await page.locator('#timeline li[data-measure]').count() > 0);
      assert.equal(await page.locator('#services h2').count(), 1, 'the BMA OSS section of the district');
      const services = await page.evaluate(async () => (await fetch('/v1/districts/1001/services')).json());
      assert.ok(services.services.length > 0 && services.total.received > 0, 'BMA OSS services of a generated district');
      await waitFor('a signed checkpoint', async () => {
        await page.reload();
        await page.waitForSelector('#audit');
        return (await page.locator('#audit-signature.ok').count()) === 1;
      }, 20000);
      assert.match(await page.textContent('#audit-commands'), /prongsai export --stream 1045/);
      // The export the page links to verifies offline with the verifier key.
      const href = await page.getAttribute('#audit-download', 'href');
      const { bytes, key } = await page.evaluate(async h => {
        const buf = new Uint8Array(await (await fetch(h)).arrayBuffer());
        const audit = await (await fetch('/v1/districts/1045/audit')).json();
        return { bytes: Array.from(buf), key: audit.verifierKey };
      }, href);
      const exportFile = path.join(dataDir, '1045.prongsai-export');
      fs.writeFileSync(exportFile, Buffer.from(bytes));
      execFileSync(BIN, ['verify', exportFile, '--key', key], { stdio: 'pipe' });
      assert.match(await page.textContent('#demo-banner'), /สาธิต/);
      await shot(page, 'district-1045-th');
    });

    await step('switches to English and keeps it', async () => {
      await page.click('#lang');
      await waitFor('English page', async () => /Wang Thonglang/.test(await page.textContent('#district-name')), 5000);
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.match(await page.textContent('#demo-banner'), /Demo data/);
      assert.match(await page.textContent('footer'), /BE/);
      await page.reload();
      await page.waitForSelector('#timeline');
      assert.match(await page.textContent('h1'), /Wang Thonglang/);
      await shot(page, 'district-1045-en');
      await page.click('#lang');
      await waitFor('Thai page', async () => /วังทองหลาง/.test(await page.textContent('#district-name')), 5000);
    });

    await step('prints the report', async () => {
      await page.emulateMedia({ media: 'print' });
      assert.equal(await page.locator('#timeline').isVisible(), false, 'only the report prints');
      assert.equal(await page.locator('#report-host').isVisible(), true);
      assert.equal(await page.locator('#demo-banner').isVisible(), true, 'print marks demo data');
      await shot(page, 'district-1045-print');
      await page.emulateMedia({ media: 'screen' });
      const pdf = await page.pdf({ format: 'A4', landscape: true, printBackground: true });
      fs.writeFileSync(path.join(OUT, 'district-1045-report.pdf'), pdf);
      assert.ok(pdf.length > 10000, `a PDF of ${pdf.length} bytes`);
    });

    await step('an appended event shows within two seconds', async () => {
      await page.waitForFunction(() => Number(document.body.dataset.position) > 0);
      const before = Number(await page.getAttribute('body', 'data-position'));
      const received = Number((await page.textContent('#complaints .card .num')).replace(/[^\d]/g, ''));
      const file = path.join(dataDir, 'complaint.jsonl');
      fs.writeFileSync(file, JSON.stringify({
        occurredAt: '2025-01-15T10:00:00+07:00',
        actor: { id: '1045-complaints-desk', division: 'สำนักงานเขตวังทองหลาง' },
        complaintReceived: {
          complaintId: 'web-test-complaint-1', channel: 'COMPLAINT_CHANNEL_WEBSITE',
          category: 'COMPLAINT_CATEGORY_BRIBERY', summary: 'เรื่องทดสอบ',
          complainant: { anonymous: true }, receivedOn: { year: 2025, month: 1, day: 15 },
        },
      }) + '\n');
      const t0 = Date.now();
      execFileSync(BIN, ['append', '--stream', '1045', '--file', file, '--server', server.grpc]);
      await waitFor('the complaint on the open page', async () =>
        Number(await page.getAttribute('body', 'data-position')) > before &&
        Number((await page.textContent('#complaints .card .num')).replace(/[^\d]/g, '')) === received + 1, 2000);
      console.log(`     updated ${Date.now() - t0} ms after the append returned`);
      await shot(page, 'district-1045-live');
    });

    await step('phone layout: no horizontal overflow of the page', async () => {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
      const p = await phone.newPage();
      await p.goto(`${server.url}/`);
      await p.waitForSelector('#city-grid tbody tr');
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `page wider than the phone by ${overflow}px`);
      await shot(p, 'city-phone');
      await p.goto(`${server.url}/districts/1045?lang=en`);
      await p.waitForSelector('#timeline li[data-measure]');
      const overflow2 = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow2 <= 1, `district page wider than the phone by ${overflow2}px`);
      await shot(p, 'district-phone-en');
      await phone.close();
    });

    await step('keyboard: the skip link and cells take visible focus', async () => {
      await page.goto(`${server.url}/`);
      await page.waitForSelector('#city-grid tbody tr');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.equal(outline, 'solid');
    });

    await step('no request leaves the server', async () => {
      const foreign = requests.filter(u => !u.startsWith(server.url) && !u.startsWith('data:'));
      assert.deepEqual(foreign, []);
    });
  } finally {
    await browser.close();
    const exited = new Promise(r => server.child.once('exit', r));
    server.child.kill('SIGTERM');
    await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  if (failures.length) {
    console.log(`${failures.length} failed: ${failures.join('; ')}`);
    process.exit(1);
  }
  console.log('all passed');
}

main().catch(e => { console.error(e); process.exit(1); });
