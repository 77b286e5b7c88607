"""junction.plugin.videomixer end to end (aiortc).

Media: a room with a 640x360 canvas at 15 fps (smaller than the default so that four aiortc
decoders keep up on a loaded machine). Four participants each send a solid colour (320x180,
VP8) and a tone or silence (Opus), joined in order A, B, C, D. Each one decodes the composite it
receives: the 2x2 grid must hold A, B, C, D's colours in the cells left to right, top to bottom
(mean RGB of the cell's middle within a tolerance), and the frames must be the canvas size. C
sends a loud tone, the others silence: C is the active speaker; A's mix-minus audio must carry
C's tone. After A switches to the speaker layout (`configure`), A gets a `layout` event naming C
as the speaker with C's tile first, and the large tile (top three quarters) shows C's colour.

API and bad input: create / list / exists / listparticipants / destroy, and the error codes of
README.md (unknown request 522, missing 523, wrong type or value 524, no such room 525, room
exists 526, wrong secret 527, no such presenter 528, not joined 530, joined twice 531, id taken
532, SDP without Opus or any of the room's video codecs 533, room full 534); after them the room still composes for everyone.

H.264 (test_h264_and_vp8_in_one_room): in a 640x360 room, A sends and receives H.264 (aiortc's
libx264, its offer limited to H.264 with setCodecPreferences), B and C VP8; each decodes its
composite and finds A, B, C's colours in their grid cells. Answers pick VP8 when both are
offered, H.264 in a room created with `videocodec: "h264,vp8"`; a bad `videocodec` is 524 and an
offer without any of the room's codecs 533.

Run:  cd tests/e2e_media && /usr/bin/python3 -m unittest -v test_videomixer
Environment: JUNCTION_BINARY (default /work/main/build/junction).
"""

import asyncio
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "integration"))

import junction_server  # noqa: E402

VIDEOMIXER = "junction.plugin.videomixer"
CANVAS = (640, 360)
FPS = 15
COLOURS = {"A": (220, 40, 40), "B": (40, 200, 40), "C": (40, 40, 220), "D": (220, 220, 40)}
TOLERANCE = 40          # per channel, on the mean of a cell's middle (VP8 at a low bitrate)
MEDIA_DEADLINE = 25.0   # from the last join until every receiver sees the whole grid
TONE_HZ = 440.0


def run(coro, timeout):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def cell_means(rgb, rects):
    """Mean RGB of the middle half of each (x, y, w, h) rectangle."""
    out = []
    for x, y, w, h in rects:
        part = rgb[y + h // 4: y + 3 * h // 4, x + w // 4: x + 3 * w // 4]
        out.append(tuple(float(v) for v in part.reshape(-1, 3).mean(axis=0)))
    return out


def close_to(mean, colour):
    return all(abs(m - c) <= TOLERANCE for m, c in zip(mean, colour))


def grid_cells():
    w, h = CANVAS[0] // 2, CANVAS[1] // 2
    return [(0, 0, w, h), (w, 0, w, h), (0, h, w, h), (w, h, w, h)]


class _Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            import numpy  # noqa: F401
            from aiortc import RTCRtpSender  # noqa: F401
            import videoroom_client  # noqa: F401
        except ImportError as e:
            raise unittest.SkipTest(f"run with /usr/bin/python3 (aiortc, av, numpy): {e}")
        cls.server = junction_server.start_server(cls, log_level="info")

    def context(self):
        return "\n--- server log ---\n" + self.server.log()[-4000:]


def make_participant_class():
    import fractions

    import av
    import numpy as np
    from aiortc import MediaStreamTrack, RTCRtpSender, RTCSessionDescription
    from aiortc.mediastreams import MediaStreamError

    import echotest_aiortc as media
    from videoroom_client import _Peer

    class ColourTrack(MediaStreamTrack):
        """A solid colour, 320x180, 15 fps."""
        kind = "video"

        def __init__(self, rgb):
            super().__init__()
            self.rgb = rgb
            self.n = 0
            self.t0 = None

        async def recv(self):
            if self.readyState != "live":
                raise MediaStreamError
            now = time.monotonic()
            if self.t0 is None:
                self.t0 = now
            due = self.t0 + self.n / FPS
            if due > now:
                await asyncio.sleep(due - now)
            img = np.empty((180, 320, 3), dtype=np.uint8)
            img[:, :] = self.rgb
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = self.n * (90000 // FPS)
            frame.time_base = fractions.Fraction(1, 90000)
            self.n += 1
            return frame

    class Participant(_Peer):
        def __init__(self, name, loud, codec="video/vp8"):
            super().__init__()
            self.name = name
            self.id = None
            self.frames = 0
            self.sizes = set()
            self.latest_frame = None    # the last decoded composite
            self.audio = []             # mono float arrays of what was heard
            self.layouts = []
            at = self.pc.addTransceiver(media.ToneAudioTrack(TONE_HZ, 12000 if loud else 0), direction="sendrecv")
            vt = self.pc.addTransceiver(ColourTrack(COLOURS[name]), direction="sendrecv")
            acaps = RTCRtpSender.getCapabilities("audio").codecs
            vcaps = RTCRtpSender.getCapabilities("video").codecs
            at.setCodecPreferences([c for c in acaps if c.mimeType.lower() == "audio/opus"])
            # H.264: aiortc's libx264 encoder (constrained baseline, packetization-mode 1).
            vt.setCodecPreferences([c for c in vcaps if c.mimeType.lower() in (codec, "video/rtx")])

            @self.pc.on("track")
            def on_track(track):
                self.tasks.append(asyncio.ensure_future(
                    self._video(track) if track.kind == "video" else self._audio(track)))

        async def _video(self, track):
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    return
                self.frames += 1
                self.sizes.add((frame.width, frame.height))
                self.latest_frame = frame  # converted only when looked at: keeps the loop light

        async def _audio(self, track):
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    return
                arr = frame.to_ndarray().reshape(-1).astype(np.float64)
                channels = len(frame.layout.channels)
                if channels > 1:
                    arr = arr.reshape(-1, channels).mean(axis=1)
                if frame.sample_rate == 48000:
                    self.audio.append(arr)
                    del self.audio[:-100]  # the last two seconds

        async def join(self, conn, handle, room, extra=None):
            conn.trickle_sinks[handle] = self.on_trickle
            await self.pc.setLocalDescription(await self.pc.createOffer())
            body = dict({"request": "join", "room": room, "display": self.name}, **(extra or {}))
            event = await conn.call(handle, body, {"type": "offer", "sdp": self.pc.localDescription.sdp,
                                                   "trickle": False}, timeout=10)
            data = event["plugindata"]["data"]
            if data.get("videomixer") != "joined":
                return data
            self.id = data["id"]
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=event["jsep"]["sdp"], type="answer"))
            await self.flush_trickles()
            return data

        def answered_video_codec(self):
            """The codec name of the answer's video m-line (its first rtpmap)."""
            sdp = self.pc.remoteDescription.sdp
            video = sdp[sdp.index("m=video"):]
            return video.split("a=rtpmap:", 1)[1].split(" ", 1)[1].split("/", 1)[0]

        @property
        def latest(self):
            """The last decoded composite as RGB (None before the first)."""
            f = self.latest_frame
            return None if f is None else f.to_ndarray(format="rgb24")

        def tone_db(self):
            """The level of TONE_HZ in the last second heard, in dBFS (a Hann-windowed FFT)."""
            if not self.audio:
                return -200.0
            x = np.concatenate(self.audio[-50:])
            w = np.hanning(len(x))
            amplitude = np.abs(np.fft.rfft(x * w)) / (w.sum() / 2)
            freqs = np.fft.rfftfreq(len(x), 1.0 / 48000)
            band = np.abs(freqs - TONE_HZ) < 10
            return float(20 * np.log10(amplitude[band].max() / 32768 + 1e-12))

    return Participant


class VideoMixerTest(_Test):
    def test_grid_speaker_and_errors(self):
        run(self._main(), 150)

    async def attach(self, conn):
        reply = await conn.request({"janus": "attach", "plugin": VIDEOMIXER})
        self.assertEqual(reply.get("janus"), "success", reply)
        return reply["data"]["id"]

    async def join_all(self, room, specs, people):
        """Joins Participant(name, **kw) for each (name, kw), in order, into `people` (the caller
        closes them) and waits until every PeerConnection is up."""
        from videoroom_client import JanusConnection
        Participant = make_participant_class()
        for name, kw in specs:
            p = Participant(name, **kw)
            p.conn = await JanusConnection.open(self.server.ws_url)
            others = len(people)
            people.append(p)
            p.handle = await self.attach(p.conn)
            joined = await p.join(p.conn, p.handle, room)
            self.assertEqual(joined.get("videomixer"), "joined", str(joined) + self.context())
            self.assertEqual(len(joined["participants"]), others)
        for p in people:
            await p.wait_connected()

    async def expect_grid(self, people, expect):
        """Every receiver finds `expect` (colours) in the grid cells, in join order."""
        deadline = time.monotonic() + MEDIA_DEADLINE
        cells = grid_cells()[:len(expect)]
        seen = {}
        while time.monotonic() < deadline:
            seen = {p.name: (cell_means(p.latest, cells) if p.latest is not None else None) for p in people}
            ok = all(m is not None and all(close_to(x, e) for x, e in zip(m, expect)) for m in seen.values())
            if ok and all(p.frames >= 20 for p in people):
                break
            await asyncio.sleep(0.5)
        for p in people:
            print(f"{p.name}: {p.frames} frames, cell means {seen[p.name]}", file=sys.stderr)
            self.assertIsNotNone(seen[p.name], f"{p.name} decoded no composite" + self.context())
            for i, (mean, colour) in enumerate(zip(seen[p.name], expect)):
                self.assertTrue(close_to(mean, colour),
                                f"{p.name}: cell {i} mean {mean} is not {colour}; frames {p.frames}" + self.context())
            self.assertEqual(p.sizes, {CANVAS}, p.name)
            self.assertGreaterEqual(p.frames, 20, p.name)

    async def _main(self):
        from videoroom_client import JanusConnection
        conn = await JanusConnection.open(self.server.ws_url)
        people = []
        try:
            admin = await self.attach(conn)
            sync = lambda body: conn.sync(admin, body)  # noqa: E731

            # The default room and room management.
            listed = await sync({"request": "list"})
            self.assertEqual(listed["videomixer"], "success", listed)
            self.assertIn(1234, {r["room"] for r in listed["list"]})
            created = await sync({"request": "create", "room": 4321, "description": "e2e", "secret": "s",
                                  "width": CANVAS[0], "height": CANVAS[1], "fps": FPS, "bitrate": 600000,
                                  "max_participants": 4})
            self.assertEqual(created, {"videomixer": "created", "room": 4321, "permanent": False})
            self.assertTrue((await sync({"request": "exists", "room": 4321}))["exists"])
            # Bad management requests: clear codes, nothing changes.
            bad = [({"request": "create", "room": 4321}, 526),
                   ({"request": "create", "width": 641}, 524),
                   ({"request": "create", "fps": "fast"}, 524),
                   ({"request": "create", "layout": "mosaic"}, 524),
                   ({"request": "destroy", "room": 4321, "secret": "wrong"}, 527),
                   ({"request": "listparticipants", "room": 99999}, 525),
                   ({"request": "listparticipants"}, 523),
                   ({"request": "listparticipants", "room": "4321"}, 524),
                   ({"request": "dance"}, 522),
                   ({"room": 4321}, 523)]
            for body, code in bad:
                data = await sync(body)
                self.assertEqual(data.get("error_code"), code, (body, data))
                self.assertEqual(data.get("videomixer"), "event", data)

            # Four participants, joined in order.
            await self.join_all(4321, [(name, {"loud": name == "C"}) for name in "ABCD"], people)
            a, b, c, d = people

            # Bad participant requests; the room keeps going.
            h2 = await self.attach(conn)
            err = lambda event: event["plugindata"]["data"].get("error_code")  # noqa: E731
            self.assertEqual(err(await conn.call(h2, {"request": "join", "room": 99999})), 525)
            self.assertEqual(err(await conn.call(h2, {"request": "join"})), 523)
            self.assertEqual(err(await conn.call(h2, {"request": "join", "room": 4321, "layout": 3})), 524)
            self.assertEqual(err(await conn.call(h2, {"request": "join", "room": 4321, "presenter": 77})), 528)
            self.assertEqual(err(await conn.call(h2, {"request": "join", "room": 4321, "id": a.id})), 532)
            self.assertEqual(err(await conn.call(h2, {"request": "join", "room": 4321})), 534)  # 4 max
            self.assertEqual(err(await conn.call(h2, {"request": "configure", "layout": "grid"})), 530)
            self.assertEqual(err(await conn.call(h2, {"request": "leave"})), 530)
            self.assertEqual(err(await a.conn.call(a.handle, {"request": "join", "room": 4321})), 531)
            self.assertEqual(err(await a.conn.call(a.handle, {"request": "configure", "layout": "tiles"})), 524)
            self.assertEqual(err(await a.conn.call(a.handle, {"request": "configure", "show_self": "no"})), 524)
            audio_only = (await conn.sync(admin, {"request": "create", "room": 4322}))["room"]
            sdp_h = await self.attach(conn)
            offer = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                     "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\n"
                     "a=rtpmap:0 PCMU/8000\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
                     "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=setup:actpass\r\na=rtcp-mux\r\n")
            ev = await conn.call(sdp_h, {"request": "join", "room": audio_only}, {"type": "offer", "sdp": offer})
            self.assertEqual(err(ev), 533, ev)
            self.assertEqual(len((await sync({"request": "listparticipants", "room": audio_only}))["participants"]), 0)
            listed = await sync({"request": "listparticipants", "room": 4321})
            self.assertEqual([q["display"] for q in listed["participants"]].count("A"), 1)
            self.assertEqual(len(listed["participants"]), 4)

            # The grid: every receiver finds the four colours in join order.
            await self.expect_grid(people, [COLOURS[n] for n in "ABCD"])

            # Mix-minus: A hears C's tone; C does not hear itself.
            print(f"tone heard: A {a.tone_db():.1f} dBFS, C {c.tone_db():.1f} dBFS", file=sys.stderr)
            self.assertGreater(a.tone_db(), -30.0, "A does not hear C's tone")
            self.assertLess(c.tone_db(), a.tone_db() - 20.0, "C hears its own tone")

            # The active speaker: A switches to the speaker layout and sees C large.
            q = a.conn.events.setdefault(a.handle, asyncio.Queue())
            while not q.empty():
                q.get_nowait()
            ev = await a.conn.call(a.handle, {"request": "configure", "layout": "speaker"})
            self.assertEqual(ev["plugindata"]["data"].get("result"), "ok", ev)
            layout = await a.conn.next_event(a.handle, lambda dt: "layout" in dt and dt["layout"]["speaker"] == c.id,
                                             timeout=10)
            self.assertEqual(layout["layout"]["type"], "speaker")
            self.assertEqual(layout["layout"]["tiles"][0]["id"], c.id)
            self.assertEqual(len(layout["layout"]["tiles"]), 4)
            large = (0, 0, CANVAS[0], CANVAS[1] - CANVAS[1] // 4)
            deadline = time.monotonic() + MEDIA_DEADLINE  # a keyframe of the new group, then frames
            mean = None
            while time.monotonic() < deadline:
                mean = cell_means(a.latest, [large])[0]
                if close_to(mean, COLOURS["C"]):
                    break
                await asyncio.sleep(0.3)
            print(f"A in the speaker layout: large tile mean {mean}", file=sys.stderr)
            self.assertTrue(close_to(mean, COLOURS["C"]), f"large tile {mean} is not C's colour" + self.context())
            # The others kept their grid (their composite is another group's).
            self.assertTrue(close_to(cell_means(b.latest, grid_cells())[0], COLOURS["A"]))

            # Leaving: the others are told, and the grid closes up.
            ev = await d.conn.call(d.handle, {"request": "leave"})
            self.assertEqual(ev["plugindata"]["data"].get("videomixer"), "left", ev)
            left = await b.conn.next_event(b.handle, lambda dt: dt.get("leaving") == d.id)
            self.assertEqual(left["room"], 4321)
            destroyed = await sync({"request": "destroy", "room": 4321, "secret": "s"})
            self.assertEqual(destroyed["videomixer"], "destroyed")
            gone = await b.conn.next_event(b.handle, lambda dt: dt.get("videomixer") == "destroyed")
            self.assertEqual(gone["room"], 4321)
        finally:
            for p in people:
                await p.close()
                await p.conn.close()
            await conn.close()

    def test_h264_and_vp8_in_one_room(self):
        run(self._mixed(), 100)

    async def _mixed(self):
        """A sends H.264 and receives H.264 (its offer has only H.264), B and C use VP8: each
        decodes its composite and finds A, B, C's colours in the grid; the room encodes once per
        codec. Then the codec choice of the answer, and a bad `videocodec`."""
        from videoroom_client import JanusConnection
        conn = await JanusConnection.open(self.server.ws_url)
        people = []
        try:
            admin = await self.attach(conn)
            sync = lambda body: conn.sync(admin, body)  # noqa: E731
            err = lambda event: event["plugindata"]["data"].get("error_code")  # noqa: E731
            created = await sync({"request": "create", "room": 4331, "width": CANVAS[0], "height": CANVAS[1],
                                  "fps": FPS, "bitrate": 600000})
            self.assertEqual(created.get("videomixer"), "created", created)
            listed = {r["room"]: r for r in (await sync({"request": "list"}))["list"]}
            self.assertEqual(listed[4331]["videocodec"], "vp8,h264")
            for codec in ("vp9", "", "h264,av1", 8):
                data = await sync({"request": "create", "videocodec": codec})
                self.assertEqual(data.get("error_code"), 524, (codec, data))

            await self.join_all(4331, [("A", {"loud": False, "codec": "video/h264"}),
                                       ("B", {"loud": False, "codec": "video/vp8"}),
                                       ("C", {"loud": False, "codec": "video/vp8"})], people)
            a, b, c = people
            self.assertEqual(a.answered_video_codec(), "H264")
            self.assertEqual(b.answered_video_codec(), "VP8")
            await self.expect_grid(people, [COLOURS[n] for n in "ABC"])
            # The answer's codec: VP8 when both are offered, unless the room prefers H.264; an
            # offer without any of the room's codecs is refused (H.264 only in packetization-mode
            # 1, baseline profiles: "H264-0" is mode 0, "H264-high" the high profile).
            def offer(*codecs):
                lines = {"VP8": ["a=rtpmap:96 VP8/90000"],
                         "H264": ["a=rtpmap:102 H264/90000",
                                  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"],
                         "H264-0": ["a=rtpmap:104 H264/90000", "a=fmtp:104 packetization-mode=0;profile-level-id=42e01f"],
                         "H264-high": ["a=rtpmap:106 H264/90000", "a=fmtp:106 packetization-mode=1;profile-level-id=64001f"]}
                pts = " ".join(lines[c][0].split(" ")[0].split(":")[1] for c in codecs)
                return ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                        f"m=video 9 UDP/TLS/RTP/SAVPF {pts}\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\n"
                        + "".join(line + "\r\n" for c in codecs for line in lines[c])
                        + "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
                        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=setup:actpass\r\na=rtcp-mux\r\n")

            await sync({"request": "create", "room": 4332})
            await sync({"request": "create", "room": 4333, "videocodec": "H264, vp8"})
            await sync({"request": "create", "room": 4334, "videocodec": "h264"})
            self.assertEqual((await sync({"request": "exists", "room": 4333}))["exists"], True)
            for room, codecs, want in ((4332, ("VP8", "H264"), "VP8"), (4332, ("H264", "VP8"), "VP8"),
                                       (4333, ("VP8", "H264"), "H264"), (4332, ("H264",), "H264"),
                                       (4334, ("VP8",), 533), (4334, ("H264-0", "H264-high"), 533)):
                h = await self.attach(conn)
                ev = await conn.call(h, {"request": "join", "room": room}, {"type": "offer", "sdp": offer(*codecs)})
                if want == 533:
                    self.assertEqual(err(ev), 533, ev)
                    continue
                self.assertEqual(ev["plugindata"]["data"].get("videomixer"), "joined", ev)
                answer = ev["jsep"]["sdp"]
                self.assertIn(f" {want}/90000", answer, (room, codecs))
                self.assertNotIn(f" {'VP8' if want == 'H264' else 'H264'}/90000", answer, (room, codecs))
                if want == "H264":
                    self.assertIn("packetization-mode=1", answer)
                left = await conn.call(h, {"request": "leave"})
                self.assertEqual(left["plugindata"]["data"].get("videomixer"), "left", left)
            # The mixed room still composes for everyone after the refused and short-lived joins.
            frames = [p.frames for p in people]
            await asyncio.sleep(1.0)
            for p, before in zip(people, frames):
                self.assertGreater(p.frames, before, p.name)
        finally:
            for p in people:
                await p.close()
                await p.conn.close()
            await conn.close()


if __name__ == "__main__":
    unittest.main()
