// Test page logic for janusjs_test.mjs: drives Debian's janus.js (loaded before this file as
// /janus.js) against Junction's echotest plugin, once per server URL, and records everything
// janus.js sent and received so that the node side can assert on it and report it.
//
// window.runEcho(server, timeoutMs) -> Promise<result>; every result is also pushed onto
// window.results. window.wire is the full wire log (HTTP requests/responses and WebSocket frames).
(function () {
  'use strict';

  // --- webrtc-adapter stand-in -----------------------------------------------------------------
  // janus.js 1.1.2 takes `webRTCAdapter` from Janus.init's dependencies (or a global `adapter`),
  // and Debian's package does not ship adapter.js. janus.js only ever reads
  // `Janus.webRTCAdapter.browserDetails.browser` and `.version` (Safari VP8 probe in init, a few
  // Firefox/Chrome/Safari branches in the WebRTC code), so this is all it needs.
  function browserDetails() {
    const ua = navigator.userAgent;
    let m;
    if ((m = ua.match(/Firefox\/(\d+)/))) return { browser: 'firefox', version: Number(m[1]) };
    if ((m = ua.match(/Chrom(?:e|ium)\/(\d+)/))) return { browser: 'chrome', version: Number(m[1]) };
    if ((m = ua.match(/Version\/(\d+).*Safari\//))) return { browser: 'safari', version: Number(m[1]) };
    return { browser: 'Not a supported browser.', version: null };
  }
  const adapterShim = { browserDetails: browserDetails() };
  window.adapterShim = adapterShim;

  // --- wire log ----------------------------------------------------------------------------------
  const wire = [];
  window.wire = wire;
  window.results = [];
  let seq = 0;
  let pendingFetches = 0;
  window.pendingFetches = () => pendingFetches;

  function record(entry) {
    entry.seq = ++seq;
    entry.t = Math.round(performance.now());
    wire.push(entry);
    return entry;
  }
  function parse(text) {
    try {
      return JSON.parse(text);
    } catch (e) {
      return null;
    }
  }

  // fetch as janus.js's httpAPICall uses it, logging the request and the response body.
  const realFetch = window.fetch.bind(window);
  async function loggedFetch(url, options) {
    const method = (options && options.method) || 'GET';
    const body = options && typeof options.body === 'string' ? options.body : null;
    url = String(url);
    record({ transport: 'http', dir: 'send', method, url, text: body, msg: body ? parse(body) : null });
    pendingFetches++;
    try {
      const response = await realFetch(url, options);
      const text = await response.clone().text();
      record({ transport: 'http', dir: 'recv', method, url, status: response.status, text, msg: parse(text) });
      return response;
    } catch (e) {
      record({ transport: 'http', dir: 'error', method, url, error: String(e) });
      throw e;
    } finally {
      pendingFetches--;
    }
  }

  // WebSocket as janus.js's newWebSocket uses it, logging frames and lifecycle events. The
  // listeners are added in the constructor, so they run before janus.js's own.
  class LoggedWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      const u = String(url);
      record({ transport: 'ws', dir: 'connect', url: u, protocols });
      this.addEventListener('open', () => record({ transport: 'ws', dir: 'open', url: u, protocol: this.protocol }));
      this.addEventListener('message', (e) =>
        record({ transport: 'ws', dir: 'recv', url: u, text: String(e.data), msg: parse(e.data) }));
      this.addEventListener('error', () => record({ transport: 'ws', dir: 'error', url: u }));
      this.addEventListener('close', (e) =>
        record({ transport: 'ws', dir: 'close', url: u, code: e.code, reason: e.reason, wasClean: e.wasClean }));
    }
    send(data) {
      record({ transport: 'ws', dir: 'send', url: this.url, text: String(data), msg: parse(data) });
      super.send(data);
    }
  }

  // --- page display ------------------------------------------------------------------------------
  function logLine(text) {
    const el = document.getElementById('log');
    if (el) el.textContent += text + '\n';
  }
  function renderRow(res) {
    let row = document.getElementById('row-' + res.transport);
    if (!row) {
      row = document.createElement('tr');
      row.id = 'row-' + res.transport;
      document.getElementById('rows').appendChild(row);
    }
    const status = res.done ? (res.ok ? 'ok' : 'FAILED: ' + res.error) : 'running: ' + res.lastStep;
    const cls = res.done ? (res.ok ? 'ok' : 'fail') : 'running';
    const via = !res.eventVia ? '' : res.eventVia.transport === 'ws' ? 'WebSocket frame' : 'long poll ' + res.eventVia.method;
    const cells = [res.transport, res.server, status, res.sessionId, res.handleId, res.result, via, res.elapsedMs];
    row.innerHTML = '';
    cells.forEach((value, i) => {
      const td = document.createElement('td');
      td.textContent = value === undefined || value === null ? '' : String(value);
      if (i === 2) td.className = cls;
      row.appendChild(td);
    });
  }
  document.addEventListener('DOMContentLoaded', () => {
    document.getElementById('origin').textContent = location.origin;
  });

  // --- helpers -------------------------------------------------------------------------------
  function waitFor(what, predicate, ms) {
    return new Promise((resolve, reject) => {
      const start = performance.now();
      (function poll() {
        let value;
        try {
          value = predicate();
        } catch (e) {
          return reject(e);
        }
        if (value) return resolve(value);
        if (performance.now() - start > ms) return reject(new Error('no ' + what + ' within ' + ms + ' ms'));
        setTimeout(poll, 20);
      })();
    });
  }
  // Messages carried by one wire entry: maxev > 1 long polls answer with an array of events.
  function messagesOf(entry) {
    if (!entry.msg) return [];
    return Array.isArray(entry.msg) ? entry.msg : [entry.msg];
  }
  // The server's answer to the request with this transaction, among wire entries from index `from`.
  function replyTo(transaction, from) {
    for (let i = from; i < wire.length; i++) {
      const e = wire[i];
      if (e.dir !== 'recv') continue;
      for (const m of messagesOf(e)) {
        if (m && m.transaction === transaction && m.janus !== 'ack') return { entry: e, msg: m };
      }
    }
    return null;
  }
  function lastSent(janusVerb, from) {
    for (let i = wire.length - 1; i >= from; i--) {
      const e = wire[i];
      if (e.dir === 'send' && e.msg && e.msg.janus === janusVerb) return e;
    }
    return null;
  }
  // The id as the server wrote it in the JSON text (to catch ids beyond 2^53 that JSON.parse rounds).
  function rawId(entry) {
    const m = entry && entry.text && entry.text.match(/"id"\s*:\s*(-?\d+)/);
    return m ? m[1] : null;
  }
  function summary(entry) {
    if (!entry) return null;
    const s = { seq: entry.seq, transport: entry.transport, dir: entry.dir };
    if (entry.method) s.method = entry.method;
    if (entry.url) s.url = entry.url;
    if (entry.status !== undefined) s.status = entry.status;
    return s;
  }

  let initPromise = null;
  function initJanus() {
    if (!initPromise) {
      initPromise = new Promise((resolve) => {
        Janus.init({
          // janus.js logs through console.*: log/debug output is noise, Janus.error goes to
          // console.error, which the node side treats as a failure.
          debug: 'all',
          dependencies: Janus.useDefaultDependencies({
            adapter: adapterShim,
            fetch: loggedFetch,
            WebSocket: LoggedWebSocket,
          }),
          callback: resolve,
        });
      });
    }
    return initPromise;
  }

  // --- one run: session, echotest handle, message, detach, destroy -----------------------------
  window.runEcho = function (server, timeoutMs) {
    const transport = server.indexOf('ws') === 0 ? 'ws' : 'http';
    const wireStart = wire.length;
    const t0 = performance.now();
    const res = { transport, server, ok: false, done: false, steps: [], lastStep: 'start' };
    window.results.push(res);
    renderRow(res);

    function step(name, detail) {
      const ms = Math.round(performance.now() - t0);
      res.steps.push({ ms, name, detail });
      res.lastStep = name;
      logLine('[' + transport + ' +' + ms + 'ms] ' + name + (detail !== undefined ? ' ' + JSON.stringify(detail) : ''));
      renderRow(res);
    }
    const remaining = () => Math.max(1, timeoutMs - (performance.now() - t0));

    return new Promise((resolve) => {
      let janus = null;
      let handle = null;
      const timer = setTimeout(() => finish('timed out after ' + timeoutMs + ' ms (last step: ' + res.lastStep + ')'), timeoutMs);

      function finish(error) {
        if (res.done) return;
        clearTimeout(timer);
        res.done = true;
        res.ok = !error;
        res.error = error || null;
        res.elapsedMs = Math.round(performance.now() - t0);
        res.wire = wire.slice(wireStart);
        step(error ? 'FAILED: ' + error : 'done');
        resolve(JSON.parse(JSON.stringify(res)));
      }
      const fail = (what) => (err) => finish(what + ': ' + (err && err.message ? err.message : String(err)));

      initJanus().then(() => {
        step('Janus.init done', adapterShim.browserDetails);
        janus = new Janus({
          server,
          iceServers: [],
          success: onSession,
          error: fail('session error callback'),
          destroyed: () => step('destroyed callback'),
        });
      }, fail('Janus.init'));

      function onSession() {
        res.sessionId = janus.getSessionId();
        const create = lastSent('create', wireStart);
        const reply = create && replyTo(create.msg.transaction, wireStart);
        res.rawSessionId = reply ? rawId(reply.entry) : null;
        step('session created', res.sessionId);
        if (transport === 'ws') {
          const open = wire.slice(wireStart).find((e) => e.dir === 'open');
          res.wsProtocol = open ? open.protocol : null;
        }
        janus.attach({
          plugin: 'janus.plugin.echotest',
          opaqueId: 'junction-e2e-' + transport + '-' + Janus.randomString(12),
          success: onAttached,
          error: fail('attach error callback'),
          onmessage: onMessage,
          ondetached: () => step('ondetached'),
        });
      }

      function onAttached(pluginHandle) {
        handle = pluginHandle;
        res.handleId = pluginHandle.getId();
        const attach = lastSent('attach', wireStart);
        res.opaqueId = attach ? attach.msg.opaque_id : null;
        const reply = attach && replyTo(attach.msg.transaction, wireStart);
        res.rawHandleId = reply ? rawId(reply.entry) : null;
        step('attached to janus.plugin.echotest', res.handleId);
        pluginHandle.send({
          message: { audio: true, video: true },
          success: (data) => {
            const message = lastSent('message', wireStart);
            const ack = wire.slice(wireStart).find((e) =>
              e.dir === 'recv' && messagesOf(e).some((m) => m && m.janus === 'ack' && m.transaction === message.msg.transaction));
            res.ackVia = summary(ack);
            step('message sent, send() success', data === undefined ? 'async (ack)' : data);
          },
          error: fail('send error callback'),
        });
      }

      async function onMessage(msg, jsep) {
        step('onmessage', msg);
        if (res.result !== undefined) return; // the first event is the one under test
        res.message = msg;
        res.result = msg ? msg.result : undefined;
        res.jsep = jsep || null;
        // Which wire entry carried the event: over HTTP janus.js only receives asynchronous plugin
        // events from its long poll (GET <server>/<session_id>?maxev=...), so this is a long poll.
        const carrier = wire.slice(wireStart).find((e) =>
          e.dir === 'recv' && messagesOf(e).some((m) =>
            m && m.janus === 'event' && m.sender === res.handleId && m.plugindata && m.plugindata.plugin === 'janus.plugin.echotest'));
        res.eventVia = summary(carrier);
        if (carrier) res.eventRaw = carrier.text;
        if (!msg || msg.echotest !== 'event' || msg.result !== 'ok') {
          return finish('unexpected echotest message ' + JSON.stringify(msg));
        }
        try {
          await teardown();
          finish(null);
        } catch (e) {
          fail('teardown')(e);
        }
      }

      async function teardown() {
        // Detach: over WebSocket janus.js fires the request and calls success at once, so wait for
        // the server's reply on the wire either way and require "success".
        const detachFrom = wire.length;
        await new Promise((resolve, reject) => handle.detach({ success: resolve, error: (e) => reject(new Error('detach error callback: ' + e)) }));
        const detachReq = lastSent('detach', detachFrom);
        if (!detachReq) throw new Error('janus.js sent no detach request');
        const detachReply = await waitFor('reply to detach', () => replyTo(detachReq.msg.transaction, detachFrom), remaining());
        res.detachReply = detachReply.msg;
        step('detached', detachReply.msg.janus);
        if (detachReply.msg.janus !== 'success') throw new Error('detach answered ' + detachReply.entry.text);

        // Let the transport go quiet before destroying, as an application would (it destroys on a
        // user action, not within a millisecond of detaching). The server follows a detach with a
        // "detached" event; over HTTP janus.js re-arms its long poll as soon as that event arrives.
        // Destroying while that GET is still on its way races it against the destroy on another
        // connection: the GET can reach the server after the session is gone and get 404, and
        // janus.js would log "API call failed" whatever the server does. So wait for the event and,
        // over HTTP, for the new long poll to be outstanding and have had time to reach the server.
        const detachedEvent = await waitFor('"detached" event', () => wire.slice(detachFrom).find((e) =>
          e.dir === 'recv' && messagesOf(e).some((m) => m && m.janus === 'detached' && m.sender === res.handleId)),
        Math.min(3000, remaining() - 1)).catch(() => null);
        res.detachedEventVia = summary(detachedEvent);
        step('"detached" event', res.detachedEventVia ? 'received' : 'not received within 3 s');
        if (transport === 'http') {
          const pollArmed = () => {
            const gets = wire.filter((e, i) => i >= wireStart && e.transport === 'http' && e.method === 'GET');
            const last = gets[gets.length - 1];
            return last && last.dir === 'send' && (!detachedEvent || last.seq > detachedEvent.seq) && pendingFetches > 0;
          };
          await waitFor('re-armed long poll', pollArmed, Math.min(3000, remaining() - 1));
          await new Promise((r) => setTimeout(r, 100));
          step('long poll outstanding before destroy');
        }

        const destroyFrom = wire.length;
        await new Promise((resolve, reject) => janus.destroy({ success: resolve, error: (e) => reject(new Error('destroy error callback: ' + e)) }));
        const destroyReq = lastSent('destroy', destroyFrom);
        if (!destroyReq) throw new Error('janus.js sent no destroy request');
        const destroyReply = await waitFor('reply to destroy', () => replyTo(destroyReq.msg.transaction, destroyFrom), remaining());
        res.destroyReply = destroyReply.msg;
        step('session destroyed', destroyReply.msg.janus);
        if (destroyReply.msg.janus !== 'success') throw new Error('destroy answered ' + destroyReply.entry.text);

        // Record how the transport wound down (the node side checks and reports it).
        const settleMs = Math.min(1000, remaining() - 1);
        if (transport === 'ws') {
          await waitFor('WebSocket close', () => wire.slice(destroyFrom).find((e) => e.dir === 'close'), settleMs)
            .then((e) => { res.wsClose = { code: e.code, reason: e.reason, wasClean: e.wasClean }; }, () => { res.wsClose = null; });
        } else {
          // The long poll janus.js had outstanding when it destroyed the session: Janus leaves it
          // pending (it ends at the long-poll timeout or when the page goes away). If the server
          // answers it now, janus.js -- which keeps the session id until it has read the destroy
          // reply -- may poll again and get 404 for the destroyed session.
          await new Promise((r) => setTimeout(r, settleMs));
          res.pendingFetchesAfterDestroy = pendingFetches;
          res.pollsAfterDestroy = wire.slice(destroyFrom)
            .filter((e) => e.transport === 'http' && e.method === 'GET')
            .map((e) => ({ ...summary(e), text: e.text || undefined, error: e.error }));
        }
      }
    });
  };
})();
