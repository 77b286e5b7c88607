// The SFU room (janus.plugin.videoroom): publish camera and microphone (optionally as three
// simulcast encodings), subscribe to every other publisher with a handle each, show who is in the
// room and who is talking, switch the simulcast quality per remote feed.
import { Peer, rtpStats } from '../lib/peer.js';
import { $, connectSession, displayName, el, ensureRoom, pageUrl, params, roomNumber, showError, status } from './common.js';
import { renderNav } from './nav.js';

const PLUGIN = 'janus.plugin.videoroom';
const ROOM_EXISTS = 427;
const roomName = params.get('room') || 'demo';
const room = roomNumber(roomName);
const myName = displayName();
const simulcast = params.get('simulcast') === '1';

// Encodings for simulcast publishing: rids h/m/l, full, half and quarter resolution.
const SIMULCAST_ENCODINGS = [
  { rid: 'h', active: true, maxBitrate: 900_000 },
  { rid: 'm', active: true, maxBitrate: 300_000, scaleResolutionDownBy: 2 },
  { rid: 'l', active: true, maxBitrate: 100_000, scaleResolutionDownBy: 4 },
];
const SUBSTREAMS = [['2', 'high'], ['1', 'medium'], ['0', 'low']];

const state = {
  session: null,
  publisher: null, // the handle that joined as publisher
  peer: null, // its PeerConnection
  myId: null,
  privateId: null,
  stream: null, // camera + microphone
  videoSender: null, // the RTCRtpSender of our video (the camera or the screen)
  screen: null, // screen capture track while sharing
  participants: new Map(), // id -> { display, publishing, talking }
  feeds: new Map(), // publisher id -> { handle, peer, tile, video, display, simulcast }
  talkingEvents: [], // { id, talking } in the order they came
};

renderNav();
$('#room-title').textContent = `“${roomName}” (${room})`;
document.title = `${roomName} · SFU room · Junction`;

function renderPeople() {
  const items = [...state.participants.entries()].map(([id, p]) =>
    el('li', { class: p.talking ? 'talking' : '', 'data-id': String(id) },
      el('span', { class: 'name' }, p.display + (id === state.myId ? ' (you)' : '')),
      el('span', { class: 'muted' }, p.talking ? 'talking' : p.publishing ? 'on camera' : 'here')));
  $('#people').replaceChildren(...items);
}

function setParticipant(id, changes) {
  const p = state.participants.get(id) || { display: String(id), publishing: false, talking: false };
  Object.assign(p, changes);
  state.participants.set(id, p);
  renderPeople();
  const feed = state.feeds.get(id);
  if (feed) feed.tile.classList.toggle('talking', !!p.talking);
  if (id === state.myId) $('#local-tile')?.classList.toggle('talking', !!p.talking);
}

function tile(id, label, { local = false } = {}) {
  const video = el('video', { autoplay: true, playsInline: true, muted: local });
  video.muted = local; // the attribute alone is not enough for autoplay with sound
  const labelRow = el('div', { class: 'label' }, el('span', {}, label));
  const node = el('div', { class: 'tile', id: local ? 'local-tile' : `feed-${id}` }, video, labelRow);
  $('#videos').append(node);
  return { node, video, labelRow };
}

async function start() {
  state.session = await connectSession();
  state.session.on('timeout', () => status('the session expired: reload the page', 'error'));
  state.session.on('closed', (reason) => status(`connection lost (${reason}): reload the page`, 'error'));
  status(`connected over ${state.session.transportKind}; joining ...`);

  const handle = await state.session.attach(PLUGIN, { opaqueId: `sfu-${myName}` });
  state.publisher = handle;
  // The bitrate is the REMB cap the room sends publishers: 2 Mbit/s leaves room for all three
  // simulcast layers (900 + 300 + 100 kbit/s); a lower cap starves the high layer.
  await ensureRoom(handle, room, {
    description: roomName, publishers: 16, bitrate: 2_000_000,
    audiolevel_event: true, audio_active_packets: 50, audio_level_average: 40,
  }, ROOM_EXISTS);
  handle.on('event', ({ data }) => onRoomEvent(data));
  handle.on('hangup', (msg) => status(`the server closed our connection: ${msg.reason}`, 'error'));

  const { data: joined } = await handle.message({ request: 'join', ptype: 'publisher', room, display: myName });
  state.myId = joined.id;
  state.privateId = joined.private_id;
  setParticipant(state.myId, { display: myName, publishing: false });
  for (const a of joined.attendees || []) setParticipant(a.id, { display: a.display || String(a.id) });
  await publish();
  for (const p of joined.publishers || []) addPublisher(p);
  status(`in room “${roomName}” as ${myName} (${state.session.transportKind})`, 'ok');
  for (const id of ['mute', 'camera', 'screen', 'leave']) $(`#${id}`).disabled = false;
}

async function publish() {
  state.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
  const local = tile(state.myId, `${myName} (you)`, { local: true });
  local.video.srcObject = state.stream;
  const peer = new Peer(state.publisher);
  state.peer = peer;
  const [audio] = state.stream.getAudioTracks();
  const [video] = state.stream.getVideoTracks();
  if (audio) peer.pc.addTransceiver(audio, { direction: 'sendonly', streams: [state.stream] });
  if (video) {
    state.videoSender = peer.pc.addTransceiver(video, {
      direction: 'sendonly',
      streams: [state.stream],
      sendEncodings: simulcast ? SIMULCAST_ENCODINGS.map((e) => ({ ...e })) : undefined,
    }).sender;
  }
  const offer = await peer.offer();
  const { jsep } = await state.publisher.message({ request: 'publish', audio: !!audio, video: !!video, display: myName }, offer);
  if (!jsep) throw new Error('the server sent no answer to our offer');
  await peer.accept(jsep);
  setParticipant(state.myId, { publishing: true });
  $('#publishing').textContent = simulcast ? 'publishing simulcast: high, medium, low' : 'publishing one encoding';
}

function onRoomEvent(data) {
  if (!data || data.videoroom === undefined) return;
  if (data.videoroom === 'destroyed') {
    status('the room was destroyed', 'error');
    return;
  }
  if (data.videoroom === 'talking' || data.videoroom === 'stopped-talking') {
    state.talkingEvents.push({ id: data.id, talking: data.videoroom === 'talking' });
    setParticipant(data.id, { talking: data.videoroom === 'talking' });
    return;
  }
  if (data.joining) setParticipant(data.joining.id, { display: data.joining.display || String(data.joining.id) });
  for (const p of data.publishers || []) addPublisher(p);
  if (data.unpublished !== undefined) {
    if (data.unpublished === 'ok') return; // our own unpublish
    removeFeed(data.unpublished);
    setParticipant(data.unpublished, { publishing: false, talking: false });
  }
  const gone = data.leaving ?? data.kicked;
  if (gone !== undefined && gone !== 'ok') {
    removeFeed(gone);
    state.participants.delete(gone);
    renderPeople();
  }
  if (data.error_code) showError('room', new Error(data.error));
}

function addPublisher(p) {
  if (p.id === state.myId) return;
  const streams = p.streams || [];
  const isSimulcast = streams.some((s) => s.type === 'video' && s.simulcast);
  setParticipant(p.id, { display: p.display || String(p.id), publishing: true });
  if (state.feeds.has(p.id)) return;
  subscribe(p.id, p.display || String(p.id), isSimulcast).catch((err) => {
    removeFeed(p.id);
    showError(`could not watch ${p.display || p.id}`, err);
  });
}

async function subscribe(feedId, display, isSimulcast) {
  const view = tile(feedId, display);
  const feed = { handle: null, peer: null, tile: view.node, video: view.video, display, simulcast: isSimulcast };
  state.feeds.set(feedId, feed);
  if (isSimulcast) {
    const choice = el('select', { 'aria-label': `quality of ${display}`, class: 'quality' },
      SUBSTREAMS.map(([value, label]) => el('option', { value }, label)));
    choice.addEventListener('change', () => {
      feed.handle?.message({ request: 'configure', substream: Number(choice.value) })
        .catch((err) => showError(`quality of ${display}`, err));
    });
    view.labelRow.append(choice);
  }
  const remote = new MediaStream();
  view.video.srcObject = remote;
  feed.handle = await state.session.attach(PLUGIN, { opaqueId: `sfu-${myName}-watch` });
  feed.peer = new Peer(feed.handle, { onTrack: (e) => remote.addTrack(e.track) });
  const { jsep } = await feed.handle.message({
    request: 'join', ptype: 'subscriber', room, private_id: state.privateId, streams: [{ feed: feedId }],
  });
  if (!state.feeds.has(feedId)) return; // left while we were subscribing
  const answer = await feed.peer.answer(jsep);
  await feed.handle.message({ request: 'start' }, answer);
}

function removeFeed(id) {
  const feed = state.feeds.get(id);
  if (!feed) return;
  state.feeds.delete(id);
  feed.tile.remove();
  feed.peer?.close();
  feed.handle?.detach().catch(() => {});
}

// --- controls -------------------------------------------------------------------------------
function toggle(button, on) {
  button.setAttribute('aria-pressed', on ? 'true' : 'false');
}

$('#mute').addEventListener('click', () => {
  const [track] = state.stream.getAudioTracks();
  if (!track) return;
  track.enabled = !track.enabled;
  toggle($('#mute'), !track.enabled);
  $('#mute').textContent = track.enabled ? 'Mute' : 'Unmute';
});

$('#camera').addEventListener('click', () => {
  const [track] = state.stream.getVideoTracks();
  if (!track) return;
  track.enabled = !track.enabled;
  toggle($('#camera'), !track.enabled);
  $('#camera').textContent = track.enabled ? 'Camera off' : 'Camera on';
});

async function stopSharing() {
  if (!state.screen) return;
  const screen = state.screen;
  state.screen = null;
  screen.stop();
  const [camera] = state.stream.getVideoTracks();
  await state.videoSender.replaceTrack(camera);
  $('#local-tile video').srcObject = state.stream;
  toggle($('#screen'), false);
  $('#screen').textContent = 'Share screen';
}

$('#screen').addEventListener('click', async () => {
  if (state.screen) {
    await stopSharing().catch((err) => showError('stop sharing', err));
    return;
  }
  try {
    const capture = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    const [track] = capture.getVideoTracks();
    await state.videoSender.replaceTrack(track);
    state.screen = track;
    track.addEventListener('ended', () => stopSharing().catch((err) => showError('stop sharing', err)));
    $('#local-tile video').srcObject = capture;
    toggle($('#screen'), true);
    $('#screen').textContent = 'Stop sharing';
  } catch (err) {
    showError('screen share', err);
  }
});

$('#leave').addEventListener('click', async () => {
  await leave();
  location.href = pageUrl('index.html');
});

async function leave() {
  for (const id of [...state.feeds.keys()]) removeFeed(id);
  await state.publisher?.message({ request: 'leave' }).catch(() => {});
  state.peer?.close();
  state.stream?.getTracks().forEach((t) => t.stop());
  state.screen?.stop();
  await state.session?.destroy().catch(() => {});
}

// What the page shows, for tests and for the curious (window.sfu in the console).
window.sfu = {
  state,
  participants: () => [...state.participants.values()].map((p) => ({ ...p })),
  async feedStats() {
    const out = [];
    for (const [id, feed] of state.feeds) {
      if (!feed.peer) continue;
      const stats = await rtpStats(feed.peer.pc);
      const video = stats.inbound.find((s) => s.kind === 'video');
      out.push({ id, display: feed.display, simulcast: feed.simulcast, framesDecoded: video?.framesDecoded ?? 0,
        width: video?.width ?? 0, height: video?.height ?? 0 });
    }
    return out;
  },
  async publishStats() {
    return state.peer ? rtpStats(state.peer.pc) : null;
  },
  leave,
};

start().catch((err) => showError('could not join', err));
