// End-to-end media: Debian's janus.js in headless Debian Chromium (fake camera and microphone)
// runs the EchoTest against Junction, as Janus's echotest demo does, over WebSocket and over HTTP
// long poll: attach janus.plugin.echotest, createOffer with audio+video capture, send
// {"audio":true,"video":true} with the offer, handleRemoteJsep on the answer, show the echoed
// tracks in a <video>. The page polls getStats() on janus.js's RTCPeerConnection.
//
// Pass, per transport: the echotest answers "ok" with an SDP answer; the server sends
// "webrtcup" (janus.js's webrtcState(true)) and "media" receiving:true for audio and video
// (mediaState); inbound-rtp video framesDecoded > 100 within 10 s of the answer; inbound-rtp
// audio packetsReceived > 0 and growing; hangup, detach and destroy get "success"; no page errors
// or unexpected console errors; the server exits 0 on SIGTERM. The time from `new Janus()`
// (session create) to the first decoded frame is printed.
//
// Run: cd tests/e2e && JUNCTION_BINARY=/path/to/junction node echotest_media_test.mjs
// Environment: JUNCTION_BINARY (default ../../build/junction), E2E_LOG_LEVEL (server log level,
// default info; debug shows ICE states). Exit code 0 = pass. Artifacts (screenshot, results with
// wire log, console log, server log) go to tests/e2e/artifacts/echotest-media-* (gitignored).
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
  makeLogger,
  notableLogLines,
  startJunction,
  startStaticServer,
  stopJunction,
  watchPage,
  withTimeout,
} from './lib/harness.mjs';

const { log, error: logError, elapsed } = makeLogger('echotest-media');

const SETUP_TIMEOUT_MS = 15_000; // new Janus() .. the echotest's answer
const MEDIA_WINDOW_MS = 10_000; // answer .. framesDecoded > MIN_FRAMES and audio growing
const MIN_FRAMES = 100;
const BROWSER_TIMEOUT_MS = 30_000;
const TEARDOWN_SLACK_MS = 10_000;

// console.error messages from the page that are known to be harmless. Every entry must say why.
const EXPECTED_CONSOLE_ERRORS = [];

const artifact = (name) => path.join(ARTIFACTS, `echotest-media-${name}`);

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  check(fs.existsSync(JANUS_JS), `${JANUS_JS} missing: apt-get install libjs-janus-gateway (scripts/deps.sh)`);

  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-e2e-echotest-media-'));
  const failures = [];
  let junction = null;
  let staticServer = null;
  let browser = null;
  let page = null;
  let watch = null;
  const results = [];

  try {
    junction = await startJunction({
      tmpDir,
      logPath: artifact('junction.log'),
      config: { log_level: process.env.E2E_LOG_LEVEL || 'info' },
      log,
    });
    staticServer = await startStaticServer(
      {
        '/echotest.html': [path.join(PAGES, 'echotest.html'), 'text/html; charset=utf-8'],
        '/echotest.js': [path.join(PAGES, 'echotest.js'), 'text/javascript; charset=utf-8'],
        '/janus.js': [JANUS_JS, 'text/javascript; charset=utf-8'],
      },
      log,
    );

    browser = await launchChromium({ extraArgs: MEDIA_CHROMIUM_ARGS, timeoutMs: BROWSER_TIMEOUT_MS, log });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(BROWSER_TIMEOUT_MS);
    watch = watchPage(page, { expectedConsoleErrors: EXPECTED_CONSOLE_ERRORS, log });

    const pageUrl = `http://127.0.0.1:${staticServer.port}/echotest.html`;
    log(`opening ${pageUrl}`);
    await page.goto(pageUrl, { waitUntil: 'load' });
    const ready = await page.evaluate(() => typeof window.Janus === 'function' && typeof window.runMedia === 'function');
    check(ready, 'page did not load janus.js and the test script (window.Janus / window.runMedia missing)');

    const servers = [`ws://127.0.0.1:${junction.wsPort}`, `http://127.0.0.1:${junction.httpPort}/janus`];
    const options = { setupTimeoutMs: SETUP_TIMEOUT_MS, mediaWindowMs: MEDIA_WINDOW_MS, minFrames: MIN_FRAMES };
    for (const server of servers) {
      log(`--- ${server}: session, attach echotest, offer audio+video, answer, media, hangup, detach, destroy`);
      let res;
      try {
        res = await withTimeout(
          page.evaluate(([s, o]) => window.runMedia(s, o), [server, options]),
          SETUP_TIMEOUT_MS + MEDIA_WINDOW_MS + TEARDOWN_SLACK_MS,
          `page run for ${server}`,
        );
      } catch (err) {
        res = { server, transport: server.startsWith('ws') ? 'ws' : 'http', ok: false, error: err.message, steps: [] };
      }
      results.push(res);
      for (const s of res.steps || []) {
        log(`  +${s.ms}ms ${s.name}${s.detail !== undefined ? ' ' + JSON.stringify(s.detail) : ''}`);
      }
      if (junction.exit) failures.push(`junction exited during the ${server} run: ${JSON.stringify(junction.exit)}`);
      if (!res.ok) failures.push(`${res.transport}: ${res.error}`);
      assertRun(res, failures);
    }

    await page.waitForTimeout(300); // late errors (e.g. from a long poll outstanding at destroy)
    await page.screenshot({ path: artifact('page.png'), fullPage: true });
  } catch (err) {
    failures.push(err instanceof TestFailure ? err.message : String(err && err.stack ? err.stack : err));
    if (page) await page.screenshot({ path: artifact('page.png'), fullPage: true }).catch(() => {});
  } finally {
    fs.writeFileSync(artifact('results.json'), JSON.stringify(results, null, 2));
    if (watch) fs.writeFileSync(artifact('console.log'), watch.lines.join('\n') + '\n');
    if (browser) await browser.close().catch((err) => failures.push(`browser close: ${err}`));
    if (staticServer) await staticServer.close();
    if (junction) {
      try {
        const exit = await stopJunction(junction);
        log(`junction exited: code=${exit.code} signal=${exit.signal}`);
        if (exit.code !== 0) failures.push(`junction exit ${JSON.stringify(exit)} (expected code 0 after SIGTERM)`);
      } catch (err) {
        failures.push(err.message);
      }
      const notable = notableLogLines(junction.output);
      if (notable.length) log(`junction log warnings/errors:\n  ${notable.join('\n  ')}`);
      log(`junction log saved to ${path.relative(process.cwd(), junction.logPath)}`);
    }
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }

  if (watch) {
    for (const e of watch.consoleErrors) failures.push(`page console error: ${e}`);
    for (const e of watch.pageErrors) failures.push(`page error: ${e}`);
  }
  if (failures.length) {
    for (const res of results) dumpRun(res);
    if (junction) log(`junction log tail:\n${junction.output.split('\n').slice(-40).join('\n')}`);
  }
  return { failures, results };
}

function assertRun(res, failures) {
  const name = res.transport;
  const expect = (cond, msg) => {
    if (!cond) failures.push(`${name}: ${msg}`);
  };
  if (!res.steps || !res.steps.length) return; // the run never started; its error is already listed
  expect(res.result === 'ok', `echotest result ${JSON.stringify(res.result)} (expected "ok")`);
  expect(res.answerMs !== undefined, 'no SDP answer from the echotest');
  expect(res.webrtcStates.some((s) => s.on === true), 'no "webrtcup" (janus.js never called webrtcState(true))');
  expect(!res.webrtcStates.some((s) => s.on === false && s.ms < (res.framesTargetMs ?? Infinity)),
    `the PeerConnection went down during the media window: ${JSON.stringify(res.webrtcStates)}`);
  for (const kind of ['audio', 'video']) {
    expect(res.mediaEvents.some((e) => e.type === kind && e.receiving === true),
      `no "media" event with type ${kind}, receiving true (mediaState): ${JSON.stringify(res.mediaEvents)}`);
  }
  const v = res.video;
  const a = res.audio;
  expect(v && v.framesDecoded > MIN_FRAMES, `remote video framesDecoded ${v && v.framesDecoded} (need > ${MIN_FRAMES})`);
  expect(res.framesTargetMs !== undefined && res.framesTargetMs - res.answerMs <= MEDIA_WINDOW_MS,
    `framesDecoded > ${MIN_FRAMES} not reached within ${MEDIA_WINDOW_MS} ms of the answer (answer at ${res.answerMs} ms, reached at ${res.framesTargetMs} ms)`);
  expect(a && a.packetsReceived > 0, `remote audio packetsReceived ${a && a.packetsReceived}`);
  expect(res.audioGrowing === true, `remote audio packetsReceived not growing (first ${res.firstAudioPackets}, last ${a && a.packetsReceived})`);
  expect(res.remoteTracks.some((t) => t.kind === 'video' && t.on) && res.remoteTracks.some((t) => t.kind === 'audio' && t.on),
    `onremotetrack did not bring both an audio and a video track: ${JSON.stringify(res.remoteTracks)}`);
  if (res.ok) {
    expect(res.remoteVideoSize && res.remoteVideoSize.width > 0, `the remote <video> has no picture: ${JSON.stringify(res.remoteVideoSize)}`);
    expect(res.hangupReply === 'success', `hangup answered ${res.hangupReply}`);
    expect(res.detachReply === 'success', `detach answered ${res.detachReply}`);
    expect(res.destroyReply === 'success', `destroy answered ${res.destroyReply}`);
  }
  if (res.createToFirstFrameMs !== undefined) {
    log(
      `${name}: create -> first decoded frame ${res.createToFirstFrameMs} ms ` +
        `(answer at ${res.answerMs} ms, webrtcup at ${res.webrtcUpMs} ms; framesDecoded > ${MIN_FRAMES} at ${res.framesTargetMs} ms, ` +
        `${res.framesTargetMs - res.answerMs} ms after the answer)`,
    );
  }
  if (v || a) {
    log(
      `${name}: video ${v && v.codec} ${v && v.frameWidth}x${v && v.frameHeight} framesDecoded=${v && v.framesDecoded} ` +
        `packets=${v && v.packetsReceived} lost=${v && v.packetsLost} nack=${v && v.nackCount} pli=${v && v.pliCount}; ` +
        `audio ${a && a.codec} packetsReceived=${a && a.packetsReceived} lost=${a && a.packetsLost}; ` +
        `pair ${JSON.stringify(res.pair)}`,
    );
  }
}

function dumpRun(res) {
  if (!res.wire) return;
  log(`  wire log of the ${res.transport} run:`);
  for (const e of res.wire) {
    const what = e.dir === 'send' || e.dir === 'recv' ? e.text : JSON.stringify({ ...e, seq: undefined, t: undefined });
    const text = what && what.length > 600 ? what.slice(0, 600) + '...' : what;
    log(`    #${e.seq} ${e.transport} ${e.dir}${e.method ? ' ' + e.method + ' ' + e.url : ''}${e.status !== undefined ? ' ' + e.status : ''}: ${text}`);
  }
  if (res.samples) log(`  getStats samples: ${JSON.stringify(res.samples.slice(-10))}`);
}

let outcome;
try {
  outcome = await main();
} catch (err) {
  outcome = { failures: [String(err && err.stack ? err.stack : err)], results: [] };
}
if (outcome.failures.length) {
  logError(`FAIL (${outcome.failures.length}):`);
  for (const f of outcome.failures) console.error(`  - ${f}`);
  console.error('0 passed, 1 failed');
  process.exit(1);
}
const summary = outcome.results
  .map((r) => `${r.transport}: first frame ${r.createToFirstFrameMs} ms after create, framesDecoded ${r.video.framesDecoded}, audio packets ${r.audio.packetsReceived}`)
  .join('; ');
log(`PASS (${elapsed()}): janus.js echotest with audio+video over WebSocket and HTTP long poll; ${summary}`);
console.log('1 passed, 0 failed');
process.exit(0);
