"""aiortc data channel peers for Junction's e2e tests: a data-only peer connection that offers
(echotest) or answers the server's offer (textroom), with one queue of received messages per
channel label.

Needs Debian's python3-aiortc 1.4: run with /usr/bin/python3.
"""

import asyncio

from aiortc import RTCSessionDescription

from videoroom_client import JanusConnection, _Peer  # noqa: F401  (re-exported for the tests)

STEP_TIMEOUT = 10.0


class DataPeer(_Peer):
    """A peer connection with data channels only; `inbox[label]` gets every message received on
    channels with that label (str for text, bytes for binary)."""

    def __init__(self):
        super().__init__()
        self.inbox = {}
        self.channels = {}

        @self.pc.on("datachannel")
        def on_datachannel(channel):
            self._watch(channel)

    def _watch(self, channel):
        self.channels[channel.label] = channel
        queue = self.inbox.setdefault(channel.label, asyncio.Queue())
        channel.on("message", queue.put_nowait)

    def open_channel(self, label, **options):
        channel = self.pc.createDataChannel(label, **options)
        self._watch(channel)
        return channel

    async def wait_open(self, channel, timeout=STEP_TIMEOUT):
        if channel.readyState == "open":
            return
        opened = asyncio.Event()
        channel.on("open", opened.set)
        await asyncio.wait_for(opened.wait(), timeout)

    async def receive(self, label, timeout=STEP_TIMEOUT):
        return await asyncio.wait_for(self.inbox.setdefault(label, asyncio.Queue()).get(), timeout)

    async def offer_to(self, conn, handle, body):
        """Sends our offer with `body`; applies the answer from the event. Returns its plugin data."""
        conn.trickle_sinks[handle] = self.on_trickle
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = self.pc.localDescription
        event = await conn.call(handle, body, {"type": "offer", "sdp": offer.sdp, "trickle": False}, timeout=STEP_TIMEOUT)
        jsep = event.get("jsep")
        if jsep is not None:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=jsep["sdp"], type="answer"))
            await self.flush_trickles()
        return event["plugindata"]["data"]

    async def answer(self, conn, handle, offer_sdp, body):
        """Answers the server's offer and sends the answer with `body`. Returns its plugin data."""
        conn.trickle_sinks[handle] = self.on_trickle
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await self.flush_trickles()
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        answer = self.pc.localDescription
        event = await conn.call(handle, body, {"type": "answer", "sdp": answer.sdp}, timeout=STEP_TIMEOUT)
        return event["plugindata"]["data"]


async def attach(conn, plugin):
    reply = await conn.request({"janus": "attach", "plugin": plugin})
    assert reply.get("janus") == "success", reply
    return reply["data"]["id"]
