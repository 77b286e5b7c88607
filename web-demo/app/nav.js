// The header links of every page (they keep the server settings from the query string).
import { pageUrl } from './common.js';

export const PAGES = [
  ['index.html', 'Lobby', 'Create or join a room by name or number.'],
  ['echotest.html', 'Echo test', 'Your camera and microphone, sent back by janus.plugin.echotest.'],
  ['chat.html', 'Text chat', 'Rooms of janus.plugin.textroom over a data channel.'],
  ['dashboard.html', 'Dashboard', 'Sessions, handles, rooms and live stats from the admin API.'],
];

export function renderNav() {
  const nav = document.getElementById('nav');
  if (!nav) return;
  for (const [href, title] of PAGES) {
    const a = document.createElement('a');
    a.href = pageUrl(href);
    a.textContent = title;
    nav.append(a);
  }
}
