// The MCU room (junction.plugin.videomixer): one PeerConnection sends our camera and microphone
// and receives ONE composite picture of everyone plus a mix-minus audio. The layout (grid, active
// speaker, presenter) is per receiver: changing it here changes only what we receive.
import { Peer, rtpStats } from '../lib/peer.js';
import { $, connectSession, displayName, el, ensureRoom, pageUrl, params, roomNumber, showError, status } from './common.js';
import { renderNav } from './nav.js';

const PLUGIN = 'junction.plugin.videomixer';
const ROOM_EXISTS = 526;
const roomName = params.get('room') || 'demo';
const room = roomNumber(roomName);
const myName = displayName();

const state = { session: null, handle: null, peer: null, stream: null, myId: null, people: new Map(), layout: null };

renderNav();
$('#room-title').textContent = `“${roomName}” (${room})`;
document.title = `${roomName} · MCU room · Junction`;

function renderPeople() {
  $('#people').replaceChildren(...[...state.people.entries()].map(([id, p]) =>
    el('li', { class: p.talking ? 'talking' : '' }, el('span', { class: 'name' }, p.display + (id === state.myId ? ' (you)' : '')),
      el('span', { class: 'muted' }, p.setup ? 'connected' : 'joining'))));
  const presenter = $('#presenter');
  const current = presenter.value;
  presenter.replaceChildren(el('option', { value: '' }, '—'),
    ...[...state.people.entries()].map(([id, p]) => el('option', { value: String(id) }, p.display)));
  presenter.value = [...presenter.options].some((o) => o.value === current) ? current : '';
}

// Names over the composite, placed from the layout event's tile rectangles (canvas pixels).
function renderLayout(layout) {
  state.layout = layout;
  const labels = (layout.tiles || []).map((t) => el('span', {
    class: 'tile-name',
    style: `position:absolute;left:${(100 * t.x) / layout.width}%;top:${(100 * t.y) / layout.height}%;` +
      'background:rgba(0,0,0,.55);color:#fff;font-size:.8rem;padding:.05rem .35rem;border-radius:.25rem;margin:.2rem',
  }, t.display || String(t.id)));
  $('#tile-labels').replaceChildren(...labels);
  $('#composite-tile').style.aspectRatio = `${layout.width} / ${layout.height}`;
  $('#composite-info').textContent = `${layout.type} layout, ${layout.width}×${layout.height}, ${layout.tiles?.length ?? 0} tiles` +
    (layout.speaker ? `, speaker: ${state.people.get(layout.speaker)?.display ?? layout.speaker}` : '');
  if ($('#layout').value !== layout.type) $('#layout').value = layout.type;
}

function onEvent(data) {
  if (!data) return;
  if (data.videomixer === 'destroyed') {
    status('the room was destroyed', 'error');
    return;
  }
  if (data.layout && typeof data.layout === 'object') renderLayout(data.layout);
  if (data.participants) {
    for (const p of data.participants) state.people.set(p.id, { display: p.display || String(p.id), setup: p.setup, talking: p.talking });
    renderPeople();
  }
  if (data.leaving !== undefined) {
    state.people.delete(data.leaving);
    renderPeople();
  }
  if (data.error_code) showError('room', new Error(data.error));
}

async function start() {
  state.session = await connectSession();
  state.session.on('closed', (reason) => status(`connection lost (${reason})`, 'error'));
  state.handle = await state.session.attach(PLUGIN, { opaqueId: `mcu-${myName}` });
  state.handle.on('event', ({ data }) => onEvent(data));
  state.handle.on('webrtcup', () => {
    const me = state.people.get(state.myId);
    if (me) me.setup = true;
    renderPeople();
  });
  state.handle.on('hangup', (msg) => status(`the server closed our connection: ${msg.reason}`, 'error'));
  await ensureRoom(state.handle, room, { description: roomName }, ROOM_EXISTS);

  state.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
  $('#local').srcObject = state.stream;
  const composite = new MediaStream();
  $('#composite').srcObject = composite;
  state.peer = new Peer(state.handle, { onTrack: (e) => composite.addTrack(e.track) });
  for (const track of state.stream.getTracks()) state.peer.pc.addTransceiver(track, { direction: 'sendrecv' });
  const offer = await state.peer.offer();
  const { data, jsep } = await state.handle.message({ request: 'join', room, display: myName }, offer);
  if (!jsep) throw new Error('the server sent no answer');
  await state.peer.accept(jsep);
  state.myId = data.id;
  state.people.set(data.id, { display: myName, setup: false });
  for (const p of data.participants || []) state.people.set(p.id, { display: p.display || String(p.id), setup: p.setup, talking: p.talking });
  renderPeople();
  status(`in “${roomName}” as ${myName} (${state.session.transportKind})`, 'ok');
  for (const id of ['layout', 'presenter', 'show-self', 'mute', 'leave']) $(`#${id}`).disabled = false;
}

async function configure(body) {
  try {
    await state.handle.message({ request: 'configure', ...body });
  } catch (err) {
    showError('configure', err);
  }
}

$('#layout').addEventListener('change', () => {
  const body = { layout: $('#layout').value };
  if (body.layout === 'presenter' && $('#presenter').value) body.presenter = Number($('#presenter').value);
  configure(body);
});
$('#presenter').addEventListener('change', () => {
  if (!$('#presenter').value) return;
  $('#layout').value = 'presenter';
  configure({ layout: 'presenter', presenter: Number($('#presenter').value) });
});
$('#show-self').addEventListener('change', () => configure({ show_self: $('#show-self').checked }));
$('#mute').addEventListener('click', () => {
  const muted = $('#mute').getAttribute('aria-pressed') !== 'true';
  configure({ muted });
  $('#mute').setAttribute('aria-pressed', String(muted));
  $('#mute').textContent = muted ? 'Unmute' : 'Mute';
});
$('#leave').addEventListener('click', async () => {
  await leave();
  location.href = pageUrl('index.html');
});

async function leave() {
  await state.handle?.message({ request: 'leave' }).catch(() => {});
  state.peer?.close();
  state.stream?.getTracks().forEach((t) => t.stop());
  await state.session?.destroy().catch(() => {});
}

window.mcu = {
  state,
  layout: () => state.layout,
  participants: () => [...state.people.values()].map((p) => ({ ...p })),
  async compositeStats() {
    const stats = await rtpStats(state.peer.pc);
    return stats.inbound.find((s) => s.kind === 'video') || null;
  },
  leave,
};

start().catch((err) => showError('could not join', err));
