"""janus.plugin.textroom end to end with aiortc: room management and its error codes over the
JSON API; then three participants on data-only PeerConnections (setup -> the server's offer,
ack + answer) join room 1234 over their data channels. Alice and Bob each send 1,000 messages
at once: every one must arrive at the others, in order and intact (and come back to its
sender, as Janus echoes public messages). Whispers reach only their targets. Bad input on the
channel (unparseable JSON, unknown room, missing transaction, unknown request, an invalid DCEP
message on a fresh stream, a message over 256 KiB) gets the TextRoom error or closes that
channel, and the others carry on.

Run:  cd tests/e2e_media && /usr/bin/python3 -m unittest -v test_textroom
Environment: JUNCTION_BINARY (default /work/main/build/junction).
"""

import asyncio
import json
import os
import sys
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "integration"))

import junction_server  # noqa: E402

TEXTROOM = "janus.plugin.textroom"
COUNT = 1000


class Participant:
    """One textroom user: a handle, a data-only PeerConnection, one channel; `events` collects
    what the room sends it, `replies` the answers to its own transactions."""

    def __init__(self, dc, conn, name):
        self.dc, self.conn, self.name = dc, conn, name
        self.peer = dc.DataPeer()
        self.replies = {}
        self.events = asyncio.Queue()
        self.channel = None

    async def setup(self):
        self.handle = await self.dc.attach(self.conn, TEXTROOM)
        event = await self.conn.call(self.handle, {"request": "setup"})
        assert event["plugindata"]["data"].get("result") == "ok", event
        self.channel = self.peer.open_channel("JanusDataChannel")
        self.channel.on("message", self._on_message)
        data = await self.peer.answer(self.conn, self.handle, event["jsep"]["sdp"], {"request": "ack"})
        assert data.get("result") == "ok", data
        await self.peer.wait_connected()
        await self.peer.wait_open(self.channel)

    def _on_message(self, text):
        msg = json.loads(text)
        tx = msg.get("transaction")
        if tx in self.replies:
            self.replies.pop(tx).set_result(msg)
        else:
            self.events.put_nowait(msg)

    async def request(self, body, timeout=10):
        tx = uuid.uuid4().hex
        future = asyncio.get_running_loop().create_future()
        self.replies[tx] = future
        self.channel.send(json.dumps(dict(body, transaction=tx)))
        return await asyncio.wait_for(future, timeout)

    def send(self, body):
        self.channel.send(json.dumps(dict(body, transaction=uuid.uuid4().hex)))

    async def next_event(self, pred=lambda m: True, timeout=10):
        while True:
            msg = await asyncio.wait_for(self.events.get(), timeout)
            if pred(msg):
                return msg

    def pending_events(self):
        out = []
        while not self.events.empty():
            out.append(self.events.get_nowait())
        return out

    async def close(self):
        await self.peer.close()


def text_of(sender, i):
    # Distinct, checkable, with non-ASCII and JSON-special characters.
    return f"{sender}:{i:04d}:\u00e9\u6f22\"\\/{'x' * (i % 50)}"


class TextRoomTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            import datachannel_client  # noqa: F401
        except ImportError as e:
            raise unittest.SkipTest(f"run with /usr/bin/python3 (aiortc): {e}")
        cls.dc = datachannel_client
        cls.server = junction_server.start_server(cls, log_level="info")

    def run_async(self, coro, timeout):
        try:
            asyncio.run(asyncio.wait_for(coro, timeout))
        except Exception as e:
            raise AssertionError(f"{type(e).__name__}: {e}\n--- server log ---\n{self.server.log()[-4000:]}") from e

    def test_management(self):
        self.run_async(self._management(), 60)

    async def _management(self):
        conn = await self.dc.JanusConnection.open(self.server.ws_url)
        try:
            h = await self.dc.attach(conn, TEXTROOM)
            sync = lambda body: conn.sync(h, body)  # noqa: E731
            rooms = {r["room"]: r for r in (await sync({"request": "list"}))["list"]}
            self.assertEqual(rooms[1234]["description"], "Demo Room")
            self.assertEqual(await sync({"request": "exists", "room": 1234}),
                             {"textroom": "success", "room": 1234, "exists": True})
            self.assertEqual(await sync({"request": "create", "room": 5555, "secret": "s", "history": 2,
                                         "description": "five"}),
                             {"textroom": "created", "room": 5555, "permanent": False})
            self.assertEqual((await sync({"request": "create", "room": 5555}))["error_code"], 418)
            self.assertEqual((await sync({"request": "edit", "room": 5555, "secret": "bad",
                                          "new_description": "x"}))["error_code"], 419)
            self.assertEqual((await sync({"request": "edit", "room": 5555, "secret": "s",
                                          "new_description": "renamed"}))["textroom"], "edited")
            rooms = {r["room"]: r for r in (await sync({"request": "list"}))["list"]}
            self.assertEqual(rooms[5555]["description"], "renamed")
            self.assertEqual(await sync({"request": "listparticipants", "room": 5555}),
                             {"textroom": "success", "room": 5555, "participants": []})
            allowed = await sync({"request": "allowed", "room": 5555, "secret": "s", "action": "add",
                                  "allowed": ["t1", "t2"]})
            self.assertEqual(sorted(allowed["allowed"]), ["t1", "t2"])
            self.assertEqual((await sync({"request": "kick", "room": 5555, "secret": "s",
                                          "username": "nobody"}))["error_code"], 423)
            self.assertEqual((await sync({"request": "announcement", "room": 5555, "secret": "s",
                                          "text": "hi"}))["textroom"], "success")
            # Errors: unknown room, room of the wrong type, unknown request, no request.
            self.assertEqual((await sync({"request": "listparticipants", "room": 999}))["error_code"], 417)
            self.assertEqual((await sync({"request": "exists", "room": "1234"}))["error_code"], 414)
            self.assertEqual((await sync({"request": "exists"}))["error_code"], 413)
            self.assertEqual((await sync({"request": "nonsense"}))["error_code"], 415)
            self.assertEqual((await sync({"foo": 1}))["error_code"], 413)
            # join is a data channel request: refused over the JSON API.
            self.assertEqual((await sync({"request": "join", "room": 1234, "username": "x"}))["error_code"], 415)
            self.assertEqual(await sync({"request": "destroy", "room": 5555, "secret": "s"}),
                             {"textroom": "destroyed", "room": 5555, "permanent": False})
            self.assertFalse((await sync({"request": "exists", "room": 5555}))["exists"])
            # setup twice: 416.
            event = await conn.call(h, {"request": "setup"})
            self.assertIn("jsep", event)
            event = await conn.call(h, {"request": "setup"})
            self.assertEqual(event["plugindata"]["data"]["error_code"], 416)
        finally:
            await conn.close()

    def test_chat(self):
        self.run_async(self._chat(), 150)

    async def _chat(self):
        conn = await self.dc.JanusConnection.open(self.server.ws_url)
        people = {n: Participant(self.dc, conn, n) for n in ("alice", "bob", "carol")}
        alice, bob, carol = people["alice"], people["bob"], people["carol"]
        try:
            for p in people.values():
                await p.setup()
            reply = await alice.request({"textroom": "join", "room": 1234, "username": "alice", "display": "Alice"})
            self.assertEqual(reply, {"textroom": "success", "participants": [], "transaction": reply["transaction"]})
            reply = await bob.request({"textroom": "join", "room": 1234, "username": "bob"})
            self.assertEqual(reply["participants"], [{"username": "alice", "display": "Alice"}])
            joined = await alice.next_event()
            self.assertEqual(joined, {"textroom": "join", "room": 1234, "username": "bob"})
            self.assertEqual((await carol.request({"textroom": "join", "room": 1234, "username": "bob"}))["error_code"], 420)
            self.assertEqual((await carol.request({"textroom": "join", "room": 1234, "username": "carol"}))["textroom"],
                             "success")
            self.assertEqual((await carol.request({"textroom": "join", "room": 1234, "username": "c2"}))["error_code"], 421)
            await alice.next_event(lambda m: m.get("username") == "carol")
            await bob.next_event(lambda m: m.get("username") == "carol")

            # 1,000 messages each from Alice and Bob, at the same time, without acks.
            for i in range(COUNT):
                alice.send({"textroom": "message", "room": 1234, "text": text_of("alice", i), "ack": False})
                bob.send({"textroom": "message", "room": 1234, "text": text_of("bob", i), "ack": False})
                if i % 100 == 0:
                    await asyncio.sleep(0)
            for p in people.values():
                got = {"alice": [], "bob": []}
                while len(got["alice"]) < COUNT or len(got["bob"]) < COUNT:
                    m = await p.next_event(timeout=30)
                    self.assertEqual(m["textroom"], "message", m)
                    self.assertNotIn("whisper", m)
                    got[m["from"]].append(m["text"])
                for sender in ("alice", "bob"):
                    self.assertEqual(got[sender], [text_of(sender, i) for i in range(COUNT)],
                                     f"{p.name} got {sender}'s messages altered or out of order")
            for p in people.values():
                self.assertEqual(p.pending_events(), [])

            # A message with an ack; whispers go to their targets only.
            ack = await alice.request({"textroom": "message", "room": 1234, "text": "public"})
            self.assertEqual(ack["textroom"], "success")
            for p in people.values():
                self.assertEqual((await p.next_event())["text"], "public")
            await alice.request({"textroom": "message", "room": 1234, "to": "bob", "text": "psst bob"})
            w = await bob.next_event()
            self.assertEqual((w["textroom"], w["from"], w["text"], w.get("whisper")), ("message", "alice", "psst bob", True))
            await bob.request({"textroom": "message", "room": 1234, "tos": ["alice", "carol"], "text": "to two"})
            self.assertEqual((await alice.next_event())["text"], "to two")
            self.assertEqual((await carol.next_event())["text"], "to two")
            self.assertEqual((await alice.request({"textroom": "message", "room": 1234, "to": "nobody",
                                                   "text": "x"}))["error_code"], 423)
            await asyncio.sleep(0.5)
            for p in people.values():
                self.assertEqual(p.pending_events(), [], f"{p.name} got a whisper that was not for it")

            # Bad input on Alice's channel: each gets its error, and the room carries on.
            errors = []
            alice.channel.send("this is {not json")
            errors.append(await alice.next_event(lambda m: m.get("textroom") == "error"))
            errors.append(await alice.request({"textroom": "join", "room": 999, "username": "alice"}))
            alice.channel.send(json.dumps({"textroom": "message", "room": 1234, "text": "no tx"}))
            errors.append(await alice.next_event(lambda m: m.get("textroom") == "error"))
            errors.append(await alice.request({"textroom": "dance", "room": 1234}))
            errors.append(await alice.request({"textroom": "message", "room": "1234", "text": "x"}))
            alice.channel.send("[" * 100000)
            errors.append(await alice.next_event(lambda m: m.get("textroom") == "error"))
            self.assertEqual([e["error_code"] for e in errors], [412, 417, 413, 415, 414, 412])
            self.assertTrue(all(e["textroom"] == "error" for e in errors))

            # An invalid DCEP message on a fresh stream of Carol's association: that stream is
            # reset, Carol's channel and everyone else carry on.
            await carol.peer.pc.sctp._send(40, 50, b"\x03\x00\x00")
            await carol.request({"textroom": "message", "room": 1234, "text": "carol after DCEP"})
            for p in people.values():
                self.assertEqual((await p.next_event())["text"], "carol after DCEP")
            # A message over the 256 KiB limit closes Carol's channel, only hers.
            carol.channel.send("y" * (300 * 1024))
            closed = asyncio.Event()
            carol.channel.on("close", closed.set)
            await asyncio.wait_for(closed.wait(), 10)

            await bob.request({"textroom": "message", "room": 1234, "text": "still here"})
            self.assertEqual((await alice.next_event())["text"], "still here")
            self.assertEqual((await bob.next_event())["text"], "still here")
            ack = await alice.request({"textroom": "leave", "room": 1234})
            self.assertEqual(ack["textroom"], "success")
            self.assertEqual(await bob.next_event(lambda m: m["textroom"] == "leave"),
                             {"textroom": "leave", "room": 1234, "username": "alice"})
            # The server closed it because of the size (not by chance).
            self.assertRegex(self.server.log(), r"\[sctp\] .*(over the limit|grew over 262144 bytes), stream closed")
        finally:
            for p in people.values():
                await p.close()
            await conn.close()


if __name__ == "__main__":
    unittest.main()
