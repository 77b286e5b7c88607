// The web demo served by Junction itself (web-demo/, at / on the HTTP listener): the SFU room
// page with two people, the lobby and the admin dashboard watching them, in Debian's headless
// Chromium (frame: lib/webdemo.mjs).
//
// alice (a phone-sized viewport, over WebSocket) and bob (a desktop viewport, over HTTP long
// poll: the library's other transport) open sfu.html for the same fresh room name. Pass:
// - each page decodes the other's video: framesDecoded > MIN_FRAMES on the subscriber
//   PeerConnection (getStats) of the feed whose display name is the other's (a page never
//   subscribes to its own feed), and both names are in the page's participant list (the DOM);
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

import { check, freePort } from './lib/harness.mjs';
import { DESKTOP, PHONE, listedNames, runWebDemoTest, until } from './lib/webdemo.mjs';

const MIN_FRAMES = 50;
const MEDIA_TIMEOUT_MS = 30_000;
const EVENT_TIMEOUT_MS = 10_000;

const adminWsPort = await freePort();
const roomName = `e2e-${crypto.randomBytes(4).toString('hex')}`;

await runWebDemoTest('webdemo-sfu', { config: { admin_ws_port: adminWsPort } }, async ({ wsUrl, open, log }) => {
  const ws = encodeURIComponent(wsUrl);
  const alice = await open('alice', `/sfu.html?room=${roomName}&name=alice&ws=${ws}&transport=ws`, PHONE);
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
  }, EVENT_TIMEOUT_MS, 'the dashboard showing > 50 kbit/s coming in on both publishers\' handles');
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
