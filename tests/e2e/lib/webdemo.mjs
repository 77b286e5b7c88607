// The frame of the web demo tests (tests/e2e/webdemo_*_test.mjs): Junction serving web-demo/
// from the source tree, Debian's Chromium with fake media devices, pages in contexts of their
// own, and at the end, whatever happened: screenshots and console logs as artifacts, no console
// error and no page error on any page, the server exiting 0 on SIGTERM.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  ARTIFACTS,
  MEDIA_CHROMIUM_ARGS,
  REPO,
  TestFailure,
  check,
  launchChromium,
  makeLogger,
  startJunction,
  stopJunction,
  watchPage,
  withTimeout,
} from './harness.mjs';

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1100, height: 850 };
const POLL_MS = 250;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn() until it returns a truthy value (which it returns); fails with `what` after ms.
export async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await fn();
    if (value) return value;
    await sleep(POLL_MS);
  }
  throw new TestFailure(`timed out after ${ms} ms: ${what}`);
}

// The names in a page's participant list (`#people li .name`).
export function listedNames(page) {
  return page.$$eval('#people li .name', (items) => items.map((i) => i.textContent));
}

// Runs body({ junction, origin, wsUrl, open, log, tmpDir }) and exits the process with the verdict.
// open(name, pathAndQuery, viewport) opens a page of the demo in a fresh context.
// chromiumArgs: flags on top of the media ones (e.g. a fake audio file).
export async function runWebDemoTest(tag, { config = {}, chromiumArgs = [], totalTimeoutMs = 110_000 } = {}, body) {
  const { log, error: logError } = makeLogger(tag);
  const artifact = (name) => path.join(ARTIFACTS, `${tag}-${name}`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `junction-e2e-${tag}-`));
  let junction = null;
  let browser = null;
  const pages = []; // { name, page, watch }
  let failed = null;

  const run = async () => {
    // The pages from the source tree, so the test sees the files being changed.
    junction = await startJunction({ tmpDir, logPath: artifact('junction.log'), config: { web_dir: path.join(REPO, 'web-demo'), ...config }, log });
    const origin = `http://127.0.0.1:${junction.httpPort}`;
    browser = await launchChromium({ extraArgs: [...MEDIA_CHROMIUM_ARGS, ...chromiumArgs], log });
    const open = async (name, pathAndQuery, viewport = DESKTOP) => {
      const phone = viewport === PHONE;
      const context = await browser.newContext({ viewport, isMobile: phone, hasTouch: phone });
      const page = await context.newPage();
      const watch = watchPage(page, { log });
      pages.push({ name, page, watch, viewport });
      await page.goto(`${origin}${pathAndQuery}`);
      return page;
    };
    await body({ junction, origin, wsUrl: `ws://127.0.0.1:${junction.wsPort}`, open, log, tmpDir });
    for (const { name, page, viewport } of pages) {
      if (page.isClosed()) continue;
      // Against the viewport asked for: a mobile layout viewport widens to fit what overflows.
      const overflow = (await page.evaluate(() => document.documentElement.scrollWidth)) - viewport.width;
      check(overflow <= 1, `${name} is ${overflow}px wider than its ${viewport.width}px viewport`);
      await page.screenshot({ path: artifact(`${name}.png`), fullPage: true });
    }
    for (const { name, watch } of pages) {
      check(watch.pageErrors.length === 0, `${name}: page errors: ${watch.pageErrors.join(' | ')}`);
      check(watch.consoleErrors.length === 0, `${name}: console errors: ${watch.consoleErrors.join(' | ')}`);
    }
  };

  try {
    await withTimeout(run(), totalTimeoutMs, 'the test body');
  } catch (err) {
    failed = err;
    logError(err instanceof TestFailure ? `FAIL: ${err.message}` : err.stack || String(err));
    for (const { name, page } of pages) {
      if (!page.isClosed()) await page.screenshot({ path: artifact(`${name}-failed.png`), fullPage: true }).catch(() => {});
    }
  } finally {
    for (const { name, watch } of pages) fs.writeFileSync(artifact(`${name}-console.log`), watch.lines.join('\n') + '\n');
    await browser?.close().catch(() => {});
    if (junction) {
      const exit = await stopJunction(junction).catch((err) => {
        failed = failed || err;
        return null;
      });
      if (exit && exit.code !== 0) failed = failed || new TestFailure(`junction exited with ${JSON.stringify(exit)}`);
    }
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  if (failed) {
    console.error('FAIL');
    process.exit(1);
  }
  log('PASS');
  process.exit(0);
}
