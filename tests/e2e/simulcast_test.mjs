// End-to-end simulcast in janus.plugin.videoroom with Debian's headless Chromium: a publisher
// sends a fake 640x360 camera as three rid encodings (h, m, l at full, half and quarter size; the
// offer lists them highest first, as janus.js does), a subscriber in the same page asks for
// substream 2, then 0, then 2 again (`configure` with streams:[{mid, substream}]).
//
// Pass: the publisher's offer carries a=simulcast and the server's stream list says simulcast;
// at least two of the encodings are sent at distinct sizes (Chromium decides how many layers its
// bandwidth estimate allows; the test reads each rid's frameWidth from the publisher's stats);
// after each request the subscriber's decoded frameWidth becomes the width of the layer asked for
// (or, if that layer is not being sent, of the best one sent below it) within SWITCH_TIMEOUT_MS,
// and the server's event names the new substream; over the whole run from the first decoded
// frame, framesDecoded never stands still for FREEZE_MS or more.
//
// Run: cd tests/e2e && JUNCTION_BINARY=/path/to/junction node simulcast_test.mjs
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  ARTIFACTS,
  MEDIA_CHROMIUM_ARGS,
  PAGES,
  TestFailure,
  check,
  launchChromium,
  makeLogger,
  startJunction,
  startStaticServer,
  stopJunction,
  watchPage,
  withTimeout,
} from './lib/harness.mjs';

const { log, error: logError, elapsed } = makeLogger('simulcast');
const artifact = (name) => path.join(ARTIFACTS, `simulcast-${name}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const LAYERS_TIMEOUT_MS = 25_000; // start .. two or more layers sent and the top one decoded
const SWITCH_TIMEOUT_MS = 8_000; // configure .. the decoded width follows
const HOLD_MS = 2_000; // time spent on each layer after the switch
const FREEZE_MS = 1_000;

// Chromium caps the number of simulcast layers by resolution (2 at 640x360); this field trial
// lifts the cap so three layers can be sent from a small fake camera.
const ARGS = [...MEDIA_CHROMIUM_ARGS, '--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/'];

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-e2e-simulcast-'));
  const failures = [];
  const expect = (cond, msg) => {
    if (!cond) {
      failures.push(msg);
      logError(`check failed: ${msg}`);
    }
  };
  let junction = null, staticServer = null, browser = null, page = null, watch = null;
  const results = {};
  try {
    junction = await startJunction({ tmpDir, logPath: artifact('junction.log'), config: { log_level: 'info' }, log });
    staticServer = await startStaticServer({
      '/simulcast.html': [path.join(PAGES, 'simulcast.html'), 'text/html; charset=utf-8'],
      '/simulcast.js': [path.join(PAGES, 'simulcast.js'), 'text/javascript; charset=utf-8'],
    }, log);
    browser = await launchChromium({ extraArgs: ARGS, log });
    const context = await browser.newContext();
    page = await context.newPage();
    watch = watchPage(page, { log: (...a) => log('[page]', ...a) });
    await page.goto(`http://127.0.0.1:${staticServer.port}/simulcast.html`, { waitUntil: 'load' });
    const evaluate = (fn, arg, ms, what) => withTimeout(page.evaluate(fn, arg), ms, what);

    const room = 1_000_000_000 + crypto.randomInt(2 ** 31 - 1);
    const started = await evaluate((o) => window.sc.start(o),
      { server: `ws://127.0.0.1:${junction.wsPort}`, room, bitrate: 3_000_000 }, 20_000, 'start');
    results.started = started;
    expect(started.offerHasSimulcast, 'the publisher offer has no a=simulcast:send h;m;l');
    const video = started.publishedStreams.find((s) => s.type === 'video');
    expect(video && video.simulcast === true, `the "configured" stream list does not say simulcast: ${JSON.stringify(started.publishedStreams)}`);
    log(`publishing feed ${started.feed} in room ${room}; subscribed`);

    // Wait for the layers Chromium sends, and for the subscriber to decode the top one.
    const deadline = Date.now() + LAYERS_TIMEOUT_MS;
    let widths = null;
    let last = null;
    for (;;) {
      last = await evaluate(() => window.sc.last(), undefined, 5_000, 'sample');
      if (last) {
        const sent = Object.entries(last.rids).filter(([, r]) => r.frameWidth > 0 && r.framesEncoded > 0);
        const byWidth = Object.fromEntries(sent.map(([rid, r]) => [rid, r.frameWidth]));
        const top = Math.max(0, ...Object.values(byWidth));
        if (sent.length >= 2 && last.framesDecoded > 0 && last.frameWidth === top) {
          widths = byWidth;
          break;
        }
      }
      if (Date.now() > deadline) break;
      await sleep(250);
    }
    log(`last sample: ${JSON.stringify(last)}`);
    check(widths, `within ${LAYERS_TIMEOUT_MS} ms: fewer than two layers sent, or the top one not decoded (last sample ${JSON.stringify(last)})`);
    // substream 0 = l (quarter), 1 = m (half), 2 = h (full): the width of the best layer sent at
    // or below each.
    const order = ['l', 'm', 'h'];
    const widthFor = (substream) => {
      for (let s = substream; s >= 0; --s) if (widths[order[s]]) return widths[order[s]];
      return widths[order.find((rid) => widths[rid])];
    };
    expect(new Set(Object.values(widths)).size === Object.keys(widths).length, `layers with equal widths: ${JSON.stringify(widths)}`);
    log(`layers sent (rid: width): ${JSON.stringify(widths)}`);
    const firstFrameAt = await evaluate(() => window.sc.state.samples.find((s) => s.framesDecoded > 0).ms, undefined, 5_000, 'first frame');

    results.switches = [];
    for (const substream of [0, 2]) {
      const want = widthFor(substream);
      const t = Date.now();
      const sentAt = await evaluate(() => window.sc.now(), undefined, 5_000, 'now');
      const reply = await evaluate((s) => window.sc.configure(s), substream, 5_000, `configure substream ${substream}`);
      expect(reply.configured === 'ok', `configure substream ${substream} answered ${JSON.stringify(reply)}`);
      let reachedMs = null;
      while (Date.now() - t < SWITCH_TIMEOUT_MS) {
        const s = await evaluate(() => window.sc.last(), undefined, 5_000, 'sample');
        if (s.frameWidth === want) {
          reachedMs = Date.now() - t;
          break;
        }
        await sleep(100);
      }
      expect(reachedMs !== null, `substream ${substream}: decoded width did not become ${want} within ${SWITCH_TIMEOUT_MS} ms`);
      const events = await evaluate((since) => window.sc.state.events.filter((e) => e.ms >= since && e.data && e.data.substream !== undefined), sentAt, 5_000, 'events');
      const wantSubstream = order.indexOf(Object.entries(widths).find(([, w]) => w === want)[0]);
      expect(events.some((e) => e.data.substream === wantSubstream), `substream ${substream}: no event naming substream ${wantSubstream}: ${JSON.stringify(events)}`);
      log(`substream ${substream}: decoded width ${want} after ${reachedMs} ms; events ${JSON.stringify(events.map((e) => e.data))}`);
      results.switches.push({ substream, want, reachedMs });
      await sleep(HOLD_MS);
    }

    // No freeze: framesDecoded grows in every FREEZE_MS window since the first decoded frame.
    const samples = await evaluate((since) => window.sc.samples(since), firstFrameAt, 5_000, 'samples');
    let longest = 0, lastChange = samples[0].ms, lastFrames = samples[0].framesDecoded, longestAt = null;
    for (const s of samples) {
      if (s.framesDecoded !== lastFrames) {
        if (s.ms - lastChange > longest) longestAt = s;
        longest = Math.max(longest, s.ms - lastChange);
        lastChange = s.ms;
        lastFrames = s.framesDecoded;
      }
    }
    if (samples[samples.length - 1].ms - lastChange > longest) longestAt = samples[samples.length - 1];
    longest = Math.max(longest, samples[samples.length - 1].ms - lastChange);
    results.longestStillMs = longest;
    log(`longest still period ended at ${JSON.stringify(longestAt)}`);
    expect(longest < FREEZE_MS, `framesDecoded stood still for ${longest} ms (limit ${FREEZE_MS})`);
    log(`frames decoded ${samples[samples.length - 1].framesDecoded}; longest time without a new frame ${longest} ms over ${samples.length} samples`);
    await page.screenshot({ path: artifact('page.png') });
  } catch (err) {
    failures.push(err instanceof TestFailure ? err.message : String(err && err.stack ? err.stack : err));
  } finally {
    if (page) {
      results.samples = await page.evaluate(() => window.sc.state.samples.slice(-50)).catch(() => null);
      results.events = await page.evaluate(() => window.sc.state.events).catch(() => null);
    }
    fs.writeFileSync(artifact('results.json'), JSON.stringify(results, null, 2));
    if (browser) await browser.close().catch(() => {});
    if (staticServer) await staticServer.close();
    if (junction) {
      const exit = await stopJunction(junction).catch((e) => ({ error: String(e) }));
      if (exit.code !== 0) failures.push(`junction exit ${JSON.stringify(exit)} (expected 0 after SIGTERM)`);
    }
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  if (watch) {
    for (const e of watch.consoleErrors) failures.push(`page console error: ${e}`);
    for (const e of watch.pageErrors) failures.push(`page error: ${e}`);
  }
  return failures;
}

const failures = await main().catch((err) => [String(err && err.stack ? err.stack : err)]);
if (failures.length) {
  logError(`FAIL (${failures.length}):`);
  for (const f of failures) console.error(`  - ${f}`);
  console.error('0 passed, 1 failed');
  process.exit(1);
}
log(`PASS (${elapsed()})`);
console.log('1 passed, 0 failed');
process.exit(0);
