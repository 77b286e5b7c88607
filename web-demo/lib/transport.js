// The two ways to carry the Janus JSON API: a WebSocket (subprotocol janus-protocol, or
// janus-admin-protocol for the admin API) and plain HTTP (POST per request, GET long polls for a
// session's events). Both hand every message the server sends to `onmessage`, replies and events
// alike: the session layer matches replies to requests by transaction, so it does not care which
// transport delivered them.
import { TransportError } from './errors.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class WsTransport {
  kind = 'websocket';
  onmessage = () => {};
  onclose = () => {};
  #ws = null;
  #closing = false;

  constructor(url, { protocol = 'janus-protocol', openTimeoutMs = 4000 } = {}) {
    this.url = url;
    this.protocol = protocol;
    this.openTimeoutMs = openTimeoutMs;
  }

  open() {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(this.url, this.protocol);
      } catch (err) {
        reject(new TransportError(`cannot open ${this.url}: ${err.message}`));
        return;
      }
      const timer = setTimeout(() => {
        ws.onopen = ws.onerror = ws.onclose = null;
        ws.close();
        reject(new TransportError(`${this.url} did not open within ${this.openTimeoutMs} ms`));
      }, this.openTimeoutMs);
      ws.onopen = () => {
        clearTimeout(timer);
        this.#ws = ws;
        ws.onmessage = (e) => this.#receive(e.data);
        ws.onclose = (e) => {
          if (!this.#closing) this.onclose(`WebSocket closed (code ${e.code})`);
        };
        ws.onerror = null;
        resolve(this);
      };
      // A refused connection fires error then close; answer once, on close.
      ws.onerror = null;
      ws.onclose = () => {
        clearTimeout(timer);
        reject(new TransportError(`cannot connect to ${this.url}`));
      };
    });
  }

  #receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      console.warn('unparseable message from the server ignored');
      return;
    }
    this.onmessage(msg);
  }

  send(msg) {
    if (!this.#ws || this.#ws.readyState !== WebSocket.OPEN) throw new TransportError('the WebSocket is not open');
    this.#ws.send(JSON.stringify(msg));
  }

  // Session events already arrive on the socket: nothing to start.
  watch() {}

  close() {
    this.#closing = true;
    this.#ws?.close();
    this.#ws = null;
  }
}

// POST {base}[/{session}[/{handle}]] with the request; the answer is the reply. Events of a
// session come from GET {base}/{session}?maxev=N long polls, run one at a time while watched.
export class HttpTransport {
  kind = 'http';
  onmessage = () => {};
  onclose = () => {};
  #closed = false;
  #polling = new Set();
  #aborts = new Set();

  constructor(baseUrl, { apiSecret, token, maxev = 10, maxPollFailures = 3 } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.auth = { apisecret: apiSecret, token };
    this.maxev = maxev;
    this.maxPollFailures = maxPollFailures;
  }

  // The HTTP API answers GET {base}/info: reachable and speaking Janus.
  async open() {
    try {
      const res = await this.#fetch(`${this.baseUrl}/info`, { method: 'GET' });
      const info = await res.json();
      if (info.janus !== 'server_info') throw new Error('unexpected answer');
    } catch (err) {
      throw new TransportError(`cannot reach ${this.baseUrl}: ${err.message}`);
    }
    return this;
  }

  async #fetch(url, init) {
    const abort = new AbortController();
    this.#aborts.add(abort);
    try {
      return await fetch(url, { ...init, signal: abort.signal, cache: 'no-store' });
    } finally {
      this.#aborts.delete(abort);
    }
  }

  send(msg) {
    if (this.#closed) throw new TransportError('the HTTP transport is closed');
    const { session_id: session, handle_id: handle, ...body } = msg;
    let url = this.baseUrl;
    if (session) url += `/${session}`;
    if (handle) url += `/${handle}`;
    this.#fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then((res) => res.json())
      .then((reply) => this.onmessage(reply))
      .catch((err) => {
        if (this.#closed) return;
        // No reply will come: tell the session layer, which fails that request.
        this.onmessage({ janus: 'error', transaction: msg.transaction, error: { code: 0, reason: `HTTP request failed: ${err.message}` }, transport_failure: true });
      });
  }

  // Long-polls a session's events until the session is gone (404), the transport closes, or
  // maxPollFailures polls in a row fail.
  async watch(sessionId) {
    if (this.#polling.has(sessionId)) return;
    this.#polling.add(sessionId);
    let failures = 0;
    while (!this.#closed && this.#polling.has(sessionId)) {
      const query = new URLSearchParams({ maxev: String(this.maxev), rid: String(Date.now()) });
      if (this.auth.apisecret) query.set('apisecret', this.auth.apisecret);
      if (this.auth.token) query.set('token', this.auth.token);
      try {
        const res = await this.#fetch(`${this.baseUrl}/${sessionId}?${query}`, { method: 'GET' });
        if (res.status === 404) {
          this.#polling.delete(sessionId);
          this.onmessage({ janus: 'timeout', session_id: sessionId, gone: true });
          return;
        }
        const body = await res.json();
        failures = 0;
        for (const msg of Array.isArray(body) ? body : [body]) if (msg.janus !== 'keepalive') this.onmessage(msg);
      } catch (err) {
        if (this.#closed || !this.#polling.has(sessionId)) return;
        if (++failures >= this.maxPollFailures) {
          this.#polling.delete(sessionId);
          this.onclose(`long poll failed ${failures} times: ${err.message}`);
          return;
        }
        await sleep(500 * failures);
      }
    }
  }

  unwatch(sessionId) {
    this.#polling.delete(sessionId);
  }

  // Fire and forget while the page unloads (fetch may be cancelled then; a beacon is not).
  beacon(msg) {
    const { session_id: session, handle_id: handle, ...body } = msg;
    let url = this.baseUrl;
    if (session) url += `/${session}`;
    if (handle) url += `/${handle}`;
    return navigator.sendBeacon(url, JSON.stringify(body));
  }

  close() {
    this.#closed = true;
    this.#polling.clear();
    for (const abort of this.#aborts) abort.abort();
  }
}

// The transport for a server address: ws:// and wss:// are WebSockets, http(s):// is HTTP.
export function transportFor(url, options = {}) {
  return /^wss?:/i.test(url) ? new WsTransport(url, options) : new HttpTransport(url, options);
}
