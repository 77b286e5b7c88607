// What every demo page shares: where the server is (from the page's address, overridable in the
// query string), room names to numbers, small DOM helpers and the status line.
import { connect } from '../lib/session.js';

export const params = new URLSearchParams(location.search);

// Query parameters that say how to reach the server; links between pages carry them along.
const SERVER_PARAMS = ['ws', 'http', 'transport', 'apisecret', 'token', 'admin', 'adminsecret'];

export function serverSettings() {
  return {
    ws: params.get('ws') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.hostname}:8188`,
    http: params.get('http') || `${location.origin}/janus`,
    transport: params.get('transport') || 'auto', // auto (WebSocket, then HTTP) | ws | http
    apiSecret: params.get('apisecret') || undefined,
    token: params.get('token') || undefined,
  };
}

// A link to another demo page that keeps the server settings of this one.
export function pageUrl(page, extra = {}) {
  const query = new URLSearchParams();
  for (const key of SERVER_PARAMS) if (params.has(key)) query.set(key, params.get(key));
  for (const [key, value] of Object.entries(extra)) if (value !== undefined && value !== '') query.set(key, String(value));
  const text = query.toString();
  return text ? `${page}?${text}` : page;
}

export async function connectSession() {
  const s = serverSettings();
  const servers = s.transport === 'ws' ? [s.ws] : s.transport === 'http' ? [s.http] : [s.ws, s.http];
  const session = await connect({ servers, apiSecret: s.apiSecret, token: s.token });
  session.destroyOnUnload();
  return session;
}

// Rooms are numbers in the plugins; people name them. A name maps to a fixed number (FNV-1a,
// in [1e6, 2^31)), so everyone typing the same name lands in the same room without a directory.
export function roomNumber(nameOrNumber) {
  const text = String(nameOrNumber).trim();
  if (/^\d{1,15}$/.test(text) && Number(text) > 0) return Number(text);
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text.toLowerCase())) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return 1_000_000 + (hash % (2 ** 31 - 1_000_000));
}

// Creates room `room` through a plugin handle unless it exists. Two people creating the same
// room at once is fine: the loser's "room exists" answer is the same outcome.
export async function ensureRoom(handle, room, create, existsCode) {
  const { data } = await handle.message({ request: 'exists', room });
  if (data.exists) return false;
  try {
    await handle.message({ request: 'create', room, ...create });
    return true;
  } catch (err) {
    if (err.code === existsCode) return false;
    throw err;
  }
}

// el('div', { class: 'tile', onclick: fn }, child, 'text', ...)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export const $ = (selector) => document.querySelector(selector);

// The status line at the top of a page. kind: info | ok | error.
export function status(text, kind = 'info') {
  const line = $('#status');
  if (!line) return;
  line.textContent = text;
  line.dataset.kind = kind;
}

// Shows an error to the person (the console gets a warning, not an error: errors in the console
// are for bugs, and a refused request is not one).
export function showError(context, err) {
  console.warn(`${context}:`, err);
  status(`${context}: ${err.message || err}`, 'error');
}

export function escapeName(text, max = 40) {
  return String(text ?? '').replace(/[\u0000-\u001f]/g, '').slice(0, max);
}

// The person's display name: ?name=, else the last one used, else a made-up one.
export function displayName() {
  const fromUrl = params.get('name');
  if (fromUrl) return escapeName(fromUrl);
  const stored = localStorage.getItem('junction.name');
  if (stored) return escapeName(stored);
  return `guest-${Math.floor(Math.random() * 9000 + 1000)}`;
}
