"""Shared helpers for Junction's integration tests.

Starts the real binary (JUNCTION_BINARY, default /work/main/build/junction) with a JSON config
written to a temporary folder, on free loopback ports, with its log captured to a file; and talks
to it through the Janus JSON API over WebSocket (subprotocol janus-protocol) and HTTP, the way
independent clients do. Every wait is bounded.

Only the standard library plus Debian's `websockets` and `aiohttp` (run with /usr/bin/python3).
"""

import asyncio
import io
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import aiohttp
import websockets

BINARY = os.environ.get("JUNCTION_BINARY", "/work/main/build/junction")
ECHOTEST = "janus.plugin.echotest"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
REPLY_TIMEOUT = 5.0

_counter = itertools.count(1)


def new_tx(prefix="tx"):
    """A fresh, unique transaction string."""
    return f"{prefix}-{next(_counter)}-{uuid.uuid4().hex[:8]}"


def free_ports(n):
    """`n` distinct free loopback ports (all held open together while they are picked, so two picks
    cannot return the same port)."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port():
    return free_ports(1)[0]


def check_binary():
    if not (os.path.isfile(BINARY) and os.access(BINARY, os.X_OK)):
        raise RuntimeError(
            f"junction binary not found at {BINARY}: build it with "
            "`cmake -S /work/main -B /work/main/build && make -C /work/main/build -j2` "
            "or set JUNCTION_BINARY")
    return BINARY


def sanitizer_runtime(pid):
    """The name of the sanitizer runtime mapped into a process (libasan, libtsan...), or None.
    Their allocators keep freed memory in quarantine, so RSS checks do not apply under them."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                m = re.search(r"/(lib[at]san)\.so", line)
                if m:
                    return m.group(1)
    except OSError:
        pass
    return None


def run_binary(args, timeout=10.0):
    """Runs the binary to completion (for --help, --version, config errors). Returns CompletedProcess."""
    check_binary()
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class _PortTaken(Exception):
    pass


class JunctionServer:
    """One server process with its own config, ports, folder and log file."""

    def __init__(self, **config):
        check_binary()
        self.dir = tempfile.mkdtemp(prefix="junction-it-")
        ws_port, http_port, admin_port, admin_ws_port = free_ports(4)
        self.config = {
            "bind": "127.0.0.1",
            "ws_port": ws_port,
            "http_port": http_port,
            "admin_port": admin_port,
            "admin_ws_port": admin_ws_port,
            "log_level": "info",
        }
        self._auto_ports = {"ws_port", "http_port", "admin_port", "admin_ws_port"} - set(config)
        self.config.update(config)
        self.config_path = os.path.join(self.dir, "junction.json")
        self.log_path = os.path.join(self.dir, "junction.log")
        self.proc = None
        self._log_file = None
        self.returncode = None

    # --- addresses ---
    @property
    def ws_port(self):
        return self.config["ws_port"]

    @property
    def http_port(self):
        return self.config["http_port"]

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.ws_port}"

    @property
    def http_base(self):
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def admin_base(self):
        return f"http://127.0.0.1:{self.config['admin_port']}"

    @property
    def admin_ws_url(self):
        return f"ws://127.0.0.1:{self.config['admin_ws_port']}"

    @property
    def long_poll_timeout(self):
        return self.config.get("long_poll_timeout", 30)

    # --- process ---
    def start(self, timeout=START_TIMEOUT, attempts=3):
        """Starts the server and waits for its ports. If a port picked here was taken meanwhile (by a
        test running in parallel), picks new ones and tries again."""
        for attempt in range(attempts):
            try:
                return self._start_once(timeout)
            except _PortTaken:
                if attempt == attempts - 1 or not self._auto_ports:
                    raise RuntimeError(f"junction could not listen:\n{self.log()}")
                self._log_file.close()
                for key, port in zip(sorted(self._auto_ports), free_ports(len(self._auto_ports))):
                    self.config[key] = port

    def _start_once(self, timeout):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=2)
        self._log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BINARY, "--config", self.config_path], stdin=subprocess.DEVNULL,
                                     stdout=self._log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        ports = [p for p in (self.config.get(k) for k in ("ws_port", "http_port", "admin_port", "admin_ws_port")) if p]
        while True:
            if self.proc.poll() is not None:
                if "cannot listen on" in self.log():
                    raise _PortTaken()
                raise RuntimeError(f"junction exited with {self.proc.returncode} while starting:\n{self.log()}")
            if all(_port_open(p) for p in ports):
                return self
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"junction did not open ports {ports} within {timeout} s:\n{self.log()}")
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def terminate(self):
        """Sends SIGTERM without waiting."""
        self.proc.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Waits for the process to exit; returns its code, or None if it is still running."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then the exit code (None if it had to be killed after `timeout`)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.terminate()
            code = self.wait_exit(timeout)
            if code is None:
                self.kill()
                return None
            return code
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def cleanup(self):
        self.kill()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- log ---
    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_for_log(self, pattern, timeout=5.0):
        """The first match of regex `pattern` in the log, waiting up to `timeout`; None if absent."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.log())
            if m or time.monotonic() > deadline:
                return m
            time.sleep(0.05)

    async def async_wait_for_log(self, pattern, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.log())
            if m or time.monotonic() > deadline:
                return m
            await asyncio.sleep(0.05)


def start_server(testcase_cls, **config):
    """Starts a server for a TestCase class (call from setUpClass); stopped and cleaned at class end."""
    server = JunctionServer(**config)
    started = []

    def finish():
        if not started:  # the start failed (and was reported); just tidy up
            server.cleanup()
            return
        alive = server.alive()
        code = server.stop()
        log = server.log()
        server.cleanup()
        if not alive:
            raise AssertionError(f"the server died during the tests (exit {server.returncode}); log tail:\n"
                                 f"{log[-4000:]}")
        if code != 0:
            raise AssertionError(f"the server did not exit 0 on SIGTERM within {STOP_TIMEOUT} s (got {code}); "
                                 f"log tail:\n{log[-4000:]}")

    testcase_cls.addClassCleanup(finish)
    server.start()
    started.append(True)
    return server


# ---------------------------------------------------------------------------------------------
# WebSocket client


class WsClient:
    """A janus-protocol WebSocket with a reader task that keeps every message received."""

    def __init__(self, ws):
        self.ws = ws
        self.inbox = []       # messages not yet taken by wait_for
        self.history = []     # every message received, in order
        self._cond = asyncio.Condition()
        self.closed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, url, timeout=REPLY_TIMEOUT):
        ws = await asyncio.wait_for(
            websockets.connect(url, subprotocols=["janus-protocol"], max_size=None, ping_interval=None,
                               open_timeout=timeout, close_timeout=2),
            timeout + 1)
        assert ws.subprotocol == "janus-protocol", ws.subprotocol
        return cls(ws)

    async def _read(self):
        try:
            async for raw in self.ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    msg = {"__unparseable__": raw}
                async with self._cond:
                    self.inbox.append(msg)
                    self.history.append(msg)
                    self._cond.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()
            async with self._cond:
                self._cond.notify_all()

    @property
    def close_code(self):
        return self.ws.close_code

    async def send_raw(self, data):
        await asyncio.wait_for(self.ws.send(data), 30)

    async def send(self, msg):
        """Sends a dict (adding a transaction if it has none); returns the transaction."""
        if "transaction" not in msg:
            msg = dict(msg, transaction=new_tx())
        await self.send_raw(json.dumps(msg))
        return msg["transaction"]

    def take(self, pred):
        for i, m in enumerate(self.inbox):
            if pred(m):
                return self.inbox.pop(i)
        return None

    async def wait_for(self, pred, timeout=REPLY_TIMEOUT, what="a matching message"):
        deadline = time.monotonic() + timeout
        async with self._cond:
            while True:
                m = self.take(pred)
                if m is not None:
                    return m
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {what} within {timeout} s over WebSocket; unclaimed: "
                                         f"{_short(self.inbox)}; closed={self.closed.is_set()}")
                if self.closed.is_set():
                    raise AssertionError(f"WebSocket closed (code {self.close_code}) before {what}; "
                                         f"unclaimed: {_short(self.inbox)}")
                try:
                    await asyncio.wait_for(self._cond.wait(), remaining)
                except asyncio.TimeoutError:
                    pass

    async def wait_closed(self, timeout=REPLY_TIMEOUT):
        try:
            await asyncio.wait_for(self.closed.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), 3)
        except Exception:
            pass
        self._reader.cancel()
        try:
            await self._reader
        except BaseException:
            pass


def _short(items, limit=600):
    text = json.dumps(items)
    return text if len(text) <= limit else text[:limit] + "..."


# ---------------------------------------------------------------------------------------------
# One API for both transports: ids in the body (WebSocket) or in the path (HTTP).


class WsApi:
    kind = "ws"

    def __init__(self, server, client):
        self.server = server
        self.client = client

    @classmethod
    async def open(cls, server):
        return cls(server, await WsClient.connect(server.ws_url))

    async def request(self, msg, session_id=None, handle_id=None, timeout=REPLY_TIMEOUT):
        """Sends a request and returns the first reply carrying its transaction."""
        msg = dict(msg)
        if session_id is not None:
            msg["session_id"] = session_id
        if handle_id is not None:
            msg["handle_id"] = handle_id
        msg.setdefault("transaction", new_tx())
        tx = msg["transaction"]
        await self.client.send(msg)
        return await self.client.wait_for(lambda m: m.get("transaction") == tx, timeout,
                                          what=f"reply to {msg.get('janus')!r} ({tx})")

    async def raw(self, data, session_id=None, handle_id=None, expect_tx=None, timeout=REPLY_TIMEOUT):
        """Sends raw text (or bytes: a binary frame); returns the next error reply with `expect_tx`
        as its transaction (None: an error without a transaction)."""
        await self.client.send_raw(data)
        if expect_tx is None:
            pred = lambda m: m.get("janus") == "error" and "transaction" not in m
        else:
            pred = lambda m: m.get("transaction") == expect_tx
        return await self.client.wait_for(pred, timeout, what="the reply to raw input")

    async def event(self, session_id, pred, timeout=REPLY_TIMEOUT, what="a matching event"):
        return await self.client.wait_for(pred, timeout, what=what)

    async def close(self):
        await self.client.close()


class HttpApi:
    kind = "http"

    def __init__(self, server):
        self.server = server
        self.base = server.http_base
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        self.pending = {}        # session id -> events collected by long polls, not yet taken
        self.last_status = None
        self.last_headers = None

    @classmethod
    async def open(cls, server):
        return cls(server)

    @staticmethod
    def path(session_id=None, handle_id=None):
        p = "/janus"
        if session_id is not None:
            p += f"/{session_id}"
        if handle_id is not None:
            p += f"/{handle_id}"
        return p

    async def post(self, path, data, headers=None, timeout=REPLY_TIMEOUT):
        """POSTs `data` (dict -> JSON, str/bytes as is). Returns (status, parsed body or None, headers)."""
        if isinstance(data, (dict, list)):
            data = json.dumps(data)
        if isinstance(data, str):
            data = data.encode()
        if len(data) > 256 * 1024:
            data = io.BytesIO(data)  # aiohttp warns about large raw bytes bodies
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        async with self.http.post(self.base + path, data=data, headers=h,
                                  timeout=aiohttp.ClientTimeout(total=timeout)) as r:
            text = await r.read()
            self.last_status = r.status
            self.last_headers = r.headers
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = {"__unparseable__": text.decode("utf-8", "replace")}
            return r.status, body, r.headers

    async def get(self, path, timeout=REPLY_TIMEOUT, headers=None):
        async with self.http.get(self.base + path, headers=headers or {},
                                 timeout=aiohttp.ClientTimeout(total=timeout)) as r:
            text = await r.read()
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = {"__unparseable__": text.decode("utf-8", "replace")}
            return r.status, body, r.headers

    async def request(self, msg, session_id=None, handle_id=None, timeout=REPLY_TIMEOUT):
        msg = dict(msg)
        msg.setdefault("transaction", new_tx())
        status, body, _ = await self.post(self.path(session_id, handle_id), msg, timeout=timeout)
        return body

    async def raw(self, data, session_id=None, handle_id=None, expect_tx=None, timeout=REPLY_TIMEOUT):
        status, body, _ = await self.post(self.path(session_id, handle_id), data, timeout=timeout)
        return body

    async def poll(self, session_id, maxev=None, timeout=None):
        """One long poll. Returns (status, body)."""
        q = "" if maxev is None else f"?maxev={maxev}"
        if timeout is None:
            timeout = self.server.long_poll_timeout + 5
        status, body, _ = await self.get(f"/janus/{session_id}{q}", timeout=timeout)
        return status, body

    async def event(self, session_id, pred, timeout=REPLY_TIMEOUT, what="a matching event"):
        """Long-polls the session until an event matching `pred` arrives; others are kept."""
        deadline = time.monotonic() + timeout
        queue = self.pending.setdefault(session_id, [])
        while True:
            for i, m in enumerate(queue):
                if pred(m):
                    return queue.pop(i)
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout} s over HTTP long poll; unclaimed: "
                                     f"{_short(queue)}")
            status, body = await self.poll(session_id, maxev=10)
            if status != 200:
                raise AssertionError(f"long poll on {session_id} answered HTTP {status}: {body} "
                                     f"while waiting for {what}")
            items = body if isinstance(body, list) else [body]
            queue.extend(m for m in items if m.get("janus") != "keepalive")

    async def close(self):
        await self.http.close()


async def open_api(kind, server):
    return await (WsApi if kind == "ws" else HttpApi).open(server)


# ---------------------------------------------------------------------------------------------
# Common sequences


async def create_session(api, tc=None, **extra):
    r = await api.request(dict({"janus": "create"}, **extra))
    if tc is not None:
        tc.assertEqual(r.get("janus"), "success", r)
    assert r.get("janus") == "success", r
    sid = r["data"]["id"]
    assert isinstance(sid, int) and sid > 0, r
    return sid


async def attach_echotest(api, session_id):
    r = await api.request({"janus": "attach", "plugin": ECHOTEST}, session_id=session_id)
    assert r.get("janus") == "success" and r.get("session_id") == session_id, r
    hid = r["data"]["id"]
    assert isinstance(hid, int) and hid > 0, r
    return hid


async def echotest_roundtrip(api, session_id, handle_id, body=None, timeout=REPLY_TIMEOUT):
    """message -> ack -> event with the same transaction and result ok. Returns the event."""
    tx = new_tx("echo")
    ack = await api.request({"janus": "message", "body": body if body is not None else {"audio": True},
                             "transaction": tx}, session_id=session_id, handle_id=handle_id, timeout=timeout)
    assert ack.get("janus") == "ack" and ack.get("transaction") == tx and ack.get("session_id") == session_id, \
        f"expected ack for {tx}, got {ack}"
    ev = await api.event(session_id, lambda m: m.get("janus") == "event" and m.get("transaction") == tx,
                         timeout=timeout, what=f"echotest event for {tx}")
    assert ev.get("session_id") == session_id and ev.get("sender") == handle_id, ev
    assert ev.get("plugindata") == {"plugin": ECHOTEST, "data": {"echotest": "event", "result": "ok"}}, ev
    return ev


class BackgroundLoop:
    """An event loop in its own thread, for clients that outlive one test's event loop."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run_sync(self, coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def run(self, coro, timeout=30):
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return await asyncio.wait_for(asyncio.wrap_future(fut), timeout)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()


class Witness:
    """A bystander client with a session and an echotest handle on its own connection. `check()`
    proves it still works: keepalive -> ack, and an echotest message gets its event."""

    def __init__(self, kind, server):
        self.kind = kind
        self.server = server
        self.api = None
        self.session_id = None
        self.handle_id = None

    async def setup(self):
        self.api = await open_api(self.kind, self.server)
        self.session_id = await create_session(self.api)
        self.handle_id = await attach_echotest(self.api, self.session_id)
        return self

    async def check(self):
        tx = new_tx("witness")
        r = await self.api.request({"janus": "keepalive", "transaction": tx}, session_id=self.session_id)
        assert r == {"janus": "ack", "session_id": self.session_id, "transaction": tx}, \
            f"{self.kind} witness keepalive: {r}"
        await echotest_roundtrip(self.api, self.session_id, self.handle_id)
        if self.kind == "ws":
            stray = [m for m in self.api.client.inbox if m.get("session_id") != self.session_id]
            assert not stray, f"the witness received messages for other sessions: {stray}"

    async def close(self):
        if self.api is not None:
            await self.api.close()
