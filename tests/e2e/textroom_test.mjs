// End-to-end: two browser contexts of headless Debian Chromium, each running Debian's janus.js,
// join Junction's text room 1234 (attach janus.plugin.textroom, setup, answer with a data
// channel, join on the channel) and exchange a message each way.
//
// Pass: both joins succeed (Bob's reply lists Alice, Alice hears Bob join); Alice's message
// reaches Bob with its text and sender, Bob's reaches Alice; both are acked; no page errors;
// the server exits 0 on SIGTERM.
//
// Run: cd tests/e2e && JUNCTION_BINARY=/path/to/junction node textroom_test.mjs
// Artifacts (console logs, server log) go to tests/e2e/artifacts/textroom-* (gitignored).
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
  startJunction,
  startStaticServer,
  stopJunction,
  watchPage,
  withTimeout,
} from './lib/harness.mjs';

const { log } = makeLogger('textroom');
const STEP_TIMEOUT_MS = 20_000;
const ROOM = 1234;
const artifact = (name) => path.join(ARTIFACTS, `textroom-${name}`);

async function waitForEvent(page, pred, what) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const events = await page.evaluate(() => window.roomEvents);
    const found = events.find(pred);
    if (found) return found;
    if (Date.now() > deadline) throw new TestFailure(`no ${what} within ${STEP_TIMEOUT_MS} ms; got ${JSON.stringify(events)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  check(fs.existsSync(JANUS_JS), `${JANUS_JS} missing: apt-get install libjs-janus-gateway (scripts/deps.sh)`);
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'junction-e2e-textroom-'));
  const failures = [];
  let junction = null;
  let staticServer = null;
  let browser = null;
  const watches = {};
  try {
    junction = await startJunction({ tmpDir, logPath: artifact('junction.log'), log });
    staticServer = await startStaticServer(
      {
        '/textroom.html': [path.join(PAGES, 'textroom.html'), 'text/html; charset=utf-8'],
        '/textroom.js': [path.join(PAGES, 'textroom.js'), 'text/javascript; charset=utf-8'],
        '/janus.js': [JANUS_JS, 'text/javascript; charset=utf-8'],
      },
      log,
    );
    browser = await launchChromium({ extraArgs: ['--allow-loopback-in-peer-connection'], log });
    const server = `ws://127.0.0.1:${junction.wsPort}`;
    const pages = {};
    for (const name of ['alice', 'bob']) {
      const context = await browser.newContext();  // separate contexts: two independent users
      const page = await context.newPage();
      watches[name] = watchPage(page, { log });
      await page.goto(`http://127.0.0.1:${staticServer.port}/textroom.html`, { waitUntil: 'load' });
      pages[name] = page;
    }
    const aliceJoin = await withTimeout(
      pages.alice.evaluate(([s, r]) => window.joinTextRoom(s, r, 'alice'), [server, ROOM]), STEP_TIMEOUT_MS, 'alice joins');
    check(aliceJoin.textroom === 'success', `alice's join: ${JSON.stringify(aliceJoin)}`);
    const bobJoin = await withTimeout(
      pages.bob.evaluate(([s, r]) => window.joinTextRoom(s, r, 'bob'), [server, ROOM]), STEP_TIMEOUT_MS, 'bob joins');
    check(bobJoin.textroom === 'success', `bob's join: ${JSON.stringify(bobJoin)}`);
    check(JSON.stringify(bobJoin.participants) === JSON.stringify([{ username: 'alice' }]),
      `bob's join should list alice: ${JSON.stringify(bobJoin)}`);
    await waitForEvent(pages.alice, (m) => m.textroom === 'join' && m.username === 'bob', 'join event for bob at alice');

    const fromAlice = 'Hello Bob, from Alice \u00e9\u6f22';
    const fromBob = 'Hi Alice! {"not": "json"}';
    const ack1 = await pages.alice.evaluate(([r, t]) => window.sendText(r, t), [ROOM, fromAlice]);
    check(ack1.textroom === 'success', `alice's message ack: ${JSON.stringify(ack1)}`);
    const atBob = await waitForEvent(pages.bob, (m) => m.textroom === 'message' && m.from === 'alice', 'alice\'s message at bob');
    check(atBob.text === fromAlice && atBob.room === ROOM, `bob got ${JSON.stringify(atBob)}`);
    const ack2 = await pages.bob.evaluate(([r, t]) => window.sendText(r, t), [ROOM, fromBob]);
    check(ack2.textroom === 'success', `bob's message ack: ${JSON.stringify(ack2)}`);
    const atAlice = await waitForEvent(pages.alice, (m) => m.textroom === 'message' && m.from === 'bob', 'bob\'s message at alice');
    check(atAlice.text === fromBob, `alice got ${JSON.stringify(atAlice)}`);
    log(`exchanged: alice -> bob ${JSON.stringify(atBob.text)}, bob -> alice ${JSON.stringify(atAlice.text)}`);
    for (const [name, w] of Object.entries(watches)) {
      if (w.pageErrors.length) failures.push(`${name}: page errors ${w.pageErrors.join('; ')}`);
    }
  } catch (err) {
    failures.push(err instanceof TestFailure ? err.message : String(err && err.stack ? err.stack : err));
  } finally {
    for (const [name, w] of Object.entries(watches)) fs.writeFileSync(artifact(`${name}-console.log`), w.lines.join('\n') + '\n');
    if (browser) await browser.close().catch(() => {});
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
  if (failures.length) {
    console.error(`FAIL (${failures.length}):\n  - ${failures.join('\n  - ')}`);
    if (junction) console.error(junction.output.split('\n').slice(-30).join('\n'));
    process.exit(1);
  }
  log('PASS');
}

main();
