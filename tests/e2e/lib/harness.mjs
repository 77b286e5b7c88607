// Shared helpers for the browser end-to-end tests in tests/e2e: start and stop the Junction
// binary on free loopback ports with a JSON --config, serve test pages and Debian's janus.js from
// a node:http static server of their own, launch Debian's headless Chromium via playwright-core
// (never downloads a browser) and collect the page's console and page errors.
//
// (janusjs_test.mjs predates this file and keeps its own copy of these helpers.)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(E2E_DIR, '../..');
export const ARTIFACTS = path.join(E2E_DIR, 'artifacts');
export const PAGES = path.join(E2E_DIR, 'pages');
export const JANUS_JS = '/usr/share/javascript/janus-gateway/janus.js';
export const CHROMIUM = '/usr/bin/chromium';
export const BINARY = process.env.JUNCTION_BINARY || path.join(REPO, 'build', 'junction');

// Chromium flags every test uses (headless in a container, no network chatter).
export const BASE_CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Flags for tests with media: fake devices without a permission prompt, loopback candidates
// allowed, and media elements may play without a user gesture.
export const MEDIA_CHROMIUM_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];

export class TestFailure extends Error {}

export function check(condition, message) {
  if (!condition) throw new TestFailure(message);
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TestFailure(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// log(...) prefixed with a tag and the seconds since the logger was made.
export function makeLogger(tag) {
  const started = Date.now();
  const elapsed = () => ((Date.now() - started) / 1000).toFixed(2) + 's';
  const log = (...args) => console.log(`[${tag} ${elapsed()}]`, ...args);
  const error = (...args) => console.error(`[${tag} ${elapsed()}]`, ...args);
  return { log, error, elapsed };
}

export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

export function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// --- junction ----------------------------------------------------------------------------------
// Starts BINARY with a JSON config in tmpDir (bind 127.0.0.1, free ws/http ports, admin off,
// plus `config`), logs its output to logPath, and waits until both ports accept connections.
export async function startJunction({ tmpDir, logPath, config = {}, log = console.log, readyTimeoutMs = 10_000 }) {
  check(fs.existsSync(BINARY), `junction binary not found at ${BINARY} (set JUNCTION_BINARY or build it)`);
  const wsPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === wsPort) httpPort = await freePort();
  const fullConfig = {
    bind: '127.0.0.1',
    ws_port: wsPort,
    http_port: httpPort,
    admin_port: 0, // off: keep tests clear of the default 7088
    admin_ws_port: 0, // and of 7188
    log_level: 'info',
    ...config,
  };
  const configPath = path.join(tmpDir, 'junction.json');
  fs.writeFileSync(configPath, JSON.stringify(fullConfig, null, 2));
  const logFile = fs.createWriteStream(logPath);
  const child = spawn(BINARY, ['--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const junction = { child, wsPort, httpPort, logPath, config: fullConfig, output: '', exit: null, logFile };
  const onData = (chunk) => {
    junction.output += chunk.toString();
    logFile.write(chunk);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  junction.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      junction.exit = { code, signal };
      resolve(junction.exit);
    });
    child.once('error', (err) => {
      junction.exit = { code: null, signal: null, error: String(err) };
      resolve(junction.exit);
    });
  });
  // If this process is ended early (ctest timeout, ^C), don't leave the server behind.
  process.on('exit', () => {
    if (!junction.exit) child.kill('SIGKILL');
  });
  log(`started ${BINARY} (pid ${child.pid}) ws_port=${wsPort} http_port=${httpPort} log_level=${fullConfig.log_level}`);

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (junction.exit) {
      throw new TestFailure(`junction exited before it was ready: ${JSON.stringify(junction.exit)}\n${junction.output}`);
    }
    if ((await canConnect(wsPort)) && (await canConnect(httpPort))) break;
    if (Date.now() > deadline) {
      throw new TestFailure(`junction not ready within ${readyTimeoutMs} ms\n${junction.output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  log('junction is ready (both ports accept connections)');
  return junction;
}

// SIGTERM, then wait for the exit (SIGKILL and a TestFailure after stopTimeoutMs).
export async function stopJunction(junction, stopTimeoutMs = 10_000) {
  if (!junction.exit) {
    junction.child.kill('SIGTERM');
    const exit = await Promise.race([
      junction.exited,
      new Promise((r) => setTimeout(() => r(null), stopTimeoutMs)),
    ]);
    if (!exit) {
      junction.child.kill('SIGKILL');
      await junction.exited;
      junction.logFile.end();
      throw new TestFailure(`junction did not exit within ${stopTimeoutMs} ms of SIGTERM (killed)`);
    }
  }
  await new Promise((r) => junction.logFile.end(r));
  return junction.exit;
}

// Log lines at warn level or above (spdlog's "[warning]"/"[error]"/"[critical]" and the like).
export function notableLogLines(output) {
  return output.split('\n').filter((l) => /\b(warn|warning|error|critical)\b/i.test(l));
}

// --- static server --------------------------------------------------------------------------------
// files: { '/url-path': [filePath, contentType] }. Everything else is 404 (favicon: 204).
export async function startStaticServer(files, log = console.log) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url, 'http://127.0.0.1').pathname;
    requests.push(`${req.method} ${pathname}`);
    if (pathname === '/favicon.ico') {
      res.writeHead(204);
      return res.end();
    }
    const entry = files[pathname];
    if (!entry || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    fs.readFile(entry[0], (err, body) => {
      if (err) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        return res.end(String(err));
      }
      res.writeHead(200, { 'content-type': entry[1], 'cache-control': 'no-store' });
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  log(`static server on http://127.0.0.1:${port}/`);
  const close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return { server, port, requests, close };
}

// A WAV file of a steady sine (48 kHz mono 16-bit PCM by default), for Chromium's
// --use-file-for-fake-audio-capture (it loops the file): a known tone instead of the default
// fake microphone's beep once a second.
export function writeToneWav(filePath, { seconds = 5, rate = 48_000, hz = 440, amplitude = 0.5 } = {}) {
  const samples = seconds * rate;
  const buffer = Buffer.alloc(44 + samples * 2);
  buffer.write('RIFF', 0);
  buffer.writeUInt32LE(36 + samples * 2, 4);
  buffer.write('WAVEfmt ', 8);
  buffer.writeUInt32LE(16, 16);
  buffer.writeUInt16LE(1, 20); // PCM
  buffer.writeUInt16LE(1, 22); // mono
  buffer.writeUInt32LE(rate, 24);
  buffer.writeUInt32LE(rate * 2, 28);
  buffer.writeUInt16LE(2, 32);
  buffer.writeUInt16LE(16, 34);
  buffer.write('data', 36);
  buffer.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) buffer.writeInt16LE(Math.round(32767 * amplitude * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  fs.writeFileSync(filePath, buffer);
  return filePath;
}

// --- chromium ---------------------------------------------------------------------------------------
export async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch (err) {
    throw new TestFailure(`cannot load playwright-core (${err.message}): run scripts/deps.sh or npm install in tests/e2e`);
  }
}

export async function launchChromium({ extraArgs = [], timeoutMs = 30_000, log = console.log } = {}) {
  check(fs.existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium (scripts/deps.sh)`);
  const { chromium } = await loadPlaywright();
  log(`launching ${CHROMIUM} (headless)`);
  const browser = await withTimeout(
    chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...BASE_CHROMIUM_ARGS, ...extraArgs],
      timeout: timeoutMs,
    }),
    timeoutMs + 5_000,
    'chromium launch',
  );
  log(`chromium ${browser.version()} launched`);
  return browser;
}

// Records the page's console (all of it into `lines`), console errors not matched by one of
// `expectedConsoleErrors` (RegExps) into `consoleErrors`, and uncaught page errors into `pageErrors`.
export function watchPage(page, { expectedConsoleErrors = [], log = console.log } = {}) {
  const watch = { lines: [], consoleErrors: [], pageErrors: [], expectedSeen: [] };
  page.on('console', (msg) => {
    const text = msg.text();
    watch.lines.push(`[${msg.type()}] ${text}`);
    if (msg.type() === 'error') {
      if (expectedConsoleErrors.some((re) => re.test(text))) {
        watch.expectedSeen.push(text);
        return;
      }
      watch.consoleErrors.push(text);
      log(`page console error: ${text}`);
    } else if (msg.type() === 'warning') {
      log(`page console warning: ${text}`);
    }
  });
  page.on('pageerror', (err) => {
    watch.pageErrors.push(String(err && err.stack ? err.stack : err));
    log(`page error: ${err}`);
  });
  page.on('requestfailed', (req) => {
    watch.lines.push(`[requestfailed] ${req.method()} ${req.url()} ${req.failure()?.errorText}`);
  });
  return watch;
}
