"""A small Janus VideoRoom client for Junction's e2e tests: one janus-protocol WebSocket per
client (replies routed by transaction, events and trickles by handle), an aiortc publisher that
sends the frame-counter video and the tone of echotest_aiortc.py, and an aiortc subscriber that
answers the server's offer and reads the counters back from the decoded frames.

Needs Debian's python3-aiortc 1.4 (with av, numpy, websockets): run with /usr/bin/python3.
"""

import asyncio
import json
import time
import uuid

import websockets
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp

import echotest_aiortc as media

VIDEOROOM = "janus.plugin.videoroom"
STEP_TIMEOUT = 5.0


class JanusConnection:
    """One WebSocket; `request` returns the first reply with its transaction, `next_event` the
    next plugin event for a handle that is not a reply to a pending request."""

    def __init__(self, ws):
        self.ws = ws
        self.replies = {}            # transaction -> asyncio.Queue
        self.events = {}             # handle id -> asyncio.Queue of plugin events (any transaction)
        self.trickle_sinks = {}      # handle id -> coroutine function(candidate)
        self.other = []              # webrtcup, media, hangup, ... (kept for diagnostics)
        self.closed = asyncio.Event()
        self.session_id = None
        self._tasks = []
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, url):
        ws = await asyncio.wait_for(websockets.connect(url, subprotocols=["janus-protocol"], max_size=None,
                                                       ping_interval=None, close_timeout=2), STEP_TIMEOUT)
        conn = cls(ws)
        reply = await conn.request({"janus": "create"})
        assert reply.get("janus") == "success", reply
        conn.session_id = reply["data"]["id"]
        conn._tasks.append(asyncio.ensure_future(conn._keepalive()))
        return conn

    async def _keepalive(self):
        while True:
            await asyncio.sleep(20)
            await self.send({"janus": "keepalive", "session_id": self.session_id,
                             "transaction": uuid.uuid4().hex})

    async def _read(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                tx = msg.get("transaction")
                if tx in self.replies:
                    self.replies[tx].put_nowait(msg)
                kind = msg.get("janus")
                sender = msg.get("sender")
                if kind == "event":
                    self.events.setdefault(sender, asyncio.Queue()).put_nowait(msg)
                elif kind == "trickle" and sender in self.trickle_sinks:
                    self._tasks.append(asyncio.ensure_future(self.trickle_sinks[sender](msg.get("candidate"))))
                elif tx not in self.replies:
                    self.other.append(msg)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()

    async def send(self, msg):
        await asyncio.wait_for(self.ws.send(json.dumps(msg)), STEP_TIMEOUT)

    async def request(self, msg, timeout=STEP_TIMEOUT):
        msg = dict(msg)
        tx = msg.setdefault("transaction", uuid.uuid4().hex)
        if self.session_id is not None and "session_id" not in msg and msg["janus"] != "create":
            msg["session_id"] = self.session_id
        self.replies[tx] = asyncio.Queue()
        await self.send(msg)
        return await asyncio.wait_for(self.replies[tx].get(), timeout)

    async def next_reply(self, tx, timeout=STEP_TIMEOUT):
        return await asyncio.wait_for(self.replies[tx].get(), timeout)

    async def attach(self):
        reply = await self.request({"janus": "attach", "plugin": VIDEOROOM})
        assert reply.get("janus") == "success", reply
        return reply["data"]["id"]

    async def sync(self, handle, body):
        """A synchronous plugin request: returns plugindata.data of the `success`."""
        reply = await self.request({"janus": "message", "handle_id": handle, "body": body})
        assert reply.get("janus") == "success", reply
        return reply["plugindata"]["data"]

    async def call(self, handle, body, jsep=None, timeout=STEP_TIMEOUT):
        """An asynchronous plugin request: `ack`, then the event with the same transaction.
        Returns the whole event (plugindata and maybe jsep)."""
        msg = {"janus": "message", "handle_id": handle, "body": body, "transaction": uuid.uuid4().hex}
        if jsep is not None:
            msg["jsep"] = jsep
        tx = msg["transaction"]
        first = await self.request(msg, timeout)
        if first.get("janus") == "ack":
            first = await self.next_reply(tx, timeout)
        assert first.get("janus") == "event", first
        # The event was also queued as a handle event: drop that copy.
        q = self.events.get(handle)
        if q is not None:
            kept = [m for m in _drain(q) if m.get("transaction") != tx]
            for m in kept:
                q.put_nowait(m)
        return first

    async def next_event(self, handle, pred, timeout=STEP_TIMEOUT, whole=False):
        """The next plugin event on `handle` whose plugin data satisfies `pred` (others are
        dropped): its plugin data, or the whole message (with any jsep) when `whole`."""
        q = self.events.setdefault(handle, asyncio.Queue())
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching event on handle {handle} within {timeout} s")
            msg = await asyncio.wait_for(q.get(), left)
            data = (msg.get("plugindata") or {}).get("data") or {}
            if pred(data):
                return msg if whole else data

    async def close(self):
        for t in self._tasks:
            t.cancel()
        try:
            if not self.closed.is_set():
                await self.request({"janus": "destroy"}, 3.0)
        except Exception:
            pass
        try:
            await asyncio.wait_for(self.ws.close(), 3)
        except Exception:
            pass
        self._reader.cancel()


def _drain(q):
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


async def add_trickle(pc, cand):
    """Adds a server `trickle` candidate (or end-of-candidates) to an aiortc peer connection."""
    transceivers = pc.getTransceivers()
    if cand is None or not isinstance(cand, dict) or cand.get("completed"):
        seen = set()
        for t in transceivers:
            ice = t.sender.transport.transport if t.sender.transport else None
            if ice is not None and id(ice) not in seen:
                seen.add(id(ice))
                await ice.addRemoteCandidate(None)
        return
    text = cand.get("candidate", "")
    if text.startswith("candidate:"):
        text = text[len("candidate:"):]
    if not text:
        return
    c = candidate_from_sdp(text)
    c.sdpMid = cand.get("sdpMid")
    c.sdpMLineIndex = cand.get("sdpMLineIndex")
    await pc.addIceCandidate(c)


async def room_with_members(url, conns, count, prefix="m"):
    """Creates a room for `count` publishers (its owner on a connection of its own) and joins `count`
    members as publishers, each on its own connection, named prefix0, prefix1... Every connection
    goes into `conns` for the caller to close. Returns (owner, owner handle, room, members), a
    member being {"conn", "ph", "id", "name"}; none of them publishes yet."""
    owner = await JanusConnection.open(url)
    conns.append(owner)
    oh = await owner.attach()
    room = (await owner.sync(oh, {"request": "create", "publishers": count}))["room"]
    members = []
    for i in range(count):
        conn = await JanusConnection.open(url)
        conns.append(conn)
        ph = await conn.attach()
        name = f"{prefix}{i}"
        joined = await conn.call(ph, {"request": "join", "ptype": "publisher", "room": room, "display": name})
        members.append({"conn": conn, "ph": ph, "id": joined["plugindata"]["data"]["id"], "name": name})
    return owner, oh, room, members


class _Peer:
    def __init__(self):
        media.use_loopback_only()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.connected = asyncio.Event()
        self.failed = asyncio.Event()
        self.remote_set = False
        self.early = []
        self.tasks = []

        @self.pc.on("connectionstatechange")
        def on_state():
            if self.pc.connectionState == "connected":
                self.connected.set()
            elif self.pc.connectionState in ("failed", "closed"):
                self.failed.set()

    async def on_trickle(self, cand):
        if not self.remote_set:
            self.early.append(cand)
            return
        try:
            await add_trickle(self.pc, cand)
        except Exception:
            pass

    async def flush_trickles(self):
        self.remote_set = True
        for cand in self.early:
            await add_trickle(self.pc, cand)
        self.early = []

    async def wait_connected(self, timeout=15.0):
        await asyncio.wait_for(self.connected.wait(), timeout)

    async def close(self):
        for t in self.tasks:
            t.cancel()
        try:
            await asyncio.wait_for(self.pc.close(), 5.0)
        except Exception:
            pass


class Publisher(_Peer):
    """Publishes the counter video (VP8) and the tone (Opus), send only."""

    def __init__(self, codec="VP8", start=None):
        super().__init__()
        self.audio = media.ToneAudioTrack()
        self.video = media.CounterVideoTrack(start)
        at = self.pc.addTransceiver(self.audio, direction="sendonly")
        vt = self.pc.addTransceiver(self.video, direction="sendonly")
        acaps = RTCRtpSender.getCapabilities("audio").codecs
        vcaps = RTCRtpSender.getCapabilities("video").codecs
        at.setCodecPreferences([c for c in acaps if c.mimeType.lower() == "audio/opus"])
        vt.setCodecPreferences([c for c in vcaps if c.mimeType.lower() in (f"video/{codec.lower()}", "video/rtx")])

    async def publish(self, conn, handle, body=None):
        conn.trickle_sinks[handle] = self.on_trickle
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = self.pc.localDescription
        event = await conn.call(handle, dict({"request": "publish"}, **(body or {})),
                                {"type": "offer", "sdp": offer.sdp, "trickle": False}, timeout=10)
        data = event["plugindata"]["data"]
        jsep = event.get("jsep")
        if jsep is None:
            return data
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=jsep["sdp"], type="answer"))
        await self.flush_trickles()
        return data

    def hold(self):
        self.video.hold()
        self.audio.hold()


class Subscriber(_Peer):
    """Answers the server's offer; reads the counters of the video it decodes."""

    def __init__(self, name):
        super().__init__()
        self.name = name
        self.counters = {}           # counter -> time.monotonic() when decoded
        self.counters_by_mid = {}    # mid -> {counter: time decoded}, per video m-line
        self.decoded = 0
        self.unreadable = 0
        self.audio_frames = 0
        self.offer_sdp = None

        @self.pc.on("track")
        def on_track(track):
            self.tasks.append(asyncio.ensure_future(
                self._video(track) if track.kind == "video" else self._audio(track)))

    async def _video(self, track):
        mid = next((t.mid for t in self.pc.getTransceivers() if t.receiver.track is track), None)
        by_mid = self.counters_by_mid.setdefault(mid, {})
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.decoded += 1
            counter = media.read_counter(media.luma_of(frame))
            if counter is None:
                self.unreadable += 1
                continue
            by_mid.setdefault(counter, time.monotonic())
            if counter not in self.counters:
                self.counters[counter] = time.monotonic()

    async def _audio(self, track):
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            self.audio_frames += 1

    async def subscribe(self, conn, handle, room, streams, extra=None):
        """join ptype subscriber -> `attached` + offer -> answer with `start` -> `started`.
        Returns (attached data, started data)."""
        conn.trickle_sinks[handle] = self.on_trickle
        body = dict({"request": "join", "ptype": "subscriber", "room": room, "streams": streams}, **(extra or {}))
        event = await conn.call(handle, body, timeout=10)
        attached = event["plugindata"]["data"]
        jsep = event.get("jsep")
        if attached.get("videoroom") != "attached" or jsep is None:
            return attached, None
        self.offer_sdp = jsep["sdp"]
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=jsep["sdp"], type="offer"))
        await self.flush_trickles()
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        answer = self.pc.localDescription
        event = await conn.call(handle, {"request": "start"}, {"type": "answer", "sdp": answer.sdp}, timeout=10)
        return attached, event["plugindata"]["data"]

    async def answer_update(self, conn, handle, jsep):
        """A renegotiation: the server's new offer (from `updated`) -> our answer with `start`.
        Returns the `started` data."""
        self.offer_sdp = jsep["sdp"]
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=jsep["sdp"], type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        answer = self.pc.localDescription
        event = await conn.call(handle, {"request": "start"}, {"type": "answer", "sdp": answer.sdp}, timeout=10)
        return event["plugindata"]["data"]
