// The web demo served by Junction itself (web-demo/, at / on the HTTP listener): the SFU room
// page with two people, the lobby and the admin dashboard watching them, in Debian's headless
// Chromium (frame: lib/webdemo.mjs).
//
// alice (a phone-sized viewport, over WebSocket, publishing simulcast: three encodings) and bob
// (a desktop viewport, over HTTP long poll: the library's other transport, one encoding) open
// sfu.html for the same fresh room name. Pass:
// - each page decodes the other's video: framesDecoded > MIN_FRAMES on the subscriber
//   PeerConnection (getStats) of the feed whose display name is the other's (a page never
//   subscribes to its own feed), and both names are in the page's participant list (the DOM);
// - alice's page sends three video encodings (rids h, m, l in getStats);
// - if the server marks alice's video stream `simulcast` (the videoroom's simulcast work), bob's
//   quality choice for alice's feed gives the 640 px picture on "high" and a lower layer
//   (<= 320 px) on "low"; if it does not, the test says so in its output (not tested then);
// - talking indicator: both fake microphones play a steady tone (a WAV made here), alice's list
//   shows bob talking; bob presses Mute and alice's list shows him not talking any more;
// - bob shares his screen (Chromium's fake capture): the button says so, no error shows, and
//   alice keeps decoding bob's feed (framesDecoded grows by 20 more within 30 s: a screen
//   capture makes frames as the screen changes, slowly on a loaded machine); stopping goes back;
// - the lobby lists the room (its name as description) with 2 people;
// - the dashboard (admin API over the admin WebSocket) lists both pages' session ids in its
//   table, shows > 50 kbit/s coming in on both publishers' handles and draws a chart per handle;
//   its log level switch works (get_status afterwards says so);
// - bob leaves with the page's Leave button and disappears from alice's participant list;
// - every page fits its width, logs no console error and throws nothing; the server exits 0.
// Screenshots and console logs: tests/e2e/artifacts/webdemo-sfu-* (gitignored).
//
// Run: cd tests/e2e && JUNCTION_BINARY=/path/to/junction node webdemo_sfu_test.mjs
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { check, freePort, writeToneWav } from './lib/harness.mjs';
import { DESKTOP, PHONE, listedNames, runWebDemoTest, until } from './lib/webdemo.mjs';

const MIN_FRAMES = 50;
const MEDIA_TIMEOUT_MS = 30_000;
const EVENT_TIMEOUT_MS = 10_000;

const adminWsPort = await freePort();
const roomName = `e2e-${crypto.randomBytes(4).toString('hex')}`;

const toneWav = writeToneWav(path.join(os.tmpdir(), `junction-webdemo-tone-${process.pid}.wav`));
process.on('exit', () => fs.rmSync(toneWav, { force: true }));

await runWebDemoTest('webdemo-sfu', {
  config: { admin_ws_port: adminWsPort },
  chromiumArgs: [`--use-file-for-fake-audio-capture=${toneWav}`],
}, async ({ wsUrl, open, log }) => {
  const ws = encodeURIComponent(wsUrl);
  const alice = await open('alice', `/sfu.html?room=${roomName}&name=alice&ws=${ws}&transport=ws&simulcast=1`, PHONE);
  const bob = await open('bob', `/sfu.html?room=${roomName}&name=bob&transport=http`, DESKTOP);

  for (const [page, self, other] of [[alice, 'alice', 'bob'], [bob, 'bob', 'alice']]) {
    const feed = await until(async () => {
      const feeds = await page.evaluate(() => window.sfu?.feedStats());
      return feeds?.find((f) => f.display === other && f.framesDecoded > MIN_FRAMES);
    }, MEDIA_TIMEOUT_MS, `${self} decoding more than ${MIN_FRAMES} frames of ${other}'s video`);
    log(`${self} decodes ${other}: ${feed.framesDecoded} frames, ${feed.width}x${feed.height}`);
    await until(async () => {
      const names = await listedNames(page);
      return names.includes(`${self} (you)`) && names.includes(other);
    }, EVENT_TIMEOUT_MS, `${self}'s participant list naming ${self} and ${other}`);
    const transport = await page.evaluate(() => window.sfu.state.session.transportKind);
    check(transport === (self === 'alice' ? 'websocket' : 'http'), `${self} connected over ${transport}`);
  }
  const rids = await alice.evaluate(async () => (await window.sfu.publishStats()).outbound.filter((s) => s.kind === 'video').map((s) => s.rid).sort().join(','));
  check(rids === 'h,l,m', `alice sends video encodings ${rids}, expected h, l, m`);

  const framesOfAlice = async () => (await bob.evaluate(() => window.sfu.feedStats())).find((f) => f.display === 'alice');
  const seenByBob = await framesOfAlice();
  if (seenByBob.simulcast) {
    // High first (the full 640 px picture), then low: a lower layer (<= 320 px; the lowest,
    // 160 px, when Chromium sends it).
    const quality = '[aria-label="quality of alice"]';
    const sending = async () => JSON.stringify((await alice.evaluate(() => window.sfu.publishStats())).outbound.filter((o) => o.kind === 'video'));
    await bob.selectOption(quality, '2');
    const high = await until(async () => {
      const f = await framesOfAlice();
      return f.width >= 600 && f;
    }, MEDIA_TIMEOUT_MS, 'bob decoding alice\'s high simulcast layer (640 px wide) after choosing "high"').catch(async (err) => {
      log(`alice sends ${await sending()}; bob decodes ${JSON.stringify(await framesOfAlice())}`);
      throw err;
    });
    await bob.selectOption(quality, '0');
    const low = await until(async () => {
      const f = await framesOfAlice();
      return f.width > 0 && f.width <= 320 && f;
    }, MEDIA_TIMEOUT_MS, 'bob decoding a lower simulcast layer of alice (<= 320 px wide) after choosing "low"');
    log(`simulcast: bob decodes alice at ${high.width}x${high.height} on "high", ${low.width}x${low.height} on "low"`);
  } else {
    log('NOT TESTED: the server does not mark alice\'s video as simulcast, so the page offers no quality choice');
  }

  // Screen share by bob, who sends one encoding: the simulcast layers of a screen change as the
  // encoder adapts, which is the videoroom's simulcast work to follow, not this page's.
  const framesOfBob = async () => (await alice.evaluate(() => window.sfu.feedStats())).find((f) => f.display === 'bob');
  await bob.click('#screen');
  await until(() => bob.$eval('#screen', (b) => b.getAttribute('aria-pressed') === 'true'), EVENT_TIMEOUT_MS, 'bob sharing his screen');
  const before = (await framesOfBob()).framesDecoded;
  await until(async () => (await framesOfBob()).framesDecoded > before + 20, MEDIA_TIMEOUT_MS, 'alice decoding bob\'s feed while he shares his screen')
    .catch(async (err) => {
      const out = (await bob.evaluate(() => window.sfu.publishStats())).outbound.filter((o) => o.kind === 'video');
      log(`bob sends ${JSON.stringify(out)}; alice decodes ${JSON.stringify(await framesOfBob())} (${before} before)`);
      throw err;
    });
  await bob.click('#screen');
  await until(() => bob.$eval('#screen', (b) => b.getAttribute('aria-pressed') === 'false'), EVENT_TIMEOUT_MS, 'bob back on his camera');
  const bobStatus = await bob.$eval('#status', (s) => [s.dataset.kind, s.textContent]);
  check(bobStatus[0] !== 'error', `bob's status after screen sharing: ${bobStatus[1]}`);

  // Talking indicator: both microphones play a steady tone; bob mutes and goes quiet.
  const bobTalking = async () => (await alice.$$eval('#people li.talking .name', (items) => items.map((i) => i.textContent))).includes('bob');
  await until(bobTalking, EVENT_TIMEOUT_MS, 'alice\'s participant list showing bob talking');
  await bob.click('#mute');
  await until(async () => !(await bobTalking()), EVENT_TIMEOUT_MS, 'bob no longer talking at alice after he muted');
  log('talking events at alice:', JSON.stringify(await alice.evaluate(() => window.sfu.state.talkingEvents)));
  await bob.click('#mute');
  const sessionIds = await Promise.all([alice, bob].map((p) => p.evaluate(() => window.sfu.state.session.id)));
  const publisherHandles = await Promise.all([alice, bob].map((p) => p.evaluate(() => window.sfu.state.publisher.id)));

  const lobby = await open('lobby', `/?ws=${ws}`, PHONE);
  await until(async () => {
    const rows = await lobby.$$eval('#rooms tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    return rows.some((r) => r[1] === roomName && r[2] === '2');
  }, EVENT_TIMEOUT_MS, `the lobby listing room "${roomName}" with 2 people`);

  const dashboard = await open('dashboard', `/dashboard.html?admin=${encodeURIComponent(`ws://127.0.0.1:${adminWsPort}`)}`, DESKTOP);
  await until(async () => {
    const listed = await dashboard.$$eval('#sessions tr', (trs) => trs.map((tr) => tr.dataset.session));
    return sessionIds.every((id) => listed.includes(String(id)));
  }, EVENT_TIMEOUT_MS, `the dashboard's table listing sessions ${sessionIds.join(', ')}`);
  await until(async () => {
    const rows = await dashboard.evaluate(() => window.dashboard.handleRows());
    return publisherHandles.every((h) => rows.some((r) => r.id === h && r.kbpsIn > 50));
  }, MEDIA_TIMEOUT_MS, 'the dashboard showing > 50 kbit/s coming in on both publishers\' handles');
  const charts = await dashboard.$$eval('#charts canvas', (c) => c.length);
  check(charts >= 4, `the dashboard draws ${charts} charts (expected one per handle with a PeerConnection, >= 4)`);
  await dashboard.selectOption('#log-level', 'debug');
  await until(() => dashboard.evaluate(() => window.dashboard.state.admin.call('get_status').then((r) => r.status.log_level === 'debug')),
    EVENT_TIMEOUT_MS, 'the log level switched to debug through the dashboard');
  await dashboard.selectOption('#log-level', 'info');

  await bob.click('#leave');
  await until(async () => !(await listedNames(alice)).includes('bob'), EVENT_TIMEOUT_MS, 'bob gone from alice\'s participant list after Leave');
  await bob.waitForURL(/index\.html/, { timeout: EVENT_TIMEOUT_MS });
});
