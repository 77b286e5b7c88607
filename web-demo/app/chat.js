// Text chat over a data channel (janus.plugin.textroom): the Janus API only sets up the
// PeerConnection (setup -> the server's offer, ack -> our answer); joining, messages and
// whispers go over the data channel as {"textroom": ..., "transaction": ...} requests.
import { Peer } from '../lib/peer.js';
import { $, connectSession, displayName, el, ensureRoom, params, roomNumber, showError, status } from './common.js';
import { renderNav } from './nav.js';

const PLUGIN = 'janus.plugin.textroom';
const ROOM_EXISTS = 418;
const roomName = params.get('room') || 'demo';
const room = roomNumber(roomName);
// The room's username must be unique: a random suffix keeps two tabs of one person apart.
const myName = displayName();
const username = `${myName.replace(/[^\w.-]/g, '_')}-${Math.random().toString(36).slice(2, 7)}`;

const state = { session: null, handle: null, peer: null, channel: null, people: new Map(), pending: new Map(), received: [] };
let counter = 0;

renderNav();
$('#room-title').textContent = `“${roomName}” (${room})`;

function addLine(parts, kind = '') {
  const box = $('#messages');
  box.append(el('p', { class: kind }, parts));
  box.scrollTop = box.scrollHeight;
}

function renderPeople() {
  $('#people').replaceChildren(...[...state.people.entries()].map(([user, display]) =>
    el('li', {}, el('span', { class: 'name' }, display + (user === username ? ' (you)' : '')))));
  const to = $('#to');
  const current = to.value;
  to.replaceChildren(el('option', { value: '' }, 'everyone'),
    ...[...state.people.entries()].filter(([user]) => user !== username).map(([user, display]) => el('option', { value: user }, `only ${display}`)));
  to.value = [...to.options].some((o) => o.value === current) ? current : '';
}

// A request on the data channel; resolves with the answer that carries its transaction.
function channelRequest(body) {
  const transaction = `c${++counter}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      state.pending.delete(transaction);
      reject(new Error(`no answer to ${body.textroom} within 10 s`));
    }, 10_000);
    state.pending.set(transaction, { resolve, reject, timer });
    state.channel.send(JSON.stringify({ ...body, transaction }));
  });
}

function onChannelMessage(text) {
  let msg;
  try {
    msg = JSON.parse(text);
  } catch {
    console.warn('unparseable chat message ignored');
    return;
  }
  const pending = msg.transaction && state.pending.get(msg.transaction);
  if (pending) {
    clearTimeout(pending.timer);
    state.pending.delete(msg.transaction);
    if (msg.textroom === 'error') pending.reject(new Error(`${msg.error} (${msg.error_code})`));
    else pending.resolve(msg);
    return;
  }
  switch (msg.textroom) {
    case 'message': {
      const who = state.people.get(msg.from) || msg.from;
      state.received.push({ from: msg.from, text: msg.text, whisper: !!msg.whisper });
      addLine([el('span', { class: 'from' }, `${who}${msg.whisper ? ' (only to you)' : ''}: `), msg.text]);
      break;
    }
    case 'join':
      state.people.set(msg.username, msg.display || msg.username);
      addLine(`${msg.display || msg.username} joined`, 'system');
      renderPeople();
      break;
    case 'leave':
      addLine(`${state.people.get(msg.username) || msg.username} left`, 'system');
      state.people.delete(msg.username);
      renderPeople();
      break;
    case 'kicked':
      addLine(`${state.people.get(msg.username) || msg.username} was removed`, 'system');
      state.people.delete(msg.username);
      renderPeople();
      break;
    case 'announcement':
      addLine(`announcement: ${msg.text}`, 'system');
      break;
    case 'destroyed':
      status('the room was destroyed', 'error');
      break;
    default:
      break;
  }
}

async function start() {
  state.session = await connectSession();
  state.session.on('closed', (reason) => status(`connection lost (${reason})`, 'error'));
  state.handle = await state.session.attach(PLUGIN, { opaqueId: `chat-${myName}` });
  await ensureRoom(state.handle, room, { description: roomName, history: 20 }, ROOM_EXISTS);
  state.peer = new Peer(state.handle);
  const { jsep } = await state.handle.message({ request: 'setup' });
  if (!jsep) throw new Error('the server sent no offer');
  // Our side opens the channel (the server accepts it through DCEP once SCTP is up).
  state.channel = state.peer.pc.createDataChannel('JanusDataChannel', { ordered: true });
  const opened = new Promise((resolve, reject) => {
    state.channel.onopen = resolve;
    setTimeout(() => reject(new Error('the data channel did not open within 15 s')), 15_000);
  });
  state.channel.onmessage = (e) => onChannelMessage(e.data);
  state.channel.onclose = () => status('the chat channel closed', 'error');
  const answer = await state.peer.answer(jsep);
  await state.handle.message({ request: 'ack' }, answer);
  await opened;
  const joined = await channelRequest({ textroom: 'join', room, username, display: myName });
  state.people.set(username, myName);
  for (const p of joined.participants || []) state.people.set(p.username, p.display || p.username);
  renderPeople();
  addLine(`you joined “${roomName}” as ${myName}`, 'system');
  status(`in “${roomName}” as ${myName} (${state.session.transportKind})`, 'ok');
  $('#text').disabled = $('#send-button').disabled = false;
  $('#text').focus();
}

async function send(text, to) {
  const body = { textroom: 'message', room, text };
  if (to) body.to = to;
  await channelRequest(body);
  // Whispers are not echoed back by the room; public messages are.
  if (to) addLine([el('span', { class: 'from' }, `you to ${state.people.get(to) || to}: `), text]);
}

$('#send').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('#text').value.trim();
  if (!text) return;
  $('#text').value = '';
  try {
    await send(text, $('#to').value);
  } catch (err) {
    showError('not sent', err);
  }
});

window.chat = { state, username, send, received: () => state.received.slice() };

start().catch((err) => showError('could not join the chat', err));
