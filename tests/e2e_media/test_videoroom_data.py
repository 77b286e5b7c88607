"""janus.plugin.videoroom data relay with aiortc: a publisher that publishes VP8 video plus a
data channel; a subscriber to that feed gets an m=application line in the server's offer, and
every message the publisher sends on its channel (text in order, and a 100 KiB binary one)
reaches the subscriber on a channel with the publisher's label.

Run:  cd tests/e2e_media && /usr/bin/python3 -m unittest -v test_videoroom_data
Environment: JUNCTION_BINARY (default /work/main/build/junction).
"""

import asyncio
import os
import random
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "integration"))

import junction_server  # noqa: E402

COUNT = 100


class VideoRoomDataTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            import videoroom_client  # noqa: F401
        except ImportError as e:
            raise unittest.SkipTest(f"run with /usr/bin/python3 (aiortc, av, numpy): {e}")
        cls.vr = videoroom_client
        cls.server = junction_server.start_server(cls, log_level="info")

    def test_publisher_data_reaches_subscriber(self):
        try:
            asyncio.run(asyncio.wait_for(self._relay(), 60))
        except Exception as e:
            raise AssertionError(f"{type(e).__name__}: {e}\n--- server log ---\n{self.server.log()[-4000:]}") from e

    async def _relay(self):
        conn = await self.vr.JanusConnection.open(self.server.ws_url)
        pub = self.vr.Publisher()
        sub = self.vr.Subscriber("s1")
        inbox = asyncio.Queue()
        labels = []

        @sub.pc.on("datachannel")
        def on_datachannel(channel):
            labels.append(channel.label)
            channel.on("message", inbox.put_nowait)

        try:
            hp = await conn.attach()
            ev = await conn.call(hp, {"request": "join", "ptype": "publisher", "room": 1234, "display": "p"})
            feed = ev["plugindata"]["data"]["id"]
            chat = pub.pc.createDataChannel("chat")
            opened = asyncio.Event()
            chat.on("open", opened.set)
            data = await pub.publish(conn, hp)
            self.assertEqual(data.get("configured"), "ok", data)
            await pub.wait_connected()
            await asyncio.wait_for(opened.wait(), 10)

            hs = await conn.attach()
            attached, started = await sub.subscribe(conn, hs, 1234, [{"feed": feed}])
            self.assertEqual(attached.get("videoroom"), "attached", attached)
            self.assertIn("m=application", sub.offer_sdp)
            self.assertEqual(started.get("started"), "ok", started)
            await sub.wait_connected()
            # Messages are relayed once the subscriber's SCTP association is up.
            for _ in range(100):
                if sub.pc.sctp is not None and sub.pc.sctp.state == "connected":
                    break
                await asyncio.sleep(0.05)
            self.assertEqual(sub.pc.sctp.state, "connected")

            blob = random.Random(3).randbytes(100 * 1024)
            for i in range(COUNT):
                chat.send(f"note {i}")
            chat.send(blob)
            got = [await asyncio.wait_for(inbox.get(), 10) for _ in range(COUNT + 1)]
            self.assertEqual(got[:COUNT], [f"note {i}" for i in range(COUNT)])
            self.assertTrue(got[COUNT] == blob, "the binary message arrived altered")
            self.assertEqual(labels, ["chat"])
        finally:
            pub.hold()
            await sub.close()
            await pub.close()
            await conn.close()


if __name__ == "__main__":
    unittest.main()
