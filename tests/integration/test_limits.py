"""Abusive clients against the real binary: one client creating 10,000 sessions (max_sessions
answers 472 past the limit), a WebSocket client that never reads its replies (disconnected once
its unread replies pass the limit), and HTTP clients that send their headers a byte at a time
(closed after the header timeout). In every case a well-behaved bystander keeps getting prompt
answers and the server stays up.

Run: cd tests/integration && JUNCTION_BINARY=.../junction /usr/bin/python3 -m unittest -v test_limits
"""

import asyncio
import json
import re
import sys
import socket
import time
import unittest

import websockets

from junction_server import HttpApi, WsApi, create_session, new_tx, sanitizer_runtime, start_server

MAX_SESSIONS = 5000
BYSTANDER_LIMIT = 2.0  # seconds: what "prompt" means for a bystander's request under abuse


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Bystander:
    """Pings over its own WebSocket while the abuse goes on; records the slowest answer."""

    def __init__(self, server):
        self.server = server
        self.slowest = 0.0
        self.answers = 0
        self.ready = asyncio.Event()  # it has its session

    async def run(self, stop):
        api = await WsApi.open(self.server)
        try:
            sid = await create_session(api)
            self.ready.set()
            while not stop.is_set():
                t = time.monotonic()
                r = await api.request({"janus": "keepalive"}, session_id=sid, timeout=10)
                assert r.get("janus") == "ack", r
                self.slowest = max(self.slowest, time.monotonic() - t)
                self.answers += 1
                await asyncio.sleep(0.1)
        finally:
            await api.close()


class LimitsTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = start_server(cls, max_sessions=MAX_SESSIONS, session_timeout=0)

    async def with_bystander(self, abuse):
        stop = asyncio.Event()
        bystander = Bystander(self.server)
        task = asyncio.create_task(bystander.run(stop))
        try:
            await asyncio.wait_for(bystander.ready.wait(), 10)
            result = await abuse()
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
        self.assertGreater(bystander.answers, 0)
        # A sanitizer build (Debug, instrumented) parses a 1 MB request several times more slowly.
        limit = BYSTANDER_LIMIT * (3 if sanitizer_runtime(self.server.proc.pid) else 1)
        self.assertLess(bystander.slowest, limit,
                        f"a bystander waited {bystander.slowest:.2f} s for a keepalive during the abuse")
        self.assertTrue(self.server.alive(), self.server.log()[-3000:])
        return result

    async def test_ten_thousand_sessions_from_one_client(self):
        async def abuse():
            async with websockets.connect(self.server.ws_url, subprotocols=["janus-protocol"], max_size=None,
                                          ping_interval=None) as ws:
                # Pipelined: all 10,000 creates go out before the replies are read.
                txs = [new_tx("c") for _ in range(10000)]
                for tx in txs:
                    await ws.send(json.dumps({"janus": "create", "transaction": tx}))
                replies = {}
                while len(replies) < len(txs):
                    m = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    replies[m["transaction"]] = m
                created = [m["data"]["id"] for m in replies.values() if m["janus"] == "success"]
                refused = [m for m in replies.values() if m["janus"] == "error"]
                # Past the limit nobody else gets a session either; below it again they do.
                other = await HttpApi.open(self.server)
                try:
                    r = await other.request({"janus": "create"})
                    self.assertEqual(r.get("error", {}).get("code"), 472, r)
                finally:
                    await other.close()
                return created, refused

        created, refused = await self.with_bystander(abuse)
        # The bystander holds one session, so the abuser got the rest of the places.
        self.assertEqual(len(created), MAX_SESSIONS - 1)
        self.assertEqual(len(set(created)), len(created), "session ids are unique")
        self.assertEqual(len(refused), 10000 - len(created))
        self.assertEqual({m["error"]["code"] for m in refused}, {472})
        self.assertTrue(all("transaction" in m for m in refused))
        # The WebSocket closed: its 4,999 sessions went with it, and a new client gets one.
        deadline = time.monotonic() + 10
        while True:
            api = await HttpApi.open(self.server)
            try:
                r = await api.request({"janus": "create"})
            finally:
                await api.close()
            if r.get("janus") == "success" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        self.assertEqual(r.get("janus"), "success", r)

    async def test_a_client_that_never_reads_is_disconnected(self):
        big = "x" * 1_000_000  # every reply echoes the transaction: 1 MB per reply

        async def abuse():
            # max_queue=1: the client library stops reading the socket once one message waits, so
            # the server's replies pile up on its side.
            ws = await websockets.connect(self.server.ws_url, subprotocols=["janus-protocol"], max_size=None,
                                          max_queue=1, ping_interval=None, write_limit=2 ** 24)
            pattern = r"client is not reading \(\d+ bytes queued\), closing"
            try:
                # Until the server gives up on it (a slow build, e.g. under ASan, reads more slowly:
                # keep sending for up to a minute rather than a fixed count in a fixed time).
                sent, deadline = 0, time.monotonic() + 60
                while sent < 200 and time.monotonic() < deadline and not re.search(pattern, self.server.log()):
                    try:
                        await asyncio.wait_for(ws.send(json.dumps({"janus": "ping", "transaction": f"{sent}{big}"})), 15)
                    except (websockets.ConnectionClosed, asyncio.TimeoutError, ConnectionError):
                        break
                    sent += 1
                closed = await self.server.async_wait_for_log(pattern, timeout=30)
                return sent, closed
            finally:
                ws.transport.abort()

        sent, closed = await self.with_bystander(abuse)
        self.assertIsNotNone(closed, f"sent {sent} requests of 1 MB; no disconnect in the log:\n"
                             + self.server.log()[-3000:])
        # The unread replies were freed with the connection (not measurable under ASan/TSan).
        if sanitizer_runtime(self.server.proc.pid):
            return
        deadline = time.monotonic() + 10
        while rss_kib(self.server.proc.pid) > 300 * 1024 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        self.assertLess(rss_kib(self.server.proc.pid), 300 * 1024, "memory was not given back")

    async def test_headers_a_byte_at_a_time(self):
        async def abuse():
            socks = []
            for _ in range(100):
                s = socket.create_connection(("127.0.0.1", self.server.http_port))
                s.sendall(b"POST /janus HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                s.setblocking(False)
                socks.append(s)
            start = time.monotonic()
            closed_at = {}
            # One more header byte every second from each: the server must not wait for ever.
            while len(closed_at) < len(socks) and time.monotonic() - start < 40:
                for i, s in enumerate(socks):
                    if i in closed_at:
                        continue
                    try:
                        if s.recv(4096) == b"":
                            closed_at[i] = time.monotonic() - start
                            continue
                    except BlockingIOError:
                        pass
                    except ConnectionError:
                        closed_at[i] = time.monotonic() - start
                        continue
                    try:
                        s.send(b"X")
                    except (BlockingIOError, ConnectionError):
                        pass
                await asyncio.sleep(1.0)
            for s in socks:
                s.close()
            return closed_at

        closed_at = await self.with_bystander(abuse)
        self.assertEqual(len(closed_at), 100, f"only {len(closed_at)} of 100 slow connections were closed in 40 s")
        print(f"\nslow header connections closed after {min(closed_at.values()):.1f}"
              f"..{max(closed_at.values()):.1f} s", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
