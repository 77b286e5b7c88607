"""The admin API (HTTP /admin and WebSocket janus-admin-protocol), client authentication
(api_secret, stored tokens), admin_secret, /metrics and /health, against the real binary.

Run:  cd tests/integration && /usr/bin/python3 -m unittest -v test_admin
Needs JUNCTION_BINARY (default /work/main/build/junction) with plugins/ and test-plugins/ beside
it; the media test also needs Debian's python3-aiortc.
"""

import asyncio
import http.server
import json
import math
import os
import re
import sys
import tempfile
import threading
import time
import unittest

import aiohttp
import websockets

from junction_server import (BINARY, ECHOTEST, WsApi, WsClient, HttpApi, attach_echotest, create_session, new_tx,
                             start_server)

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = "test.plugin.probe"
API_SECRET = "api-s3cret-value"
ADMIN_SECRET = "adm-s3cret-value"


def plugin_folder():
    """A temporary plugins folder with the real plugins and the test-only probe plugin."""
    folder = tempfile.mkdtemp(prefix="junction-it-plugins-")
    build = os.path.dirname(BINARY)
    for sub in ("plugins", "test-plugins"):
        src = os.path.join(build, sub)
        for name in os.listdir(src) if os.path.isdir(src) else []:
            if name.endswith(".so"):
                os.symlink(os.path.join(src, name), os.path.join(folder, name))
    if not os.path.exists(os.path.join(folder, "libjunction_plugin_probe.so")):
        raise RuntimeError(f"test-plugins/libjunction_plugin_probe.so not found beside {BINARY}: build it")
    return folder


def start_with_probe(cls, **options):
    """start_server() with the real plugins and the probe plugin, removed after the class."""
    folder = plugin_folder()
    cls.addClassCleanup(lambda: [os.unlink(os.path.join(folder, f)) for f in os.listdir(folder)]
                        and os.rmdir(folder))
    return start_server(cls, plugins_dir=folder, **options)


# ---------------------------------------------------------------------------------------------
# A strict parser of the Prometheus text exposition format (0.0.4)

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{((?:{_LABEL})(?:,(?:{_LABEL}))*)?\}})? (\S+)(?: (-?[0-9]+))?$")
_LABEL_ONE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class PromError(AssertionError):
    pass


def parse_prometheus(text):
    """Returns ({(name, frozenset(labels)): value}, {family: type}). Raises PromError on anything the
    format does not allow: a bad line or name, a sample before its TYPE, a TYPE or HELP given twice,
    a family whose samples are not together, a duplicate series, a non-numeric value, a counter
    without the _total suffix or with a negative value."""
    if text and not text.endswith("\n"):
        raise PromError("the exposition must end with a newline")
    samples, types, helps = {}, {}, set()
    current, closed = None, set()
    for number, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {number}: {line!r}"
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not re.fullmatch(_NAME, name):
                    raise PromError(f"bad metric name in {where}")
                if parts[1] == "TYPE":
                    if len(parts) != 4 or parts[3] not in _TYPES:
                        raise PromError(f"bad TYPE in {where}")
                    if name in types:
                        raise PromError(f"second TYPE for {name} in {where}")
                    if any(n == name for n, _ in samples):
                        raise PromError(f"TYPE after samples of {name} in {where}")
                    types[name] = parts[3]
                else:
                    if name in helps:
                        raise PromError(f"second HELP for {name} in {where}")
                    helps.add(name)
                if current is not None and current != name:
                    closed.add(current)
                current = name
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise PromError(f"not a sample line: {where}")
        name, labels_text, value_text = m.group(1), m.group(2), m.group(3)
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[: -len(suffix)]
            if name.endswith(suffix) and types.get(base) == "histogram":
                family = base
        if family not in types:
            raise PromError(f"sample without a TYPE before it: {where}")
        if family in closed or family != current:
            raise PromError(f"samples of {family} are not together: {where}")
        labels = {}
        for key, value in _LABEL_ONE.findall(labels_text or ""):
            if key in labels:
                raise PromError(f"label {key} given twice: {where}")
            labels[key] = value
        try:
            value = float(value_text)
        except ValueError:
            raise PromError(f"value is not a number: {where}")
        if value_text.lower() in ("nan", "inf", "-inf", "+inf") and value_text not in ("NaN", "+Inf", "-Inf"):
            raise PromError(f"bad spelling of a special value: {where}")
        if types[family] == "counter":
            if not name.endswith("_total"):
                raise PromError(f"counter without _total: {where}")
            if value < 0 or math.isnan(value):
                raise PromError(f"counter below zero: {where}")
        if types[family] == "histogram":
            if name == family:
                raise PromError(f"histogram sample without _bucket, _sum or _count: {where}")
            if name.endswith("_bucket") and "le" not in labels:
                raise PromError(f"histogram bucket without le: {where}")
        key = (name, frozenset(labels.items()))
        if key in samples:
            raise PromError(f"duplicate series: {where}")
        samples[key] = value
    return samples, types


def metric(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


class PrometheusParserTest(unittest.TestCase):
    """The parser itself refuses what it must (so the server's output is really checked)."""

    def test_accepts_a_valid_exposition(self):
        samples, types = parse_prometheus(
            '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 3\na_total{x="2\\"q"} 4\n'
            '# TYPE b gauge\nb NaN\nb{y="z"} +Inf\n')
        self.assertEqual(metric(samples, "a_total", x="1"), 3)
        self.assertEqual(types, {"a_total": "counter", "b": "gauge"})

    def test_refuses_bad_expositions(self):
        bad = [
            "a 1\n",                                               # no TYPE
            "# TYPE a gauge\na 1\na 2\n",                          # duplicate series
            "# TYPE a gauge\na{x=\"1\"} one\n",                    # value
            "# TYPE 1a gauge\n",                                   # name
            "# TYPE a gauge\na-b 1\n",                             # sample name
            "# TYPE a_total counter\na_total -1\n",                # negative counter
            "# TYPE a counter\na 1\n",                             # counter without _total
            "# TYPE a gauge\n# TYPE b gauge\na 1\n",               # family not together
            "# TYPE a gauge\na{x=1} 1\n",                          # unquoted label
            "# TYPE a gauge\na 1",                                 # no final newline
            "# TYPE a gauge\n# TYPE a gauge\n",                    # TYPE twice
        ]
        for text in bad:
            with self.subTest(text=text), self.assertRaises(PromError):
                parse_prometheus(text)


# ---------------------------------------------------------------------------------------------
# Admin clients


class AdminHttp:
    def __init__(self, server, secret=None):
        self.server = server
        self.secret = secret
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))

    async def request(self, msg, session_id=None, handle_id=None, secret=True):
        msg = dict(msg)
        msg.setdefault("transaction", new_tx("admin"))
        if secret and self.secret is not None:
            msg.setdefault("admin_secret", self.secret)
        path = "/admin" + (f"/{session_id}" if session_id else "") + (f"/{handle_id}" if handle_id else "")
        async with self.http.post(self.server.admin_base + path, data=json.dumps(msg)) as r:
            assert r.status == 200, r.status
            return json.loads(await r.text())

    async def raw(self, data):
        async with self.http.post(self.server.admin_base + "/admin", data=data) as r:
            return r.status, json.loads(await r.text())

    async def get(self, path):
        async with self.http.get(self.server.admin_base + path) as r:
            return r.status, r.headers.get("Content-Type", ""), await r.text()

    async def metrics(self):
        status, ctype, text = await self.get("/metrics")
        assert status == 200 and ctype.startswith("text/plain"), (status, ctype)
        return parse_prometheus(text)[0]

    async def close(self):
        await self.http.close()


class AdminWs:
    def __init__(self, ws, secret):
        self.ws = ws
        self.secret = secret

    @classmethod
    async def connect(cls, server, secret=None):
        ws = await websockets.connect(server.admin_ws_url, subprotocols=["janus-admin-protocol"],
                                      ping_interval=None, open_timeout=5, close_timeout=2)
        assert ws.subprotocol == "janus-admin-protocol", ws.subprotocol
        return cls(ws, secret)

    async def request(self, msg, secret=True):
        msg = dict(msg)
        msg.setdefault("transaction", new_tx("adminws"))
        if secret and self.secret is not None:
            msg.setdefault("admin_secret", self.secret)
        await self.ws.send(json.dumps(msg))
        return json.loads(await asyncio.wait_for(self.ws.recv(), 5))

    async def close(self):
        await self.ws.close()


def error_code(reply):
    return reply.get("error", {}).get("code") if reply.get("janus") == "error" else None


# ---------------------------------------------------------------------------------------------


class ApiSecretTest(unittest.IsolatedAsyncioTestCase):
    """api_secret set: requests without it or with a wrong one get 403 and change nothing."""

    @classmethod
    def setUpClass(cls):
        cls.server = start_server(cls, api_secret=API_SECRET, admin_secret=ADMIN_SECRET)

    async def asyncSetUp(self):
        self.admin = AdminHttp(self.server, ADMIN_SECRET)

    async def asyncTearDown(self):
        await self.admin.close()

    async def sessions(self):
        r = await self.admin.request({"janus": "list_sessions"})
        self.assertEqual(r["janus"], "success", r)
        return set(r["sessions"])

    async def test_refused_without_or_with_a_wrong_secret(self):
        for kind in ("ws", "http"):
            with self.subTest(kind):
                api = await (WsApi if kind == "ws" else HttpApi).open(self.server)
                try:
                    before = await self.sessions()
                    for extra in ({}, {"apisecret": "wrong"}, {"apisecret": API_SECRET[:-1]}, {"apisecret": 1},
                                  {"token": API_SECRET}):
                        r = await api.request(dict({"janus": "create"}, **extra))
                        self.assertEqual(error_code(r), 403, (extra, r))
                    self.assertEqual(await self.sessions(), before, "a refused create made a session")

                    sid = await create_session(api, self, apisecret=API_SECRET)
                    r = await api.request({"janus": "attach", "plugin": ECHOTEST}, session_id=sid)
                    self.assertEqual(error_code(r), 403, r)
                    r = await api.request({"janus": "list_handles"}, session_id=sid)
                    self.assertEqual(error_code(r), 403, r)
                    r = await api.request({"janus": "destroy", "apisecret": "nope"}, session_id=sid)
                    self.assertEqual(error_code(r), 403, r)
                    self.assertIn(sid, await self.sessions(), "a refused destroy ended the session")
                    handles = await self.admin.request({"janus": "list_handles"}, session_id=sid)
                    self.assertEqual(handles["handles"], [], "a refused attach made a handle")

                    r = await api.request({"janus": "attach", "plugin": ECHOTEST, "apisecret": API_SECRET},
                                          session_id=sid)
                    self.assertEqual(r["janus"], "success", r)
                    # info and ping need no secret, and info says one is needed.
                    info = await api.request({"janus": "info"})
                    self.assertIs(info["api_secret"], True, info)
                    self.assertIs(info["auth_token"], False, info)
                    self.assertEqual((await api.request({"janus": "ping"}))["janus"], "pong")
                    if kind == "http":
                        # Long polls carry the secret in the query string.
                        status, body, _ = await api.get(f"/janus/{sid}", timeout=5)
                        self.assertEqual(status, 403, body)
                        self.assertEqual(error_code(body), 403, body)
                        status, body, _ = await api.get(f"/janus/{sid}?apisecret=wrong", timeout=5)
                        self.assertEqual(status, 403, body)
                        poll = asyncio.ensure_future(api.get(f"/janus/{sid}?maxev=5&apisecret={API_SECRET}",
                                                             timeout=40))
                        await asyncio.sleep(0.2)
                        r = await api.request({"janus": "keepalive", "apisecret": API_SECRET}, session_id=sid)
                        self.assertEqual(r["janus"], "ack", r)
                        r = await api.request({"janus": "destroy", "apisecret": API_SECRET}, session_id=sid)
                        self.assertEqual(r["janus"], "success", r)
                        status, body, _ = await poll  # the pending poll is answered when the session goes
                        self.assertEqual(status, 200, body)
                        self.assertIsInstance(body, list, body)
                    else:
                        r = await api.request({"janus": "destroy", "apisecret": API_SECRET}, session_id=sid)
                        self.assertEqual(r["janus"], "success", r)
                    self.assertNotIn(sid, await self.sessions())
                finally:
                    await api.close()

    async def test_secrets_are_not_logged(self):
        await self.server.async_wait_for_log(r"configuration: ", 5)
        log = self.server.log()
        self.assertNotIn(API_SECRET, log)
        self.assertNotIn(ADMIN_SECRET, log)
        self.assertRegex(log, r'"api_secret":"\*+"')


class TokenTest(unittest.IsolatedAsyncioTestCase):
    """Stored tokens, managed through the admin API, each allowed for some plugins."""

    @classmethod
    def setUpClass(cls):
        cls.server = start_with_probe(cls, token_auth=True, admin_secret=ADMIN_SECRET)

    async def test_token_allowed_for_one_plugin_gets_405_on_another(self):
        admin = AdminHttp(self.server, ADMIN_SECRET)
        api = await WsApi.open(self.server)
        try:
            token = "tok-" + new_tx()
            r = await api.request({"janus": "create", "token": token})
            self.assertEqual(error_code(r), 403, r)
            r = await admin.request({"janus": "add_token", "token": token, "plugins": [ECHOTEST]})
            self.assertEqual(r["janus"], "success", r)
            self.assertEqual(r["data"]["plugins"], [ECHOTEST])
            listed = await admin.request({"janus": "list_tokens"})
            self.assertIn({"token": token, "allowed_plugins": [ECHOTEST]}, listed["data"]["tokens"])

            sid = await create_session(api, self, token=token)
            info = await api.request({"janus": "info"})
            self.assertIs(info["auth_token"], True, info)
            self.assertIs(info["api_secret"], False, info)
            r = await api.request({"janus": "attach", "plugin": PROBE, "token": token}, session_id=sid)
            self.assertEqual(error_code(r), 405, r)
            r = await admin.request({"janus": "list_handles"}, session_id=sid)
            self.assertEqual(r["handles"], [], "a refused attach made a handle")
            r = await api.request({"janus": "attach", "plugin": ECHOTEST, "token": token}, session_id=sid)
            self.assertEqual(r["janus"], "success", r)

            r = await admin.request({"janus": "allow_token", "token": token, "plugins": [PROBE]})
            self.assertEqual(sorted(r["data"]["plugins"]), sorted([ECHOTEST, PROBE]), r)
            r = await api.request({"janus": "attach", "plugin": PROBE, "token": token}, session_id=sid)
            self.assertEqual(r["janus"], "success", r)
            r = await admin.request({"janus": "disallow_token", "token": token, "plugins": [PROBE]})
            self.assertEqual(r["data"]["plugins"], [ECHOTEST], r)
            r = await api.request({"janus": "attach", "plugin": PROBE, "token": token}, session_id=sid)
            self.assertEqual(error_code(r), 405, r)

            r = await admin.request({"janus": "remove_token", "token": token})
            self.assertEqual(r["janus"], "success", r)
            r = await api.request({"janus": "keepalive", "token": token}, session_id=sid)
            self.assertEqual(error_code(r), 403, r)
            r = await admin.request({"janus": "remove_token", "token": token})
            self.assertEqual(error_code(r), 470, r)
        finally:
            await api.close()
            await admin.close()

    async def test_message_plugin(self):
        admin = AdminHttp(self.server, ADMIN_SECRET)
        try:
            r = await admin.request({"janus": "message_plugin", "plugin": PROBE, "request": {"what": "rooms"}})
            self.assertEqual(r["janus"], "success", r)
            self.assertEqual(r["response"]["probe"], "admin", r)
            self.assertEqual(r["response"]["request"], {"what": "rooms"}, r)
            r = await admin.request({"janus": "message_plugin", "plugin": ECHOTEST, "request": {}})
            self.assertEqual(r["janus"], "success", r)
            self.assertIn("error", r["response"], "a plugin without admin requests answers an error object")
            r = await admin.request({"janus": "message_plugin", "plugin": "janus.plugin.nope", "request": {}})
            self.assertEqual(error_code(r), 460, r)
        finally:
            await admin.close()


class AdminApiTest(unittest.IsolatedAsyncioTestCase):
    """The admin API itself, over HTTP and WebSocket, guarded by admin_secret."""

    @classmethod
    def setUpClass(cls):
        cls.server = start_with_probe(cls, admin_secret=ADMIN_SECRET)

    async def asyncSetUp(self):
        self.admin = AdminHttp(self.server, ADMIN_SECRET)

    async def asyncTearDown(self):
        await self.admin.close()

    async def test_admin_secret_required_over_http_and_websocket(self):
        wsa = await AdminWs.connect(self.server, ADMIN_SECRET)
        try:
            for name, client in (("http", self.admin), ("ws", wsa)):
                with self.subTest(name):
                    for verb in ("list_sessions", "get_status", "set_log_level", "accept_new_sessions", "bogus"):
                        r = await client.request({"janus": verb}, secret=False)
                        self.assertEqual(error_code(r), 403, (verb, r))
                        r = await client.request({"janus": verb, "admin_secret": "wrong"}, secret=False)
                        self.assertEqual(error_code(r), 403, (verb, r))
                    self.assertEqual((await client.request({"janus": "info"}, secret=False))["janus"], "server_info")
                    self.assertEqual((await client.request({"janus": "ping"}, secret=False))["janus"], "pong")
                    r = await client.request({"janus": "get_status"})
                    self.assertEqual(r["janus"], "success", r)
                    self.assertIn("session_timeout", r["status"])
                    r = await client.request({"janus": "bogus"})
                    self.assertEqual(error_code(r), 457, r)
            status, body = await self.admin.raw("{not json")
            self.assertEqual((status, error_code(body)), (200, 454), body)
            await wsa.ws.send("[1,2")
            r = json.loads(await asyncio.wait_for(wsa.ws.recv(), 5))
            self.assertEqual(error_code(r), 454, r)
        finally:
            await wsa.close()

    async def test_list_sessions_shows_exactly_the_live_sessions(self):
        api = await WsApi.open(self.server)
        http = await HttpApi.open(self.server)
        try:
            before = set((await self.admin.request({"janus": "list_sessions"}))["sessions"])
            a = await create_session(api, self)
            b = await create_session(api, self)
            c = await create_session(http, self)
            r = await self.admin.request({"janus": "list_sessions"})
            self.assertEqual(set(r["sessions"]) - before, {a, b, c}, r)
            self.assertEqual(len(r["sessions"]), len(set(r["sessions"])), "a session listed twice")
            await api.request({"janus": "destroy"}, session_id=b)
            r = await self.admin.request({"janus": "destroy_session"}, session_id=c)
            self.assertEqual(r["janus"], "success", r)
            r = await self.admin.request({"janus": "list_sessions"})
            self.assertEqual(set(r["sessions"]) - before, {a}, r)
            # Handles, their info, detach from the admin side.
            h = await attach_echotest(api, a)
            r = await self.admin.request({"janus": "list_handles"}, session_id=a)
            self.assertEqual(r["handles"], [h], r)
            r = await self.admin.request({"janus": "handle_info"}, session_id=a, handle_id=h)
            self.assertEqual(r["janus"], "success", r)
            self.assertEqual(r["info"]["plugin"], ECHOTEST, r)
            self.assertIsNone(r["info"]["webrtc"], r)
            r = await self.admin.request({"janus": "handle_info"}, session_id=a, handle_id=h + 1)
            self.assertEqual(error_code(r), 459, r)
            r = await self.admin.request({"janus": "list_handles"}, session_id=b)
            self.assertEqual(error_code(r), 458, r)
            r = await self.admin.request({"janus": "detach_handle"}, session_id=a, handle_id=h)
            self.assertEqual(r["janus"], "success", r)
            ev = await api.event(a, lambda m: m.get("janus") == "detached" and m.get("sender") == h)
            self.assertEqual(ev["session_id"], a)
            await api.request({"janus": "destroy"}, session_id=a)
            r = await self.admin.request({"janus": "list_sessions"})
            self.assertEqual(set(r["sessions"]) - before, set(), r)
        finally:
            await api.close()
            await http.close()

    async def test_set_log_level_changes_what_is_logged(self):
        api = await WsApi.open(self.server)
        try:
            sid = await create_session(api, self)
            quiet = await attach_echotest(api, sid)
            await api.request({"janus": "keepalive"}, session_id=sid)
            await asyncio.sleep(0.5)  # the log is written by a background thread
            self.assertNotRegex(self.server.log(), rf"handle {quiet} attached", "a debug line at level info")
            r = await self.admin.request({"janus": "set_log_level", "level": "debug"})
            self.assertEqual((r["janus"], r["level"]), ("success", "debug"), r)
            status = await self.admin.request({"janus": "get_status"})
            self.assertEqual(status["status"]["log_level"], "debug")
            loud = await attach_echotest(api, sid)
            self.assertIsNotNone(await self.server.async_wait_for_log(rf"debug.*handle {loud} attached", 5),
                                 "no debug line after set_log_level debug")
            r = await self.admin.request({"janus": "set_log_level", "level": 4})  # Janus's number for info
            self.assertEqual((r["janus"], r["level"], r["level_name"]), ("success", 4, "info"), r)
            again = await attach_echotest(api, sid)
            await api.request({"janus": "keepalive"}, session_id=sid)
            await asyncio.sleep(0.5)
            self.assertNotRegex(self.server.log(), rf"handle {again} attached", "debug lines after going back")
            r = await self.admin.request({"janus": "set_log_level", "level": "loud"})
            self.assertEqual(error_code(r), 467, r)
        finally:
            await api.close()

    async def test_accept_new_sessions(self):
        api = await WsApi.open(self.server)
        try:
            existing = await create_session(api, self)
            r = await self.admin.request({"janus": "accept_new_sessions", "accept": False})
            self.assertEqual((r["janus"], r["accept"]), ("success", False), r)
            r = await api.request({"janus": "create"})
            self.assertEqual(error_code(r), 472, r)
            self.assertIs((await api.request({"janus": "info"}))["accepting-new-sessions"], False)
            r = await api.request({"janus": "keepalive"}, session_id=existing)
            self.assertEqual(r["janus"], "ack", "existing sessions keep working")
            r = await self.admin.request({"janus": "accept_new_sessions", "accept": True})
            self.assertEqual(r["janus"], "success", r)
            await create_session(api, self)
        finally:
            await self.admin.request({"janus": "accept_new_sessions", "accept": True})
            await api.close()

    async def test_session_timeout_per_session(self):
        api = await WsApi.open(self.server)
        try:
            short = await create_session(api, self)
            other = await create_session(api, self)
            r = await self.admin.request({"janus": "set_session_timeout", "timeout": 1}, session_id=short)
            self.assertEqual((r["janus"], r["timeout"]), ("success", 1), r)
            ev = await api.event(short, lambda m: m.get("janus") == "timeout" and m.get("session_id") == short,
                                 timeout=5, what="timeout of the session given 1 s")
            self.assertEqual(ev["session_id"], short)
            r = await api.request({"janus": "keepalive"}, session_id=other)
            self.assertEqual(r["janus"], "ack", "the other session keeps the global timeout")
        finally:
            await api.close()

    async def test_metrics_and_health(self):
        status, ctype, body = await self.admin.get("/health")
        self.assertEqual((status, json.loads(body)), (200, {"status": "ok"}))
        self.assertTrue(ctype.startswith("application/json"), ctype)
        before = await self.admin.metrics()
        api = await WsApi.open(self.server)
        try:
            for _ in range(3):
                await create_session(api, self)
            sid = await create_session(api, self)
            await attach_echotest(api, sid)
            after = await self.admin.metrics()
        finally:
            await api.close()
        self.assertEqual(metric(after, "junction_sessions_created_total") -
                         metric(before, "junction_sessions_created_total"), 4)
        self.assertGreaterEqual(metric(after, "junction_sessions"), 4)
        self.assertEqual(metric(after, "junction_handles_attached_total") -
                         metric(before, "junction_handles_attached_total"), 1)
        self.assertGreaterEqual(metric(after, "junction_plugin_handles", plugin=ECHOTEST), 1)
        for name in ("junction_rtp_packets_total", "junction_rtp_bytes_total", "junction_nacks_total",
                     "junction_plis_total"):
            for direction in ("in", "out"):
                self.assertGreaterEqual(metric(after, name, direction=direction), 0)
        self.assertIn(("junction_srtp_errors_total", frozenset()), after)
        workers = [k for k in after if k[0] == "junction_media_worker_peer_connections"]
        self.assertGreaterEqual(len(workers), 1, "per-worker PeerConnection counts")
        # The sessions closed with their WebSocket: the gauge goes down, the counter does not.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            later = await self.admin.metrics()
            if metric(later, "junction_sessions") <= metric(before, "junction_sessions"):
                break
            await asyncio.sleep(0.1)
        self.assertLessEqual(metric(later, "junction_sessions"), metric(before, "junction_sessions"))
        self.assertGreaterEqual(metric(later, "junction_sessions_destroyed_total"), 4)
        self.assertEqual(metric(later, "junction_sessions_created_total"),
                         metric(after, "junction_sessions_created_total"))
        status, _, _ = await self.admin.get("/nope")
        self.assertEqual(status, 404)

    async def test_plugin_metrics(self):
        VIDEOROOM = "janus.plugin.videoroom"
        before = await self.admin.metrics()
        api = await WsApi.open(self.server)
        try:
            sid = await create_session(api, self)
            r = await api.request({"janus": "attach", "plugin": VIDEOROOM}, session_id=sid)
            room_handle = r["data"]["id"]
            r = await api.request({"janus": "message", "body": {"request": "create", "room": 777001}},
                                  session_id=sid, handle_id=room_handle)
            self.assertEqual(r["plugindata"]["data"]["videoroom"], "created", r)
            tx = new_tx("join")
            r = await api.request({"janus": "message", "transaction": tx,
                                   "body": {"request": "join", "ptype": "publisher", "room": 777001}},
                                  session_id=sid, handle_id=room_handle)
            self.assertEqual(r["janus"], "ack", r)
            ev = await api.event(sid, lambda m: m.get("transaction") == tx, what="joined")
            self.assertEqual(ev["plugindata"]["data"]["videoroom"], "joined", ev)
            r = await api.request({"janus": "attach", "plugin": PROBE}, session_id=sid)
            probe_handle = r["data"]["id"]
            for _ in range(2):
                r = await api.request({"janus": "message", "body": {"ping": 1}}, session_id=sid, handle_id=probe_handle)
                self.assertEqual(r["janus"], "success", r)
            status, _, text = await self.admin.get("/metrics")
            after, types = parse_prometheus(text)
        finally:
            await api.close()
        self.assertEqual(metric(after, "junction_plugin_rooms", plugin=VIDEOROOM),
                         metric(before, "junction_plugin_rooms", plugin=VIDEOROOM) + 1)
        self.assertEqual(metric(after, "junction_plugin_participants", plugin=VIDEOROOM),
                         metric(before, "junction_plugin_participants", plugin=VIDEOROOM) + 1)
        self.assertEqual(metric(after, "junction_plugin_publishers", plugin=VIDEOROOM),
                         metric(before, "junction_plugin_publishers", plugin=VIDEOROOM), "joined, not publishing")
        # Two plugins' `rooms` share one family; a plugin's counter is typed as one.
        self.assertEqual(metric(after, "junction_plugin_rooms", plugin=PROBE), 2)
        self.assertEqual(types["junction_plugin_rooms"], "gauge")
        self.assertEqual(metric(after, "junction_plugin_probe_messages_total", plugin=PROBE),
                         metric(before, "junction_plugin_probe_messages_total", plugin=PROBE) + 2)
        self.assertEqual(types["junction_plugin_probe_messages_total"], "counter")
        self.assertNotIn("junction_plugin_probe_no_suffix", types, "a counter without _total is refused")
        self.assertFalse([name for name in types if "Bad" in name], "a bad metric name is refused")
        # The participant left with the WebSocket; the room stays.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            later = await self.admin.metrics()
            if metric(later, "junction_plugin_participants", plugin=VIDEOROOM) == \
                    metric(before, "junction_plugin_participants", plugin=VIDEOROOM):
                break
            await asyncio.sleep(0.1)
        self.assertEqual(metric(later, "junction_plugin_participants", plugin=VIDEOROOM),
                         metric(before, "junction_plugin_participants", plugin=VIDEOROOM))
        self.assertEqual(metric(later, "junction_plugin_rooms", plugin=VIDEOROOM),
                         metric(after, "junction_plugin_rooms", plugin=VIDEOROOM))


# ---------------------------------------------------------------------------------------------
# A live aiortc echotest, watched through handle_info and /metrics


def _aiortc():
    sys.path.insert(0, os.path.join(HERE, os.pardir, "e2e_media"))
    try:
        import echotest_aiortc  # noqa: F401  (aiortc, av, numpy)
        from aiortc import RTCPeerConnection, RTCConfiguration, RTCSessionDescription
        from aiortc.sdp import candidate_from_sdp
        return echotest_aiortc, RTCPeerConnection, RTCConfiguration, RTCSessionDescription, candidate_from_sdp
    except ImportError as e:
        raise unittest.SkipTest(f"aiortc is not available: {e}")


async def start_aiortc_echotest(tc, server, client):
    """An aiortc peer sending a tone to the echotest over `client` (a WsClient) until it is
    connected (`webrtcup` received). Returns (pc, session id, handle id)."""
    lib, RTCPeerConnection, RTCConfiguration, RTCSessionDescription, candidate_from_sdp = _aiortc()
    lib.use_loopback_only()
    lib.quiet_ffmpeg()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    api = WsApi(server, client)
    sid = await create_session(api, tc)
    hid = await attach_echotest(api, sid)
    pc.addTransceiver(lib.ToneAudioTrack(), direction="sendrecv")
    connected = asyncio.Event()

    @pc.on("connectionstatechange")
    def _state():
        if pc.connectionState == "connected":
            connected.set()

    await pc.setLocalDescription(await pc.createOffer())
    tx = new_tx("offer")
    await client.send({"janus": "message", "transaction": tx, "session_id": sid, "handle_id": hid,
                       "body": {"audio": True},
                       "jsep": {"type": "offer", "sdp": pc.localDescription.sdp, "trickle": False}})
    event = await client.wait_for(lambda m: m.get("transaction") == tx and m.get("janus") == "event",
                                  10, "the echotest answer")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=event["jsep"]["sdp"], type="answer"))
    # Candidates the server trickled after its answer.
    for m in list(client.inbox):
        cand = m.get("candidate") if m.get("janus") == "trickle" else None
        if isinstance(cand, dict) and cand.get("candidate"):
            c = candidate_from_sdp(cand["candidate"].split(":", 1)[1])
            c.sdpMid, c.sdpMLineIndex = cand.get("sdpMid"), 0
            await pc.addIceCandidate(c)
    await asyncio.wait_for(connected.wait(), 15)
    await client.wait_for(lambda m: m.get("janus") == "webrtcup", 10, "webrtcup")
    return pc, sid, hid


class HandleInfoMediaTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = start_server(cls, admin_secret=ADMIN_SECRET)

    async def test_handle_info_counters_grow_with_media(self):
        admin = AdminHttp(self.server, ADMIN_SECRET)
        client = await WsClient.connect(self.server.ws_url)
        pc = None
        try:
            metrics_before = await admin.metrics()
            pc, sid, hid = await start_aiortc_echotest(self, self.server, client)
            await asyncio.sleep(1.0)

            first = await admin.request({"janus": "handle_info"}, session_id=sid, handle_id=hid)
            self.assertEqual(first["janus"], "success", first)
            await asyncio.sleep(1.5)
            second = await admin.request({"janus": "handle_info"}, session_id=sid, handle_id=hid)
            w1, w2 = first["info"]["webrtc"], second["info"]["webrtc"]
            self.assertIsNotNone(w1, first)
            self.assertTrue(w2["dtls"]["connected"], w2)
            self.assertIn(w2["dtls"]["role"], ("client", "server"), w2)
            self.assertTrue(w2["dtls"]["srtp_profile"], w2)
            self.assertTrue(w2["ice"]["selected_pair"], w2)
            self.assertTrue(w2["ice"]["local_candidates"] and w2["ice"]["remote_candidates"], w2)
            self.assertTrue(second["info"]["flags"]["webrtc_up"], second)
            for key in ("rtp_in", "rtp_out", "bytes_in", "bytes_out"):
                self.assertGreater(w2["counters"][key], w1["counters"][key], f"{key} did not grow: {w1} -> {w2}")
            streams_in = [s for s in w2["streams"] if s["direction"] == "in"]
            self.assertTrue(streams_in and streams_in[0]["packets"] > 0, w2["streams"])

            metrics_after = await admin.metrics()
            for direction in ("in", "out"):
                self.assertGreater(metric(metrics_after, "junction_rtp_packets_total", direction=direction),
                                   metric(metrics_before, "junction_rtp_packets_total", direction=direction))
            self.assertGreaterEqual(metric(metrics_after, "junction_peer_connections", state="connected"), 1)

            # hangup_webrtc from the admin side: the client hears `hangup`; the counters stay.
            r = await admin.request({"janus": "hangup_webrtc"}, session_id=sid, handle_id=hid)
            self.assertEqual(r["janus"], "success", r)
            await client.wait_for(lambda m: m.get("janus") == "hangup" and m.get("sender") == hid, 5, "hangup")
            r = await admin.request({"janus": "handle_info"}, session_id=sid, handle_id=hid)
            self.assertIsNone(r["info"]["webrtc"], r)
            final = await admin.metrics()
            self.assertGreaterEqual(metric(final, "junction_rtp_packets_total", direction="in"),
                                    metric(metrics_after, "junction_rtp_packets_total", direction="in"),
                                    "a counter went down when its PeerConnection closed")
        finally:
            if pc is not None:
                await pc.close()
            await client.close()
            await admin.close()


class _Collector(http.server.BaseHTTPRequestHandler):
    """An event push collector: keeps every JSON body POSTed to it."""
    batches = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).batches.append((self.path, self.headers.get("Content-Type"), json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class EventPushTest(unittest.IsolatedAsyncioTestCase):
    """Event push delivers an echotest's webrtcup and hangup to a local HTTP collector."""

    @classmethod
    def setUpClass(cls):
        cls.collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
        threading.Thread(target=cls.collector.serve_forever, daemon=True).start()
        cls.addClassCleanup(cls.collector.server_close)
        cls.addClassCleanup(cls.collector.shutdown)
        url = f"http://127.0.0.1:{cls.collector.server_address[1]}/junction-events"
        cls.server = start_server(cls, admin_secret=ADMIN_SECRET, event_push_url=url)

    def events(self):
        return [e for _, _, batch in _Collector.batches for e in batch]

    async def wait_event(self, pred, what, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events() if pred(e)]
            if found:
                return found[0]
            await asyncio.sleep(0.05)
        self.fail(f"no {what} pushed within {timeout} s; got {json.dumps(self.events())[:2000]}")

    async def test_webrtcup_and_hangup_are_pushed(self):
        client = await WsClient.connect(self.server.ws_url)
        pc = None
        try:
            pc, sid, hid = await start_aiortc_echotest(self, self.server, client)
            up = await self.wait_event(lambda e: e.get("handle_id") == hid and e["event"].get("connection") == "webrtcup",
                                       "webrtcup")
            self.assertEqual((up["type"], up["session_id"], up["emitter"]), (16, sid, "Junction"), up)
            self.assertIsInstance(up["timestamp"], int)
            r = await WsApi(self.server, client).request({"janus": "hangup"}, session_id=sid, handle_id=hid)
            self.assertEqual(r["janus"], "success", r)
            down = await self.wait_event(lambda e: e.get("handle_id") == hid and e["event"].get("connection") == "hangup",
                                         "hangup")
            self.assertEqual(down["type"], 16, down)
            self.assertTrue(down["event"]["reason"], down)
            await self.wait_event(lambda e: e.get("session_id") == sid and e["type"] == 1 and
                                  e["event"].get("name") == "created", "session created")
            await self.wait_event(lambda e: e.get("handle_id") == hid and e["type"] == 2 and
                                  e["event"].get("name") == "attached", "handle attached")
            await self.wait_event(lambda e: e.get("handle_id") == hid and e["type"] == 64, "the plugin's event")
            paths = {(path, ctype) for path, ctype, _ in _Collector.batches}
            self.assertEqual(paths, {("/junction-events", "application/json")})
            admin = AdminHttp(self.server, ADMIN_SECRET)
            try:
                m = await admin.metrics()
            finally:
                await admin.close()
            self.assertGreaterEqual(metric(m, "junction_event_push_events_total", result="sent"), 5)
            self.assertEqual(metric(m, "junction_event_push_events_total", result="dropped"), 0)
        finally:
            if pc is not None:
                await pc.close()
            await client.close()


if __name__ == "__main__":
    unittest.main()
