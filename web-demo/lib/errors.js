// Errors the client library raises. Each kind says where the failure came from, so a page can
// tell "the server refused" (ApiError, with Janus's code) from "the plugin refused" (PluginError,
// with the plugin's error_code) from "the connection is gone" (TransportError).

export class ApiError extends Error {
  constructor(code, reason) {
    super(`${reason || 'error'} (Janus error ${code})`);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
  }
}

export class PluginError extends Error {
  constructor(plugin, code, reason) {
    super(`${plugin}: ${reason || 'error'} (${code})`);
    this.name = 'PluginError';
    this.plugin = plugin;
    this.code = code;
    this.reason = reason;
  }
}

export class TransportError extends Error {
  constructor(message) {
    super(message);
    this.name = 'TransportError';
  }
}

export class TimeoutError extends Error {
  constructor(what, ms) {
    super(`no answer to ${what} within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}
