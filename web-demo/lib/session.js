// Sessions and plugin handles over the Janus JSON API.
//
//   const session = await connect({ servers: ['ws://host:8188', 'http://host:8088/janus'] });
//   const handle = await session.attach('janus.plugin.echotest');
//   handle.on('event', ({ data, jsep }) => ...);
//   const { data, jsep } = await handle.message({ audio: true }, offer);
//
// Every request carries a fresh transaction; its promise settles with the reply (`success`), or
// for asynchronous plugin requests (`ack`) with the plugin's later `event` of the same
// transaction. Janus errors reject with ApiError, plugin errors (error_code in the plugin data)
// with PluginError, a lost connection with TransportError, silence with TimeoutError.
import { Emitter } from './emitter.js';
import { ApiError, PluginError, TimeoutError, TransportError } from './errors.js';
import { transportFor } from './transport.js';

let transactionCounter = 0;
function newTransaction() {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `${(++transactionCounter).toString(36)}-${random[0].toString(36)}${random[1].toString(36)}`;
}

// Tries each server address in turn; the first transport that opens carries a new session.
export async function connect({
  servers,
  apiSecret,
  token,
  keepaliveMs = 25_000,
  requestTimeoutMs = 15_000,
  openTimeoutMs = 4000,
} = {}) {
  const failures = [];
  for (const url of servers) {
    const transport = transportFor(url, { apiSecret, token, openTimeoutMs });
    try {
      await transport.open();
    } catch (err) {
      failures.push(err.message);
      continue;
    }
    const session = new Session(transport, { apiSecret, token, keepaliveMs, requestTimeoutMs });
    await session.create();
    return session;
  }
  throw new TransportError(`no server reachable: ${failures.join('; ')}`);
}

// The reply and event plumbing shared by sessions and the admin client: pending transactions,
// the request timeout, error mapping.
export class Requester extends Emitter {
  pending = new Map(); // transaction -> { resolve, reject, timer, what, plugin }

  constructor(transport, { requestTimeoutMs = 15_000 } = {}) {
    super();
    this.transport = transport;
    this.requestTimeoutMs = requestTimeoutMs;
    transport.onmessage = (msg) => this.receive(msg);
    transport.onclose = (reason) => this.transportClosed(reason);
  }

  // Sends `msg` with a new transaction. `plugin` set: an `ack` is not the end, the plugin's
  // `event` with this transaction is.
  request(msg, { plugin = null, timeoutMs = this.requestTimeoutMs } = {}) {
    const transaction = newTransaction();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(new TimeoutError(msg.janus, timeoutMs));
      }, timeoutMs);
      this.pending.set(transaction, { resolve, reject, timer, plugin });
      try {
        this.transport.send({ ...msg, transaction });
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(transaction);
        reject(err);
      }
    });
  }

  // Returns true when `msg` settled a pending request.
  settle(msg) {
    const entry = msg.transaction !== undefined ? this.pending.get(msg.transaction) : undefined;
    if (!entry) return false;
    if (msg.janus === 'ack' && entry.plugin) return true; // the event comes later
    clearTimeout(entry.timer);
    this.pending.delete(msg.transaction);
    if (msg.janus === 'error') {
      const { code, reason } = msg.error || {};
      entry.reject(msg.transport_failure ? new TransportError(reason) : new ApiError(code, reason));
      return true;
    }
    const data = msg.plugindata?.data;
    if (data && data.error_code !== undefined) {
      entry.reject(new PluginError(msg.plugindata.plugin, data.error_code, data.error));
      return true;
    }
    entry.resolve(msg);
    return true;
  }

  receive(msg) {
    this.settle(msg);
  }

  failAll(error) {
    for (const [transaction, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(error);
      this.pending.delete(transaction);
    }
  }

  transportClosed(reason) {
    this.failAll(new TransportError(reason));
    this.emit('closed', reason);
  }
}

export class Session extends Requester {
  id = null;
  handles = new Map();
  #keepalive = null;

  constructor(transport, { apiSecret, token, keepaliveMs = 25_000, requestTimeoutMs } = {}) {
    super(transport, { requestTimeoutMs });
    this.auth = {};
    if (apiSecret) this.auth.apisecret = apiSecret;
    if (token) this.auth.token = token;
    this.keepaliveMs = keepaliveMs;
  }

  get transportKind() {
    return this.transport.kind;
  }

  // A request on this session (or on one of its handles with handleId).
  call(msg, options) {
    const full = { ...this.auth, ...msg };
    if (this.id !== null) full.session_id = this.id;
    return this.request(full, options);
  }

  async create() {
    const reply = await this.call({ janus: 'create' });
    this.id = reply.data.id;
    this.transport.watch(this.id);
    // Any request refreshes the session; the keepalive covers quiet times (the default session
    // timeout is 60 s).
    this.#keepalive = setInterval(() => {
      this.call({ janus: 'keepalive' }).catch((err) => this.emit('error', err));
    }, this.keepaliveMs);
    return this;
  }

  info() {
    return this.request({ ...this.auth, janus: 'info' });
  }

  async attach(plugin, { opaqueId } = {}) {
    const msg = { janus: 'attach', plugin };
    if (opaqueId) msg.opaque_id = opaqueId;
    const reply = await this.call(msg);
    const handle = new Handle(this, reply.data.id, plugin);
    this.handles.set(handle.id, handle);
    return handle;
  }

  receive(msg) {
    if (this.settle(msg)) return;
    if (msg.janus === 'timeout' && (msg.session_id === this.id || msg.gone)) {
      this.#stop();
      this.failAll(new ApiError(458, 'the session expired'));
      this.emit('timeout');
      return;
    }
    const handle = this.handles.get(msg.sender);
    if (handle) handle.receive(msg);
    else if (msg.janus === 'error') this.emit('error', new ApiError(msg.error?.code, msg.error?.reason));
  }

  transportClosed(reason) {
    this.#stop();
    super.transportClosed(reason);
  }

  #stop() {
    clearInterval(this.#keepalive);
    this.#keepalive = null;
    this.transport.unwatch?.(this.id);
  }

  // When the page goes away: a WebSocket's sessions end with the socket (unless the server keeps
  // them for reclaiming), but an HTTP session would linger, with its handles in their rooms,
  // until its timeout. So destroy it with a beacon.
  destroyOnUnload() {
    window.addEventListener('pagehide', () => {
      if (this.id === null || !this.transport.beacon) return;
      this.transport.beacon({ ...this.auth, janus: 'destroy', session_id: this.id, transaction: newTransaction() });
    });
  }

  // Detaches nothing by itself: the server tears the handles down with the session.
  async destroy() {
    try {
      if (this.id !== null) await this.call({ janus: 'destroy' }, { timeoutMs: 3000 });
    } finally {
      this.#stop();
      for (const handle of this.handles.values()) handle.emit('detached');
      this.handles.clear();
      this.transport.close();
    }
  }
}

// One plugin handle. Events: 'event' {data, jsep, raw} (plugin events not answering a request of
// ours), 'trickle' (candidate), 'webrtcup', 'media', 'slowlink', 'hangup', 'detached'.
export class Handle extends Emitter {
  constructor(session, id, plugin) {
    super();
    this.session = session;
    this.id = id;
    this.plugin = plugin;
  }

  #call(msg, options) {
    return this.session.call({ ...msg, handle_id: this.id }, options);
  }

  // A plugin request. Resolves with { data, jsep, raw } from the synchronous answer or the event
  // that closes an asynchronous one.
  async message(body, jsep, options = {}) {
    const msg = { janus: 'message', body };
    if (jsep) msg.jsep = jsep;
    const reply = await this.#call(msg, { plugin: this.plugin, ...options });
    return { data: reply.plugindata?.data, jsep: reply.jsep, raw: reply };
  }

  // candidate: an RTCIceCandidate(-like) object, or null for end-of-candidates.
  trickle(candidate) {
    const wire = candidate && candidate.candidate
      ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex }
      : { completed: true };
    return this.#call({ janus: 'trickle', candidate: wire });
  }

  hangup() {
    return this.#call({ janus: 'hangup' });
  }

  async detach() {
    try {
      await this.#call({ janus: 'detach' }, { timeoutMs: 3000 });
    } finally {
      this.session.handles.delete(this.id);
    }
  }

  receive(msg) {
    switch (msg.janus) {
      case 'event':
        this.emit('event', { data: msg.plugindata?.data, jsep: msg.jsep, raw: msg });
        break;
      case 'trickle':
        this.emit('trickle', msg.candidate);
        break;
      case 'detached':
        this.session.handles.delete(this.id);
        this.emit('detached');
        break;
      case 'webrtcup':
      case 'media':
      case 'slowlink':
      case 'hangup':
        this.emit(msg.janus, msg);
        break;
      default:
        break;
    }
  }
}
