"""The Janus core API flow over WebSocket and over HTTP (same scenarios on both transports):
create / attach / message / detach / destroy, info, ping, chosen session ids, trickle, session
timeouts, HTTP long polls and CORS, and isolation between clients.

Run: cd tests/integration && JUNCTION_BINARY=.../junction /usr/bin/python3 -m unittest -v test_api_flow
"""

import asyncio
import random
import time
import unittest

from junction_server import (ECHOTEST, attach_echotest, create_session, echotest_roundtrip, new_tx,
                             open_api, start_server)

SERVER_NAME = "junction-it-flow"
ECHO_OK = {"plugin": ECHOTEST, "data": {"echotest": "event", "result": "ok"}}
CANDIDATE = {"sdpMid": "0", "sdpMLineIndex": 0,
             "candidate": "candidate:1 1 udp 2122260223 192.0.2.10 54400 typ host"}
CANDIDATE2 = {"sdpMid": "0", "sdpMLineIndex": 0,
              "candidate": "candidate:2 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active"}


class _Base:
    """Opens clients of the class's transport and checks the server is still up after each test."""

    kind = None
    server_config = {}

    @classmethod
    def setUpClass(cls):
        cls.server = start_server(cls, **cls.server_config)

    async def asyncSetUp(self):
        self.apis = []

    async def asyncTearDown(self):
        for api in self.apis:
            await api.close()
        self.assertTrue(self.server.alive(), f"server died:\n{self.server.log()[-3000:]}")

    async def open(self, kind=None):
        api = await open_api(kind or self.kind, self.server)
        self.apis.append(api)
        return api

    async def req(self, api, msg, session_id=None, handle_id=None):
        """A request whose reply must come back (over HTTP: with status 200)."""
        r = await api.request(msg, session_id=session_id, handle_id=handle_id)
        if api.kind == "http":
            self.assertEqual(api.last_status, 200, f"HTTP status for {msg}: {r}")
        self.assertIsInstance(r, dict, r)
        return r

    def assertError(self, reply, code, tx, session_id=None):
        self.assertEqual(reply.get("janus"), "error", reply)
        self.assertEqual(reply.get("error", {}).get("code"), code, reply)
        self.assertIsInstance(reply["error"].get("reason"), str, reply)
        self.assertEqual(reply.get("transaction"), tx, reply)
        if session_id is not None:
            self.assertEqual(reply.get("session_id"), session_id, reply)


class FlowTests(_Base):
    server_config = {"long_poll_timeout": 2, "server_name": SERVER_NAME}

    async def test_create_attach_message_detach_destroy(self):
        api = await self.open()
        tx = new_tx("create")
        r = await self.req(api, {"janus": "create", "transaction": tx})
        self.assertEqual(r.get("janus"), "success", r)
        self.assertEqual(r.get("transaction"), tx, r)
        sid = r["data"]["id"]
        self.assertIsInstance(sid, int)
        self.assertTrue(0 < sid < 2 ** 53, sid)

        tx = new_tx("attach")
        r = await self.req(api, {"janus": "attach", "plugin": ECHOTEST, "transaction": tx}, sid)
        self.assertEqual(r.get("janus"), "success", r)
        hid = r["data"]["id"]
        self.assertEqual(r, {"janus": "success", "session_id": sid, "transaction": tx, "data": {"id": hid}})
        self.assertIsInstance(hid, int)
        self.assertTrue(0 < hid < 2 ** 53, hid)

        tx = new_tx("msg")
        r = await self.req(api, {"janus": "message", "body": {"audio": True}, "transaction": tx}, sid, hid)
        self.assertEqual(r, {"janus": "ack", "session_id": sid, "transaction": tx})
        ev = await api.event(sid, lambda m: m.get("janus") == "event")
        self.assertEqual(ev, {"janus": "event", "session_id": sid, "transaction": tx, "sender": hid,
                              "plugindata": ECHO_OK})

        # A body field of the wrong type is a plugin-level error (echotest 413), not a Janus error.
        tx = new_tx("badmsg")
        r = await self.req(api, {"janus": "message", "body": {"audio": "yes"}, "transaction": tx}, sid, hid)
        self.assertEqual(r, {"janus": "ack", "session_id": sid, "transaction": tx})
        ev = await api.event(sid, lambda m: m.get("janus") == "event")
        self.assertEqual(ev.get("transaction"), tx, ev)
        self.assertEqual(ev.get("sender"), hid, ev)
        data = ev["plugindata"]["data"]
        self.assertEqual(ev["plugindata"]["plugin"], ECHOTEST, ev)
        self.assertEqual(data.get("echotest"), "event", ev)
        self.assertEqual(data.get("error_code"), 413, ev)
        self.assertIsInstance(data.get("error"), str, ev)
        self.assertNotIn("result", data, ev)

        tx = new_tx("detach")
        r = await self.req(api, {"janus": "detach", "transaction": tx}, sid, hid)
        self.assertEqual(r, {"janus": "success", "session_id": sid, "transaction": tx})
        ev = await api.event(sid, lambda m: m.get("janus") == "detached")
        self.assertEqual(ev, {"janus": "detached", "session_id": sid, "sender": hid})

        tx = new_tx("gone")
        r = await self.req(api, {"janus": "message", "body": {}, "transaction": tx}, sid, hid)
        self.assertError(r, 459, tx)

        tx = new_tx("destroy")
        r = await self.req(api, {"janus": "destroy", "transaction": tx}, sid)
        self.assertEqual(r, {"janus": "success", "session_id": sid, "transaction": tx})

        tx = new_tx("after")
        r = await self.req(api, {"janus": "keepalive", "transaction": tx}, sid)
        self.assertError(r, 458, tx)

    async def test_destroy_with_handle_detaches_it(self):
        api = await self.open()
        sid = await create_session(api)
        hid = await attach_echotest(api, sid)
        await echotest_roundtrip(api, sid, hid)
        if api.kind == "http":
            # Over HTTP the session's events stop with it; a pending poll is answered, not left hanging.
            poll = asyncio.ensure_future(api.poll(sid, maxev=10))
            await asyncio.sleep(0.2)
        tx = new_tx("destroy")
        r = await self.req(api, {"janus": "destroy", "transaction": tx}, sid)
        self.assertEqual(r, {"janus": "success", "session_id": sid, "transaction": tx})
        if api.kind == "ws":
            # As with Janus, the handles of a destroyed session go without a `detached` each.
            await asyncio.sleep(0.3)
            self.assertFalse([m for m in api.client.history if m.get("janus") == "detached"])
        else:
            status, body = await asyncio.wait_for(poll, 5)
            self.assertEqual(status, 200, body)
        r = await self.req(api, {"janus": "message", "body": {}}, sid, hid)
        self.assertEqual(r.get("error", {}).get("code"), 458, r)

    async def test_info(self):
        api = await self.open()
        tx = new_tx("info")
        r = await self.req(api, {"janus": "info", "transaction": tx})
        self._check_info(r)
        self.assertEqual(r.get("transaction"), tx, r)
        if api.kind == "http":
            status, body, headers = await api.get("/janus/info")
            self.assertEqual(status, 200, body)
            self.assertIn("application/json", headers.get("Content-Type", ""))
            self._check_info(body)

    def _check_info(self, r):
        self.assertEqual(r.get("janus"), "server_info", r)
        self.assertIn(ECHOTEST, r.get("plugins", {}), r)
        self.assertIsInstance(r["plugins"][ECHOTEST].get("version_string"), str, r)
        self.assertEqual(r.get("server-name"), SERVER_NAME, r)
        self.assertEqual(r.get("session-timeout"), 60, r)
        self.assertEqual(r.get("reclaim-session-timeout"), 0, r)
        for key in ("name", "version", "version_string", "author", "transports", "accepting-new-sessions"):
            self.assertIn(key, r)
        self.assertIsInstance(r["version"], int, r)
        self.assertIn("janus.transport.websockets", r["transports"], r)
        self.assertIn("janus.transport.http", r["transports"], r)

    async def test_ping_pong(self):
        api = await self.open()
        tx = new_tx("ping")
        r = await self.req(api, {"janus": "ping", "transaction": tx})
        self.assertEqual(r, {"janus": "pong", "transaction": tx})

    async def test_create_with_chosen_id(self):
        api = await self.open()
        other = await self.open()
        wanted = random.randint(1, 2 ** 53 - 1)
        tx = new_tx("create-id")
        r = await self.req(api, {"janus": "create", "id": wanted, "transaction": tx})
        self.assertEqual(r, {"janus": "success", "transaction": tx, "data": {"id": wanted}})

        # The same id again, from the same client and from another one: 468, session untouched.
        for client in (api, other):
            tx = new_tx("create-dup")
            r = await self.req(client, {"janus": "create", "id": wanted, "transaction": tx})
            self.assertError(r, 468, tx)
        tx = new_tx("ka")
        r = await self.req(api, {"janus": "keepalive", "transaction": tx}, wanted)
        self.assertEqual(r, {"janus": "ack", "session_id": wanted, "transaction": tx})
        hid = await attach_echotest(api, wanted)
        await echotest_roundtrip(api, wanted, hid)

        # Once destroyed, the id is free again.
        r = await self.req(api, {"janus": "destroy"}, wanted)
        self.assertEqual(r.get("janus"), "success", r)
        r = await self.req(other, {"janus": "create", "id": wanted})
        self.assertEqual(r.get("janus"), "success", r)
        self.assertEqual(r["data"]["id"], wanted, r)
        await self.req(other, {"janus": "destroy"}, wanted)

    async def test_trickle(self):
        api = await self.open()
        sid = await create_session(api)
        hid = await attach_echotest(api, sid)
        acked = [
            {"candidate": CANDIDATE},
            {"candidates": [CANDIDATE, CANDIDATE2]},
            {"candidate": {"completed": True}},
            {"candidate": None},       # end of candidates
            {"candidate": 5},          # Janus acks a numeric candidate too
        ]
        for fields in acked:
            with self.subTest(trickle=fields):
                tx = new_tx("trickle")
                r = await self.req(api, dict({"janus": "trickle", "transaction": tx}, **fields), sid, hid)
                self.assertEqual(r, {"janus": "ack", "session_id": sid, "transaction": tx})
        with self.subTest(trickle="both"):
            tx = new_tx("trickle-both")
            r = await self.req(api, {"janus": "trickle", "candidate": CANDIDATE, "candidates": [CANDIDATE2],
                                     "transaction": tx}, sid, hid)
            self.assertError(r, 454, tx)
        with self.subTest(trickle="neither"):
            tx = new_tx("trickle-none")
            r = await self.req(api, {"janus": "trickle", "transaction": tx}, sid, hid)
            self.assertError(r, 456, tx)
        # The handle still works after all that.
        await echotest_roundtrip(api, sid, hid)

    async def test_isolation_between_clients(self):
        a = await self.open()
        b = await self.open()
        a_sid = await create_session(a)
        a_hid = await attach_echotest(a, a_sid)
        b_sid = await create_session(b)
        b_hid = await attach_echotest(b, b_sid)

        bad_sessions = [random.randint(1, 2 ** 53 - 1) for _ in range(3)] + [a_sid + 1, a_sid - 1, a_sid + 2]
        bad_sessions = [s for s in bad_sessions if s not in (a_sid, b_sid) and s > 0]
        for s in bad_sessions:
            for verb in ({"janus": "keepalive"}, {"janus": "attach", "plugin": ECHOTEST}, {"janus": "destroy"},
                         {"janus": "claim"}):
                with self.subTest(session=s, verb=verb["janus"]):
                    tx = new_tx("iso")
                    r = await self.req(b, dict(verb, transaction=tx), s)
                    self.assertError(r, 458, tx)
            with self.subTest(session=s, verb="message"):
                tx = new_tx("iso-msg")
                r = await self.req(b, {"janus": "message", "body": {"audio": True}, "transaction": tx}, s, a_hid)
                self.assertError(r, 458, tx)
            if b.kind == "http":
                with self.subTest(session=s, verb="long poll"):
                    status, body = await b.poll(s)
                    self.assertEqual(status, 404, body)
                    self.assertEqual(body.get("error", {}).get("code"), 458, body)

        # A's handle (and its neighbours) under B's own session: no such handle there.
        for h in (a_hid, a_hid + 1, a_hid - 1, random.randint(1, 2 ** 53 - 1)):
            if h in (b_hid, 0):
                continue
            for verb in ({"janus": "message", "body": {"audio": True}}, {"janus": "detach"},
                         {"janus": "hangup"}, {"janus": "trickle", "candidate": CANDIDATE}):
                with self.subTest(handle=h, verb=verb["janus"]):
                    tx = new_tx("iso-h")
                    r = await self.req(b, dict(verb, transaction=tx), b_sid, h)
                    self.assertError(r, 459, tx)

        # A's session and handle are untouched, and B's as well.
        tx = new_tx("a-ka")
        r = await self.req(a, {"janus": "keepalive", "transaction": tx}, a_sid)
        self.assertEqual(r, {"janus": "ack", "session_id": a_sid, "transaction": tx})
        await echotest_roundtrip(a, a_sid, a_hid)
        await echotest_roundtrip(b, b_sid, b_hid)
        if b.kind == "ws":
            await asyncio.sleep(0.2)
            leaked = [m for m in b.client.history if m.get("session_id") == a_sid or m.get("sender") == a_hid]
            self.assertEqual(leaked, [], "B received A's messages")
            leaked = [m for m in a.client.history if m.get("session_id") == b_sid]
            self.assertEqual(leaked, [], "A received B's messages")
        for api, sid in ((a, a_sid), (b, b_sid)):
            await self.req(api, {"janus": "destroy"}, sid)


class WsFlowTest(FlowTests, unittest.IsolatedAsyncioTestCase):
    kind = "ws"

    async def test_closing_websocket_destroys_its_sessions(self):
        a = await self.open()
        b = await self.open()
        a_sid = await create_session(a)
        a_hid = await attach_echotest(a, a_sid)
        a_sid2 = await create_session(a)
        await echotest_roundtrip(a, a_sid, a_hid)
        # While A is connected, its session is there (Janus session ids are bearer names).
        r = await self.req(b, {"janus": "keepalive"}, a_sid)
        self.assertEqual(r.get("janus"), "ack", r)

        await a.close()
        self.assertTrue(await a.client.wait_closed(3))
        for sid in (a_sid, a_sid2):
            deadline = time.monotonic() + 3
            while True:
                tx = new_tx("after-close")
                r = await self.req(b, {"janus": "keepalive", "transaction": tx}, sid)
                if r.get("janus") == "error" or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            self.assertError(r, 458, tx)
        tx = new_tx("claim")
        r = await self.req(b, {"janus": "claim", "transaction": tx}, a_sid)
        self.assertError(r, 458, tx)
        tx = new_tx("msg")
        r = await self.req(b, {"janus": "message", "body": {}, "transaction": tx}, a_sid, a_hid)
        self.assertError(r, 458, tx)
        self.assertTrue(await self.server.async_wait_for_log(rf"session {a_sid} destroyed", 2), "no log line")

    async def test_ids_in_body_not_required_for_root_requests(self):
        # Root verbs ignore a zero/null session_id; a handle_id without a session is a path error.
        api = await self.open()
        tx = new_tx("ping0")
        r = await self.req(api, {"janus": "ping", "session_id": 0, "transaction": tx})
        self.assertEqual(r, {"janus": "pong", "transaction": tx})
        tx = new_tx("create-null")
        r = await self.req(api, {"janus": "create", "session_id": None, "transaction": tx})
        self.assertEqual(r.get("janus"), "success", r)
        await self.req(api, {"janus": "destroy"}, r["data"]["id"])


class HttpFlowTest(FlowTests, unittest.IsolatedAsyncioTestCase):
    kind = "http"

    async def test_long_poll_returns_keepalive_when_idle(self):
        api = await self.open()
        sid = await create_session(api)
        for maxev in (None, 1, 10):
            with self.subTest(maxev=maxev):
                start = time.monotonic()
                status, body = await api.poll(sid, maxev=maxev, timeout=8)
                elapsed = time.monotonic() - start
                self.assertEqual(status, 200, body)
                # Janus (janus_http.c janus_http_timeout) wraps the keepalive in an array when maxev > 1.
                expected = {"janus": "keepalive"} if (maxev or 1) == 1 else [{"janus": "keepalive"}]
                self.assertEqual(body, expected)
                self.assertGreaterEqual(elapsed, 1.5, "poll answered before long_poll_timeout (2 s)")
                self.assertLess(elapsed, 4.5, "poll not answered soon after long_poll_timeout (2 s)")
        await self.req(api, {"janus": "destroy"}, sid)

    async def test_long_poll_maxev(self):
        api = await self.open()
        sid = await create_session(api)
        hid = await attach_echotest(api, sid)
        txs = []
        for _ in range(3):
            tx = new_tx("batch")
            r = await self.req(api, {"janus": "message", "body": {"video": False}, "transaction": tx}, sid, hid)
            self.assertEqual(r.get("janus"), "ack", r)
            txs.append(tx)
        await asyncio.sleep(0.3)
        status, body = await api.poll(sid, maxev=10)
        self.assertEqual(status, 200, body)
        self.assertIsInstance(body, list, body)
        events = list(body)
        deadline = time.monotonic() + 5
        while len(events) < 3 and time.monotonic() < deadline:
            status, more = await api.poll(sid, maxev=10)
            self.assertIsInstance(more, list, more)
            events += [m for m in more if m.get("janus") != "keepalive"]
        self.assertEqual([e.get("transaction") for e in events], txs, events)
        for e in events:
            self.assertEqual(e.get("janus"), "event", e)
            self.assertEqual(e.get("sender"), hid, e)
            self.assertEqual(e.get("plugindata"), ECHO_OK, e)

        # maxev=1 (and no maxev) answers a single object, one event at a time.
        for maxev in (1, None):
            with self.subTest(maxev=maxev):
                tx = new_tx("single")
                await self.req(api, {"janus": "message", "body": {"audio": True}, "transaction": tx}, sid, hid)
                tx2 = new_tx("single2")
                await self.req(api, {"janus": "message", "body": {"audio": True}, "transaction": tx2}, sid, hid)
                await asyncio.sleep(0.2)
                status, body = await api.poll(sid, maxev=maxev)
                self.assertEqual(status, 200, body)
                self.assertIsInstance(body, dict, body)
                self.assertEqual(body.get("transaction"), tx, body)
                status, body = await api.poll(sid, maxev=maxev)
                self.assertIsInstance(body, dict, body)
                self.assertEqual(body.get("transaction"), tx2, body)
        await self.req(api, {"janus": "destroy"}, sid)

    async def test_long_poll_unknown_session_is_404(self):
        api = await self.open()
        for s in (random.randint(1, 2 ** 53 - 1), 1):
            status, body = await api.poll(s)
            self.assertEqual(status, 404, body)
            self.assertEqual(body.get("janus"), "error", body)
            self.assertEqual(body["error"]["code"], 458, body)

    async def test_cors(self):
        api = await self.open()
        origin = "http://other.test"
        async with api.http.options(api.base + "/janus", headers={
                "Origin": origin, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type"}) as r:
            self.assertEqual(r.status, 204)
            self.assertIn(r.headers.get("Access-Control-Allow-Origin"), (origin, "*"), dict(r.headers))
            methods = [m.strip().upper() for m in r.headers.get("Access-Control-Allow-Methods", "").split(",")]
            self.assertIn("POST", methods, dict(r.headers))
            self.assertIn("content-type", r.headers.get("Access-Control-Allow-Headers", "").lower(),
                          dict(r.headers))
        sid = await create_session(api)
        async with api.http.options(f"{api.base}/janus/{sid}", headers={
                "Origin": origin, "Access-Control-Request-Method": "GET"}) as r:
            self.assertEqual(r.status, 204)
            self.assertIn(r.headers.get("Access-Control-Allow-Origin"), (origin, "*"), dict(r.headers))

        tx = new_tx("cors")
        status, body, headers = await api.post("/janus", {"janus": "ping", "transaction": tx},
                                               headers={"Origin": origin})
        self.assertEqual(status, 200)
        self.assertEqual(body, {"janus": "pong", "transaction": tx})
        self.assertIn(headers.get("Access-Control-Allow-Origin"), (origin, "*"), dict(headers))
        status, body, headers = await api.post(f"/janus/{sid}", {"janus": "keepalive", "transaction": new_tx()},
                                               headers={"Origin": origin})
        self.assertEqual(body.get("janus"), "ack", body)
        self.assertIn(headers.get("Access-Control-Allow-Origin"), (origin, "*"), dict(headers))
        await self.req(api, {"janus": "destroy"}, sid)

    async def test_non_numeric_session_path_is_404(self):
        api = await self.open()
        for path in ("/janus/abc", "/janus/12abc", "/janus/-5", "/janus/0"):
            with self.subTest(path=path):
                status, body, _ = await api.post(path, {"janus": "keepalive", "transaction": new_tx()})
                self.assertEqual(status, 404, body)


class TimeoutTests(_Base):
    """session_timeout 2: keepalives keep a session, silence ends it."""

    server_config = {"session_timeout": 2, "long_poll_timeout": 10}

    async def test_keepalive_keeps_session_alive(self):
        api = await self.open()
        sid = await create_session(api)
        hid = await attach_echotest(api, sid)
        start = time.monotonic()
        while time.monotonic() - start < 4.5:
            await asyncio.sleep(1.0)
            tx = new_tx("ka")
            r = await self.req(api, {"janus": "keepalive", "transaction": tx}, sid)
            self.assertEqual(r, {"janus": "ack", "session_id": sid, "transaction": tx},
                             f"after {time.monotonic() - start:.1f} s")
        await echotest_roundtrip(api, sid, hid)
        if api.kind == "ws":
            self.assertFalse([m for m in api.client.history if m.get("janus") == "timeout"],
                             api.client.history)
        await self.req(api, {"janus": "destroy"}, sid)

    async def test_silent_session_times_out(self):
        api = await self.open()
        sid = await create_session(api)
        hid = await attach_echotest(api, sid)
        start = time.monotonic()
        if api.kind == "ws":
            ev = await api.event(sid, lambda m: m.get("janus") == "timeout", timeout=6)
            elapsed = time.monotonic() - start
            self.assertEqual(ev, {"janus": "timeout", "session_id": sid})
            self.assertGreaterEqual(elapsed, 1.8, "timed out before session_timeout")
            self.assertLess(elapsed, 4.5, "timed out long after session_timeout")
        else:
            await asyncio.sleep(3.5)
        tx = new_tx("late")
        r = await self.req(api, {"janus": "keepalive", "transaction": tx}, sid)
        self.assertError(r, 458, tx)
        tx = new_tx("late-msg")
        r = await self.req(api, {"janus": "message", "body": {}, "transaction": tx}, sid, hid)
        self.assertError(r, 458, tx)
        if api.kind == "http":
            status, body = await api.poll(sid)
            self.assertEqual(status, 404, body)
            self.assertEqual(body.get("error", {}).get("code"), 458, body)
        self.assertTrue(await self.server.async_wait_for_log(rf"session {sid} destroyed \(timed out", 2))


class WsTimeoutTest(TimeoutTests, unittest.IsolatedAsyncioTestCase):
    kind = "ws"


class HttpTimeoutTest(TimeoutTests, unittest.IsolatedAsyncioTestCase):
    kind = "http"

    async def test_pending_long_poll_gets_timeout_event(self):
        api = await self.open()
        sid = await create_session(api)
        start = time.monotonic()
        status, body = await api.poll(sid, timeout=8)
        elapsed = time.monotonic() - start
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"janus": "timeout", "session_id": sid})
        self.assertLess(elapsed, 4.5)
        r = await self.req(api, {"janus": "keepalive"}, sid)
        self.assertEqual(r.get("error", {}).get("code"), 458, r)


if __name__ == "__main__":
    unittest.main()
