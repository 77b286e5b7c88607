// Test page logic for videomixer_test.mjs: Debian's janus.js joins a video MCU room: attach
// junction.plugin.videomixer, createOffer with the (fake) camera and microphone, send `join` with
// the offer, handleRemoteJsep on the answer, play the composite in <video id="composite"> and the
// mix in <audio id="mix">. window.joinRoom(server, room, display, codec) starts (codec: a video
// codec name to offer alone, janus.js's setCodecPreferences; none: the browser's list);
// window.videoStats() reads the inbound video numbers (framesDecoded, frameWidth, frameHeight,
// codec) from getStats().
(function () {
  'use strict';

  // janus.js 1.1.x only reads Janus.webRTCAdapter.browserDetails (Debian ships no adapter.js).
  const ua = navigator.userAgent.match(/Chrom(?:e|ium)\/(\d+)/);
  const adapterShim = { browserDetails: { browser: 'chrome', version: ua ? Number(ua[1]) : 120 } };

  const state = { events: [], errors: [], joined: null, layout: null, answer: false, webrtcUp: false, remoteVideo: false };
  window.vmState = state;
  let handle = null;
  let session = null;
  // The ids the admin API's handle_info takes.
  window.vmIds = () => ({ session: session && session.getSessionId(), handle: handle && handle.getId() });

  function log(text) {
    document.getElementById('log').textContent += text + '\n';
  }

  window.joinRoom = function (server, room, display, codec) {
    return new Promise((resolve) => {
      Janus.init({
        debug: false,
        dependencies: Janus.useDefaultDependencies({ adapter: adapterShim }),
        callback: () => {
          const janus = new Janus({
            server,
            success: () => {
              session = janus;
              janus.attach({
                plugin: 'junction.plugin.videomixer',
                success: (h) => {
                  handle = h;
                  h.createOffer({
                    tracks: [
                      { type: 'audio', capture: true, recv: true },
                      Object.assign({ type: 'video', capture: { width: 640, height: 360 }, recv: true }, codec ? { codec } : {}),
                    ],
                    success: (offer) => h.send({ message: { request: 'join', room, display }, jsep: offer }),
                    error: (e) => state.errors.push('createOffer: ' + e),
                  });
                  resolve(true);
                },
                error: (e) => state.errors.push('attach: ' + e),
                onmessage: (msg, jsep) => {
                  state.events.push(msg);
                  log(JSON.stringify(msg));
                  if (msg.error_code) state.errors.push('plugin error ' + msg.error_code + ': ' + msg.error);
                  if (msg.videomixer === 'joined') state.joined = msg;
                  if (msg.layout) state.layout = msg.layout;
                  if (jsep) {
                    state.answer = true;
                    handle.handleRemoteJsep({ jsep });
                  }
                },
                webrtcState: (on) => {
                  if (on) state.webrtcUp = true;
                },
                onremotetrack: (track, mid, on) => {
                  if (!on) return;
                  if (track.kind === 'video') {
                    state.remoteVideo = true;
                    const el = document.getElementById('composite');
                    el.srcObject = new MediaStream([track]);
                    el.play().catch((e) => log('play video: ' + e));
                  } else {
                    const el = document.getElementById('mix');
                    el.srcObject = new MediaStream([track]);
                    el.play().catch((e) => log('play audio: ' + e));
                  }
                },
              });
            },
            error: (e) => {
              state.errors.push('session: ' + e);
              resolve(false);
            },
          });
        },
      });
    });
  };

  window.videoStats = async function () {
    const pc = handle && handle.webrtcStuff && handle.webrtcStuff.pc;
    if (!pc) return null;
    const report = await pc.getStats();
    let found = null;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && (s.kind || s.mediaType) === 'video') found = s;
    });
    if (!found) return null;
    const codec = found.codecId && report.get(found.codecId);
    return {
      codec: codec ? codec.mimeType : null,
      framesDecoded: found.framesDecoded || 0,
      frameWidth: found.frameWidth || 0,
      frameHeight: found.frameHeight || 0,
      packetsReceived: found.packetsReceived || 0,
      keyFramesDecoded: found.keyFramesDecoded || 0,
    };
  };
})();
