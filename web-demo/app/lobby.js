// The lobby: pick a name, a room and a kind of room; lists the SFU rooms the server has.
import { $, connectSession, displayName, el, pageUrl, roomNumber, showError, status } from './common.js';
import { PAGES, renderNav } from './nav.js';

const PAGE_OF_KIND = { sfu: 'sfu.html', mcu: 'mcu.html', chat: 'chat.html' };

renderNav();
$('#name').value = displayName();
for (const [href, title, text] of PAGES.slice(1)) {
  $('#pages').append(el('a', { class: 'card', href: pageUrl(href) }, el('strong', {}, title), el('span', { class: 'muted' }, text)));
}

$('#join').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('#name').value.trim();
  const room = $('#room').value.trim();
  if (!name || !room) return;
  localStorage.setItem('junction.name', name);
  const kind = $('#kind').value;
  location.href = pageUrl(PAGE_OF_KIND[kind], {
    room,
    name,
    simulcast: kind === 'sfu' && $('#simulcast').checked ? '1' : undefined,
  });
});

async function listRooms() {
  let session;
  try {
    session = await connectSession();
    const info = await session.info();
    $('#server').textContent = `${info.name} ${info.version_string}, plugins: ${Object.keys(info.plugins || {}).join(', ')} ` +
      `(connected over ${session.transportKind})`;
    const handle = await session.attach('janus.plugin.videoroom');
    const { data } = await handle.message({ request: 'list' });
    const rows = (data.list || []).map((room) =>
      el('tr', {},
        el('td', {}, String(room.room)),
        el('td', {}, room.description || ''),
        el('td', {}, String(room.num_participants ?? '')),
        el('td', {}, el('a', { href: pageUrl('sfu.html', { room: room.room, name: $('#name').value }) }, 'join'))));
    $('#rooms').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 4, class: 'muted' }, 'no public rooms'))]));
    status(`connected (${session.transportKind}); room names map to numbers, e.g. "demo" is room ${roomNumber('demo')}`, 'ok');
  } catch (err) {
    showError('could not list the rooms', err);
  } finally {
    await session?.destroy().catch(() => {});
  }
}

listRooms();
