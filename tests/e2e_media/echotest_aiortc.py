#!/usr/bin/python3
"""End-to-end media check against a Janus-compatible EchoTest, with aiortc as the WebRTC peer.

Flow (Janus JSON API over WebSocket, subprotocol `janus-protocol`): `create`, `attach`
janus.plugin.echotest, then `message` with body {"audio":true,"video":true} and a JSEP offer
holding aiortc's complete SDP (aiortc does not trickle, so every candidate is in the offer and the
JSEP says `"trickle": false`); the server answers `ack`, then an `event` with plugindata
{"echotest":"event","result":"ok"} and a JSEP answer (both are required; their order is not:
Debian's Janus 1.1.2 sometimes sends the event first). `trickle` events from the server are
added to the peer connection as they come.

Media: a synthetic video track (320x240, 30 fps) paints a 16-bit frame counter and its bitwise
complement as 32 black/white 40x40 blocks, which survive VP8/H.264 compression; an audio track
sends a 440 Hz tone (48 kHz). The echoed video is decoded by aiortc and the counter read back from
each frame; the echoed audio is counted and measured (RMS, dominant frequency).

Pass criteria (see `EchoResult.failures`): at least 90 % of the frames sent come back decoded,
every counter read back is one that was sent, the counters arrive mostly in increasing order,
audio frames come back and are not silent, and the answer chose the requested video codec.

CLI:   /usr/bin/python3 echotest_aiortc.py --server ws://127.0.0.1:8188 --codec VP8 --seconds 10
       exit status 0 = pass, 1 = media checks failed, 2 = the run could not complete.
Library: `run_echotest(server, codec, seconds)` (a coroutine) returns an `EchoResult`.

Needs Debian's python3-aiortc 1.4 (with av, numpy, websockets): run with /usr/bin/python3.
Only loopback is used: aioice is patched to gather on 127.0.0.1 alone (see `use_loopback_only`).
"""

import argparse
import asyncio
import collections
import ctypes
import ctypes.util
import fractions
import json
import random
import re
import sys
import time
import uuid

import numpy as np
import websockets
from av import AudioFrame, VideoFrame

import aioice.ice
from aiortc import (RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

ECHOTEST = "janus.plugin.echotest"
SUBPROTOCOL = "janus-protocol"

# The picture: 320x240, a grid of 8 x 4 blocks of 40x40 px starting at BLOCK_TOP. Rows 0-1 carry
# the 16-bit counter (most significant bit first), rows 2-3 its complement, so a misread bit is
# detected instead of yielding a wrong value.
WIDTH, HEIGHT = 320, 240
BLOCK = 40
COLS, ROWS = 8, 4
BLOCK_TOP = 40
Y_BLACK, Y_WHITE, Y_BACKGROUND = 16, 235, 128
FPS = 30

AUDIO_RATE = 48000
AUDIO_PTIME = 0.020
TONE_HZ = 440.0
TONE_AMPLITUDE = 8000          # s16 peak, about -12 dBFS: RMS about 5650

# Pass thresholds.
MIN_VIDEO_RATIO = 0.90
MIN_INCREASING = 0.95          # share of consecutive received frames whose counter went up
MAX_UNREADABLE = 0.02          # share of decoded frames whose blocks could not be read
MIN_AUDIO_RATIO = 0.50         # audio frames received / audio frames sent
MIN_AUDIO_RMS = 300.0          # s16 units (about -40 dBFS)
TONE_TOLERANCE_HZ = 20.0

STEP_TIMEOUT = 5.0             # one signaling reply
CONNECT_TIMEOUT = 15.0         # answer applied -> connectionState "connected"
FIRST_FRAME_TIMEOUT = 10.0     # after connection, the first frame sent
# The one address aioice gathers on. Tests in network namespaces they create set it to their
# veth address (test_link_cut.py) before the first run.
HOST_ADDRESS = "127.0.0.1"
GRACE = 3.0                    # after the tracks are held: wait for frames still in flight
KEEPALIVE_PERIOD = 20.0


# ---------------------------------------------------------------------------------------------
# Loopback ICE


def use_loopback_only():
    """Makes aioice gather host candidates on HOST_ADDRESS (127.0.0.1) only.

    aioice 0.8's `aioice.ice.get_host_addresses(use_ipv4, use_ipv6)` lists every interface address
    except 127.0.0.1 and ::1, and `Connection.gather_candidates` looks it up as a module global at
    call time, so replacing the module attribute is enough. Idempotent."""
    current = getattr(aioice.ice, "get_host_addresses", None)
    if current is None:
        raise RuntimeError("aioice.ice.get_host_addresses not found: this aioice version is not "
                           "supported by the loopback patch")
    if getattr(current, "_loopback_only", False):
        return

    def loopback_host_addresses(use_ipv4, use_ipv6):
        return [HOST_ADDRESS] if use_ipv4 else []

    loopback_host_addresses._loopback_only = True
    aioice.ice.get_host_addresses = loopback_host_addresses


def quiet_ffmpeg():
    """Hides FFmpeg's informational output (h264_omx probing, libx264 statistics). aiortc
    restores FFmpeg's default log callback at import, so PyAV's set_level does not apply: set
    the level in libavutil itself."""
    try:
        lib = ctypes.util.find_library("avutil")
        if lib:
            ctypes.CDLL(lib).av_log_set_level(16)      # AV_LOG_ERROR
    except (OSError, AttributeError):
        pass


# ---------------------------------------------------------------------------------------------
# Counter picture


def _block_origin(bit):
    row, col = divmod(bit, COLS)
    return BLOCK_TOP + row * BLOCK, col * BLOCK


def counter_bits(counter):
    """32 bits: the counter (16, MSB first) then its complement."""
    value = ((counter & 0xFFFF) << 16) | (~counter & 0xFFFF)
    return [(value >> (31 - i)) & 1 for i in range(COLS * ROWS)]


def paint_counter(counter):
    """A yuv420p frame buffer, shape (HEIGHT * 3 / 2, WIDTH), showing `counter`."""
    yuv = np.full((HEIGHT * 3 // 2, WIDTH), 128, dtype=np.uint8)
    y = yuv[:HEIGHT]
    y[:] = Y_BACKGROUND
    for bit, on in enumerate(counter_bits(counter)):
        top, left = _block_origin(bit)
        y[top:top + BLOCK, left:left + BLOCK] = Y_WHITE if on else Y_BLACK
    return yuv


def luma_of(frame):
    """The Y plane of a decoded VideoFrame as a (height, width) uint8 array."""
    if frame.format.name in ("yuv420p", "yuvj420p", "nv12"):
        plane = frame.planes[0]
        arr = np.frombuffer(plane, dtype=np.uint8)
        return arr.reshape(-1, plane.line_size)[:frame.height, :frame.width]
    return frame.to_ndarray(format="gray")


def read_counter(luma):
    """The counter painted into a luma picture, or None if any block is ambiguous or the
    complement does not match. Coordinates scale with the picture size."""
    h, w = luma.shape
    sy, sx = h / HEIGHT, w / WIDTH
    margin = BLOCK // 4
    bits = []
    for bit in range(COLS * ROWS):
        top, left = _block_origin(bit)
        y0, y1 = int((top + margin) * sy), int((top + BLOCK - margin) * sy)
        x0, x1 = int((left + margin) * sx), int((left + BLOCK - margin) * sx)
        mean = float(luma[y0:y1, x0:x1].mean())
        if mean >= 176:
            bits.append(1)
        elif mean <= 80:
            bits.append(0)
        else:
            return None
    value = 0
    for b in bits:
        value = (value << 1) | b
    counter, check = value >> 16, value & 0xFFFF
    if counter ^ check != 0xFFFF:
        return None
    return counter


# ---------------------------------------------------------------------------------------------
# Tracks


class CounterVideoTrack(MediaStreamTrack):
    """320x240 at 30 fps; frame n shows counter start+n. Records when each value was handed to
    the encoder. `hold()` stops producing frames (the sender then waits, sending nothing)."""

    kind = "video"

    def __init__(self, start=None):
        super().__init__()
        self.start_counter = random.randint(1000, 30000) if start is None else start
        self.next_counter = self.start_counter
        self.sent_at = {}                 # counter -> time.monotonic() when handed to the sender
        self.first_sent = None
        self._t0 = None
        self._frames = 0
        self._held = asyncio.Event()

    def hold(self):
        self._held.set()

    @property
    def frames_sent(self):
        return len(self.sent_at)

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        else:
            due = self._t0 + self._frames / FPS
            if due > now:
                await asyncio.sleep(due - now)
        if self._held.is_set():
            await asyncio.Future()        # never resolves; cancelled when the sender stops
        counter = self.next_counter & 0xFFFF
        self.next_counter += 1
        frame = VideoFrame.from_ndarray(paint_counter(counter), format="yuv420p")
        frame.pts = self._frames * (90000 // FPS)
        frame.time_base = fractions.Fraction(1, 90000)
        self._frames += 1
        sent = time.monotonic()
        self.sent_at[counter] = sent
        if self.first_sent is None:
            self.first_sent = sent
        return frame


class ToneAudioTrack(MediaStreamTrack):
    """A continuous sine (440 Hz unless told), 48 kHz mono s16, in 20 ms frames."""

    kind = "audio"

    def __init__(self, hz=TONE_HZ, amplitude=TONE_AMPLITUDE):
        super().__init__()
        self.hz = hz
        self.amplitude = amplitude
        self.samples_per_frame = int(AUDIO_RATE * AUDIO_PTIME)
        self.frames_sent = 0
        self._t0 = None
        self._held = asyncio.Event()

    def hold(self):
        self._held.set()

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        else:
            due = self._t0 + self.frames_sent * AUDIO_PTIME
            if due > now:
                await asyncio.sleep(due - now)
        if self._held.is_set():
            await asyncio.Future()
        n0 = self.frames_sent * self.samples_per_frame
        t = (n0 + np.arange(self.samples_per_frame)) / AUDIO_RATE
        pcm = (self.amplitude * np.sin(2 * np.pi * self.hz * t)).astype(np.int16)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = n0
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self.frames_sent += 1
        return frame


# ---------------------------------------------------------------------------------------------
# Result


class EchoResult:
    """Everything measured in one run, the checks, and the summary line."""

    def __init__(self, codec, seconds):
        self.codec = codec.upper()
        self.seconds = seconds
        self.error = None                 # why the run could not complete (signaling, ICE, ...)
        self.answer_video_codec = None
        self.answer_audio_codec = None
        self.offer_candidates = []
        self.answer_candidates = []
        self.trickled_candidates = []
        self.trickle_completed = False
        self.ack_seen = False
        self.event_before_ack = False
        self.plugindata = None
        self.frames_sent = 0              # video frames sent during the media window
        self.window_counters = set()      # their counter values
        self.audio_frames_sent = 0
        self.decoded_frames = 0           # video frames decoded, readable or not
        self.unreadable_frames = 0
        self.foreign_values = []          # counters read back that were never sent
        self.received_counters = []       # in arrival order (readable frames only)
        self.latencies = []               # seconds, sent -> decoded, per matched frame
        self.first_frame_after_create = None
        self.connected_after_create = None
        self.audio_frames_received = 0
        self.audio_rms = 0.0
        self.audio_peak_hz = None
        self.ice_state = None
        self.connection_state = None
        self.state_log = []               # (seconds since create, what, state)
        self.server_events = collections.deque(maxlen=20)
        self.frame_size = None

    # --- derived ---
    @property
    def matched(self):
        """Distinct frames of the media window that came back decoded with the right content."""
        return len(set(self.received_counters) & self.window_counters)

    @property
    def ratio(self):
        return self.matched / self.frames_sent if self.frames_sent else 0.0

    @property
    def increasing_share(self):
        c = self.received_counters
        if len(c) < 2:
            return 0.0
        up = sum(1 for a, b in zip(c, c[1:]) if (b - a) & 0xFFFF and ((b - a) & 0xFFFF) < 0x8000)
        return up / (len(c) - 1)

    def failures(self):
        """A list of readable reasons; empty means pass."""
        out = []
        if self.error:
            out.append(self.error)
            if not self.window_counters:
                return out                # stopped before any media: the rest would be noise
        if self.answer_video_codec is None:
            out.append("the answer has no video codec")
        elif self.answer_video_codec.upper() != self.codec:
            out.append(f"the answer chose video codec {self.answer_video_codec}, "
                       f"expected {self.codec}")
        if self.answer_audio_codec is not None and self.answer_audio_codec.lower() != "opus":
            out.append(f"the answer chose audio codec {self.answer_audio_codec}, expected opus")
        if self.frames_sent == 0:
            out.append("no video frame was sent")
        elif self.ratio < MIN_VIDEO_RATIO:
            out.append(f"only {self.matched} of {self.frames_sent} video frames came back decoded "
                       f"({self.ratio:.1%} < {MIN_VIDEO_RATIO:.0%})")
        if self.foreign_values:
            out.append(f"{len(self.foreign_values)} decoded frames show counters that were never "
                       f"sent: {sorted(set(self.foreign_values))[:10]}")
        if self.decoded_frames and self.unreadable_frames > MAX_UNREADABLE * self.decoded_frames:
            out.append(f"{self.unreadable_frames} of {self.decoded_frames} decoded frames were "
                       f"unreadable (> {MAX_UNREADABLE:.0%})")
        if len(self.received_counters) >= 2 and self.increasing_share < MIN_INCREASING:
            out.append(f"received counters are not mostly increasing "
                       f"({self.increasing_share:.1%} < {MIN_INCREASING:.0%})")
        if self.audio_frames_received == 0:
            out.append("no audio frame came back")
        else:
            if self.audio_frames_sent and \
                    self.audio_frames_received < MIN_AUDIO_RATIO * self.audio_frames_sent:
                out.append(f"only {self.audio_frames_received} of {self.audio_frames_sent} audio "
                           f"frames came back (< {MIN_AUDIO_RATIO:.0%})")
            if self.audio_rms < MIN_AUDIO_RMS:
                out.append(f"the echoed audio is silent (RMS {self.audio_rms:.1f} < {MIN_AUDIO_RMS})")
            elif self.audio_peak_hz is None or abs(self.audio_peak_hz - TONE_HZ) > TONE_TOLERANCE_HZ:
                out.append(f"the echoed audio's dominant frequency is {self.audio_peak_hz} Hz, "
                           f"expected {TONE_HZ:.0f} Hz")
        return out

    @property
    def passed(self):
        return not self.failures()

    def summary(self):
        first = ("n/a" if self.first_frame_after_create is None
                 else f"{self.first_frame_after_create:.2f}s")
        lat = (f"{1000 * float(np.median(self.latencies)):.0f}ms" if self.latencies else "n/a")
        peak = "n/a" if self.audio_peak_hz is None else f"{self.audio_peak_hz:.0f}Hz"
        return (f"echotest {self.codec}+opus {'PASS' if self.passed else 'FAIL'}: "
                f"frames sent={self.frames_sent} received={self.matched} "
                f"ratio={self.ratio:.3f} unreadable={self.unreadable_frames} "
                f"foreign={len(self.foreign_values)} increasing={self.increasing_share:.3f} "
                f"first_frame_after_create={first} median_latency={lat} "
                f"audio sent={self.audio_frames_sent} received={self.audio_frames_received} "
                f"rms={self.audio_rms:.0f} peak={peak} "
                f"codec={self.answer_video_codec}/{self.answer_audio_codec}")

    def diagnostics(self):
        lines = [
            f"when the run stopped: ICE connection state {self.ice_state}, connection state "
            f"{self.connection_state}",
            "state changes: " + ", ".join(f"{t:.2f}s {what}={s}" for t, what, s in self.state_log),
            f"offer candidates: {self.offer_candidates}",
            f"answer candidates: {self.answer_candidates}; trickled: {self.trickled_candidates}; "
            f"trickle completed: {self.trickle_completed}",
            f"ack seen: {self.ack_seen} (after the event: {self.event_before_ack}); "
            f"plugindata: {self.plugindata}",
            f"decoded frame size: {self.frame_size}",
            "last server events:",
        ]
        lines += ["  " + _brief(e) for e in self.server_events]
        return "\n".join(lines)

    def to_dict(self):
        return {
            "codec": self.codec, "seconds": self.seconds, "passed": self.passed,
            "failures": self.failures(), "error": self.error,
            "ack_seen": self.ack_seen, "event_before_ack": self.event_before_ack,
            "answer_video_codec": self.answer_video_codec,
            "answer_audio_codec": self.answer_audio_codec,
            "frames_sent": self.frames_sent, "frames_received": self.matched,
            "ratio": self.ratio, "decoded_frames": self.decoded_frames,
            "unreadable_frames": self.unreadable_frames,
            "foreign_values": self.foreign_values[:50],
            "increasing_share": self.increasing_share,
            "first_frame_after_create": self.first_frame_after_create,
            "connected_after_create": self.connected_after_create,
            "median_latency": float(np.median(self.latencies)) if self.latencies else None,
            "audio_frames_sent": self.audio_frames_sent,
            "audio_frames_received": self.audio_frames_received,
            "audio_rms": self.audio_rms, "audio_peak_hz": self.audio_peak_hz,
            "ice_state": self.ice_state, "connection_state": self.connection_state,
            "state_log": self.state_log,
            "offer_candidates": self.offer_candidates,
            "answer_candidates": self.answer_candidates,
            "trickled_candidates": self.trickled_candidates,
            "server_events": [_brief(e) for e in self.server_events],
            "summary": self.summary(),
        }


def _brief(msg, limit=400):
    """A server message for the log, with SDP bodies shortened."""
    m = json.loads(json.dumps(msg))
    jsep = m.get("jsep")
    if isinstance(jsep, dict) and isinstance(jsep.get("sdp"), str):
        jsep["sdp"] = f"<{len(jsep['sdp'])} chars>"
    text = json.dumps(m, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "..."


# ---------------------------------------------------------------------------------------------
# SDP helpers


def chosen_codec(sdp, kind):
    """The codec name of the first payload type of the first m=<kind> line that is not rejected
    (port 0), or None."""
    lines = sdp.splitlines()
    for i, line in enumerate(lines):
        m = re.match(rf"m={kind} (\d+) \S+ (.*)$", line)
        if not m or m.group(1) == "0":
            continue
        fmts = m.group(2).split()
        if not fmts:
            return None
        section = []
        for other in lines[i + 1:]:
            if other.startswith("m="):
                break
            section.append(other)
        for other in section:
            r = re.match(rf"a=rtpmap:{re.escape(fmts[0])} ([^/\s]+)/", other)
            if r:
                return r.group(1)
        return None
    return None


def sdp_candidates(sdp):
    return [line[2:].strip() for line in sdp.splitlines() if line.startswith("a=candidate:")]


def _candidate_address(cand):
    parts = cand.split()
    return parts[4] if len(parts) > 5 else None


# ---------------------------------------------------------------------------------------------
# Janus signaling over WebSocket


class JanusWs:
    """One janus-protocol WebSocket: replies routed by transaction, other messages to `on_event`."""

    def __init__(self, ws, on_event):
        self.ws = ws
        self.on_event = on_event
        self.pending = {}                 # transaction -> asyncio.Queue
        self.closed = asyncio.Event()
        self.close_reason = None
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, url, on_event, timeout=STEP_TIMEOUT):
        ws = await asyncio.wait_for(
            websockets.connect(url, subprotocols=[SUBPROTOCOL], max_size=None, ping_interval=None,
                               open_timeout=timeout, close_timeout=2),
            timeout + 1)
        if ws.subprotocol != SUBPROTOCOL:
            await ws.close()
            raise RuntimeError(f"server chose subprotocol {ws.subprotocol!r}, not {SUBPROTOCOL}")
        return cls(ws, on_event)

    async def _read(self):
        try:
            async for raw in self.ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    msg = {"unparseable": str(raw)[:200]}
                tx = msg.get("transaction") if isinstance(msg, dict) else None
                if tx in self.pending:
                    self.pending[tx].put_nowait(msg)
                if isinstance(msg, dict):
                    self.on_event(msg, tx in self.pending)
        except websockets.ConnectionClosed as e:
            self.close_reason = f"closed: code {e.code} {e.reason!r}"
        except Exception as e:                       # keep the reason for the diagnostics
            self.close_reason = f"reader failed: {e!r}"
        finally:
            if self.close_reason is None:
                self.close_reason = f"closed: code {self.ws.close_code}"
            self.closed.set()

    def begin(self, msg):
        """Registers and returns a transaction for `msg` (sets it)."""
        tx = msg.setdefault("transaction", f"e2e-{uuid.uuid4().hex[:12]}")
        self.pending[tx] = asyncio.Queue()
        return tx

    async def send(self, msg):
        await asyncio.wait_for(self.ws.send(json.dumps(msg)), STEP_TIMEOUT)

    async def next_reply(self, tx, timeout, what):
        """The next message carrying transaction `tx`, within `timeout` seconds."""
        queue = self.pending[tx]
        get = asyncio.ensure_future(queue.get())
        closed = asyncio.ensure_future(self.closed.wait())
        try:
            done, _ = await asyncio.wait({get, closed}, timeout=max(timeout, 0.01),
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
            if not get.done():
                get.cancel()
        if get in done:
            return get.result()
        if closed in done:
            raise RuntimeError(f"WebSocket {self.close_reason} while waiting for {what}")
        raise RuntimeError(f"no {what} within {timeout:.1f} s")

    async def request(self, msg, timeout, what):
        """Sends `msg` and returns its first reply."""
        tx = self.begin(msg)
        await self.send(msg)
        return await self.next_reply(tx, timeout, what)

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


# ---------------------------------------------------------------------------------------------
# The run


class _Run:
    def __init__(self, server, codec, seconds, timeout, log):
        codec = codec.upper()
        if codec not in ("VP8", "H264"):
            raise ValueError(f"codec must be VP8 or H264, not {codec}")
        self.server = server
        self.codec = codec
        self.seconds = seconds
        self.timeout = timeout
        self.log = log
        self.result = EchoResult(codec, seconds)
        self.t0 = None
        self.deadline = None
        self.pc = None
        self.janus = None
        self.session_id = None
        self.handle_id = None
        self.video = None
        self.audio = None
        self.remote_applied = False
        self.early_trickles = []
        self.trickle_lock = asyncio.Lock()
        self.hangup = None
        self.tasks = []
        self.last_video_rx = None
        self.audio_tail = collections.deque(maxlen=100)   # last 2 s of received audio (left ch)
        self.audio_sq_sum = 0.0
        self.audio_samples = 0
        self.connected = asyncio.Event()
        self.failed = asyncio.Event()

    def elapsed(self):
        return time.monotonic() - self.t0

    def remaining(self, cap=None):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"overall timeout of {self.timeout:.0f} s reached")
        return left if cap is None else min(cap, left)

    def note(self, text):
        self.log(f"[{self.elapsed():6.2f}s] {text}")

    # --- server events ---
    def on_event(self, msg, is_reply):
        self.result.server_events.append(msg)
        kind = msg.get("janus")
        if kind == "trickle" and not is_reply:
            cand = msg.get("candidate")
            if self.remote_applied:
                self.tasks.append(asyncio.ensure_future(self.add_trickle(cand)))
            else:
                self.early_trickles.append(cand)
        elif kind == "hangup":
            self.hangup = msg.get("reason", "hangup")
            self.note(f"server hangup: {self.hangup}")
            self.failed.set()
        elif kind in ("webrtcup", "media", "slowlink", "detached", "timeout", "ice-failed"):
            self.note(f"server event {kind}: {_brief(msg, 200)}")
            if kind in ("detached", "timeout", "ice-failed"):
                self.failed.set()

    async def add_trickle(self, cand):
        """Adds one server `trickle` candidate (or end-of-candidates) to the peer connection,
        in arrival order."""
        async with self.trickle_lock:
            await self._add_trickle(cand)

    async def _add_trickle(self, cand):
        try:
            transceivers = self.pc.getTransceivers()
            if cand is None or not isinstance(cand, dict) or cand.get("completed"):
                self.result.trickle_completed = True
                # aiortc 1.4's addIceCandidate takes no None: signal the end on the ICE
                # transport(s) directly (with BUNDLE they are all the same transport).
                seen = set()
                for t in transceivers:
                    ice = t.sender.transport.transport if t.sender.transport else None
                    if ice is not None and id(ice) not in seen:
                        seen.add(id(ice))
                        await ice.addRemoteCandidate(None)
                return
            text = cand.get("candidate", "")
            self.result.trickled_candidates.append(text)
            if text.startswith("candidate:"):
                text = text[len("candidate:"):]
            if not text:
                return
            ice_cand = candidate_from_sdp(text)
            mid = cand.get("sdpMid")
            index = cand.get("sdpMLineIndex")
            if mid is None and index is not None and 0 <= index < len(transceivers):
                mid = transceivers[index].mid
            ice_cand.sdpMid = mid
            ice_cand.sdpMLineIndex = index
            await self.pc.addIceCandidate(ice_cand)
        except Exception as e:
            self.note(f"could not add trickled candidate {cand}: {e!r}")

    # --- media consumers ---
    async def consume_video(self, track):
        r = self.result
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            now = time.monotonic()
            r.decoded_frames += 1
            r.frame_size = (frame.width, frame.height)
            counter = read_counter(luma_of(frame))
            if counter is None:
                r.unreadable_frames += 1
                continue
            if r.first_frame_after_create is None:
                r.first_frame_after_create = now - self.t0
                self.note(f"first decoded frame: counter {counter}, {frame.width}x{frame.height}")
            sent = self.video.sent_at.get(counter)
            if sent is None:
                r.foreign_values.append(counter)
            else:
                r.latencies.append(now - sent)
            r.received_counters.append(counter)
            self.last_video_rx = now

    async def consume_audio(self, track):
        r = self.result
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            r.audio_frames_received += 1
            pcm = frame.to_ndarray()
            channels = len(frame.layout.channels)
            if frame.format.is_planar:
                left = pcm[0]
            else:
                left = pcm.reshape(-1)[::channels]
            left = left.astype(np.float64)
            if frame.format.name not in ("s16", "s16p"):
                left = left * 32767.0 if frame.format.name in ("flt", "fltp", "dbl", "dblp") \
                    else left
            self.audio_sq_sum += float(np.sum(left * left))
            self.audio_samples += left.size
            self.audio_tail.append((frame.sample_rate, left))

    def finish_audio(self):
        r = self.result
        if self.audio_samples:
            r.audio_rms = (self.audio_sq_sum / self.audio_samples) ** 0.5
        if self.audio_tail:
            rate = self.audio_tail[-1][0]
            samples = np.concatenate([s for _, s in self.audio_tail])
            if samples.size >= 1024:
                spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
                spectrum[0] = 0
                r.audio_peak_hz = float(np.argmax(spectrum) * rate / samples.size)

    # --- peer connection ---
    def track_state(self, what, state):
        self.result.state_log.append((round(self.elapsed(), 3), what, state))
        self.note(f"{what} -> {state}")

    def make_pc(self):
        use_loopback_only()
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.audio = ToneAudioTrack()
        self.video = CounterVideoTrack()
        at = pc.addTransceiver(self.audio, direction="sendrecv")
        vt = pc.addTransceiver(self.video, direction="sendrecv")
        acaps = RTCRtpSender.getCapabilities("audio").codecs
        vcaps = RTCRtpSender.getCapabilities("video").codecs
        at.setCodecPreferences([c for c in acaps if c.mimeType.lower() == "audio/opus"])
        want = f"video/{self.codec.lower()}"
        vprefs = [c for c in vcaps if c.mimeType.lower() == want]
        if not vprefs:
            raise RuntimeError(f"this aiortc has no {self.codec} encoder/decoder")
        vprefs += [c for c in vcaps if c.mimeType.lower() == "video/rtx"]
        vt.setCodecPreferences(vprefs)

        @pc.on("track")
        def on_track(track):
            self.note(f"remote {track.kind} track")
            consumer = self.consume_video if track.kind == "video" else self.consume_audio
            self.tasks.append(asyncio.ensure_future(consumer(track)))

        @pc.on("iceconnectionstatechange")
        def on_ice():
            self.track_state("iceConnectionState", pc.iceConnectionState)
            if pc.iceConnectionState == "failed":
                self.failed.set()

        @pc.on("connectionstatechange")
        def on_conn():
            self.track_state("connectionState", pc.connectionState)
            if pc.connectionState == "connected":
                self.connected.set()
            elif pc.connectionState in ("failed", "closed"):
                self.failed.set()

        return pc

    async def wait_event(self, event, timeout, what):
        """Waits for `event` unless the connection fails first; raises with `what` on timeout."""
        ok = asyncio.ensure_future(event.wait())
        bad = asyncio.ensure_future(self.failed.wait())
        closed = asyncio.ensure_future(self.janus.closed.wait())
        try:
            done, _ = await asyncio.wait({ok, bad, closed}, timeout=self.remaining(timeout),
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            for f in (ok, bad, closed):
                f.cancel()
        if event.is_set():
            return
        if self.failed.is_set():
            raise RuntimeError(f"connection failed while waiting for {what} (ICE "
                               f"{self.pc.iceConnectionState}, connection {self.pc.connectionState}"
                               f"{', server hangup: ' + self.hangup if self.hangup else ''})")
        if self.janus.closed.is_set():
            raise RuntimeError(f"WebSocket {self.janus.close_reason} while waiting for {what}")
        raise RuntimeError(f"no {what} within {timeout:.1f} s (ICE {self.pc.iceConnectionState}, "
                           f"connection {self.pc.connectionState})")

    async def keepalive(self):
        while True:
            await asyncio.sleep(KEEPALIVE_PERIOD)
            try:
                msg = {"janus": "keepalive", "session_id": self.session_id}
                self.janus.begin(msg)
                await self.janus.send(msg)
            except Exception:
                return

    # --- steps ---
    async def signal(self):
        r = self.result
        self.janus = await JanusWs.connect(self.server, self.on_event,
                                           timeout=self.remaining(STEP_TIMEOUT))
        reply = await self.janus.request({"janus": "create"}, self.remaining(STEP_TIMEOUT),
                                         "reply to create")
        if reply.get("janus") != "success":
            raise RuntimeError(f"create failed: {_brief(reply)}")
        self.session_id = reply["data"]["id"]
        self.tasks.append(asyncio.ensure_future(self.keepalive()))
        reply = await self.janus.request(
            {"janus": "attach", "plugin": ECHOTEST, "session_id": self.session_id},
            self.remaining(STEP_TIMEOUT), "reply to attach")
        if reply.get("janus") != "success":
            raise RuntimeError(f"attach failed: {_brief(reply)}")
        self.handle_id = reply["data"]["id"]
        self.note(f"session {self.session_id}, handle {self.handle_id}")

        self.pc = self.make_pc()
        # setLocalDescription gathers every candidate before it returns (aiortc does not trickle).
        await asyncio.wait_for(self.pc.setLocalDescription(await self.pc.createOffer()),
                               self.remaining(STEP_TIMEOUT))
        offer = self.pc.localDescription
        r.offer_candidates = sdp_candidates(offer.sdp)
        bad = [c for c in r.offer_candidates if _candidate_address(c) != HOST_ADDRESS]
        if not r.offer_candidates or bad:
            raise RuntimeError(f"the offer must carry only {HOST_ADDRESS} candidates: {r.offer_candidates}")
        if chosen_codec(offer.sdp, "video") != self.codec:
            raise RuntimeError(f"aiortc offered {chosen_codec(offer.sdp, 'video')} first, "
                               f"not {self.codec}")

        msg = {"janus": "message", "session_id": self.session_id, "handle_id": self.handle_id,
               "body": {"audio": True, "video": True},
               "jsep": {"type": offer.type, "sdp": offer.sdp, "trickle": False}}
        tx = self.janus.begin(msg)
        await self.janus.send(msg)
        event = None
        while event is None:
            reply = await self.janus.next_reply(
                tx, self.remaining(STEP_TIMEOUT * 2),
                "echotest event with the answer" if r.ack_seen else "ack or event for the offer")
            kind = reply.get("janus")
            if kind == "ack":
                r.ack_seen = True
            elif kind == "event":
                event = reply
            else:
                raise RuntimeError(f"the offer was answered with {_brief(reply)}")
        if not r.ack_seen:
            # Janus itself may deliver the plugin's event before the core's ack (seen with Janus
            # 1.1.2 on loopback): the order is not guaranteed, the ack is.
            r.event_before_ack = True
            reply = await self.janus.next_reply(tx, self.remaining(2.0), "ack for the offer")
            if reply.get("janus") != "ack":
                raise RuntimeError(f"expected an ack for the offer, got {_brief(reply)}")
            r.ack_seen = True
        data = (event.get("plugindata") or {}).get("data")
        r.plugindata = event.get("plugindata")
        if (event.get("plugindata") or {}).get("plugin") != ECHOTEST or \
                not isinstance(data, dict) or data.get("echotest") != "event" or \
                data.get("result") != "ok":
            raise RuntimeError(f"unexpected echotest reply: {_brief(event)}")
        jsep = event.get("jsep")
        if not isinstance(jsep, dict) or jsep.get("type") != "answer" or \
                not isinstance(jsep.get("sdp"), str):
            raise RuntimeError(f"the echotest event carries no JSEP answer: {_brief(event)}")
        answer = jsep["sdp"]
        r.answer_video_codec = chosen_codec(answer, "video")
        r.answer_audio_codec = chosen_codec(answer, "audio")
        r.answer_candidates = sdp_candidates(answer)
        self.note(f"answer: video {r.answer_video_codec}, audio {r.answer_audio_codec}, "
                  f"{len(r.answer_candidates)} candidates")
        if "a=fingerprint:" not in answer:
            raise RuntimeError("the answer has no DTLS fingerprint")
        if "a=ice-ufrag:" not in answer or "a=ice-pwd:" not in answer:
            raise RuntimeError("the answer has no ICE credentials")

        await asyncio.wait_for(
            self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer")),
            self.remaining(STEP_TIMEOUT))
        self.remote_applied = True
        for cand in self.early_trickles:
            await self.add_trickle(cand)
        self.early_trickles = []

    async def media(self):
        r = self.result
        await self.wait_event(self.connected, CONNECT_TIMEOUT, "connected peer connection")
        r.connected_after_create = self.elapsed()
        # The sender asks the track for its first frame once DTLS is up.
        first = time.monotonic() + FIRST_FRAME_TIMEOUT
        while self.video.first_sent is None:
            if time.monotonic() > first:
                raise RuntimeError("aiortc sent no video frame after the connection came up")
            self.remaining()
            await asyncio.sleep(0.05)
        self.note(f"sending for {self.seconds} s")
        end = self.video.first_sent + self.seconds
        while time.monotonic() < end:
            if self.failed.is_set():
                self.note("connection failed during the media window")
                break
            self.remaining()
            await asyncio.sleep(min(0.1, max(0.0, end - time.monotonic())))
        # The frames of the window are those sent so far. Keep sending (aiortc's receiver only
        # releases a frame once a packet of the next one arrives) until the window's last frame
        # is back, or a later one is, or nothing has come for a second, or GRACE has passed.
        r.window_counters = set(self.video.sent_at)
        r.frames_sent = len(r.window_counters)
        last = (self.video.next_counter - 1) & 0xFFFF
        grace_end = time.monotonic() + GRACE
        while time.monotonic() < grace_end and time.monotonic() < self.deadline \
                and not self.failed.is_set():
            recent = r.received_counters[-5:]
            if any(c == last or 0 < ((c - last) & 0xFFFF) < 0x8000 for c in recent):
                break
            if self.last_video_rx is not None and time.monotonic() - self.last_video_rx > 1.0:
                break
            await asyncio.sleep(0.05)
        self.video.hold()
        self.audio.hold()
        r.audio_frames_sent = self.audio.frames_sent
        if self.failed.is_set():
            raise RuntimeError(f"the connection failed (ICE {self.pc.iceConnectionState}, "
                               f"connection {self.pc.connectionState}"
                               f"{', server hangup: ' + self.hangup if self.hangup else ''})")

    async def teardown(self):
        for task in self.tasks:
            task.cancel()
        if self.janus is not None and self.session_id is not None and not self.janus.closed.is_set():
            try:
                await self.janus.request({"janus": "destroy", "session_id": self.session_id},
                                         3.0, "reply to destroy")
            except Exception as e:
                self.note(f"destroy: {e}")
        if self.pc is not None:
            try:
                await asyncio.wait_for(self.pc.close(), 5.0)
            except Exception as e:
                self.note(f"closing the peer connection: {e!r}")
        if self.janus is not None:
            await self.janus.close()
        for task in self.tasks:
            try:
                await asyncio.wait_for(task, 1.0)
            except BaseException:
                pass

    async def run(self):
        self.t0 = time.monotonic()
        self.deadline = self.t0 + self.timeout
        r = self.result
        try:
            await self.signal()
            await self.media()
        except Exception as e:
            r.error = f"{type(e).__name__}: {e}" if not isinstance(e, RuntimeError) else str(e)
            self.note(f"run stopped: {r.error}")
        finally:
            if self.video is not None:
                if not r.window_counters:            # stopped before the window ended
                    r.window_counters = set(self.video.sent_at)
                    r.frames_sent = len(r.window_counters)
                r.audio_frames_sent = self.audio.frames_sent
            if self.pc is not None:
                r.ice_state = self.pc.iceConnectionState
                r.connection_state = self.pc.connectionState
            self.finish_audio()
            await self.teardown()
        return r


async def run_echotest(server, codec="VP8", seconds=10.0, timeout=None, log=None):
    """Runs one echotest session against `server` (a ws:// URL). Every wait is bounded; the whole
    run takes at most `timeout` seconds (default: seconds + 30) plus a few seconds of teardown.
    Returns an EchoResult; never raises for server or media problems (see `result.error`)."""
    if timeout is None:
        timeout = seconds + 30.0
    if log is None:
        log = lambda text: None
    run = _Run(server, codec, seconds, timeout, log)
    try:
        # Every step inside is bounded already; this guards against a hang in a library call.
        return await asyncio.wait_for(run.run(), timeout + 20.0)
    except asyncio.TimeoutError:
        run.result.error = (run.result.error or "") + \
            f" the run did not finish within {timeout + 20.0:.0f} s (hung)"
        return run.result


def main(argv=None):
    p = argparse.ArgumentParser(description="aiortc end-to-end media test against a "
                                            "Janus-compatible EchoTest over WebSocket")
    p.add_argument("--server", required=True, help="WebSocket URL, e.g. ws://127.0.0.1:8188")
    p.add_argument("--codec", default="VP8", type=str.upper, choices=["VP8", "H264"])
    p.add_argument("--seconds", type=float, default=10.0, help="media window (default 10)")
    p.add_argument("--timeout", type=float, default=None,
                   help="overall limit in seconds (default: seconds + 30)")
    p.add_argument("--json", metavar="FILE", help="also write the result as JSON to FILE")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    args = p.parse_args(argv)

    quiet_ffmpeg()
    t_start = time.monotonic()
    log = (lambda text: None) if args.quiet else (lambda text: print(text, flush=True))
    result = asyncio.run(run_echotest(args.server, args.codec, args.seconds, args.timeout, log))
    failures = result.failures()
    if failures:
        print("FAILED:", flush=True)
        for f in failures:
            print(f"  - {f}", flush=True)
        print(result.diagnostics(), flush=True)
    print(result.summary(), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(result.to_dict(), wall_seconds=time.monotonic() - t_start), f, indent=2)
    if result.error:
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
