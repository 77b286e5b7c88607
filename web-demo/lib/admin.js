// The admin API client (same envelope as the client API, no sessions of its own). Over the admin
// WebSocket (subprotocol janus-admin-protocol) or HTTP POST {base}[/{session}[/{handle}]].
//
//   const admin = await connectAdmin({ url: 'ws://127.0.0.1:7188', secret });
//   const { sessions } = await admin.call('list_sessions');
//   const { info } = await admin.call('handle_info', { session_id, handle_id });
import { Requester } from './session.js';
import { transportFor } from './transport.js';

export class AdminClient extends Requester {
  constructor(transport, { secret, requestTimeoutMs } = {}) {
    super(transport, { requestTimeoutMs });
    this.secret = secret;
  }

  // Resolves with the whole reply (`success` fields); an `error` rejects with ApiError.
  call(verb, fields = {}) {
    const msg = { janus: verb, ...fields };
    if (this.secret) msg.admin_secret = this.secret;
    return this.request(msg);
  }

  // A synchronous request to a plugin (`message_plugin`); resolves with the plugin's answer.
  async plugin(plugin, request) {
    const reply = await this.call('message_plugin', { plugin, request });
    return reply.response;
  }

  close() {
    this.transport.close();
  }
}

export async function connectAdmin({ url, secret, openTimeoutMs = 4000, requestTimeoutMs = 10_000 }) {
  const transport = transportFor(url, { protocol: 'janus-admin-protocol', openTimeoutMs });
  if (transport.kind === 'websocket') await transport.open();
  return new AdminClient(transport, { secret, requestTimeoutMs });
}
