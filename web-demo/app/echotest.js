// The echo test (janus.plugin.echotest): our camera and microphone go to the server and come
// back; the plugin can stop echoing audio or video and cap the bitrate (REMB).
import { Peer, rtpStats } from '../lib/peer.js';
import { $, connectSession, showError, status } from './common.js';
import { renderNav } from './nav.js';

renderNav();
const state = { session: null, handle: null, peer: null, stream: null, audio: true, video: true };

async function start() {
  state.session = await connectSession();
  state.session.on('closed', (reason) => status(`connection lost (${reason})`, 'error'));
  state.handle = await state.session.attach('janus.plugin.echotest');
  state.handle.on('webrtcup', () => status(`echoing (${state.session.transportKind})`, 'ok'));
  state.handle.on('hangup', (msg) => status(`the server hung up: ${msg.reason}`, 'error'));
  state.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
  $('#local').srcObject = state.stream;
  const echoed = new MediaStream();
  $('#echo').srcObject = echoed;
  state.peer = new Peer(state.handle, { onTrack: (e) => echoed.addTrack(e.track) });
  for (const track of state.stream.getTracks()) state.peer.pc.addTransceiver(track, { direction: 'sendrecv' });
  const offer = await state.peer.offer();
  const { jsep } = await state.handle.message({ audio: true, video: true }, offer);
  if (!jsep) throw new Error('the server sent no answer');
  await state.peer.accept(jsep);
  status('connected, waiting for media ...');
  for (const id of ['audio', 'video', 'bitrate']) $(`#${id}`).disabled = false;
  setInterval(showStats, 1000);
}

async function showStats() {
  const stats = await rtpStats(state.peer.pc);
  const video = stats.inbound.find((s) => s.kind === 'video');
  $('#echo-stats').textContent = video ? `${video.width || 0}×${video.height || 0}, ${video.framesDecoded || 0} frames` : '';
}

async function configure(body) {
  try {
    await state.handle.message(body);
  } catch (err) {
    showError('configure', err);
  }
}

$('#audio').addEventListener('click', async () => {
  state.audio = !state.audio;
  await configure({ audio: state.audio });
  $('#audio').setAttribute('aria-pressed', String(!state.audio));
  $('#audio').textContent = state.audio ? 'Stop audio echo' : 'Resume audio echo';
});

$('#video').addEventListener('click', async () => {
  state.video = !state.video;
  await configure({ video: state.video });
  $('#video').setAttribute('aria-pressed', String(!state.video));
  $('#video').textContent = state.video ? 'Stop video echo' : 'Resume video echo';
});

$('#bitrate').addEventListener('change', () => configure({ bitrate: Number($('#bitrate').value) }));

window.echotest = {
  state,
  stats: () => rtpStats(state.peer.pc),
};

start().catch((err) => showError('echo test', err));
