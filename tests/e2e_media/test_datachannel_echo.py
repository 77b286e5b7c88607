"""Data channels through Junction's EchoTest with aiortc: a 256 KiB binary message on a raw
channel comes back byte-identical, text messages come back quoted in order, and an unordered
channel without retransmissions (partial reliability) echoes too. A second channel keeps
working after the peer closes the first (stream reset).

Run:  cd tests/e2e_media && /usr/bin/python3 -m unittest -v test_datachannel_echo
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

ECHO_PREFIX = "Junction EchoTest here! You wrote: "


class DataChannelEchoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            import datachannel_client  # noqa: F401
        except ImportError as e:
            raise unittest.SkipTest(f"run with /usr/bin/python3 (aiortc): {e}")
        cls.dc = datachannel_client
        cls.server = junction_server.start_server(cls, log_level="info")

    def context(self):
        return "\n--- server log ---\n" + self.server.log()[-4000:]

    def test_echo(self):
        try:
            asyncio.run(asyncio.wait_for(self._echo(), 60))
        except Exception as e:
            raise AssertionError(f"{type(e).__name__}: {e}{self.context()}") from e

    async def _echo(self):
        conn = await self.dc.JanusConnection.open(self.server.ws_url)
        peer = self.dc.DataPeer()
        try:
            handle = await self.dc.attach(conn, "janus.plugin.echotest")
            raw = peer.open_channel("raw")
            lossy = peer.open_channel("lossy", ordered=False, maxRetransmits=0)
            data = await peer.offer_to(conn, handle, {"audio": False, "video": False})
            self.assertEqual(data.get("result"), "ok", data)
            await peer.wait_connected()
            await peer.wait_open(raw)
            await peer.wait_open(lossy)

            big = random.Random(5).randbytes(256 * 1024)
            raw.send(big)
            for i in range(3):
                raw.send(f"hello {i} \u00e9\u6f22")
            echoed = await peer.receive("raw", timeout=15)
            self.assertIsInstance(echoed, bytes)
            self.assertEqual(len(echoed), len(big))
            self.assertTrue(echoed == big, "the 256 KiB message came back altered")
            for i in range(3):
                self.assertEqual(await peer.receive("raw"), f"{ECHO_PREFIX}hello {i} \u00e9\u6f22")

            sent = {bytes([i]) * (i + 1) for i in range(20)}
            for m in sent:
                lossy.send(m)
            got = {await peer.receive("lossy") for _ in sent}
            self.assertEqual(got, sent)

            # Closing a channel resets its stream; the other channel carries on.
            raw.close()
            await asyncio.sleep(0.5)
            lossy.send(b"after close")
            self.assertEqual(await peer.receive("lossy"), b"after close")
        finally:
            await peer.close()
            await conn.close()


if __name__ == "__main__":
    unittest.main()
