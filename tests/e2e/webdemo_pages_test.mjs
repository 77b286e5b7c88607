// The web demo's echo test and text chat pages, served by Junction itself, in Debian's headless
// Chromium (frame: lib/webdemo.mjs).
//
// Pass:
// - echotest.html (phone-sized): the echoed video decodes more than MIN_FRAMES frames (getStats
//   on the page's PeerConnection); "Stop video echo" is answered without an error;
// - chat.html: alice (WebSocket) and bob (HTTP long poll) join the same fresh room over data
//   channels; each lists both; alice's message reaches bob and bob's reaches alice, text intact
//   (non-ASCII, and markup shown as text); a whisper from alice reaches bob marked as a whisper;
//   bob closes his tab: his HTTP session is gone within 3 s (the page destroys it with a beacon
//   instead of leaving it, and its handles in the room, to the 60 s timeout) and alice's list
//   loses him;
// - every page fits its width, logs no console error and throws nothing; the server exits 0.
// Screenshots and console logs: tests/e2e/artifacts/webdemo-pages-* (gitignored).
//
// Run: cd tests/e2e && JUNCTION_BINARY=/path/to/junction node webdemo_pages_test.mjs
import crypto from 'node:crypto';

import { ARTIFACTS, check } from './lib/harness.mjs';
import { DESKTOP, PHONE, listedNames, runWebDemoTest, until } from './lib/webdemo.mjs';

const MIN_FRAMES = 50;
const MEDIA_TIMEOUT_MS = 25_000;
const EVENT_TIMEOUT_MS = 10_000;
const roomName = `chat-${crypto.randomBytes(4).toString('hex')}`;
const tag = () => crypto.randomBytes(3).toString('hex');

await runWebDemoTest('webdemo-pages', {}, async ({ origin, wsUrl, open, log }) => {
  const ws = encodeURIComponent(wsUrl);
  const echo = await open('echotest', `/echotest.html?ws=${ws}`, PHONE);
  const echoed = await until(async () => {
    const stats = await echo.evaluate(() => window.echotest?.state.peer && window.echotest.stats());
    return stats?.inbound.find((s) => s.kind === 'video' && s.framesDecoded > MIN_FRAMES);
  }, MEDIA_TIMEOUT_MS, `the echoed video decoding more than ${MIN_FRAMES} frames`);
  log(`echo test: ${echoed.framesDecoded} frames decoded, ${echoed.width}x${echoed.height}`);
  await echo.click('#video');
  await until(() => echo.$eval('#video', (b) => b.getAttribute('aria-pressed') === 'true'), EVENT_TIMEOUT_MS, 'video echo stopped');
  const echoStatus = await echo.$eval('#status', (s) => [s.dataset.kind, s.textContent]);
  check(echoStatus[0] !== 'error', `echo test status: ${echoStatus[1]}`);

  const alice = await open('chat-alice', `/chat.html?room=${roomName}&name=alice&ws=${ws}&transport=ws`, PHONE);
  const bob = await open('chat-bob', `/chat.html?room=${roomName}&name=bob&transport=http`, DESKTOP);
  for (const [page, self, other] of [[alice, 'alice', 'bob'], [bob, 'bob', 'alice']]) {
    await until(async () => {
      const names = await listedNames(page);
      return names.includes(`${self} (you)`) && names.includes(other);
    }, MEDIA_TIMEOUT_MS, `${self}'s chat listing ${self} and ${other}`);
  }
  const say = async (page, text) => {
    await page.fill('#text', text);
    await page.click('#send-button');
  };
  const received = (page, from, text, whisper) =>
    page.evaluate(([f, t, w]) => window.chat.received().some((m) => m.from === f && m.text === t && m.whisper === w), [from, text, whisper]);
  const aliceUser = await alice.evaluate(() => window.chat.username);
  const bobUser = await bob.evaluate(() => window.chat.username);

  const fromAlice = `hello bob, ünïcode ✓ ${tag()}`;
  const fromBob = `hi alice <b>not bold</b> ${tag()}`;
  await say(alice, fromAlice);
  await say(bob, fromBob);
  await until(() => received(bob, aliceUser, fromAlice, false), EVENT_TIMEOUT_MS, 'alice\'s message at bob');
  await until(() => received(alice, bobUser, fromBob, false), EVENT_TIMEOUT_MS, 'bob\'s message at alice');
  check((await alice.$eval('#messages', (m) => m.textContent)).includes(fromBob), 'bob\'s message shown as text on alice\'s page');
  check((await alice.$$eval('#messages b', (b) => b.length)) === 0, 'markup in a message is not rendered');

  const whisper = `just for you ${tag()}`;
  await alice.selectOption('#to', bobUser);
  await say(alice, whisper);
  await until(() => received(bob, aliceUser, whisper, true), EVENT_TIMEOUT_MS, 'alice\'s whisper at bob');

  // bob (HTTP) closes his tab: his session is destroyed by the page's beacon, not left to time
  // out, so alice sees him leave within seconds (the session timeout is 60 s).
  const bobSession = await bob.evaluate(() => window.chat.state.session.id);
  const keepalive = async () => {
    const res = await fetch(`${origin}/janus/${bobSession}`, { method: 'POST', body: JSON.stringify({ janus: 'keepalive', transaction: 'k' }) });
    return (await res.json()).janus;
  };
  check((await keepalive()) === 'ack', 'bob\'s HTTP session is alive before he closes his tab');
  await bob.screenshot({ path: `${ARTIFACTS}/webdemo-pages-chat-bob.png`, fullPage: true });
  await bob.close({ runBeforeUnload: true });
  await until(async () => (await keepalive()) === 'error', 3000, 'bob\'s HTTP session destroyed after he closed his tab');
  await until(async () => !(await listedNames(alice)).includes('bob'), EVENT_TIMEOUT_MS, 'bob gone from alice\'s chat after closing his tab');
});
