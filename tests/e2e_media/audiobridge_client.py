"""A small Janus AudioBridge client for Junction's e2e tests: an aiortc participant that sends a
sine tone (Opus, 48 kHz) and keeps every audio frame it receives with its arrival time, plus the
spectral checks the tests make on what it heard (numpy FFT).

Flow per participant (API.md §4 "Observed on the wire"): `join` (no jsep) -> `joined`, then
`configure` with the offer -> `event` {"result":"ok"} + answer. aiortc does not trickle; the
server's trickles are added as they come.

Needs Debian's python3-aiortc 1.4 (with av, numpy, websockets): run with /usr/bin/python3.
"""

import asyncio
import time

import numpy as np
from aiortc import RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

import echotest_aiortc as media
from videoroom_client import JanusConnection, _Peer

AUDIOBRIDGE = "janus.plugin.audiobridge"
RATE = 48000
AMPLITUDE = 6000


class Participant(_Peer):
    """Sends a tone, receives the room's mix; `heard` holds (arrival time, mono samples)."""

    def __init__(self, name, hz):
        super().__init__()
        self.name = name
        self.hz = hz
        self.heard = []
        self.track = media.ToneAudioTrack(hz, AMPLITUDE)
        t = self.pc.addTransceiver(self.track, direction="sendrecv")
        caps = RTCRtpSender.getCapabilities("audio").codecs
        t.setCodecPreferences([c for c in caps if c.mimeType.lower() == "audio/opus"])
        self.id = None
        self.room = None

        @self.pc.on("track")
        def on_track(track):
            self.tasks.append(asyncio.ensure_future(self._receive(track)))

    async def _receive(self, track):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            arr = frame.to_ndarray().reshape(-1).astype(np.float64)
            channels = len(frame.layout.channels)
            if channels > 1:
                arr = arr.reshape(-1, channels).mean(axis=1)
            if frame.sample_rate != RATE:
                continue
            self.heard.append((time.monotonic(), arr))

    async def join(self, conn, handle, room, extra=None):
        """join -> joined; configure + offer -> answer. Returns the `joined` data."""
        conn.trickle_sinks[handle] = self.on_trickle
        event = await conn.call(handle, dict({"request": "join", "room": room, "display": self.name}, **(extra or {})))
        joined = event["plugindata"]["data"]
        if joined.get("audiobridge") != "joined":
            return joined
        self.id, self.room = joined["id"], room
        await self.pc.setLocalDescription(await self.pc.createOffer())
        event = await conn.call(handle, {"request": "configure", "muted": False},
                                {"type": "offer", "sdp": self.pc.localDescription.sdp, "trickle": False}, timeout=10)
        data = event["plugindata"]["data"]
        assert data.get("result") == "ok", data
        assert event.get("jsep", {}).get("type") == "answer", event
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=event["jsep"]["sdp"], type="answer"))
        await self.flush_trickles()
        return joined

    def samples(self, t0, t1):
        """Everything received with an arrival time in [t0, t1), as one array."""
        parts = [a for t, a in self.heard if t0 <= t < t1]
        return np.concatenate(parts) if parts else np.zeros(0)


def spectrum(samples):
    """(frequencies, magnitude in dB) of a Hann-windowed FFT."""
    if len(samples) == 0:
        return np.zeros(1), np.full(1, -200.0)
    w = np.hanning(len(samples))
    mag = np.abs(np.fft.rfft(samples * w)) / (w.sum() / 2)
    return np.fft.rfftfreq(len(samples), 1.0 / RATE), 20 * np.log10(mag + 1e-9)


def peak_db(freqs, db, hz, width=8.0):
    band = (freqs > hz - width) & (freqs < hz + width)
    return float(db[band].max()) if band.any() else -200.0


def noise_floor_db(freqs, db, tones, lo=100.0, hi=3000.0):
    """The median level of the 100 Hz - 3 kHz band away from the tones (and their harmonics)."""
    keep = (freqs > lo) & (freqs < hi)
    for f in tones:
        for k in (1, 2, 3):
            keep &= np.abs(freqs - k * f) > 30
    return float(np.median(db[keep]))


def tone_report(samples, tones):
    """{hz: peak dB} plus 'floor'."""
    freqs, db = spectrum(samples)
    out = {hz: peak_db(freqs, db, hz) for hz in tones}
    out["floor"] = noise_floor_db(freqs, db, tones)
    return out


def tone_track(participant, hz, t0, t1, step=0.02, span=0.06):
    """[(time, dB of `hz`)] over sliding windows of `span` seconds ending at each frame arrival."""
    out = []
    frames = [(t, a) for t, a in participant.heard if t0 <= t < t1]
    for i, (t, _) in enumerate(frames):
        k = max(1, int(round(span / step)))
        chunk = np.concatenate([a for _, a in frames[max(0, i - k + 1):i + 1]])
        freqs, db = spectrum(chunk)
        out.append((t, peak_db(freqs, db, hz, width=25.0)))
    return out


__all__ = ["AUDIOBRIDGE", "JanusConnection", "Participant", "tone_report", "tone_track", "media"]
