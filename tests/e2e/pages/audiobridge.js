// Test page logic for audiobridge_test.mjs: Debian's janus.js joins an AudioBridge room the way
// Janus's audiobridge demo does: attach janus.plugin.audiobridge, `join`, then createOffer with
// the (fake) microphone and send `configure` {muted:false} with it, handleRemoteJsep on the
// answer, play the mix in <audio id="remote-audio">. Then getStats() on janus.js's
// RTCPeerConnection is polled for the inbound audio (packets, totalAudioEnergy) until the
// deadline. window.joinRoom(server, room, display) starts; window.audioStats() reads the numbers.
(function () {
  'use strict';

  // janus.js 1.1.x only reads Janus.webRTCAdapter.browserDetails (Debian ships no adapter.js).
  const ua = navigator.userAgent.match(/Chrom(?:e|ium)\/(\d+)/);
  const adapterShim = { browserDetails: { browser: 'chrome', version: ua ? Number(ua[1]) : 120 } };

  const state = { events: [], errors: [], joined: null, answer: false, webrtcUp: false, remoteTrack: false };
  window.abState = state;
  let handle = null;

  function log(text) {
    document.getElementById('log').textContent += text + '\n';
  }

  window.joinRoom = function (server, room, display) {
    return new Promise((resolve) => {
      Janus.init({
        debug: false,
        dependencies: Janus.useDefaultDependencies({ adapter: adapterShim }),
        callback: () => {
          const janus = new Janus({
            server,
            success: () => {
              janus.attach({
                plugin: 'janus.plugin.audiobridge',
                success: (h) => {
                  handle = h;
                  h.send({ message: { request: 'join', room, display } });
                  resolve(true);
                },
                error: (e) => state.errors.push('attach: ' + e),
                onmessage: (msg, jsep) => {
                  state.events.push(msg);
                  log(JSON.stringify(msg));
                  if (msg.audiobridge === 'joined' && !state.joined) {
                    state.joined = msg;
                    handle.createOffer({
                      // No voice processing: the fake microphone's steady tone would be treated as noise.
                      tracks: [{ type: 'audio', capture: { echoCancellation: false, noiseSuppression: false, autoGainControl: false }, recv: true }],
                      success: (offer) => handle.send({ message: { request: 'configure', muted: false }, jsep: offer }),
                      error: (e) => state.errors.push('createOffer: ' + e),
                    });
                  }
                  if (jsep) {
                    state.answer = true;
                    handle.handleRemoteJsep({ jsep });
                  }
                },
                webrtcState: (on) => {
                  if (on) state.webrtcUp = true;
                },
                onremotetrack: (track, mid, on) => {
                  if (!on || track.kind !== 'audio') return;
                  state.remoteTrack = true;
                  const el = document.getElementById('remote-audio');
                  el.srcObject = new MediaStream([track]);
                  el.play().catch((e) => log('play: ' + e));
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

  window.audioStats = async function () {
    const pc = handle && handle.webrtcStuff && handle.webrtcStuff.pc;
    if (!pc) return null;
    const report = await pc.getStats();
    let found = null;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && (s.kind || s.mediaType) === 'audio') found = s;
    });
    if (!found) return null;
    return {
      packetsReceived: found.packetsReceived || 0,
      packetsLost: found.packetsLost || 0,
      totalAudioEnergy: found.totalAudioEnergy || 0,
      totalSamplesDuration: found.totalSamplesDuration || 0,
      audioLevel: found.audioLevel || 0,
    };
  };
})();
