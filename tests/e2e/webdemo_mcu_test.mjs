// The web demo's MCU room page (mcu.html, junction.plugin.videomixer) served by Junction itself,
// in Debian's headless Chromium (frame: lib/webdemo.mjs).
//
// alice (phone viewport, WebSocket) and bob (desktop, HTTP long poll) join the same fresh room.
// Pass:
// - each page decodes the composite (framesDecoded > MIN_FRAMES on its one PeerConnection), at
//   the room's canvas size from the `layout` event;
// - each page's layout names both (two tiles, grid) and its participant list names both;
// - the picture is a composite of two in a 2x2 grid: the two top cells show a camera (Chromium's
//   fake camera is bright green) and the two bottom cells are black;
// - alice switches her layout to "active speaker": her page gets a `speaker` layout whose first
//   tile spans the top three quarters, and bob's stays a grid (layouts are per receiver);
// - every page fits its width, logs no console error and throws nothing; the server exits 0.
// Screenshots and console logs: tests/e2e/artifacts/webdemo-mcu-* (gitignored).
//
// Run: cd tests/e2e && JUNCTION_BINARY=/path/to/junction node webdemo_mcu_test.mjs
import crypto from 'node:crypto';

import { check } from './lib/harness.mjs';
import { DESKTOP, PHONE, listedNames, runWebDemoTest, until } from './lib/webdemo.mjs';

const MIN_FRAMES = 50;
const MEDIA_TIMEOUT_MS = 30_000;
const EVENT_TIMEOUT_MS = 10_000;
const roomName = `mcu-${crypto.randomBytes(4).toString('hex')}`;

// Mean colour of the four quadrants of the composite as the page shows it.
function quadrants(page) {
  return page.evaluate(() => {
    const video = document.getElementById('composite');
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const g = canvas.getContext('2d', { willReadFrequently: true });
    g.drawImage(video, 0, 0);
    const mean = (x, y, w, h) => {
      const { data } = g.getImageData(x, y, w, h);
      const sum = [0, 0, 0];
      for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c] += data[i + c];
      return sum.map((v) => Math.round(v / (data.length / 4)));
    };
    const w = Math.floor(canvas.width / 2);
    const h = Math.floor(canvas.height / 2);
    return { topLeft: mean(0, 0, w, h), topRight: mean(w, 0, w, h), bottomLeft: mean(0, h, w, h), bottomRight: mean(w, h, w, h) };
  });
}

await runWebDemoTest('webdemo-mcu', {}, async ({ wsUrl, open, log }) => {
  const ws = encodeURIComponent(wsUrl);
  const alice = await open('alice', `/mcu.html?room=${roomName}&name=alice&ws=${ws}&transport=ws`, PHONE);
  const bob = await open('bob', `/mcu.html?room=${roomName}&name=bob&transport=http`, DESKTOP);

  for (const [page, self, other] of [[alice, 'alice', 'bob'], [bob, 'bob', 'alice']]) {
    const layout = await until(async () => {
      const l = await page.evaluate(() => window.mcu?.layout());
      const names = (l?.tiles || []).map((t) => t.display);
      return names.includes(self) && names.includes(other) && l;
    }, MEDIA_TIMEOUT_MS, `${self}'s layout naming ${self} and ${other}`);
    check(layout.type === 'grid' && layout.tiles.length === 2, `${self}'s first layout: ${JSON.stringify(layout)}`);
    const video = await until(async () => {
      const v = await page.evaluate(() => window.mcu.compositeStats());
      return v && v.framesDecoded > MIN_FRAMES && v;
    }, MEDIA_TIMEOUT_MS, `${self} decoding more than ${MIN_FRAMES} frames of the composite`);
    log(`${self} decodes the composite: ${video.framesDecoded} frames, ${video.width}x${video.height} (canvas ${layout.width}x${layout.height})`);
    check(video.width === layout.width && video.height === layout.height, `${self}'s composite is ${video.width}x${video.height}, the canvas ${layout.width}x${layout.height}`);
    await until(async () => {
      const names = await listedNames(page);
      return names.includes(`${self} (you)`) && names.includes(other);
    }, EVENT_TIMEOUT_MS, `${self}'s participant list naming ${self} and ${other}`);
  }

  // Two cameras on top, two empty cells below (the fake camera is bright green).
  const q = await until(async () => {
    const v = await quadrants(bob);
    const camera = (c) => c[1] > 80 && c[1] > c[0] + 30;
    const black = (c) => c.every((x) => x < 50);
    return camera(v.topLeft) && camera(v.topRight) && black(v.bottomLeft) && black(v.bottomRight) && v;
  }, EVENT_TIMEOUT_MS, 'the composite showing two cameras in the top cells and black bottom cells');
  log(`composite quadrants at bob: ${JSON.stringify(q)}`);

  await alice.selectOption('#layout', 'speaker');
  const speaker = await until(async () => {
    const l = await alice.evaluate(() => window.mcu.layout());
    return l.type === 'speaker' && l;
  }, EVENT_TIMEOUT_MS, 'alice\'s layout switching to speaker');
  const big = speaker.tiles[0];
  check(big.width === speaker.width && big.height >= Math.floor((speaker.height * 3) / 4) - 2, `speaker layout's large tile: ${JSON.stringify(big)}`);
  check((await bob.evaluate(() => window.mcu.layout().type)) === 'grid', 'bob\'s layout is still a grid');
});
