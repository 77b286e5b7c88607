// Test page logic for echotest_media_test.mjs: Debian's janus.js (loaded before this file as
// /janus.js) runs the EchoTest against Junction with audio and video, as Janus's own echotest
// demo does: attach janus.plugin.echotest, createOffer with the (fake) camera and microphone,
// send {audio:true, video:true} with the offer, handleRemoteJsep on the answer, show the echoed
// tracks in <video id="remote-video">. Then getStats() on janus.js's RTCPeerConnection
// (pluginHandle.webrtcStuff.pc) is polled for inbound-rtp video framesDecoded and inbound-rtp
// audio packetsReceived until the targets are met (or the deadline passes), and the handle is
// hung up and detached and the session destroyed.
//
// window.runMedia(server, options) -> Promise<result> (plain JSON). window.wire is the wire log
// (HTTP requests/responses and WebSocket frames) for diagnostics.
(function () {
  'use strict';

  // --- webrtc-adapter stand-in (Debian's package does not ship adapter.js) ---------------------
  // janus.js 1.1.x only reads Janus.webRTCAdapter.browserDetails.browser and .version.
  function browserDetails() {
    const ua = navigator.userAgent;
    let m;
    if ((m = ua.match(/Firefox\/(\d+)/))) return { browser: 'firefox', version: Number(m[1]) };
    if ((m = ua.match(/Chrom(?:e|ium)\/(\d+)/))) return { browser: 'chrome', version: Number(m[1]) };
    if ((m = ua.match(/Version\/(\d+).*Safari\//))) return { browser: 'safari', version: Number(m[1]) };
    return { browser: 'Not a supported browser.', version: null };
  }
  const adapterShim = { browserDetails: browserDetails() };

  // --- wire log ----------------------------------------------------------------------------------
  const wire = [];
  window.wire = wire;
  let seq = 0;
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
  const realFetch = window.fetch.bind(window);
  async function loggedFetch(url, options) {
    const method = (options && options.method) || 'GET';
    const body = options && typeof options.body === 'string' ? options.body : null;
    url = String(url);
    record({ transport: 'http', dir: 'send', method, url, text: body, msg: body ? parse(body) : null });
    try {
      const response = await realFetch(url, options);
      const text = await response.clone().text();
      record({ transport: 'http', dir: 'recv', method, url, status: response.status, text, msg: parse(text) });
      return response;
    } catch (e) {
      record({ transport: 'http', dir: 'error', method, url, error: String(e) });
      throw e;
    }
  }
  class LoggedWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      const u = String(url);
      record({ transport: 'ws', dir: 'connect', url: u, protocols });
      this.addEventListener('open', () => record({ transport: 'ws', dir: 'open', url: u, protocol: this.protocol }));
      this.addEventListener('message', (e) => record({ transport: 'ws', dir: 'recv', url: u, text: String(e.data), msg: parse(e.data) }));
      this.addEventListener('error', () => record({ transport: 'ws', dir: 'error', url: u }));
      this.addEventListener('close', (e) => record({ transport: 'ws', dir: 'close', url: u, code: e.code, reason: e.reason, wasClean: e.wasClean }));
    }
    send(data) {
      record({ transport: 'ws', dir: 'send', url: this.url, text: String(data), msg: parse(data) });
      super.send(data);
    }
  }
  function messagesOf(entry) {
    if (!entry.msg) return [];
    return Array.isArray(entry.msg) ? entry.msg : [entry.msg];
  }
  function replyTo(transaction, from) {
    for (let i = from; i < wire.length; i++) {
      const e = wire[i];
      if (e.dir !== 'recv') continue;
      for (const m of messagesOf(e)) if (m && m.transaction === transaction && m.janus !== 'ack') return m;
    }
    return null;
  }
  function lastSent(verb, from) {
    for (let i = wire.length - 1; i >= from; i--) {
      const e = wire[i];
      if (e.dir === 'send' && e.msg && e.msg.janus === verb) return e;
    }
    return null;
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
    const v = res.video || {};
    const cells = [res.transport, status, res.sessionId, res.handleId, res.createToFirstFrameMs,
      v.framesDecoded, (res.audio || {}).packetsReceived, v.frameWidth ? v.frameWidth + 'x' + v.frameHeight : ''];
    row.innerHTML = '';
    cells.forEach((value, i) => {
      const td = document.createElement('td');
      td.textContent = value === undefined || value === null ? '' : String(value);
      if (i === 1) td.className = res.done ? (res.ok ? 'ok' : 'fail') : 'running';
      row.appendChild(td);
    });
  }
  document.addEventListener('DOMContentLoaded', () => {
    document.getElementById('origin').textContent = location.origin;
  });

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

  let initPromise = null;
  function initJanus() {
    if (!initPromise) {
      initPromise = new Promise((resolve) => {
        Janus.init({
          // Janus.error goes to console.error, which the node side treats as a failure.
          debug: 'all',
          dependencies: Janus.useDefaultDependencies({ adapter: adapterShim, fetch: loggedFetch, WebSocket: LoggedWebSocket }),
          callback: resolve,
        });
      });
    }
    return initPromise;
  }

  // The inbound-rtp stats of one kind, plus its codec, from a getStats() report.
  function inbound(report, kind) {
    let found = null;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && (s.kind || s.mediaType) === kind) found = s;
    });
    if (!found) return null;
    const codec = found.codecId ? report.get(found.codecId) : null;
    return {
      packetsReceived: found.packetsReceived || 0,
      bytesReceived: found.bytesReceived || 0,
      packetsLost: found.packetsLost || 0,
      framesDecoded: found.framesDecoded,
      framesReceived: found.framesReceived,
      keyFramesDecoded: found.keyFramesDecoded,
      frameWidth: found.frameWidth,
      frameHeight: found.frameHeight,
      framesPerSecond: found.framesPerSecond,
      nackCount: found.nackCount,
      pliCount: found.pliCount,
      jitter: found.jitter,
      totalSamplesReceived: found.totalSamplesReceived,
      audioLevel: found.audioLevel,
      decoderImplementation: found.decoderImplementation,
      codec: codec ? codec.mimeType : null,
      ssrc: found.ssrc,
    };
  }
  function outbound(report, kind) {
    let found = null;
    report.forEach((s) => {
      if (s.type === 'outbound-rtp' && (s.kind || s.mediaType) === kind) found = s;
    });
    return found ? { packetsSent: found.packetsSent, framesEncoded: found.framesEncoded, codecId: found.codecId } : null;
  }
  function selectedPair(report) {
    let pair = null;
    report.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId);
    });
    if (!pair) return null;
    const cand = (id) => {
      const c = report.get(id);
      return c ? { type: c.candidateType, protocol: c.protocol, address: c.address || c.ip, port: c.port } : null;
    };
    return { state: pair.state, local: cand(pair.localCandidateId), remote: cand(pair.remoteCandidateId), rtt: pair.currentRoundTripTime };
  }

  // --- one run -----------------------------------------------------------------------------------
  // options: { setupTimeoutMs, mediaWindowMs, minFrames, statsIntervalMs }
  window.runMedia = function (server, options) {
    const transport = server.indexOf('ws') === 0 ? 'ws' : 'http';
    const setupTimeoutMs = options.setupTimeoutMs;
    const mediaWindowMs = options.mediaWindowMs;
    const minFrames = options.minFrames;
    const wireStart = wire.length;
    const res = {
      transport, server, ok: false, done: false, steps: [], lastStep: 'start',
      webrtcStates: [], mediaEvents: [], iceStates: [], remoteTracks: [], localTracks: [], samples: [],
    };
    let t0 = null; // performance.now() just before new Janus(): session create
    const now = () => Math.round(performance.now() - (t0 === null ? performance.now() : t0));

    function step(name, detail) {
      const ms = now();
      res.steps.push({ ms, name, detail });
      res.lastStep = name;
      logLine('[' + transport + ' +' + ms + 'ms] ' + name + (detail !== undefined ? ' ' + JSON.stringify(detail) : ''));
      renderRow(res);
    }

    return new Promise((resolve) => {
      let janus = null;
      let handle = null;
      let statsTimer = null;
      let setupTimer = null;
      let mediaTimer = null;
      const remoteStream = new MediaStream();
      const remoteVideo = document.getElementById('remote-video');
      const localVideo = document.getElementById('local-video');

      function finish(error) {
        if (res.done) return;
        clearTimeout(setupTimer);
        clearTimeout(mediaTimer);
        clearTimeout(statsTimer);
        res.done = true;
        res.ok = !error;
        res.error = error || null;
        res.totalMs = now();
        res.wire = wire.slice(wireStart).map((e) => ({ ...e, msg: undefined }));
        step(error ? 'FAILED: ' + error : 'done');
        resolve(JSON.parse(JSON.stringify(res)));
      }
      const fail = (what) => (err) => finish(what + ': ' + (err && err.message ? err.message : typeof err === 'string' ? err : JSON.stringify(err)));
      setupTimer = setTimeout(() => finish('no answer within ' + setupTimeoutMs + ' ms of create (last step: ' + res.lastStep + ')'), setupTimeoutMs);

      initJanus().then(() => {
        step('Janus.init done', adapterShim.browserDetails);
        t0 = performance.now();
        step('new Janus() (session create)');
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
        step('session created', res.sessionId);
        janus.attach({
          plugin: 'janus.plugin.echotest',
          opaqueId: 'junction-e2e-media-' + transport + '-' + Janus.randomString(12),
          success: onAttached,
          error: fail('attach error callback'),
          consentDialog: (on) => step('consentDialog', on),
          iceState: (state) => {
            res.iceStates.push({ ms: now(), state });
            step('iceState', state);
          },
          webrtcState: (on, reason) => {
            res.webrtcStates.push({ ms: now(), on, reason });
            if (on && res.webrtcUpMs === undefined) res.webrtcUpMs = now();
            step('webrtcState', { on, reason });
          },
          mediaState: (type, receiving, mid) => {
            res.mediaEvents.push({ ms: now(), type, receiving, mid });
            step('mediaState', { type, receiving, mid });
          },
          slowLink: (uplink, lost, mid) => step('slowLink', { uplink, lost, mid }),
          onmessage: onMessage,
          onlocaltrack: (track, on) => {
            res.localTracks.push({ ms: now(), kind: track.kind, on, label: track.label });
            step('onlocaltrack', { kind: track.kind, on, label: track.label });
            if (on && track.kind === 'video') {
              localVideo.srcObject = new MediaStream([track]);
              localVideo.play().catch(() => {});
            }
          },
          onremotetrack: (track, mid, on) => {
            res.remoteTracks.push({ ms: now(), kind: track.kind, mid, on });
            step('onremotetrack', { kind: track.kind, mid, on });
            if (on) {
              if (!remoteStream.getTracks().includes(track)) remoteStream.addTrack(track);
              if (remoteVideo.srcObject !== remoteStream) remoteVideo.srcObject = remoteStream;
              remoteVideo.play().then(
                () => { res.remotePlaying = true; },
                (e) => { res.remotePlayError = String(e); },
              );
            } else if (remoteStream.getTracks().includes(track)) {
              remoteStream.removeTrack(track);
            }
          },
          oncleanup: () => step('oncleanup'),
          ondetached: () => step('ondetached'),
        });
      }

      function onAttached(pluginHandle) {
        handle = pluginHandle;
        res.handleId = pluginHandle.getId();
        step('attached to janus.plugin.echotest', res.handleId);
        handle.createOffer({
          tracks: [
            { type: 'audio', capture: true, recv: true },
            { type: 'video', capture: true, recv: true },
          ],
          success: (jsep) => {
            res.offerSdp = jsep.sdp;
            step('offer created', { type: jsep.type, mlines: (jsep.sdp.match(/^m=/gm) || []).length });
            handle.send({
              message: { audio: true, video: true },
              jsep,
              success: () => step('message + offer sent'),
              error: fail('send error callback'),
            });
          },
          error: fail('createOffer error callback'),
        });
      }

      function onMessage(msg, jsep) {
        step('onmessage', { msg, jsep: jsep ? jsep.type : null });
        if (msg && msg.error) return finish('echotest error ' + JSON.stringify(msg));
        if (msg && msg.result !== undefined && res.result === undefined) res.result = msg.result;
        if (!jsep) return;
        if (res.answerMs !== undefined) return;
        res.answerMs = now();
        res.answerSdp = jsep.sdp;
        handle.handleRemoteJsep({
          jsep,
          success: () => {
            step('handleRemoteJsep done');
            startMedia();
          },
          error: fail('handleRemoteJsep error callback'),
        });
      }

      // --- media: poll getStats until framesDecoded > minFrames and audio packets keep coming ---
      function startMedia() {
        clearTimeout(setupTimer);
        mediaTimer = setTimeout(() => {
          const v = res.video || {};
          const a = res.audio || {};
          finish('media targets not met within ' + mediaWindowMs + ' ms of the answer: video framesDecoded=' + v.framesDecoded +
            ' (need > ' + minFrames + '), audio packetsReceived=' + a.packetsReceived + ' growing=' + !!res.audioGrowing);
        }, mediaWindowMs);
        pollStats();
      }

      async function pollStats() {
        if (res.done) return;
        const pc = handle && handle.webrtcStuff && handle.webrtcStuff.pc;
        if (!pc) return finish('pluginHandle.webrtcStuff.pc is gone');
        let report;
        try {
          report = await pc.getStats();
        } catch (e) {
          return fail('getStats')(e);
        }
        if (res.done) return;
        const ms = now();
        const video = inbound(report, 'video');
        const audio = inbound(report, 'audio');
        res.video = video;
        res.audio = audio;
        res.outVideo = outbound(report, 'video');
        res.outAudio = outbound(report, 'audio');
        res.pair = selectedPair(report);
        res.samples.push({ ms, frames: video ? video.framesDecoded : null, audioPackets: audio ? audio.packetsReceived : null });
        if (video && video.framesDecoded > 0 && res.createToFirstFrameMs === undefined) {
          res.createToFirstFrameMs = ms;
          step('first decoded frame', { framesDecoded: video.framesDecoded, codec: video.codec, size: video.frameWidth + 'x' + video.frameHeight });
        }
        if (video && video.framesDecoded > minFrames && res.framesTargetMs === undefined) {
          res.framesTargetMs = ms;
          step('framesDecoded > ' + minFrames, video.framesDecoded);
        }
        if (audio && audio.packetsReceived > 0 && res.firstAudioMs === undefined) {
          res.firstAudioMs = ms;
          res.firstAudioPackets = audio.packetsReceived;
          step('first audio packets', audio.packetsReceived);
        }
        if (audio && res.firstAudioPackets !== undefined && audio.packetsReceived > res.firstAudioPackets && !res.audioGrowing) {
          res.audioGrowing = true;
          step('audio packets growing', { from: res.firstAudioPackets, to: audio.packetsReceived });
        }
        const mediaEventsIn = ['audio', 'video'].every((k) => res.mediaEvents.some((e) => e.type === k && e.receiving === true));
        if (res.framesTargetMs !== undefined && res.audioGrowing && res.webrtcUpMs !== undefined && mediaEventsIn) {
          clearTimeout(mediaTimer);
          res.remoteVideoSize = { width: remoteVideo.videoWidth, height: remoteVideo.videoHeight };
          res.remoteVideoPaused = remoteVideo.paused;
          step('media targets met', { framesDecoded: video.framesDecoded, audioPackets: audio.packetsReceived, element: res.remoteVideoSize });
          return teardown().then(() => finish(null), fail('teardown'));
        }
        // Fine-grained until the first frame (that time is reported), then coarser.
        statsTimer = setTimeout(pollStats, res.createToFirstFrameMs === undefined ? 25 : 200);
      }

      // hangup (janus.js sends "hangup" and closes its PeerConnection), detach, destroy; each
      // request must get "success" from the server.
      async function teardown() {
        const limit = 5000;
        let from = wire.length;
        handle.hangup(true);
        const hangupReq = lastSent('hangup', from);
        if (!hangupReq) throw new Error('janus.js sent no hangup request');
        const hangupReply = await waitFor('reply to hangup', () => replyTo(hangupReq.msg.transaction, from), limit);
        res.hangupReply = hangupReply.janus;
        step('hung up', hangupReply.janus);

        from = wire.length;
        await new Promise((resolve, reject) => handle.detach({ success: resolve, error: (e) => reject(new Error('detach error callback: ' + e)) }));
        const detachReq = lastSent('detach', from);
        if (!detachReq) throw new Error('janus.js sent no detach request');
        const detachReply = await waitFor('reply to detach', () => replyTo(detachReq.msg.transaction, from), limit);
        res.detachReply = detachReply.janus;
        step('detached', detachReply.janus);
        // Let the "detached" event (and over HTTP the re-armed long poll) settle before destroying.
        await new Promise((r) => setTimeout(r, 300));

        from = wire.length;
        await new Promise((resolve, reject) => janus.destroy({ success: resolve, error: (e) => reject(new Error('destroy error callback: ' + e)) }));
        const destroyReq = lastSent('destroy', from);
        if (!destroyReq) throw new Error('janus.js sent no destroy request');
        const destroyReply = await waitFor('reply to destroy', () => replyTo(destroyReq.msg.transaction, from), limit);
        res.destroyReply = destroyReply.janus;
        step('session destroyed', destroyReply.janus);
        remoteVideo.srcObject = null;
        localVideo.srcObject = null;
      }
    });
  };
})();
