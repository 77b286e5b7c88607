// Test page for tests/e2e/simulcast_test.mjs: speaks the Janus JSON API over a WebSocket directly
// (no janus.js, so every request and event is ours to see). One RTCPeerConnection publishes a
// fake camera with three simulcast encodings (rid h, m, l; janus.js's order, highest first);
// another subscribes to that feed. window.sc exposes the steps to the test.
'use strict';

window.sc = (() => {
  const state = { events: [], errors: [], samples: [], t0: performance.now() };
  let ws = null;
  let session = null;
  const pending = new Map(); // transaction -> {resolve, reject, acked}
  const handleEvents = new Map(); // handle id -> [callback]
  const ms = () => Math.round(performance.now() - state.t0);

  function send(message) {
    const transaction = Math.random().toString(36).slice(2);
    message.transaction = transaction;
    if (session !== null && message.janus !== 'create') message.session_id = session;
    return new Promise((resolve, reject) => {
      pending.set(transaction, { resolve, reject, async: message.janus === 'message' && message.async });
      delete message.async;
      ws.send(JSON.stringify(message));
    });
  }

  function onMessage(event) {
    const msg = JSON.parse(event.data);
    if (msg.janus === 'ack') return;
    if (msg.transaction && pending.has(msg.transaction)) {
      const p = pending.get(msg.transaction);
      pending.delete(msg.transaction);
      if (msg.janus === 'error') p.reject(new Error(JSON.stringify(msg.error)));
      else p.resolve(msg);
    }
    if (msg.sender !== undefined) for (const cb of handleEvents.get(msg.sender) || []) cb(msg);
    if (msg.janus === 'event') state.events.push({ ms: ms(), sender: msg.sender, data: msg.plugindata && msg.plugindata.data });
  }

  async function attach() {
    const r = await send({ janus: 'attach', plugin: 'janus.plugin.videoroom' });
    const id = r.data.id;
    handleEvents.set(id, []);
    return id;
  }
  const message = (handle, body, jsep) => send({ janus: 'message', handle_id: handle, body, jsep, async: true });

  // Candidates both ways: ours as they come, theirs from trickle events.
  function wire(pc, handle) {
    pc.onicecandidate = (e) => {
      const candidate = e.candidate ? { candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex } : { completed: true };
      send({ janus: 'trickle', handle_id: handle, candidate }).catch((err) => state.errors.push(String(err)));
    };
    handleEvents.get(handle).push((msg) => {
      if (msg.janus !== 'trickle') return;
      const c = msg.candidate;
      if (!c || c.completed) pc.addIceCandidate(null).catch(() => {});
      else pc.addIceCandidate(c).catch((err) => state.errors.push('addIceCandidate: ' + err));
    });
  }

  // The next plugin event on `handle` for which pred(data) holds.
  function nextEvent(handle, pred, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timeout waiting for an event')), timeoutMs);
      handleEvents.get(handle).push((msg) => {
        const d = msg.plugindata && msg.plugindata.data;
        if (msg.janus === 'event' && d && pred(d)) {
          clearTimeout(timer);
          resolve({ data: d, jsep: msg.jsep });
        }
      });
    });
  }

  let pub = null, sub = null, subHandle = null, videoMid = null;

  async function start({ server, room, bitrate }) {
    ws = new WebSocket(server, 'janus-protocol');
    ws.onmessage = onMessage;
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('websocket failed')); });
    session = (await send({ janus: 'create' })).data.id;
    setInterval(() => send({ janus: 'keepalive' }).catch(() => {}), 20000);

    const pubHandle = await attach();
    const created = await send({ janus: 'message', handle_id: pubHandle, body: { request: 'create', room, bitrate, publishers: 2 } });
    if (created.plugindata.data.videoroom !== 'created') throw new Error('create: ' + JSON.stringify(created.plugindata.data));
    const joined = await message(pubHandle, { request: 'join', ptype: 'publisher', room, display: 'simulcaster' });
    const feed = joined.plugindata.data.id;

    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 }, audio: false });
    pub = new RTCPeerConnection();
    wire(pub, pubHandle);
    pub.addTransceiver(stream.getVideoTracks()[0], {
      direction: 'sendonly',
      sendEncodings: [
        { rid: 'h', maxBitrate: 900000 },
        { rid: 'm', maxBitrate: 300000, scaleResolutionDownBy: 2 },
        { rid: 'l', maxBitrate: 100000, scaleResolutionDownBy: 4 },
      ],
    });
    const offer = await pub.createOffer();
    await pub.setLocalDescription(offer);
    const published = await message(pubHandle, { request: 'publish' }, { type: 'offer', sdp: offer.sdp });
    await pub.setRemoteDescription(published.jsep);
    const streams = published.plugindata.data.streams || [];

    subHandle = await attach();
    const attached = await message(subHandle, { request: 'join', ptype: 'subscriber', room, streams: [{ feed }] });
    sub = new RTCPeerConnection();
    wire(sub, subHandle);
    sub.ontrack = (e) => { document.getElementById('remote').srcObject = new MediaStream([e.track]); };
    await sub.setRemoteDescription(attached.jsep);
    const answer = await sub.createAnswer();
    await sub.setLocalDescription(answer);
    const started = await message(subHandle, { request: 'start' }, { type: 'answer', sdp: answer.sdp });
    videoMid = attached.plugindata.data.streams.find((s) => s.type === 'video').mid;
    sample();
    return { feed, publishedStreams: streams, started: started.plugindata.data, offerHasSimulcast: /a=simulcast:send h;m;l/.test(offer.sdp) };
  }

  // Every 100 ms: the subscriber's decoded frames and size, the publisher's per-rid output.
  async function sample() {
    for (;;) {
      const s = { ms: ms(), rids: {} };
      (await sub.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') {
          s.framesDecoded = r.framesDecoded || 0;
          s.frameWidth = r.frameWidth || 0;
          s.frameHeight = r.frameHeight || 0;
          s.packetsReceived = r.packetsReceived || 0;
          s.packetsLost = r.packetsLost || 0;
          s.nackCount = r.nackCount || 0;
          s.pliCount = r.pliCount || 0;
          s.framesReceived = r.framesReceived || 0;
          s.keyFramesDecoded = r.keyFramesDecoded || 0;
          s.framesDropped = r.framesDropped || 0;
        }
      });
      (await pub.getStats()).forEach((r) => {
        if (r.type === 'outbound-rtp' && r.kind === 'video' && r.rid)
          s.rids[r.rid] = { frameWidth: r.frameWidth || 0, framesEncoded: r.framesEncoded || 0, active: r.active, limitation: r.qualityLimitationReason };
      });
      state.samples.push(s);
      if (state.samples.length > 3000) state.samples.shift();
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function configure(substream) {
    const r = await message(subHandle, { request: 'configure', streams: [{ mid: videoMid, substream }] });
    return r.plugindata.data;
  }

  return { start, configure, state, last: () => state.samples[state.samples.length - 1] || null, samples: (since) => state.samples.filter((s) => s.ms >= since), now: ms };
})();
