// The admin dashboard: sessions and handles, live bitrate and loss per handle (handle_info once a
// second), the rooms of the room plugins, and the log level. It talks to the admin API over the
// admin WebSocket: browsers do not apply CORS to WebSockets, so a page served on the client HTTP
// port can reach it while the admin listeners stay on their own (loopback by default) address.
// See web-demo/README.md, "The admin API from the browser".
import { connectAdmin } from '../lib/admin.js';
import { $, el, params, showError, status } from './common.js';
import { LineChart } from './chart.js';
import { renderNav } from './nav.js';

const POLL_MS = 1000;
const ROOM_PLUGINS = ['janus.plugin.videoroom', 'janus.plugin.textroom', 'junction.plugin.videomixer', 'janus.plugin.audiobridge'];

const state = {
  admin: null,
  timer: null,
  busy: false,
  handles: new Map(), // handle id -> { session, last: {t, bytesIn, bytesOut, packets, lost}, chart, seen }
  sessions: [], // [{ id, transport, handles: [{ id, plugin, opaque, webrtc, kbpsIn, kbpsOut, loss }] }]
  plugins: [],
  polls: 0,
};

renderNav();
$('#admin-url').value = params.get('admin') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.hostname}:7188`;
$('#admin-secret').value = params.get('adminsecret') || sessionStorage.getItem('junction.adminSecret') || '';

$('#connect').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem('junction.adminSecret', $('#admin-secret').value);
  connectNow();
});

$('#log-level').addEventListener('change', async () => {
  try {
    const reply = await state.admin.call('set_log_level', { level: $('#log-level').value });
    status(`log level set to ${reply.level_name}`, 'ok');
  } catch (err) {
    showError('set_log_level', err);
  }
});

async function connectNow() {
  clearInterval(state.timer);
  state.admin?.close();
  state.admin = null;
  status(`connecting to ${$('#admin-url').value} ...`);
  try {
    state.admin = await connectAdmin({ url: $('#admin-url').value, secret: $('#admin-secret').value || undefined });
    state.admin.on('closed', (reason) => {
      clearInterval(state.timer);
      status(`admin connection lost (${reason})`, 'error');
    });
    const info = await state.admin.call('info');
    state.plugins = Object.keys(info.plugins || {});
    await refreshStatus();
    $('#log-level').disabled = false;
    status(`connected to the admin API of ${info.name} ${info.version_string}`, 'ok');
    await poll();
    state.timer = setInterval(poll, POLL_MS);
  } catch (err) {
    showError('admin API', err);
  }
}

async function refreshStatus() {
  const { status: s } = await state.admin.call('get_status');
  $('#log-level').value = s.log_level;
  $('#server-status').textContent = `${s.sessions} sessions, ${s.media_workers} media workers, session timeout ${s.session_timeout} s, ` +
    `${s.accepting_new_sessions ? 'accepting' : 'refusing'} new sessions`;
}

// One round: sessions -> handles -> handle_info; a request that fails because a session or handle
// went away in between is expected and skipped.
async function poll() {
  if (state.busy || !state.admin) return;
  state.busy = true;
  try {
    const now = performance.now();
    const { sessions } = await state.admin.call('list_sessions');
    const seen = new Set();
    const rows = [];
    for (const sessionId of sessions) {
      let handles;
      try {
        ({ handles } = await state.admin.call('list_handles', { session_id: sessionId }));
      } catch {
        continue;
      }
      const session = { id: sessionId, transport: '', handles: [] };
      for (const handleId of handles) {
        let info;
        try {
          ({ info } = await state.admin.call('handle_info', { session_id: sessionId, handle_id: handleId }));
        } catch {
          continue;
        }
        session.transport = info.session_transport;
        seen.add(handleId);
        session.handles.push(measure(handleId, info, now));
      }
      rows.push(session);
    }
    for (const [id, entry] of state.handles) {
      if (!seen.has(id)) {
        entry.chartNode?.remove();
        state.handles.delete(id);
      }
    }
    state.sessions = rows;
    state.polls++;
    renderSessions();
    if (state.polls % 5 === 1) {
      await refreshRooms();
      await refreshStatus();
    }
  } catch (err) {
    showError('admin poll', err);
  } finally {
    state.busy = false;
  }
}

// Rates since the previous poll of this handle, and its chart (made when it first has a
// PeerConnection).
function measure(handleId, info, now) {
  const webrtc = info.webrtc;
  const row = { id: handleId, plugin: info.plugin, opaque: info.opaque_id, webrtc: webrtc ? webrtc.ice?.state : '', kbpsIn: null, kbpsOut: null, loss: null };
  let entry = state.handles.get(handleId);
  if (!entry) {
    entry = { last: null, chart: null, chartNode: null };
    state.handles.set(handleId, entry);
  }
  if (!webrtc) return row;
  const inStreams = (webrtc.streams || []).filter((s) => s.direction === 'in');
  const sample = {
    t: now,
    bytesIn: webrtc.counters?.bytes_in ?? 0,
    bytesOut: webrtc.counters?.bytes_out ?? 0,
    packets: inStreams.reduce((sum, s) => sum + (s.packets || 0), 0),
    lost: inStreams.reduce((sum, s) => sum + Math.max(0, s.lost || 0), 0),
  };
  if (entry.last) {
    const seconds = Math.max(0.001, (sample.t - entry.last.t) / 1000);
    row.kbpsIn = ((sample.bytesIn - entry.last.bytesIn) * 8) / 1000 / seconds;
    row.kbpsOut = ((sample.bytesOut - entry.last.bytesOut) * 8) / 1000 / seconds;
    const expected = sample.packets - entry.last.packets + (sample.lost - entry.last.lost);
    row.loss = expected > 0 ? (100 * Math.max(0, sample.lost - entry.last.lost)) / expected : 0;
    if (!entry.chart) {
      const canvas = el('canvas', { class: 'chart' });
      entry.chartNode = el('div', { 'data-handle': String(handleId) },
        el('div', { class: 'muted' }, `handle ${handleId} · ${info.plugin.replace(/^.*\.plugin\./, '')}${info.opaque_id ? ` · ${info.opaque_id}` : ''}`), canvas);
      $('#charts').append(entry.chartNode);
      entry.chart = new LineChart(canvas, {
        series: [{ label: 'in', color: '#2563eb' }, { label: 'out', color: '#ea580c' }, { label: 'loss', color: '#b91c1c' }],
        rightScale: true,
      });
    }
    entry.chart.push([row.kbpsIn, row.kbpsOut, row.loss]);
  }
  entry.last = sample;
  return row;
}

const fixed = (v, digits = 0) => (v === null || v === undefined ? '' : v.toFixed(digits));

function renderSessions() {
  const rows = [];
  for (const session of state.sessions) {
    const span = Math.max(1, session.handles.length);
    const first = [el('td', { rowspan: span }, String(session.id)), el('td', { rowspan: span }, session.transport)];
    if (session.handles.length === 0) rows.push(el('tr', { 'data-session': String(session.id) }, first, el('td', { colspan: 6, class: 'muted' }, 'no handles')));
    session.handles.forEach((h, i) => {
      rows.push(el('tr', { 'data-session': String(session.id), 'data-handle': String(h.id) },
        i === 0 ? first : [],
        el('td', {}, String(h.id)), el('td', {}, h.plugin), el('td', {}, h.opaque || ''), el('td', {}, h.webrtc || '—'),
        el('td', {}, h.kbpsIn === null ? '' : `${fixed(h.kbpsIn)} / ${fixed(h.kbpsOut)}`),
        el('td', {}, h.loss === null ? '' : `${fixed(h.loss, 1)} %`)));
    });
  }
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'no sessions')));
  $('#sessions').replaceChildren(...rows);
}

async function refreshRooms() {
  const rows = [];
  for (const plugin of ROOM_PLUGINS.filter((p) => state.plugins.includes(p))) {
    let response;
    try {
      response = await state.admin.plugin(plugin, { request: 'list' });
    } catch {
      continue;
    }
    for (const room of response?.list || response?.rooms || []) {
      rows.push(el('tr', {}, el('td', {}, plugin.replace(/^.*\.plugin\./, '')), el('td', {}, String(room.room)),
        el('td', {}, room.description || ''), el('td', {}, String(room.num_participants ?? ''))));
    }
  }
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: 4, class: 'muted' }, 'no rooms')));
  $('#rooms').replaceChildren(...rows);
}

window.dashboard = {
  state,
  sessionIds: () => state.sessions.map((s) => s.id),
  handleRows: () => state.sessions.flatMap((s) => s.handles.map((h) => ({ session: s.id, ...h }))),
};

connectNow();
