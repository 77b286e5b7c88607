// End-to-end SFU: two participants of a janus.plugin.videoroom room, each in its own headless
// Debian Chromium context (fake camera and microphone) with its own Debian janus.js session:
// "alice" over WebSocket, "bob" over HTTP long poll. Alice creates a fresh room (random id, so
// reruns never collide), both join it as publishers and publish audio+video; each subscribes to
// the other's feed as soon as it appears (bob: in `joined.publishers`; alice: in a later
// `publishers` event) with a second handle (join ptype subscriber, streams:[{feed}]), answers the
// server's offer recvonly and sends `start`.
//
// Pass, per page: the subscription to the other's feed is `attached` (the stream list names the
// other's display) and `started`; getStats() on that subscriber PeerConnection shows a first
// decoded video frame within FIRST_FRAME_TIMEOUT_MS of the subscription, inbound-rtp video
// framesDecoded > MIN_FRAMES within MEDIA_WINDOW_MS of that first frame, with the picture shape
// of the other's camera (alice captures 4:3, bob 16:9, so a page's own feed sent back would not
// pass), and audio packetsReceived growing by MIN_AUDIO_GROWTH after the first audio packet. Then `listparticipants` (from both
// pages) lists alice and bob, both publishing; bob sends `unpublish` and alice gets `unpublished`
// with bob's id (listparticipants: bob no longer publishing), bob sends `leave` and alice gets
// `leaving` with bob's id (listparticipants: alice alone); alice destroys the room; each page
// detaches its two handles and destroys its session (all answered "success"). No page errors, no unexpected console errors, no error events; the server exits 0
// on SIGTERM. Timings (join -> first decoded frame of the other's video, etc.) are printed.
//
// Run: cd tests/e2e && JUNCTION_BINARY=/path/to/junction node videoroom_test.mjs
// Environment: JUNCTION_BINARY (default ../../build/junction), E2E_LOG_LEVEL (server log level,
// default info). Exit code 0 = pass. Artifacts (a screenshot per page, results with the pages'
// state and wire logs, console logs, server log) go to tests/e2e/artifacts/videoroom-*
// (gitignored).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  ARTIFACTS,
  JANUS_JS,
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

const { log, error: logError, elapsed } = makeLogger('videoroom');

const SETUP_TIMEOUT_MS = 20_000; // vr.start(): session .. published (answer applied)
const FIRST_FRAME_TIMEOUT_MS = 20_000; // subscribing to the other's feed .. its first decoded frame
const MEDIA_WINDOW_MS = 20_000; // first decoded frame .. framesDecoded > MIN_FRAMES (and audio grown)
const MIN_FRAMES = 100;
const MIN_AUDIO_GROWTH = 25; // packets (20 ms each) after the first one
const EVENT_TIMEOUT_MS = 5_000; // a request's answer, an event to the other page
const BROWSER_TIMEOUT_MS = 30_000;
const POLL_MS = 250;

// Media flags on top of the harness's base flags: fake devices without a permission prompt,
// loopback candidates allowed, and media elements may play without a user gesture.
const MEDIA_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];

// console.error messages from the pages that are known to be harmless. Every entry must say why.
const EXPECTED_CONSOLE_ERRORS = [];

const artifact = (name) => path.join(ARTIFACTS, `videoroom-${name}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  check(fs.existsSync(JANUS_JS), `${JANUS_JS} missing: apt-get install libjs-janus-gateway (scripts/deps.sh)`);

  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-e2e-videoroom-'));
  const failures = [];
  const fail = (msg) => {
    failures.push(msg);
    logError(`check failed: ${msg}`);
  };
  const expect = (cond, msg) => {
    if (!cond) fail(msg);
  };
  let junction = null;
  let staticServer = null;
  let browser = null;
  const peers = []; // { name, page, watch, server, start, snapshot }
  const results = { timings: {} };

  // A random room id in [1e9, 1e9 + 2^31) and a random secret: reruns never collide.
  const room = 1_000_000_000 + crypto.randomInt(2 ** 31 - 1);
  const secret = crypto.randomBytes(8).toString('hex');
  results.room = room;

  const evaluate = (peer, fn, arg, ms, what) => withTimeout(peer.page.evaluate(fn, arg), ms, `${peer.name}: ${what}`);

  try {
    junction = await startJunction({
      tmpDir,
      logPath: artifact('junction.log'),
      config: { log_level: process.env.E2E_LOG_LEVEL || 'info' },
      log,
    });
    staticServer = await startStaticServer(
      {
        '/videoroom.html': [path.join(PAGES, 'videoroom.html'), 'text/html; charset=utf-8'],
        '/videoroom.js': [path.join(PAGES, 'videoroom.js'), 'text/javascript; charset=utf-8'],
        '/janus.js': [JANUS_JS, 'text/javascript; charset=utf-8'],
      },
      log,
    );

    browser = await launchChromium({ extraArgs: MEDIA_ARGS, timeoutMs: BROWSER_TIMEOUT_MS, log });
    const pageUrl = `http://127.0.0.1:${staticServer.port}/videoroom.html`;
    const servers = { alice: `ws://127.0.0.1:${junction.wsPort}`, bob: `http://127.0.0.1:${junction.httpPort}/janus` };
    for (const name of ['alice', 'bob']) {
      // Separate contexts: no shared storage, cookies or media permissions between the two.
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(BROWSER_TIMEOUT_MS);
      const watch = watchPage(page, { expectedConsoleErrors: EXPECTED_CONSOLE_ERRORS, log: (...a) => log(`[${name}]`, ...a) });
      await page.goto(pageUrl, { waitUntil: 'load' });
      const ready = await page.evaluate(() => typeof window.Janus === 'function' && typeof window.vr === 'object');
      check(ready, `${name}: page did not load janus.js and the test script (window.Janus / window.vr missing)`);
      peers.push({ name, page, watch, server: servers[name] });
    }
    const [alice, bob] = peers;
    log(`pages open (${pageUrl}); room ${room}; alice over ${alice.server}, bob over ${bob.server}`);

    // --- alice creates the room, joins and publishes; then bob --------------------------------
    // Different camera shapes (4:3 for alice, 16:9 for bob): the picture a page decodes must have
    // the other's shape, not its own, so frames from the wrong feed would not pass.
    const captures = { alice: 'stdres', bob: 'stdres-16:9' };
    const startOptions = (peer, create) => ({
      server: peer.server,
      videoCapture: captures[peer.name],
      room,
      display: peer.name,
      create,
      timeoutMs: SETUP_TIMEOUT_MS,
      minFrames: MIN_FRAMES,
      minAudioGrowth: MIN_AUDIO_GROWTH,
    });
    const create = { description: 'junction e2e videoroom', secret, publishers: 4, bitrate: 512000, is_private: true };
    for (const [peer, createFields] of [[alice, create], [bob, null]]) {
      const t = Date.now();
      peer.start = await evaluate(peer, (o) => window.vr.start(o), startOptions(peer, createFields), SETUP_TIMEOUT_MS + 5_000, 'vr.start');
      check(peer.start.ok, `${peer.name}: start failed: ${peer.start.error}`);
      log(`${peer.name}: joined as feed ${peer.start.id} and published in ${Date.now() - t} ms ` +
        `(publishers at join: ${JSON.stringify(peer.start.joinedPublishers.map((p) => [p.id, p.display]))})`);
    }
    expect(alice.start.joinedPublishers.length === 0,
      `alice created the room, yet joined.publishers lists ${JSON.stringify(alice.start.joinedPublishers)}`);
    const aliceInJoined = bob.start.joinedPublishers.find((p) => p.id === alice.start.id);
    expect(aliceInJoined && aliceInJoined.display === 'alice',
      `bob's joined.publishers does not list alice (${alice.start.id}) by name: ${JSON.stringify(bob.start.joinedPublishers)}`);
    if (aliceInJoined) {
      const kinds = (aliceInJoined.streams || []).map((s) => s.type).sort().join(',');
      expect(kinds === 'audio,video', `alice's streams in bob's joined.publishers: ${JSON.stringify(aliceInJoined.streams)}`);
    }
    alice.other = bob;
    bob.other = alice;

    // --- media: each page decodes the other's video and receives its audio ----------------------
    const mediaStart = Date.now();
    const mediaDeadline = mediaStart + FIRST_FRAME_TIMEOUT_MS + MEDIA_WINDOW_MS;
    let lastReport = 0;
    for (;;) {
      const progress = {};
      for (const peer of peers) progress[peer.name] = await evaluate(peer, () => window.vr.progress(), undefined, 10_000, 'progress');
      const done = peers.every((peer) => {
        const f = progress[peer.name].feeds[peer.other.start.id];
        return f && f.framesTargetMs !== undefined && f.audioGrownMs !== undefined;
      });
      const anyErrors = peers.some((peer) => progress[peer.name].errors > 0);
      if (Date.now() - lastReport > 2_000 || done) {
        lastReport = Date.now();
        log('media: ' + peers.map((peer) => {
          const f = progress[peer.name].feeds[peer.other.start.id];
          return `${peer.name} <- ${peer.other.name}: ` + (f ? `frames=${f.frames} audioPackets=${f.audioPackets}` : 'not subscribed');
        }).join('; '));
      }
      if (done || anyErrors || Date.now() > mediaDeadline || junction.exit) break;
      await sleep(POLL_MS);
    }
    log(`media phase took ${Date.now() - mediaStart} ms`);
    for (const peer of peers) peer.snapshot = await evaluate(peer, () => window.vr.snapshot(), undefined, 10_000, 'snapshot');
    for (const peer of peers) assertMedia(peer, expect, results);
    for (const peer of peers) {
      await peer.page.screenshot({ path: artifact(`${peer.name}.png`), fullPage: true });
    }

    // --- listparticipants from both pages -----------------------------------------------------
    for (const peer of peers) {
      const list = await evaluate(peer, () => window.vr.listParticipants(), undefined, EVENT_TIMEOUT_MS, 'listparticipants');
      const byName = Object.fromEntries((list.participants || []).map((p) => [p.display, p]));
      expect(list.videoroom === 'participants' && list.room === room, `${peer.name}: listparticipants answered ${JSON.stringify(list)}`);
      for (const who of peers) {
        const p = byName[who.name];
        expect(p && p.id === who.start.id && p.publisher === true,
          `${peer.name}: listparticipants does not show ${who.name} (${who.start.id}) publishing: ${JSON.stringify(list)}`);
      }
      expect((list.participants || []).length === 2, `${peer.name}: listparticipants has ${(list.participants || []).length} entries, expected 2`);
    }
    log('listparticipants shows alice and bob publishing, from both pages');

    // --- bob unpublishes, then leaves; alice is told each time -----------------------------------
    let t = Date.now();
    const unpub = await evaluate(bob, (ms) => window.vr.unpublish(ms), EVENT_TIMEOUT_MS, EVENT_TIMEOUT_MS + 2_000, 'unpublish');
    expect(unpub.reply.unpublished === 'ok' && !unpub.reply.error, `bob: unpublish answered ${JSON.stringify(unpub.reply)}`);
    const unpubEvent = await evaluate(alice, ([id, ms]) => window.vr.waitEvent('unpublished', id, ms),
      [bob.start.id, EVENT_TIMEOUT_MS], EVENT_TIMEOUT_MS + 2_000, `"unpublished" ${bob.start.id}`);
    expect(unpubEvent.msg.room === room, `alice: "unpublished" event for the wrong room: ${JSON.stringify(unpubEvent.msg)}`);
    results.timings.unpublishToEventMs = Date.now() - t;
    log(`bob unpublished; alice got {"unpublished": ${bob.start.id}} ${results.timings.unpublishToEventMs} ms after bob's request`);
    let list = await evaluate(alice, () => window.vr.listParticipants(), undefined, EVENT_TIMEOUT_MS, 'listparticipants');
    const bobEntry = (list.participants || []).find((p) => p.id === bob.start.id);
    expect(bobEntry && bobEntry.publisher === false,
      `after bob's unpublish, listparticipants should show bob not publishing: ${JSON.stringify(list)}`);

    t = Date.now();
    const left = await evaluate(bob, (ms) => window.vr.leave(ms), EVENT_TIMEOUT_MS, EVENT_TIMEOUT_MS + 2_000, 'leave');
    expect(left.reply.leaving === 'ok' && !left.reply.error, `bob: leave answered ${JSON.stringify(left.reply)}`);
    const leaveEvent = await evaluate(alice, ([id, ms]) => window.vr.waitEvent('leaving', id, ms),
      [bob.start.id, EVENT_TIMEOUT_MS], EVENT_TIMEOUT_MS + 2_000, `"leaving" ${bob.start.id}`);
    expect(leaveEvent.msg.room === room, `alice: "leaving" event for the wrong room: ${JSON.stringify(leaveEvent.msg)}`);
    results.timings.leaveToEventMs = Date.now() - t;
    log(`bob left; alice got {"leaving": ${bob.start.id}} ${results.timings.leaveToEventMs} ms after bob's request`);
    list = await evaluate(alice, () => window.vr.listParticipants(), undefined, EVENT_TIMEOUT_MS, 'listparticipants');
    expect((list.participants || []).length === 1 && list.participants[0].id === alice.start.id,
      `after bob's leave, listparticipants should list alice alone: ${JSON.stringify(list)}`);

    // --- teardown through the API ---------------------------------------------------------------
    const destroyed = await evaluate(alice, (s) => window.vr.destroyRoom(s), secret, EVENT_TIMEOUT_MS, 'destroy room');
    expect(destroyed && destroyed.videoroom === 'destroyed' && destroyed.room === room, `destroy answered ${JSON.stringify(destroyed)}`);
    // Every handle is detached before its session is destroyed (as an application leaving does):
    // each detach and destroy must be answered "success".
    for (const peer of peers) {
      const down = await evaluate(peer, (ms) => window.vr.shutdown(ms), EVENT_TIMEOUT_MS, 3 * EVENT_TIMEOUT_MS + 5_000, 'detach and destroy');
      expect(down.detachRequests === 2 && down.detachReplies.every((r) => r === 'success'),
        `${peer.name}: detach of its 2 handles answered ${JSON.stringify(down.detachReplies)} (${down.detachRequests} sent)`);
      expect(down.destroyReplies.length === 1 && down.destroyReplies[0] === 'success',
        `${peer.name}: session destroy answered ${JSON.stringify(down.destroyReplies)}`);
      log(`${peer.name}: detach x2 -> ${JSON.stringify(down.detachReplies)} ("detached" events seen: ${down.detachedEvents}), destroy -> ${JSON.stringify(down.destroyReplies)}`);
    }
    log('both pages detached their handles and destroyed their sessions ("success" each)');
    await sleep(500); // late errors (e.g. from a long poll outstanding at destroy)
    for (const peer of peers) {
      peer.snapshot = await evaluate(peer, () => window.vr.snapshot(), undefined, 10_000, 'snapshot');
      for (const e of peer.snapshot.errors) fail(`${peer.name}: ${e.text} (at +${e.ms} ms)`);
    }
  } catch (err) {
    fail(err instanceof TestFailure ? err.message : String(err && err.stack ? err.stack : err));
    for (const peer of peers) {
      if (!peer.snapshot) peer.snapshot = await evaluate(peer, () => window.vr.snapshot(), undefined, 5_000, 'snapshot').catch(() => null);
      await peer.page.screenshot({ path: artifact(`${peer.name}.png`), fullPage: true }).catch(() => {});
    }
  } finally {
    for (const peer of peers) {
      results[peer.name] = { start: peer.start, state: peer.snapshot };
      results[peer.name].wire = await evaluate(peer, () => window.vr.wire(), undefined, 5_000, 'wire log').catch(() => null);
      fs.writeFileSync(artifact(`${peer.name}-console.log`), peer.watch.lines.join('\n') + '\n');
    }
    fs.writeFileSync(artifact('results.json'), JSON.stringify(results, null, 2));
    if (browser) await browser.close().catch((err) => fail(`browser close: ${err}`));
    if (staticServer) await staticServer.close();
    if (junction) {
      try {
        const exit = await stopJunction(junction);
        log(`junction exited: code=${exit.code} signal=${exit.signal}`);
        if (exit.code !== 0) fail(`junction exit ${JSON.stringify(exit)} (expected code 0 after SIGTERM)`);
      } catch (err) {
        fail(err.message);
      }
      const notable = notableLogLines(junction.output);
      if (notable.length) log(`junction log warnings/errors:\n  ${notable.join('\n  ')}`);
      log(`junction log saved to ${path.relative(process.cwd(), junction.logPath)}`);
    }
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }

  for (const peer of peers) {
    for (const e of peer.watch.consoleErrors) failures.push(`${peer.name}: page console error: ${e}`);
    for (const e of peer.watch.pageErrors) failures.push(`${peer.name}: page error: ${e}`);
  }
  if (failures.length) {
    for (const peer of peers) dumpPeer(peer);
    if (junction) log(`junction log tail:\n${junction.output.split('\n').slice(-40).join('\n')}`);
  }
  return { failures, results };
}

// The checks on one page's subscription to the other's feed (from its final snapshot).
function assertMedia(peer, expect, results) {
  const s = peer.snapshot;
  const otherId = peer.other.start.id;
  const who = `${peer.name} <- ${peer.other.name}`;
  const feed = s.feeds[otherId];
  const feedIds = Object.keys(s.feeds);
  expect(feedIds.length === 1 && feedIds[0] === String(otherId),
    `${peer.name}: subscribed to feeds ${JSON.stringify(feedIds)}, expected exactly the other's (${otherId})`);
  if (!feed) {
    expect(false, `${who}: never subscribed to feed ${otherId}`);
    return;
  }
  const how = peer.name === 'alice' ? 'a "publishers" event' : 'joined.publishers';
  expect(feed.display === peer.other.name, `${who}: the feed came with display ${JSON.stringify(feed.display)}`);
  if (peer.name === 'alice') {
    const announced = s.events.find((e) => e.msg.videoroom === 'event' && Array.isArray(e.msg.publishers) &&
      e.msg.publishers.some((p) => p.id === otherId));
    expect(announced, `alice: no "publishers" event announced bob's feed ${otherId}`);
  }
  const streams = feed.attachedStreams || [];
  expect(streams.length === 2 && streams.every((x) => x.feed_id === otherId && x.feed_display === peer.other.name),
    `${who}: "attached" streams ${JSON.stringify(streams)} (expected audio and video of feed ${otherId} "${peer.other.name}")`);
  expect(feed.startedMs !== undefined, `${who}: no "started" after the answer`);
  expect(feed.remoteTracks.some((t) => t.kind === 'video' && t.on) && feed.remoteTracks.some((t) => t.kind === 'audio' && t.on),
    `${who}: onremotetrack did not bring both an audio and a video track: ${JSON.stringify(feed.remoteTracks)}`);
  const v = feed.videoStats;
  const a = feed.audioStats;
  expect(feed.firstFrameMs !== undefined, `${who}: no decoded video frame (video stats ${JSON.stringify(v)})`);
  if (feed.firstFrameMs !== undefined) {
    expect(feed.firstFrameMs - feed.subscribeMs <= FIRST_FRAME_TIMEOUT_MS,
      `${who}: first frame ${feed.firstFrameMs - feed.subscribeMs} ms after subscribing (limit ${FIRST_FRAME_TIMEOUT_MS})`);
    expect(feed.framesTargetMs !== undefined && feed.framesTargetMs - feed.firstFrameMs <= MEDIA_WINDOW_MS,
      `${who}: framesDecoded > ${MIN_FRAMES} not reached within ${MEDIA_WINDOW_MS} ms of the first frame ` +
        `(framesDecoded ${v && v.framesDecoded}, first frame at ${feed.firstFrameMs} ms, target at ${feed.framesTargetMs} ms)`);
  }
  expect(v && v.framesDecoded > MIN_FRAMES, `${who}: video framesDecoded ${v && v.framesDecoded} (need > ${MIN_FRAMES})`);
  expect(a && a.packetsReceived > 0, `${who}: audio packetsReceived ${a && a.packetsReceived}`);
  expect(feed.audioGrownMs !== undefined,
    `${who}: audio packetsReceived did not grow by ${MIN_AUDIO_GROWTH} (first ${feed.firstAudioPackets}, last ${a && a.packetsReceived})`);
  expect(feed.remoteVideoSize && feed.remoteVideoSize.width > 0, `${who}: the remote <video> shows no picture: ${JSON.stringify(feed.remoteVideoSize)}`);
  // The decoded picture has the shape of the other's camera (and not of this page's own).
  const camera = (snap) => (snap ? snap.localTracks.find((x) => x.kind === 'video' && x.on && x.width > 0) : null);
  const theirs = camera(peer.other.snapshot);
  const mine = camera(s);
  const ratio = (w, h) => (w > 0 && h > 0 ? w / h : NaN);
  const decoded = v ? ratio(v.frameWidth, v.frameHeight) : NaN;
  if (theirs && mine) {
    expect(Math.abs(ratio(theirs.width, theirs.height) - ratio(mine.width, mine.height)) > 0.1,
      `the two cameras have the same shape (${mine.width}x${mine.height}, ${theirs.width}x${theirs.height}): the feed check below proves nothing`);
    expect(Math.abs(decoded - ratio(theirs.width, theirs.height)) < 0.03,
      `${who}: decoded ${v && v.frameWidth}x${v && v.frameHeight}, not the shape of ${peer.other.name}'s camera ${theirs.width}x${theirs.height} ` +
        `(own camera ${mine.width}x${mine.height})`);
  } else {
    expect(false, `${who}: camera sizes unknown (theirs ${JSON.stringify(theirs)}, mine ${JSON.stringify(mine)})`);
  }

  const t = {
    joinToFirstFrameMs: feed.firstFrameMs,
    subscribeToFirstFrameMs: feed.firstFrameMs !== undefined ? feed.firstFrameMs - feed.subscribeMs : undefined,
    startedToFirstFrameMs: feed.firstFrameMs !== undefined && feed.startedMs !== undefined ? feed.firstFrameMs - feed.startedMs : undefined,
    firstFrameToTargetMs: feed.framesTargetMs !== undefined ? feed.framesTargetMs - feed.firstFrameMs : undefined,
    framesDecoded: v && v.framesDecoded,
    audioPackets: a && a.packetsReceived,
  };
  results.timings[peer.name] = t;
  log(`${who} (feed ${otherId}, announced in ${how}): join -> first decoded frame ${t.joinToFirstFrameMs} ms ` +
    `(subscribed at ${feed.subscribeMs} ms, started at ${feed.startedMs} ms, first frame ${t.subscribeToFirstFrameMs} ms after subscribing); ` +
    `framesDecoded > ${MIN_FRAMES} ${t.firstFrameToTargetMs} ms after the first frame`);
  log(`${who}: ${peer.other.name}'s camera ${theirs && theirs.width}x${theirs && theirs.height}; ` +
    `video ${v && v.codec} ${v && v.frameWidth}x${v && v.frameHeight} framesDecoded=${v && v.framesDecoded} ` +
    `packets=${v && v.packetsReceived} lost=${v && v.packetsLost} nack=${v && v.nackCount} pli=${v && v.pliCount}; ` +
    `audio ${a && a.codec} packetsReceived=${a && a.packetsReceived} lost=${a && a.packetsLost}; ` +
    `sender side: ${JSON.stringify(peer.other.snapshot ? peer.other.snapshot.publisher.video : null)}`);
}

function dumpPeer(peer) {
  const s = peer.snapshot;
  if (!s) return;
  log(`--- ${peer.name} (feed ${s.myId}, session ${s.sessionId}) steps:`);
  for (const st of s.steps.slice(-80)) {
    const d = st.detail !== undefined ? ' ' + JSON.stringify(st.detail) : '';
    log(`  +${st.ms}ms ${st.name}${d.length > 400 ? d.slice(0, 400) + '...' : d}`);
  }
  for (const [id, f] of Object.entries(s.feeds)) {
    log(`  feed ${id} samples (last 10): ${JSON.stringify((f.samples || []).slice(-10))}`);
  }
  log(`  publisher outbound: video ${JSON.stringify(s.publisher.video)} audio ${JSON.stringify(s.publisher.audio)}`);
}

let outcome;
try {
  outcome = await main();
} catch (err) {
  outcome = { failures: [String(err && err.stack ? err.stack : err)], results: {} };
}
if (outcome.failures.length) {
  logError(`FAIL (${outcome.failures.length}):`);
  for (const f of outcome.failures) console.error(`  - ${f}`);
  console.error('0 passed, 1 failed');
  process.exit(1);
}
const tm = outcome.results.timings;
log(`PASS (${elapsed()}): two janus.js publishers in videoroom ${outcome.results.room}, each decoding the other; ` +
  ['alice', 'bob'].map((n) => `${n}: join -> first frame ${tm[n].joinToFirstFrameMs} ms, framesDecoded ${tm[n].framesDecoded}, audio packets ${tm[n].audioPackets}`).join('; '));
console.log('1 passed, 0 failed');
process.exit(0);
