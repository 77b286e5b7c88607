// End-to-end video MCU in the browser: two headless Chromium contexts run Debian's janus.js
// against Junction's junction.plugin.videomixer: each joins room 1234 (1280x720 canvas) with its
// fake camera and microphone in one offer and plays the composite it receives. alice offers the
// browser's codecs (the room prefers VP8), bob offers H.264 only (janus.js `codec: 'h264'`):
// bob sends H.264 and receives a composite the server encodes with libx264.
//
// Pass: each context gets `joined`, an SDP answer, webrtcup, a remote video track and a `layout`
// event with both participants' tiles; within the deadline its inbound-rtp video shows
// framesDecoded > 50, frameWidth equal to the canvas width (1280) and the codec it negotiated
// (alice video/VP8, bob video/H264), and the server's handle_info (admin API) says it decoded
// more than 50 frames of that participant's own stream in that codec. No page errors; the
// server exits 0 on SIGTERM.
//
// Run: cd tests/e2e && JUNCTION_BINARY=/path/to/junction node videomixer_test.mjs
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  ARTIFACTS,
  JANUS_JS,
  MEDIA_CHROMIUM_ARGS,
  PAGES,
  TestFailure,
  check,
  launchChromium,
  freePort,
  makeLogger,
  startJunction,
  startStaticServer,
  stopJunction,
  watchPage,
} from './lib/harness.mjs';

const { log, error: logError, elapsed } = makeLogger('videomixer');

const SETUP_TIMEOUT_MS = 20_000;
const DECODE_TIMEOUT_MS = 30_000;
const MIN_FRAMES = 50;
const CANVAS_WIDTH = 1280;
const artifact = (name) => path.join(ARTIFACTS, `videomixer-${name}`);

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  check(fs.existsSync(JANUS_JS), `${JANUS_JS} missing: apt-get install libjs-janus-gateway (scripts/deps.sh)`);
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-e2e-videomixer-'));
  const failures = [];
  let junction = null;
  let staticServer = null;
  let browser = null;
  const pages = [];
  const results = {};
  try {
    const adminPort = await freePort();
    junction = await startJunction({ tmpDir, logPath: artifact('junction.log'), log, config: { admin_port: adminPort } });
    // What the server made of a participant's own stream (query_session of the plugin).
    const handleInfo = async (page) => {
      const ids = await page.evaluate(() => window.vmIds());
      const r = await fetch(`http://127.0.0.1:${adminPort}/admin/${ids.session}/${ids.handle}`, {
        method: 'POST',
        body: JSON.stringify({ janus: 'handle_info', transaction: 'videomixer' }),
      });
      const body = await r.json();
      return body.info && body.info.plugin_specific;
    };
    staticServer = await startStaticServer(
      {
        '/videomixer.html': [path.join(PAGES, 'videomixer.html'), 'text/html; charset=utf-8'],
        '/videomixer.js': [path.join(PAGES, 'videomixer.js'), 'text/javascript; charset=utf-8'],
        '/janus.js': [JANUS_JS, 'text/javascript; charset=utf-8'],
      },
      log,
    );
    browser = await launchChromium({ extraArgs: MEDIA_CHROMIUM_ARGS, log });
    const url = `http://127.0.0.1:${staticServer.port}/videomixer.html`;
    const server = `ws://127.0.0.1:${junction.wsPort}`;
    const codecs = { alice: null, bob: 'h264' };
    const expectCodec = { alice: 'video/VP8', bob: 'video/H264' };
    for (const name of ['alice', 'bob']) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const watch = watchPage(page, { log });
      await page.goto(url, { waitUntil: 'load' });
      check(await page.evaluate(([s, n, c]) => window.joinRoom(s, 1234, n, c), [server, name, codecs[name]]), `${name}: no Janus session`);
      pages.push({ name, page, watch });
    }
    const setupDeadline = Date.now() + SETUP_TIMEOUT_MS;
    for (const p of pages) {
      for (;;) {
        const st = await p.page.evaluate(() => window.vmState);
        if (st.errors.length) throw new TestFailure(`${p.name}: ${st.errors.join('; ')}`);
        if (st.joined && st.answer && st.webrtcUp && st.remoteVideo) break;
        if (Date.now() > setupDeadline) throw new TestFailure(`${p.name}: not set up in time: ${JSON.stringify(st)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      log(`${p.name}: joined, answered, webrtcup, remote video (${elapsed()})`);
    }
    const decodeDeadline = Date.now() + DECODE_TIMEOUT_MS;
    for (const p of pages) {
      let stats = null;
      for (;;) {
        stats = await p.page.evaluate(() => window.videoStats());
        if (stats && stats.framesDecoded > MIN_FRAMES && stats.frameWidth === CANVAS_WIDTH && stats.codec) break;
        if (Date.now() > decodeDeadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const st = await p.page.evaluate(() => window.vmState);
      let server = null;
      for (;;) {
        server = await handleInfo(p.page);
        if ((server && server.video && server.video.frames_decoded > MIN_FRAMES) || Date.now() > decodeDeadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      results[p.name] = { stats, layout: st.layout, server };
      log(`${p.name}: ${JSON.stringify(stats)}; server: ${JSON.stringify(server)}`);
      const sent = expectCodec[p.name].slice('video/'.length).toLowerCase();
      if (!server || server.videocodec !== sent) failures.push(`${p.name}: the server negotiated ${server && server.videocodec}, not ${sent}`);
      else if (!(server.video.frames_decoded > MIN_FRAMES))
        failures.push(`${p.name}: the server decoded ${server.video.frames_decoded} of its frames (<= ${MIN_FRAMES})`);
      if (!stats) failures.push(`${p.name}: no inbound video stats`);
      else {
        if (!(stats.framesDecoded > MIN_FRAMES)) failures.push(`${p.name}: framesDecoded ${stats.framesDecoded} <= ${MIN_FRAMES}`);
        if (stats.frameWidth !== CANVAS_WIDTH) failures.push(`${p.name}: frameWidth ${stats.frameWidth} != ${CANVAS_WIDTH}`);
        if (stats.codec !== expectCodec[p.name]) failures.push(`${p.name}: received ${stats.codec}, not ${expectCodec[p.name]}`);
      }
      if (!st.layout || st.layout.width !== CANVAS_WIDTH || st.layout.tiles.length !== 2)
        failures.push(`${p.name}: no layout event with two tiles: ${JSON.stringify(st.layout)}`);
    }
    await pages[0].page.screenshot({ path: artifact('alice.png') }).catch(() => {});
  } catch (err) {
    failures.push(err instanceof TestFailure ? err.message : String(err && err.stack ? err.stack : err));
  } finally {
    fs.writeFileSync(artifact('results.json'), JSON.stringify(results, null, 2));
    for (const p of pages) {
      for (const e of p.watch.pageErrors) failures.push(`${p.name}: page error: ${e}`);
      fs.writeFileSync(artifact(`${p.name}-console.log`), p.watch.lines.join('\n') + '\n');
    }
    if (browser) await browser.close().catch((err) => failures.push(`browser close: ${err}`));
    if (staticServer) await staticServer.close();
    if (junction) {
      try {
        const exit = await stopJunction(junction);
        if (exit.code !== 0) failures.push(`junction exit ${JSON.stringify(exit)} (expected code 0 after SIGTERM)`);
      } catch (err) {
        failures.push(err.message);
      }
    }
    fs.rmSync(tmpDir, { recursive: true, force: true });
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
log(`PASS (${elapsed()}): two janus.js contexts in room 1234 each decode the 1280-wide composite (VP8, H.264)`);
console.log('1 passed, 0 failed');
process.exit(0);
