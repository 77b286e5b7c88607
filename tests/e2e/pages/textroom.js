// Joins a Junction text room the way Janus's textroom demo does: attach janus.plugin.textroom,
// `setup` -> the server's offer, answer with a data channel (`ack`), then `join` on the channel.
// window.joinTextRoom(server, room, username) resolves with the join reply; window.sendText
// sends a public message and resolves with its ack; window.roomEvents holds what the room sent.
'use strict';

window.roomEvents = [];
const pending = {};
let handle = null;

function note(text) {
  document.getElementById('log').textContent += text + '\n';
}

function channelRequest(body) {
  return new Promise((resolve, reject) => {
    const transaction = Janus.randomString(12);
    pending[transaction] = resolve;
    handle.data({ text: JSON.stringify(Object.assign({ transaction }, body)), error: reject });
  });
}

window.joinTextRoom = (server, room, username) =>
  new Promise((resolve, reject) => {
    // janus.js wants webrtc-adapter only for its browser detection; this test runs Chromium.
    const version = Number((navigator.userAgent.match(/Chrom(?:e|ium)\/(\d+)/) || [])[1]);
    Janus.init({
      debug: false,
      dependencies: Janus.useDefaultDependencies({ adapter: { browserDetails: { browser: 'chrome', version } } }),
      callback: () => {
        const janus = new Janus({
          server,
          error: reject,
          success: () =>
            janus.attach({
              plugin: 'janus.plugin.textroom',
              error: reject,
              success: (h) => {
                handle = h;
                handle.send({ message: { request: 'setup' } });
              },
              onmessage: (msg, jsep) => {
                if (msg.error) reject(new Error(msg.error));
                if (!jsep) return;
                handle.createAnswer({
                  jsep,
                  tracks: [{ type: 'data' }],
                  success: (ours) => handle.send({ message: { request: 'ack' }, jsep: ours }),
                  error: reject,
                });
              },
              ondataopen: () => {
                note('data channel open');
                channelRequest({ textroom: 'join', room, username }).then(resolve, reject);
              },
              ondata: (text) => {
                const msg = JSON.parse(text);
                note(text);
                if (msg.transaction && pending[msg.transaction]) {
                  pending[msg.transaction](msg);
                  delete pending[msg.transaction];
                } else {
                  window.roomEvents.push(msg);
                }
              },
            }),
        });
      },
    });
  });

window.sendText = (room, text) => channelRequest({ textroom: 'message', room, text });
