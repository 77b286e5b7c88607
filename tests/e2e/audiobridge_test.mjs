// End-to-end audio MCU in the browser: two headless Chromium contexts run Debian's janus.js
// against Junction's janus.plugin.audiobridge as Janus's audiobridge demo does (join room 1234,
// offer the microphone with `configure`, play the mix). The fake microphone of both plays a WAV
// tone written by this test (--use-file-for-fake-audio-capture).
//
// Pass: each context gets `joined`, an SDP answer, webrtcup and a remote audio track; over a
// window after warm-up, its inbound-rtp audio packetsReceived grows and the mix it plays is not
// silent: the RMS from totalAudioEnergy / totalSamplesDuration over the window is above -26 dBFS
// (each one hears the other's tone; mix-minus keeps its own out). No page errors; the server
// exits 0 on SIGTERM.
//
// Run: cd tests/e2e && JUNCTION_BINARY=/path/to/junction node audiobridge_test.mjs
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
  startJunction,
  startStaticServer,
  stopJunction,
  watchPage,
  writeToneWav,
} from './lib/harness.mjs';

const { log, error: logError, elapsed } = makeLogger('audiobridge');

const SETUP_TIMEOUT_MS = 20_000;
const WARMUP_MS = 2_000;
const WINDOW_MS = 4_000;
const MIN_RMS = 0.05; // -26 dBFS: the tone (-12 dBFS peak) passes through the mix within 14 dB
const artifact = (name) => path.join(ARTIFACTS, `audiobridge-${name}`);


async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  check(fs.existsSync(JANUS_JS), `${JANUS_JS} missing: apt-get install libjs-janus-gateway (scripts/deps.sh)`);
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-e2e-audiobridge-'));
  const wav = path.join(tmpDir, 'tone.wav');
  // 10 s of a 500 Hz sine at -12 dBFS.
  writeToneWav(wav, { seconds: 10, hz: 500, amplitude: 8000 / 32767 });
  const failures = [];
  let junction = null;
  let staticServer = null;
  let browser = null;
  const pages = [];
  const results = {};
  try {
    junction = await startJunction({ tmpDir, logPath: artifact('junction.log'), log });
    staticServer = await startStaticServer(
      {
        '/audiobridge.html': [path.join(PAGES, 'audiobridge.html'), 'text/html; charset=utf-8'],
        '/audiobridge.js': [path.join(PAGES, 'audiobridge.js'), 'text/javascript; charset=utf-8'],
        '/janus.js': [JANUS_JS, 'text/javascript; charset=utf-8'],
      },
      log,
    );
    browser = await launchChromium({ extraArgs: [...MEDIA_CHROMIUM_ARGS, `--use-file-for-fake-audio-capture=${wav}`], log });
    const url = `http://127.0.0.1:${staticServer.port}/audiobridge.html`;
    const server = `ws://127.0.0.1:${junction.wsPort}`;
    for (const name of ['alice', 'bob']) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const watch = watchPage(page, { log });
      await page.goto(url, { waitUntil: 'load' });
      check(await page.evaluate(([s, n]) => window.joinRoom(s, 1234, n), [server, name]), `${name}: no Janus session`);
      pages.push({ name, page, watch });
    }
    // Both joined, answered, connected and playing a remote track.
    const deadline = Date.now() + SETUP_TIMEOUT_MS;
    for (const p of pages) {
      for (;;) {
        const st = await p.page.evaluate(() => window.abState);
        if (st.errors.length) throw new TestFailure(`${p.name}: ${st.errors.join('; ')}`);
        if (st.joined && st.answer && st.webrtcUp && st.remoteTrack) break;
        if (Date.now() > deadline) throw new TestFailure(`${p.name}: not set up in time: ${JSON.stringify(st)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      log(`${p.name}: joined, answered, webrtcup, remote track (${elapsed()})`);
    }
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const first = await Promise.all(pages.map((p) => p.page.evaluate(() => window.audioStats())));
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const last = await Promise.all(pages.map((p) => p.page.evaluate(() => window.audioStats())));
    pages.forEach((p, i) => {
      const a = first[i];
      const b = last[i];
      if (!a || !b) {
        failures.push(`${p.name}: no inbound audio stats`);
        return;
      }
      const packets = b.packetsReceived - a.packetsReceived;
      const duration = b.totalSamplesDuration - a.totalSamplesDuration;
      const rms = duration > 0 ? Math.sqrt((b.totalAudioEnergy - a.totalAudioEnergy) / duration) : 0;
      results[p.name] = { packets, duration, rms, dbfs: 20 * Math.log10(rms + 1e-9), lost: b.packetsLost };
      log(`${p.name}: ${packets} packets in the window, played ${duration.toFixed(2)} s, RMS ${rms.toFixed(4)} (${results[p.name].dbfs.toFixed(1)} dBFS)`);
      if (packets < (WINDOW_MS / 20) * 0.8) failures.push(`${p.name}: only ${packets} audio packets in ${WINDOW_MS} ms`);
      if (rms < MIN_RMS) failures.push(`${p.name}: the mix is silent (RMS ${rms.toFixed(5)} < ${MIN_RMS})`);
    });
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
log(`PASS (${elapsed()}): two janus.js contexts in room 1234 each play a non-silent mix`);
console.log('1 passed, 0 failed');
process.exit(0);
