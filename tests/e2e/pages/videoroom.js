// Test page logic for videoroom_test.mjs: one participant of a janus.plugin.videoroom room, driven
// through Debian's janus.js (loaded before this file as /janus.js). The node side opens this page
// in two browser contexts and calls, through page.evaluate:
//
//   vr.start(options)      session, attach a publisher handle, optionally `create` the room, `join`
//                          ptype publisher, createOffer with the (fake) camera and microphone,
//                          `publish` with the offer, apply the answer from `configured`.
//   vr.snapshot()          the page's state as plain JSON (steps, events, per remote feed stats);
//   vr.progress()          a small summary of it, for polling.
//   vr.listParticipants()  `listparticipants` on the publisher handle (the sync reply's data).
//   vr.unpublish(), vr.leave()   the request, resolved with the handle's own "ok" event.
//   vr.destroyRoom(secret) `destroy` of the room.
//   vr.shutdown()          detach every handle, then janus.destroy() (the session).
//
// Every publisher seen in `joined.publishers` or a later `publishers` event (other than this page's
// own) gets a second handle that joins as a subscriber with streams:[{feed}], answers the server's
// offer without capturing anything (recvonly) and sends `start` with the answer. getStats() on each
// subscriber's RTCPeerConnection is polled for inbound-rtp video framesDecoded and audio
// packetsReceived; the node side decides what passes.
(function () {
  'use strict';

  // --- webrtc-adapter stand-in (Debian's package does not ship adapter.js) ---------------------
  // janus.js 1.1.x only reads Janus.webRTCAdapter.browserDetails.browser and .version.
  function detectBrowser() {
    const ua = navigator.userAgent;
    let m;
    if ((m = ua.match(/Firefox\/(\d+)/))) return { browser: 'firefox', version: Number(m[1]) };
    if ((m = ua.match(/Chrom(?:e|ium)\/(\d+)/))) return { browser: 'chrome', version: Number(m[1]) };
    if ((m = ua.match(/Version\/(\d+).*Safari\//))) return { browser: 'safari', version: Number(m[1]) };
    return { browser: 'unknown', version: null };
  }
  const adapter = { browserDetails: detectBrowser() };

  // --- wire log: every WebSocket frame and HTTP exchange of janus.js, for diagnostics ----------
  const wire = [];
  window.wire = wire;
  const origin = performance.now();
  function wireEntry(entry) {
    entry.t = Math.round(performance.now() - origin);
    wire.push(entry);
  }
  const nativeFetch = window.fetch.bind(window);
  async function tracingFetch(url, init) {
    const method = (init && init.method) || 'GET';
    url = String(url);
    wireEntry({ dir: 'send', method, url, text: init && typeof init.body === 'string' ? init.body : null });
    try {
      const response = await nativeFetch(url, init);
      wireEntry({ dir: 'recv', method, url, status: response.status, text: await response.clone().text() });
      return response;
    } catch (e) {
      wireEntry({ dir: 'error', method, url, text: String(e) });
      throw e;
    }
  }
  class TracingWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      const u = String(url);
      wireEntry({ dir: 'connect', url: u });
      this.addEventListener('message', (e) => wireEntry({ dir: 'recv', url: u, text: String(e.data) }));
      this.addEventListener('close', (e) => wireEntry({ dir: 'close', url: u, text: e.code + ' ' + e.reason }));
    }
    send(data) {
      wireEntry({ dir: 'send', url: this.url, text: String(data) });
      super.send(data);
    }
  }

  // --- state ----------------------------------------------------------------------------------
  // Times are ms since the page sent its publisher `join` (joinAt); before that, since load.
  let joinAt = null;
  const now = () => Math.round(performance.now() - (joinAt === null ? origin : joinAt));
  const state = {
    name: null, server: null, transport: null, room: null,
    steps: [], errors: [], events: [], localTracks: [],
    sessionId: null, publisherHandleId: null, myId: null, privateId: null,
    publisher: { webrtcStates: [], mediaStates: [] },
    feeds: {}, // remote feed id -> see subscribe()
  };
  window.vrState = state;
  let janus = null;
  let pubHandle = null;
  const waiters = []; // { predicate(msg), resolve } for messages on the publisher handle

  function step(name, detail) {
    const ms = now();
    state.steps.push({ ms, name, detail });
    const line = '+' + ms + 'ms ' + name + (detail !== undefined ? ' ' + JSON.stringify(detail) : '');
    const el = document.getElementById('log');
    if (el) el.textContent += line + '\n';
  }
  function recordError(what, err) {
    const text = what + ': ' + (err && err.message ? err.message : typeof err === 'string' ? err : JSON.stringify(err));
    state.errors.push({ ms: now(), text });
    step('ERROR ' + text);
  }
  function text(id, value) {
    const el = document.getElementById(id);
    if (el) el.textContent = value;
  }
  function withTimeout(promise, ms, what) {
    let timer;
    return Promise.race([
      promise,
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('timed out after ' + ms + ' ms: ' + what)), ms); }),
    ]).finally(() => clearTimeout(timer));
  }
  // Resolves with the first publisher-handle message (already received or to come) that matches.
  function nextMessage(predicate, ms, what, fromIndex) {
    for (let i = fromIndex; i < state.events.length; i++) {
      if (predicate(state.events[i].msg)) return Promise.resolve(state.events[i].msg);
    }
    return withTimeout(new Promise((resolve) => waiters.push({ predicate, resolve })), ms, what);
  }
  // handle.send as a promise: sync requests resolve with the plugin's data, async ones with
  // undefined once acked (their answer comes as an event).
  function send(handle, message, jsep) {
    return new Promise((resolve, reject) => {
      const request = { message, success: resolve, error: (e) => reject(new Error('send ' + message.request + ': ' + e)) };
      if (jsep) request.jsep = jsep;
      handle.send(request);
    });
  }

  let initDone = null;
  function init() {
    if (!initDone) {
      initDone = new Promise((resolve) => {
        Janus.init({
          // Janus.error goes to console.error, which the node side counts as a failure.
          debug: 'all',
          dependencies: Janus.useDefaultDependencies({ adapter, fetch: tracingFetch, WebSocket: TracingWebSocket }),
          callback: resolve,
        });
      });
    }
    return initDone;
  }

  // --- publisher ------------------------------------------------------------------------------
  // options: { server, room, display, create (create request fields, or null), timeoutMs,
  //            videoCapture (janus.js's video `capture`: true or a keyword such as 'stdres-16:9'),
  //            minFrames, minAudioGrowth (when a feed's framesTargetMs / audioGrownMs are set) }
  async function start(options) {
    state.name = options.display;
    state.server = options.server;
    state.transport = options.server.startsWith('ws') ? 'ws' : 'http';
    state.room = options.room;
    if (options.minFrames !== undefined) targets.minFrames = options.minFrames;
    if (options.minAudioGrowth !== undefined) targets.minAudioGrowth = options.minAudioGrowth;
    text('who', options.display);
    text('server', options.server);
    text('room', String(options.room));
    document.title = 'videoroom: ' + options.display;
    await init();
    step('Janus.init done', adapter.browserDetails);
    await new Promise((resolve, reject) => {
      janus = new Janus({
        server: options.server,
        iceServers: [],
        success: resolve,
        error: (e) => {
          recordError('session error callback', e);
          reject(new Error('session: ' + e));
        },
        destroyed: () => step('session destroyed callback'),
      });
    });
    state.sessionId = janus.getSessionId();
    step('session created', state.sessionId);

    pubHandle = await new Promise((resolve, reject) => {
      janus.attach({
        plugin: 'janus.plugin.videoroom',
        opaqueId: 'junction-e2e-videoroom-' + options.display + '-' + Janus.randomString(8),
        success: resolve,
        error: (e) => reject(new Error('attach publisher: ' + e)),
        iceState: (s) => step('publisher iceState', s),
        webrtcState: (on, reason) => {
          state.publisher.webrtcStates.push({ ms: now(), on, reason });
          if (on && state.publisher.webrtcUpMs === undefined) state.publisher.webrtcUpMs = now();
          step('publisher webrtcState', { on, reason });
        },
        mediaState: (type, receiving, mid) => {
          state.publisher.mediaStates.push({ ms: now(), type, receiving, mid });
          step('publisher mediaState', { type, receiving, mid });
        },
        slowLink: (uplink, lost, mid) => step('publisher slowLink', { uplink, lost, mid }),
        onmessage: onPublisherMessage,
        onlocaltrack: (track, on) => {
          const settings = track.getSettings ? track.getSettings() : {};
          state.localTracks.push({ ms: now(), kind: track.kind, on, label: track.label, width: settings.width, height: settings.height });
          step('onlocaltrack', { kind: track.kind, on, width: settings.width, height: settings.height });
          if (on && track.kind === 'video') {
            const v = document.getElementById('local-video');
            v.srcObject = new MediaStream([track]);
            v.play().catch(() => {});
          }
        },
        onremotetrack: (track, mid, on) => step('publisher onremotetrack (unexpected)', { kind: track.kind, mid, on }),
        oncleanup: () => step('publisher oncleanup'),
        ondetached: () => step('publisher ondetached'),
      });
    });
    state.publisherHandleId = pubHandle.getId();
    step('publisher handle attached', state.publisherHandleId);

    if (options.create) {
      const created = await send(pubHandle, Object.assign({ request: 'create', room: options.room }, options.create));
      state.created = created;
      step('create answered', created);
      if (!created || created.videoroom !== 'created') throw new Error('create answered ' + JSON.stringify(created));
    }

    let from = state.events.length;
    joinAt = performance.now();
    state.joinWallClock = Date.now();
    step('join sent (t=0)');
    await send(pubHandle, { request: 'join', room: options.room, ptype: 'publisher', display: options.display });
    const joined = await nextMessage((m) => m.videoroom === 'joined' || m.error, options.timeoutMs, 'joined', from);
    if (joined.error) throw new Error('join refused: ' + JSON.stringify(joined));
    state.myId = joined.id;
    state.privateId = joined.private_id;
    state.joined = { ms: now(), publishers: joined.publishers || [] };
    text('feed', String(joined.id));
    step('joined', { id: joined.id, publishers: (joined.publishers || []).map((p) => p.id + ':' + p.display) });
    // Subscribe to whoever is already publishing (onPublisherMessage does it for later ones).
    for (const p of joined.publishers || []) subscribe(p);

    const offer = await new Promise((resolve, reject) => {
      pubHandle.createOffer({
        tracks: [
          { type: 'audio', capture: true, recv: false },
          { type: 'video', capture: options.videoCapture || true, recv: false },
        ],
        success: resolve,
        error: (e) => reject(new Error('createOffer: ' + (e && e.message ? e.message : e))),
      });
    });
    step('offer created', { mlines: (offer.sdp.match(/^m=/gm) || []).length });
    from = state.events.length;
    state.publishSentMs = now();
    await send(pubHandle, { request: 'publish', display: options.display }, offer);
    const configured = await nextMessage((m) => m.configured === 'ok' || m.error, options.timeoutMs, 'configured', from);
    if (configured.error) throw new Error('publish refused: ' + JSON.stringify(configured));
    state.configured = { ms: now(), streams: configured.streams };
    const answer = state.events.find((e, i) => i >= from && e.jsep && e.jsep.type === 'answer');
    if (!answer) throw new Error('"configured" came without an SDP answer');
    await new Promise((resolve, reject) => {
      pubHandle.handleRemoteJsep({
        jsep: answer.jsep,
        success: resolve,
        error: (e) => reject(new Error('handleRemoteJsep (publisher answer): ' + e)),
      });
    });
    state.publishedMs = now();
    step('published (answer applied)', configured.streams);
    startStatsLoop();
    return { ok: true, id: state.myId, privateId: state.privateId, joinedPublishers: state.joined.publishers };
  }

  function onPublisherMessage(msg, jsep) {
    const entry = { ms: now(), msg, jsep: jsep ? { type: jsep.type, sdp: jsep.sdp } : null };
    state.events.push(entry);
    step('publisher onmessage', jsep ? Object.assign({}, msg, { jsep: jsep.type }) : msg);
    if (msg.error) recordError('plugin error event', msg);
    if (msg.videoroom === 'event' && Array.isArray(msg.publishers)) {
      for (const p of msg.publishers) subscribe(p);
    }
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].predicate(msg)) {
        waiters[i].resolve(msg);
        waiters.splice(i, 1);
      }
    }
  }

  // --- subscribers: one handle per remote feed ----------------------------------------------------
  function subscribe(publisher) {
    if (!publisher || publisher.id === state.myId || state.feeds[publisher.id]) return;
    const id = publisher.id;
    const feed = {
      id, display: publisher.display, announcedStreams: publisher.streams || [],
      subscribeMs: now(), remoteTracks: [], webrtcStates: [], mediaStates: [], samples: [], events: [],
    };
    state.feeds[id] = feed;
    step('subscribing', { feed: id, display: publisher.display });
    const stream = new MediaStream();
    const fig = document.createElement('figure');
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true; // autoplay without a gesture; audio is checked through getStats
    video.id = 'remote-' + id;
    const caption = document.createElement('figcaption');
    caption.textContent = 'remote: ' + (publisher.display || id) + ' (feed ' + id + ')';
    fig.appendChild(video);
    fig.appendChild(caption);
    document.getElementById('videos').appendChild(fig);
    feed.video = video;

    janus.attach({
      plugin: 'janus.plugin.videoroom',
      opaqueId: 'junction-e2e-videoroom-sub-' + state.name + '-' + Janus.randomString(8),
      success: (handle) => {
        feed.handle = handle;
        feed.handleId = handle.getId();
        step('subscriber handle attached', { feed: id, handle: feed.handleId });
        send(handle, { request: 'join', room: state.room, ptype: 'subscriber', streams: [{ feed: id }], private_id: state.privateId })
          .catch((e) => recordError('subscriber join for feed ' + id, e));
      },
      error: (e) => recordError('attach subscriber for feed ' + id, e),
      iceState: (s) => step('subscriber iceState', { feed: id, state: s }),
      webrtcState: (on, reason) => {
        feed.webrtcStates.push({ ms: now(), on, reason });
        if (on && feed.webrtcUpMs === undefined) feed.webrtcUpMs = now();
        step('subscriber webrtcState', { feed: id, on, reason });
      },
      mediaState: (type, receiving, mid) => {
        feed.mediaStates.push({ ms: now(), type, receiving, mid });
        step('subscriber mediaState', { feed: id, type, receiving, mid });
      },
      slowLink: (uplink, lost, mid) => step('subscriber slowLink', { feed: id, uplink, lost, mid }),
      onmessage: (msg, jsep) => onSubscriberMessage(feed, msg, jsep),
      onlocaltrack: (track, on) => step('subscriber onlocaltrack (unexpected)', { feed: id, kind: track.kind, on }),
      onremotetrack: (track, mid, on, metadata) => {
        feed.remoteTracks.push({ ms: now(), kind: track.kind, mid, on, reason: metadata && metadata.reason });
        step('subscriber onremotetrack', { feed: id, kind: track.kind, mid, on, reason: metadata && metadata.reason });
        if (on) {
          if (!stream.getTracks().includes(track)) stream.addTrack(track);
          if (video.srcObject !== stream) video.srcObject = stream;
          video.play().catch((e) => { feed.playError = String(e); });
        } else if (stream.getTracks().includes(track)) {
          stream.removeTrack(track);
        }
      },
      oncleanup: () => step('subscriber oncleanup', { feed: id }),
      ondetached: () => step('subscriber ondetached', { feed: id }),
    });
  }

  function onSubscriberMessage(feed, msg, jsep) {
    feed.events.push({ ms: now(), msg, jsep: jsep ? jsep.type : null });
    step('subscriber onmessage', { feed: feed.id, msg, jsep: jsep ? jsep.type : null });
    if (msg.error) return recordError('subscriber for feed ' + feed.id + ' got an error', msg);
    if (msg.videoroom === 'attached') {
      feed.attachedMs = now();
      feed.attachedStreams = msg.streams;
    }
    if (msg.started === 'ok') {
      feed.startedMs = now();
      step('subscription started', { feed: feed.id });
    }
    if (jsep && jsep.type === 'offer') {
      feed.offerSdp = jsep.sdp;
      feed.handle.createAnswer({
        jsep,
        tracks: [], // capture nothing: the answer is recvonly
        success: (answer) => {
          feed.answerSdp = answer.sdp;
          step('subscriber answer created', { feed: feed.id });
          send(feed.handle, { request: 'start', room: state.room }, answer)
            .catch((e) => recordError('start for feed ' + feed.id, e));
        },
        error: (e) => recordError('createAnswer for feed ' + feed.id, e),
      });
    }
  }

  // --- getStats --------------------------------------------------------------------------------
  function inbound(report, kind) {
    let s = null;
    report.forEach((r) => {
      if (r.type === 'inbound-rtp' && (r.kind || r.mediaType) === kind) s = r;
    });
    if (!s) return null;
    const codec = s.codecId ? report.get(s.codecId) : null;
    return {
      ssrc: s.ssrc, packetsReceived: s.packetsReceived || 0, bytesReceived: s.bytesReceived || 0,
      packetsLost: s.packetsLost || 0, framesDecoded: s.framesDecoded, framesReceived: s.framesReceived,
      keyFramesDecoded: s.keyFramesDecoded, frameWidth: s.frameWidth, frameHeight: s.frameHeight,
      framesPerSecond: s.framesPerSecond, nackCount: s.nackCount, pliCount: s.pliCount, firCount: s.firCount,
      jitter: s.jitter, totalSamplesReceived: s.totalSamplesReceived, codec: codec ? codec.mimeType : null,
    };
  }
  function outbound(report, kind) {
    let s = null;
    report.forEach((r) => {
      if (r.type === 'outbound-rtp' && (r.kind || r.mediaType) === kind) s = r;
    });
    if (!s) return null;
    const codec = s.codecId ? report.get(s.codecId) : null;
    return {
      packetsSent: s.packetsSent, bytesSent: s.bytesSent, framesEncoded: s.framesEncoded,
      frameWidth: s.frameWidth, frameHeight: s.frameHeight, framesPerSecond: s.framesPerSecond,
      qualityLimitationReason: s.qualityLimitationReason, pliCount: s.pliCount, nackCount: s.nackCount,
      codec: codec ? codec.mimeType : null,
    };
  }

  const targets = { minFrames: 100, minAudioGrowth: 25 }; // set from start()'s options
  let statsRunning = false;
  function startStatsLoop() {
    if (statsRunning) return;
    statsRunning = true;
    (async function loop() {
      while (statsRunning) {
        let waitingForFrame = false;
        for (const feed of Object.values(state.feeds)) {
          const pc = feed.handle && feed.handle.webrtcStuff && feed.handle.webrtcStuff.pc;
          if (!pc || feed.statsStopped) continue;
          try {
            sampleFeed(feed, await pc.getStats());
          } catch (e) {
            feed.statsError = String(e);
          }
          if (feed.firstFrameMs === undefined) waitingForFrame = true;
        }
        const pc = pubHandle && pubHandle.webrtcStuff && pubHandle.webrtcStuff.pc;
        if (pc) {
          try {
            const report = await pc.getStats();
            state.publisher.video = outbound(report, 'video');
            state.publisher.audio = outbound(report, 'audio');
          } catch (e) {
            state.publisher.statsError = String(e);
          }
        }
        renderRows();
        // Fine-grained while a first frame is awaited (that time is reported), then coarser.
        await new Promise((r) => setTimeout(r, waitingForFrame || Object.keys(state.feeds).length === 0 ? 30 : 200));
      }
    })();
  }

  function sampleFeed(feed, report) {
    const ms = now();
    const video = inbound(report, 'video');
    const audio = inbound(report, 'audio');
    feed.videoStats = video;
    feed.audioStats = audio;
    const frames = video && video.framesDecoded ? video.framesDecoded : 0;
    const packets = audio ? audio.packetsReceived : 0;
    feed.samples.push({ ms, frames, audioPackets: packets });
    if (feed.samples.length > 400) feed.samples.splice(1, 1); // keep the first and the recent ones
    if (frames > 0 && feed.firstFrameMs === undefined) {
      feed.firstFrameMs = ms;
      feed.firstFrames = frames;
      step('first decoded frame', { feed: feed.id, framesDecoded: frames, codec: video.codec, size: video.frameWidth + 'x' + video.frameHeight });
    }
    if (packets > 0 && feed.firstAudioMs === undefined) {
      feed.firstAudioMs = ms;
      feed.firstAudioPackets = packets;
      step('first audio packets', { feed: feed.id, packets });
    }
    if (frames > targets.minFrames && feed.framesTargetMs === undefined) {
      feed.framesTargetMs = ms;
      step('framesDecoded > ' + targets.minFrames, { feed: feed.id, framesDecoded: frames });
    }
    if (feed.firstAudioMs !== undefined && packets - feed.firstAudioPackets >= targets.minAudioGrowth && feed.audioGrownMs === undefined) {
      feed.audioGrownMs = ms;
      step('audio packets growing', { feed: feed.id, from: feed.firstAudioPackets, to: packets });
    }
  }

  // A small summary for the node side's polling loop.
  function progress() {
    const feeds = {};
    for (const [id, f] of Object.entries(state.feeds)) {
      feeds[id] = {
        display: f.display, startedMs: f.startedMs, firstFrameMs: f.firstFrameMs, framesTargetMs: f.framesTargetMs,
        audioGrownMs: f.audioGrownMs, frames: f.videoStats ? f.videoStats.framesDecoded : null,
        audioPackets: f.audioStats ? f.audioStats.packetsReceived : null,
      };
    }
    return { now: now(), myId: state.myId, errors: state.errors.length, feeds };
  }

  function renderRows() {
    const body = document.getElementById('rows');
    if (!body) return;
    body.innerHTML = '';
    for (const feed of Object.values(state.feeds)) {
      const v = feed.videoStats || {};
      const row = document.createElement('tr');
      const status = feed.firstFrameMs !== undefined ? 'decoding' : feed.startedMs !== undefined ? 'started' : 'subscribing';
      const cells = [feed.id, feed.display, status, feed.firstFrameMs, v.framesDecoded,
        (feed.audioStats || {}).packetsReceived, v.frameWidth ? v.frameWidth + 'x' + v.frameHeight : ''];
      cells.forEach((value, i) => {
        const td = document.createElement('td');
        td.textContent = value === undefined || value === null ? '' : String(value);
        if (i === 2 && feed.firstFrameMs !== undefined) td.className = 'ok';
        row.appendChild(td);
      });
      body.appendChild(row);
    }
  }

  // --- requests the node side makes after start -----------------------------------------------
  async function listParticipants() {
    const data = await send(pubHandle, { request: 'listparticipants', room: state.room });
    step('listparticipants', data);
    return data;
  }
  async function publisherRequest(request, okKey, timeoutMs) {
    const from = state.events.length;
    const sentMs = now();
    await send(pubHandle, { request });
    const reply = await nextMessage((m) => m[okKey] === 'ok' || m.error, timeoutMs, request + ' answer', from);
    return { sentMs, ms: now(), reply };
  }
  function unpublish(timeoutMs) {
    return publisherRequest('unpublish', 'unpublished', timeoutMs);
  }
  function leave(timeoutMs) {
    // The remote feeds' subscriber handles stay; their stats are no longer interesting.
    return publisherRequest('leave', 'leaving', timeoutMs);
  }
  async function destroyRoom(secret) {
    const data = await send(pubHandle, { request: 'destroy', room: state.room, secret });
    step('destroy answered', data);
    return data;
  }
  // Waits (bounded) for a publisher-handle event whose `key` equals `value`.
  async function waitEvent(key, value, timeoutMs) {
    const msg = await nextMessage((m) => m.videoroom === 'event' && m[key] === value, timeoutMs, key + ' ' + value, 0);
    const entry = state.events.find((e) => e.msg === msg);
    return { ms: entry ? entry.ms : now(), msg };
  }
  // The answer (not the ack) to the request with this transaction, from the wire log.
  function replyTo(transaction) {
    for (const e of wire) {
      if (e.dir !== 'recv' || !e.text || e.text.indexOf(transaction) < 0) continue;
      let parsed;
      try {
        parsed = JSON.parse(e.text);
      } catch (err) {
        continue;
      }
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
        if (m && m.transaction === transaction && m.janus !== 'ack') return m;
      }
    }
    return null;
  }
  function sentTransactions(verb, from) {
    const out = [];
    for (let i = from; i < wire.length; i++) {
      const e = wire[i];
      if (e.dir !== 'send' || !e.text) continue;
      try {
        const m = JSON.parse(e.text);
        if (m.janus === verb) out.push(m.transaction);
      } catch (err) {
        // not JSON: not ours
      }
    }
    return out;
  }
  async function awaitReplies(transactions, timeoutMs) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const replies = transactions.map(replyTo);
      if (replies.every((r) => r) || performance.now() > deadline) return replies.map((r) => (r ? r.janus + (r.error ? ' ' + r.error.code : '') : null));
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  // Detaches every handle (subscribers first, then the publisher), then destroys the session;
  // returns what the server answered to each request.
  async function shutdown(timeoutMs) {
    statsRunning = false;
    const result = {};
    let from = wire.length;
    const handles = Object.values(state.feeds).filter((f) => f.handle).map((f) => f.handle);
    if (pubHandle) handles.push(pubHandle);
    for (const h of handles) {
      await withTimeout(new Promise((resolve, reject) => h.detach({
        success: resolve,
        error: (e) => reject(new Error('detach ' + h.getId() + ': ' + e)),
      })), timeoutMs, 'detach');
    }
    const detachTx = sentTransactions('detach', from);
    result.detachRequests = detachTx.length;
    result.detachReplies = await awaitReplies(detachTx, timeoutMs);
    step('handles detached', result.detachReplies);
    // The server also sends a "detached" event per handle. Over HTTP, janus.js polls again as each
    // event arrives; a poll that reached the server after the destroy would be answered 404 (and
    // janus.js logs console errors). So let those events arrive and the last poll settle first.
    const ids = handles.map((h) => String(h.getId()));
    const detachedSeen = () => ids.filter((id) => wire.some((e) => e.dir === 'recv' && e.text &&
      e.text.indexOf('"detached"') >= 0 && e.text.indexOf(id) >= 0)).length;
    const settleUntil = performance.now() + 2000;
    while (detachedSeen() < ids.length && performance.now() < settleUntil) await new Promise((r) => setTimeout(r, 20));
    result.detachedEvents = detachedSeen();
    await new Promise((r) => setTimeout(r, 300));
    from = wire.length;
    await withTimeout(new Promise((resolve, reject) => janus.destroy({
      success: resolve,
      error: (e) => reject(new Error('destroy session: ' + e)),
    })), timeoutMs, 'destroy session');
    result.destroyReplies = await awaitReplies(sentTransactions('destroy', from), timeoutMs);
    step('session destroyed', result.destroyReplies);
    return result;
  }

  function snapshot() {
    const feeds = {};
    for (const [id, f] of Object.entries(state.feeds)) {
      const copy = Object.assign({}, f);
      delete copy.handle;
      delete copy.video;
      copy.remoteVideoSize = f.video ? { width: f.video.videoWidth, height: f.video.videoHeight, paused: f.video.paused } : null;
      feeds[id] = copy;
    }
    const events = state.events.map((e) => ({ ms: e.ms, msg: e.msg, jsep: e.jsep ? e.jsep.type : null }));
    return JSON.parse(JSON.stringify(Object.assign({}, state, { feeds, events, now: now() })));
  }

  window.vr = {
    start: (options) => start(options).catch((e) => {
      recordError('start', e);
      return { ok: false, error: e && e.message ? e.message : String(e) };
    }),
    snapshot, progress, listParticipants, unpublish, leave, destroyRoom, waitEvent, shutdown,
    wire: () => wire.slice(),
  };
  document.addEventListener('DOMContentLoaded', () => text('origin', location.origin));
})();
