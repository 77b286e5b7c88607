"""Bad input on both transports: every malformed or misrouted request gets the Janus error code
(API.md §4 "Observed on the wire"), parse/envelope errors come back without `transaction`, oversized
messages close the connection, a 1000-request burst is answered one for one, and throughout, two
bystander clients (one WebSocket, one HTTP, each on its own connection, created when the class
starts) keep working: after every bad input each answers keepalive with ack and its echotest
message gets its event.

Run: cd tests/integration && JUNCTION_BINARY=.../junction /usr/bin/python3 -m unittest -v test_bad_input
"""

import asyncio
import json
import random
import time
import unittest

from junction_server import (ECHOTEST, BackgroundLoop, Witness, WsClient, attach_echotest, create_session,
                             echotest_roundtrip, new_tx, open_api, start_server)

NO_TX = None          # the reply must not carry a transaction
MAX_MESSAGE = 9437184  # the default max_message_size (9 MiB)
SDP = ("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
       "a=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
       "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
       "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n"
       "a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n")


class BadInputTests:
    kind = None

    @classmethod
    def setUpClass(cls):
        cls.server = start_server(cls, long_poll_timeout=2)
        cls.bg = BackgroundLoop()
        cls.addClassCleanup(cls.bg.close)
        cls.witnesses = [Witness("ws", cls.server), Witness("http", cls.server)]
        for w in cls.witnesses:
            cls.bg.run_sync(w.setup(), 10)

        def close_witnesses():
            for w in cls.witnesses:
                cls.bg.run_sync(w.close(), 10)
        cls.addClassCleanup(close_witnesses)

    async def asyncSetUp(self):
        asyncio.get_running_loop().slow_callback_duration = 2.0  # quiet: big sends are slow on purpose
        self.api = await open_api(self.kind, self.server)
        self.sid = await create_session(self.api)
        self.hid = await attach_echotest(self.api, self.sid)
        await self.check_witnesses("test start")

    async def asyncTearDown(self):
        await self.api.close()
        self.assertTrue(self.server.alive(), f"server died:\n{self.server.log()[-3000:]}")

    async def check_witnesses(self, after):
        for w in self.witnesses:
            with self.subTest(witness=w.kind, after=after):
                await self.bg.run(w.check(), 20)

    def assertErrorReply(self, reply, code, tx):
        self.assertIsInstance(reply, dict, reply)
        self.assertEqual(reply.get("janus"), "error", reply)
        self.assertEqual(reply.get("error", {}).get("code"), code, reply)
        self.assertIsInstance(reply["error"].get("reason"), str, reply)
        if tx is NO_TX:
            self.assertNotIn("transaction", reply, reply)
        else:
            self.assertEqual(reply.get("transaction"), tx, reply)

    async def bad_raw(self, label, data, code, session_id=None, handle_id=None):
        """Raw bytes/text that cannot be a request: error `code` without a transaction."""
        with self.subTest(label):
            r = await self.api.raw(data, session_id=session_id, handle_id=handle_id, expect_tx=NO_TX)
            if self.kind == "http":
                self.assertEqual(self.api.last_status, 200, r)
            self.assertErrorReply(r, code, NO_TX)
        await self.check_witnesses(label)

    async def bad_request(self, label, msg, code, session_id=None, handle_id=None):
        """A well-formed request that must fail with `code`, answered with its own transaction."""
        tx = new_tx("bad")
        msg = dict(msg, transaction=tx)
        with self.subTest(label):
            r = await self.api.request(msg, session_id=session_id, handle_id=handle_id)
            if self.kind == "http":
                self.assertEqual(self.api.last_status, 200, r)
            self.assertErrorReply(r, code, tx)
        await self.check_witnesses(label)

    async def assert_own_session_works(self):
        tx = new_tx("own")
        r = await self.api.request({"janus": "keepalive", "transaction": tx}, session_id=self.sid)
        self.assertEqual(r, {"janus": "ack", "session_id": self.sid, "transaction": tx})
        await echotest_roundtrip(self.api, self.sid, self.hid)

    # --- cases ---

    async def test_unparseable_input(self):
        await self.bad_raw("plain text", "hello, this is not JSON", 454)
        await self.bad_raw("truncated JSON", '{"janus": "ping", "transaction": "t1"', 454)
        await self.bad_raw("JSON with trailing garbage", '{"janus": "ping", "transaction": "t1"} x', 454)
        if self.kind == "ws":
            # (Over HTTP, Janus treats a POST without a body as a long poll, so no code is asserted there.)
            await self.bad_raw("empty text frame", "", 454)
        await self.bad_raw("JSON array", json.dumps([{"janus": "ping", "transaction": "t1"}]), 456)
        await self.bad_raw("JSON string", json.dumps("ping"), 454)
        await self.bad_raw("JSON number", "42", 454)
        await self.bad_raw("binary garbage", bytes(range(256)) * 4, 454)
        await self.bad_raw("100k-deep array nesting", "[" * 100000, 454)
        await self.bad_raw("100k-deep closed nesting", "[" * 100000 + "]" * 100000, 454)
        await self.bad_raw("100k-deep object nesting", '{"janus":"ping","transaction":"t","x":' + '{"a":' * 100000, 454)
        await self.assert_own_session_works()

    async def test_bad_envelope(self):
        tx = new_tx()
        await self.bad_raw("missing janus", json.dumps({"transaction": tx}), 456)
        await self.bad_raw("janus not a string (number)", json.dumps({"janus": 5, "transaction": tx}), 467)
        await self.bad_raw("janus not a string (array)", json.dumps({"janus": ["ping"], "transaction": tx}), 467)
        await self.bad_raw("missing transaction (ping)", json.dumps({"janus": "ping"}), 456)
        await self.bad_raw("missing transaction (create)", json.dumps({"janus": "create"}), 456)
        # In a session, too (ids in the body over WebSocket, in the path over HTTP).
        body = {"janus": "keepalive"}
        if self.kind == "ws":
            body["session_id"] = self.sid
        await self.bad_raw("missing transaction (keepalive)", json.dumps(body), 456, session_id=self.sid)
        await self.assert_own_session_works()

    async def test_misrouted_requests(self):
        sid, hid = self.sid, self.hid
        await self.bad_request("unknown verb at root", {"janus": "dance"}, 457)
        await self.bad_request("session verb at root", {"janus": "keepalive"}, 457)
        await self.bad_request("unknown verb in a session", {"janus": "dance"}, 453, session_id=sid)
        await self.bad_request("unknown verb on a handle", {"janus": "dance"}, 453, session_id=sid, handle_id=hid)
        wrong = random.randint(1, 2 ** 53 - 1)
        await self.bad_request("keepalive, wrong session", {"janus": "keepalive"}, 458, session_id=wrong)
        await self.bad_request("attach, wrong session", {"janus": "attach", "plugin": ECHOTEST}, 458,
                               session_id=wrong)
        await self.bad_request("message at session level", {"janus": "message", "body": {"audio": True}}, 457,
                               session_id=sid)
        await self.bad_request("trickle at session level", {"janus": "trickle", "candidate": {"completed": True}},
                               457, session_id=sid)
        await self.bad_request("detach at session level", {"janus": "detach"}, 457, session_id=sid)
        await self.bad_request("attach with a handle", {"janus": "attach", "plugin": ECHOTEST}, 457,
                               session_id=sid, handle_id=hid)
        await self.bad_request("destroy with a handle", {"janus": "destroy"}, 457, session_id=sid, handle_id=hid)
        await self.assert_own_session_works()

    async def test_attach_errors(self):
        await self.bad_request("attach without plugin", {"janus": "attach"}, 456, session_id=self.sid)
        await self.bad_request("attach, plugin not a string", {"janus": "attach", "plugin": 5}, 467,
                               session_id=self.sid)
        await self.bad_request("attach, unknown plugin", {"janus": "attach", "plugin": "janus.plugin.nope"}, 460,
                               session_id=self.sid)
        await self.assert_own_session_works()

    async def test_message_errors(self):
        sid, hid = self.sid, self.hid
        await self.bad_request("message, wrong handle", {"janus": "message", "body": {"audio": True}}, 459,
                               session_id=sid, handle_id=random.randint(1, 2 ** 53 - 1))
        await self.bad_request("message without body", {"janus": "message"}, 456, session_id=sid, handle_id=hid)
        await self.bad_request("message, body a string", {"janus": "message", "body": "audio"}, 467,
                               session_id=sid, handle_id=hid)
        await self.bad_request("message, body an array", {"janus": "message", "body": [1]}, 467,
                               session_id=sid, handle_id=hid)
        await self.bad_request("jsep with unknown type", {"janus": "message", "body": {},
                                                          "jsep": {"type": "pranswer", "sdp": SDP}}, 464,
                               session_id=sid, handle_id=hid)
        await self.bad_request("jsep without type", {"janus": "message", "body": {}, "jsep": {"sdp": SDP}}, 456,
                               session_id=sid, handle_id=hid)
        await self.bad_request("jsep without sdp", {"janus": "message", "body": {}, "jsep": {"type": "offer"}},
                               456, session_id=sid, handle_id=hid)
        await self.bad_request("sdp not starting v=", {"janus": "message", "body": {},
                                                       "jsep": {"type": "offer", "sdp": "hello\r\n" + SDP}}, 465,
                               session_id=sid, handle_id=hid)
        await self.bad_request("answer without o=, s=, m=", {"janus": "message", "body": {},
                                                             "jsep": {"type": "answer", "sdp": "v=0\r\n"}}, 465,
                               session_id=sid, handle_id=hid)
        await self.assert_own_session_works()

    async def test_detach_twice_destroy_twice(self):
        hid2 = await attach_echotest(self.api, self.sid)
        r = await self.api.request({"janus": "detach"}, session_id=self.sid, handle_id=hid2)
        self.assertEqual(r.get("janus"), "success", r)
        await self.api.event(self.sid, lambda m: m.get("janus") == "detached" and m.get("sender") == hid2)
        await self.bad_request("detach twice", {"janus": "detach"}, 459, session_id=self.sid, handle_id=hid2)

        sid2 = await create_session(self.api)
        r = await self.api.request({"janus": "destroy"}, session_id=sid2)
        self.assertEqual(r.get("janus"), "success", r)
        await self.bad_request("destroy twice", {"janus": "destroy"}, 458, session_id=sid2)
        await self.assert_own_session_works()

    async def test_1mib_body_is_handled(self):
        padding = "x" * (1 << 20)
        ev = await echotest_roundtrip(self.api, self.sid, self.hid, body={"audio": True, "padding": padding},
                                      timeout=15)
        self.assertEqual(ev["plugindata"]["data"].get("result"), "ok")
        await self.check_witnesses("1 MiB body")
        await self.assert_own_session_works()


class WsBadInputTest(BadInputTests, unittest.IsolatedAsyncioTestCase):
    kind = "ws"

    async def test_session_id_as_string(self):
        for label, body in (
                ("session_id a string", {"janus": "keepalive", "session_id": str(self.sid)}),
                ("session_id a negative number", {"janus": "keepalive", "session_id": -1}),
                ("handle_id a string", {"janus": "message", "body": {}, "session_id": self.sid,
                                        "handle_id": str(self.hid)})):
            await self.bad_request(label, body, 457)
        await self.assert_own_session_works()

    async def test_10mb_message_closes_the_connection(self):
        victim = await WsClient.connect(self.server.ws_url)
        try:
            tx = await victim.send({"janus": "ping"})
            await victim.wait_for(lambda m: m.get("transaction") == tx)
            big = json.dumps({"janus": "ping", "transaction": new_tx(), "pad": "y" * (10 * 1000 * 1000)})
            try:
                await victim.send_raw(big)
            except Exception:
                pass  # the server may close while we are still sending
            self.assertTrue(await victim.wait_closed(10), "the server did not close the connection")
            replies = [m for m in victim.inbox]
            self.assertEqual(replies, [], "an oversized message must not be answered")
        finally:
            await victim.close()
        m = await self.server.async_wait_for_log(rf"message over {MAX_MESSAGE} bytes, closing the connection", 3)
        self.assertTrue(m, "no log line about the size limit")
        await self.check_witnesses("10 MB WebSocket message")
        await self.assert_own_session_works()

    async def test_burst_of_1000_requests(self):
        client = self.api.client
        sent = {}
        for i in range(1000):
            if i % 2:
                tx = await client.send({"janus": "ping"})
                sent[tx] = "pong"
            else:
                tx = await client.send({"janus": "keepalive", "session_id": self.sid})
                sent[tx] = "ack"
        got = {}
        deadline = time.monotonic() + 20
        while len(got) < len(sent) and time.monotonic() < deadline:
            m = await client.wait_for(lambda m: m.get("transaction") in sent, max(0.1, deadline - time.monotonic()))
            got.setdefault(m["transaction"], []).append(m)
        await asyncio.sleep(0.5)  # any duplicate would arrive by now
        while (m := client.take(lambda m: m.get("transaction") in sent)) is not None:
            got.setdefault(m["transaction"], []).append(m)
        self.assertEqual(len(got), 1000, f"{1000 - len(got)} requests were not answered")
        for tx, replies in got.items():
            self.assertEqual(len(replies), 1, f"{tx}: {replies}")
            self.assertEqual(replies[0].get("janus"), sent[tx], replies)
        await self.check_witnesses("burst")
        await self.assert_own_session_works()


class HttpBadInputTest(BadInputTests, unittest.IsolatedAsyncioTestCase):
    kind = "http"

    async def test_non_numeric_path(self):
        for path in ("/janus/abc", f"/janus/{self.sid}/abc", f"/janus/{self.sid}x"):
            with self.subTest(path=path):
                status, body, _ = await self.api.post(path, {"janus": "keepalive", "transaction": new_tx()})
                self.assertEqual(status, 404, body)
            await self.check_witnesses(path)
        await self.assert_own_session_works()

    async def _send_oversized(self, chunked):
        """Sends a 10 MB POST on a raw socket; returns what the server sent back before closing."""
        size = 10 * 1000 * 1000
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", self.server.http_port), 5)
        head = f"POST /janus HTTP/1.1\r\nHost: 127.0.0.1:{self.server.http_port}\r\nContent-Type: application/json\r\n"
        head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
        received = b""
        try:
            writer.write(head.encode())
            chunk = b"z" * 65536
            sent = 0
            while sent < size:
                piece = chunk[:min(len(chunk), size - sent)]
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                await asyncio.wait_for(writer.drain(), 10)
                sent += len(piece)
            if chunked:
                writer.write(b"0\r\n\r\n")
                await asyncio.wait_for(writer.drain(), 10)
        except (ConnectionError, OSError):
            pass
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                data = await asyncio.wait_for(reader.read(65536), max(0.1, deadline - time.monotonic()))
                if not data:
                    break
                received += data
            else:
                self.fail("the server did not close the connection")
        except (ConnectionError, OSError):
            pass
        except asyncio.TimeoutError:
            self.fail("the server did not close the connection within 10 s")
        finally:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 2)
            except (ConnectionError, OSError, asyncio.TimeoutError):
                pass
        return received

    async def test_10mb_post_closes_the_connection(self):
        received = await self._send_oversized(chunked=False)
        self.assertNotIn(b" 200 ", received.split(b"\r\n", 1)[0], received[:300])
        self.assertTrue(await self.server.async_wait_for_log(
            rf"request body of \d+ bytes is over the {MAX_MESSAGE} byte limit", 3), "no log line about the limit")
        await self.check_witnesses("10 MB POST with Content-Length")
        await self.assert_own_session_works()

    async def test_10mb_chunked_post_closes_the_connection(self):
        received = await self._send_oversized(chunked=True)
        self.assertNotIn(b" 200 ", received.split(b"\r\n", 1)[0], received[:300])
        self.assertTrue(await self.server.async_wait_for_log(rf"request body over {MAX_MESSAGE} bytes", 3),
                        "no log line about the limit")
        await self.check_witnesses("10 MB chunked POST")
        await self.assert_own_session_works()

    async def test_burst_of_concurrent_requests(self):
        async def one(i):
            tx = new_tx("burst")
            if i % 2:
                r = await self.api.request({"janus": "ping", "transaction": tx}, timeout=20)
                return tx, "pong", r
            r = await self.api.request({"janus": "keepalive", "transaction": tx}, session_id=self.sid, timeout=20)
            return tx, "ack", r
        results = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(300))), 40)
        for tx, kind, r in results:
            self.assertEqual(r.get("janus"), kind, r)
            self.assertEqual(r.get("transaction"), tx, r)
        await self.check_witnesses("HTTP burst")
        await self.assert_own_session_works()


if __name__ == "__main__":
    unittest.main()
