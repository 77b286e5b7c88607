"""janus.plugin.audiobridge end to end.

API: room management, join / configure / changeroom / leave, the events the others get, and the
error codes 480-494 for bad input (unknown room, wrong state, bad SDP, wrong codec), while a
bystander participant keeps its place.

Media (aiortc): three participants send 440, 660 and 880 Hz. Over a window after warm-up, each
one's received mix must hold the other two tones (FFT peaks >= 20 dB over the noise floor) and
not its own (>= 20 dB under the others). A moderator `mute` of the 440 Hz sender must take 440 Hz
out of the others' mixes within 200 ms of the request. With `audiolevel_event`, every participant
gets `talking` for each tone sender, and `stopped-talking` for the muted one. `changeroom` moves the 880 Hz sender to
another room: the ones left behind stop hearing it, and it hears the 660 Hz sender once that one
follows. The first room records its mix (`record`, `record_file`): once the room is destroyed the
WAV must open and decode with libav (PyAV), last as long as the room had people in it (+-10 %),
and hold all three tones from the window where all three were mixed.

Run:  cd tests/e2e_media && /usr/bin/python3 -m unittest -v test_audiobridge
Environment: JUNCTION_BINARY (default /work/main/build/junction).
"""

import asyncio
import os
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "integration"))

import junction_server  # noqa: E402

TONES = (440.0, 660.0, 880.0)
WARMUP = 2.5
WINDOW = 3.0
MIN_OVER_FLOOR = 20.0
MIN_OWN_BELOW = 20.0
MUTE_DEADLINE = 0.200


def run(coro, timeout):
    return asyncio.run(asyncio.wait_for(coro, timeout))


class _ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            import audiobridge_client  # noqa: F401
        except ImportError as e:
            raise unittest.SkipTest(f"run with /usr/bin/python3 (aiortc, av, numpy): {e}")
        cls.ab = audiobridge_client
        cls.server = junction_server.start_server(cls, log_level="info")

    def context(self):
        return "\n--- server log ---\n" + self.server.log()[-4000:]

    async def attach(self, conn):
        reply = await conn.request({"janus": "attach", "plugin": self.ab.AUDIOBRIDGE})
        self.assertEqual(reply.get("janus"), "success", reply)
        return reply["data"]["id"]


class AudioBridgeApiTest(_ServerTest):
    def test_management_events_and_errors(self):
        run(self._api(), 90)

    async def _api(self):
        conn = await self.ab.JanusConnection.open(self.server.ws_url)
        try:
            h = await self.attach(conn)
            sync = lambda body: conn.sync(h, body)  # noqa: E731
            call = lambda handle, body, jsep=None: conn.call(handle, body, jsep)  # noqa: E731
            data = lambda event: event["plugindata"]["data"]  # noqa: E731

            # The sample configuration's room.
            listed = await sync({"request": "list"})
            self.assertEqual(listed["audiobridge"], "success")
            rooms = {r["room"]: r for r in listed["list"]}
            self.assertEqual(rooms[1234]["description"], "Demo Room")
            self.assertEqual(rooms[1234]["sampling_rate"], 16000)
            self.assertEqual(await sync({"request": "exists", "room": 1234}),
                             {"audiobridge": "success", "room": 1234, "exists": True})
            self.assertFalse((await sync({"request": "exists", "room": 999}))["exists"])

            # Request-level errors.
            self.assertEqual((await sync({"request": "nonsense"}))["error_code"], 482)
            self.assertEqual((await sync({"foo": 1}))["error_code"], 483)
            self.assertEqual((await sync({"request": "exists", "room": "1234"}))["error_code"], 484)
            self.assertEqual((await sync({"request": "listparticipants", "room": 999}))["error_code"], 485)
            self.assertEqual((await sync({"request": "create", "room": 1234}))["error_code"], 486)
            self.assertEqual((await sync({"request": "create", "sampling_rate": 44100}))["error_code"], 484)

            # create / edit / allowed.
            created = await sync({"request": "create", "room": 777, "description": "t", "secret": "s3",
                                  "pin": "p1", "sampling_rate": 24000, "audiolevel_event": True})
            self.assertEqual(created, {"audiobridge": "created", "room": 777, "permanent": False})
            self.assertEqual((await sync({"request": "edit", "room": 777, "secret": "no"}))["error_code"], 487)
            edited = await sync({"request": "edit", "room": 777, "secret": "s3", "new_description": "u"})
            self.assertEqual(edited["audiobridge"], "edited")
            rooms = {r["room"]: r for r in (await sync({"request": "list"}))["list"]}
            self.assertEqual(rooms[777]["description"], "u")
            self.assertTrue(rooms[777]["pin_required"])
            self.assertEqual(rooms[777]["sampling_rate"], 24000)
            allowed = await sync({"request": "allowed", "room": 777, "secret": "s3", "action": "add",
                                  "allowed": ["tok-a"]})
            self.assertEqual(allowed["allowed"], ["tok-a"])

            # Joins: wrong pin, token required, then two participants and their events.
            a, b, c = await self.attach(conn), await self.attach(conn), await self.attach(conn)
            self.assertEqual(data(await call(a, {"request": "join", "room": 777, "pin": "x"}))["error_code"], 487)
            await sync({"request": "allowed", "room": 777, "secret": "s3", "action": "enable"})
            self.assertEqual(data(await call(a, {"request": "join", "room": 777, "pin": "p1"}))["error_code"], 487)
            await sync({"request": "allowed", "room": 777, "secret": "s3", "action": "disable"})
            self.assertEqual(data(await call(a, {"request": "join", "room": 999}))["error_code"], 485)
            self.assertEqual(data(await call(a, {"request": "configure", "muted": True}))["error_code"], 490)
            self.assertEqual(data(await call(a, {"request": "leave"}))["error_code"], 490)
            ja = data(await call(a, {"request": "join", "room": 777, "pin": "p1", "display": "alice", "id": 11}))
            self.assertEqual((ja["audiobridge"], ja["room"], ja["id"], ja["participants"]), ("joined", 777, 11, []))
            self.assertEqual(data(await call(a, {"request": "join", "room": 777, "pin": "p1"}))["error_code"], 491)
            self.assertEqual(data(await call(b, {"request": "join", "room": 777, "pin": "p1", "id": 11}))["error_code"],
                             492)
            self.assertEqual(data(await call(b, {"request": "join", "room": 777, "pin": "p1", "codec": "g729"}))
                             ["error_code"], 484)
            jb = data(await call(b, {"request": "join", "room": 777, "pin": "p1", "display": "bob", "muted": True}))
            self.assertEqual([p["id"] for p in jb["participants"]], [11])
            seen = await conn.next_event(a, lambda d: "participants" in d)
            self.assertEqual(seen["participants"][0]["display"], "bob")
            self.assertTrue(seen["participants"][0]["muted"])
            bob = jb["id"]

            # Bad SDP: not SDP at all, video only, no Opus; an answer where an offer is due.
            video_only = ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
                          "c=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"
                          "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\n"
                          "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\n")
            pcmu_only = video_only.replace("m=video 9 UDP/TLS/RTP/SAVPF 96", "m=audio 9 UDP/TLS/RTP/SAVPF 0") \
                                  .replace("a=rtpmap:96 VP8/90000", "a=rtpmap:0 PCMU/8000")
            for sdp in (video_only, pcmu_only):
                ev = await call(a, {"request": "configure"}, {"type": "offer", "sdp": sdp})
                self.assertEqual(data(ev)["error_code"], 493, ev)
            reply = await conn.request({"janus": "message", "handle_id": a, "body": {"request": "configure"},
                                        "jsep": {"type": "offer", "sdp": "garbage"}})
            self.assertEqual(reply.get("janus"), "error")  # the core refuses it (465) before the plugin

            # Moderation: mute / unmute (488 for a stranger), mute_room, kick.
            self.assertEqual((await sync({"request": "mute", "room": 777, "secret": "s3", "id": 424242}))
                             ["error_code"], 488)
            self.assertEqual((await sync({"request": "mute", "room": 777, "secret": "no", "id": 11}))["error_code"], 487)
            self.assertEqual(await sync({"request": "mute", "room": 777, "secret": "s3", "id": 11}),
                             {"audiobridge": "success"})
            seen = await conn.next_event(b, lambda d: "participants" in d)
            self.assertEqual((seen["participants"][0]["id"], seen["participants"][0]["muted"]), (11, True))
            await sync({"request": "unmute", "room": 777, "secret": "s3", "id": 11})
            await sync({"request": "mute_room", "room": 777, "secret": "s3"})
            self.assertTrue((await conn.next_event(a, lambda d: "muted" in d and "participants" not in d))["muted"])
            rooms = {r["room"]: r for r in (await sync({"request": "list"}))["list"]}
            self.assertTrue(rooms[777]["muted"])
            await sync({"request": "unmute_room", "room": 777, "secret": "s3"})
            self.assertTrue((await conn.next_event(b, lambda d: "muted" in d and "participants" not in d))["muted"])
            self.assertFalse((await conn.next_event(b, lambda d: "muted" in d and "participants" not in d))["muted"])
            plist = await sync({"request": "listparticipants", "room": 777})
            self.assertEqual(plist["audiobridge"], "participants")
            self.assertEqual(sorted(p["id"] for p in plist["participants"]), sorted([11, bob]))
            self.assertTrue(all(p["setup"] is False for p in plist["participants"]))

            # An offer may come with the join; an unusable one leaves the handle out of the room.
            ev = await call(c, {"request": "join", "room": 1234}, {"type": "offer", "sdp": video_only})
            self.assertEqual(data(ev)["error_code"], 493, ev)
            self.assertEqual((await sync({"request": "listparticipants", "room": 1234}))["participants"], [])

            # changeroom: c joins 1234 then moves to 777; a sees it arrive; then leave.
            await call(c, {"request": "join", "room": 1234, "display": "carol"})
            self.assertEqual(data(await call(c, {"request": "changeroom", "room": 999}))["error_code"], 485)
            self.assertEqual(data(await call(c, {"request": "changeroom", "room": 777}))["error_code"], 487)
            moved = data(await call(c, {"request": "changeroom", "room": 777, "pin": "p1"}))
            self.assertEqual((moved["audiobridge"], moved["room"], moved["display"]), ("roomchanged", 777, "carol"))
            self.assertEqual(sorted(p["id"] for p in moved["participants"]), sorted([11, bob]))
            seen = await conn.next_event(a, lambda d: "participants" in d and d["participants"][0]["id"] == moved["id"])
            self.assertEqual(seen["participants"][0]["display"], "carol")
            self.assertEqual((await sync({"request": "listparticipants", "room": 1234}))["participants"], [])
            left = data(await call(c, {"request": "leave"}))
            self.assertEqual(left, {"audiobridge": "left", "room": 777, "id": moved["id"]})
            self.assertEqual((await conn.next_event(a, lambda d: "leaving" in d))["leaving"], moved["id"])

            # kick: everyone hears of it, the participant is gone.
            self.assertEqual(await sync({"request": "kick", "room": 777, "secret": "s3", "id": bob}),
                             {"audiobridge": "success"})
            self.assertEqual((await conn.next_event(a, lambda d: "kicked" in d))["kicked"], bob)
            plist = await sync({"request": "listparticipants", "room": 777})
            self.assertEqual([p["id"] for p in plist["participants"]], [11])

            # destroy: wrong secret refused; then the participant gets `destroyed`.
            self.assertEqual((await sync({"request": "destroy", "room": 777, "secret": "x"}))["error_code"], 487)
            self.assertEqual((await sync({"request": "destroy", "room": 777, "secret": "s3"}))["audiobridge"],
                             "destroyed")
            self.assertEqual((await conn.next_event(a, lambda d: d.get("audiobridge") == "destroyed"))["room"], 777)
            self.assertFalse((await sync({"request": "exists", "room": 777}))["exists"])
            # After all that, a fresh join on the handle works (its room is gone, it is free again).
            self.assertEqual(data(await call(a, {"request": "join", "room": 1234}))["audiobridge"], "joined")
        finally:
            await conn.close()
        self.assertTrue(self.server.alive(), self.context())


class AudioBridgeMediaTest(_ServerTest):
    def test_three_tones_mute_and_changeroom(self):
        run(self._media(), 120)

    def report(self, who, rep):
        return f"{who.name}: " + ", ".join(f"{k}={v:.1f}" for k, v in rep.items())

    def check_hears(self, who, t0, t1, hears, not_hears):
        rep = self.ab.tone_report(who.samples(t0, t1), TONES)
        msg = self.report(who, rep) + self.context()
        print(f"  [{t1 - t0:.1f} s window] " + self.report(who, rep), file=sys.stderr, flush=True)
        for hz in hears:
            self.assertGreaterEqual(rep[hz] - rep["floor"], MIN_OVER_FLOOR, f"{hz} Hz missing; " + msg)
        for hz in not_hears:
            for other in hears:
                self.assertGreaterEqual(rep[other] - rep[hz], MIN_OWN_BELOW, f"{hz} Hz present; " + msg)
        return rep

    def check_recording(self, path, expected_seconds, all_three):
        import av
        import numpy as np
        self.assertTrue(os.path.isfile(path), f"no recording at {path}" + self.context())
        with av.open(path) as container:
            stream = container.streams.audio[0]
            rate = stream.sample_rate
            pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)]).astype(np.float64)
        seconds = len(pcm) / rate
        print(f"  recording: {stream.codec_context.name} {rate} Hz, {seconds:.2f} s decoded, room lived "
              f"{expected_seconds:.2f} s with people in it", file=sys.stderr, flush=True)
        self.assertEqual(rate, 16000)
        self.assertLess(abs(seconds - expected_seconds), 0.1 * expected_seconds,
                        f"recorded {seconds:.2f} s, expected about {expected_seconds:.2f} s")
        lo, hi = (int(x * rate) for x in all_three)
        chunk = pcm[lo:hi]
        w = np.hanning(len(chunk))
        db = 20 * np.log10(np.abs(np.fft.rfft(chunk * w)) / (w.sum() / 2) + 1e-9)
        freqs = np.fft.rfftfreq(len(chunk), 1.0 / rate)
        floor = self.ab.noise_floor_db(freqs, db, TONES)
        for hz in TONES:
            self.assertGreaterEqual(self.ab.peak_db(freqs, db, hz) - floor, MIN_OVER_FLOOR, f"{hz} Hz not in the recording")

    async def _media(self):
        conn = await self.ab.JanusConnection.open(self.server.ws_url)
        a, b, c = (self.ab.Participant(n, hz) for n, hz in (("a", 440.0), ("b", 660.0), ("c", 880.0)))
        people = [a, b, c]
        record_dir = tempfile.mkdtemp(prefix="junction-ab-rec-")
        record_file = os.path.join(record_dir, "mix.wav")
        try:
            mod = await self.attach(conn)
            talk = {"audiolevel_event": True, "audio_active_packets": 10, "audio_level_average": 40}
            for room, extra in ((4242, dict(talk, record=True, record_file=record_file)), (4243, {})):
                created = await conn.sync(mod, dict({"request": "create", "room": room, "secret": "m"}, **extra))
                self.assertEqual(created["audiobridge"], "created", created)
            handles = {}
            for p in people:
                handles[p.name] = await self.attach(conn)
                joined = await p.join(conn, handles[p.name], 4242)
                self.assertEqual(joined.get("audiobridge"), "joined", joined)
                if p is a:
                    t_first_join = time.monotonic()
            for p in people:
                await p.wait_connected(15)
            await asyncio.sleep(WARMUP)

            # 1. Everyone hears the other two, not themselves.
            t0 = time.monotonic()
            await asyncio.sleep(WINDOW)
            t1 = time.monotonic()
            before = {}
            for p in people:
                others = [hz for hz in TONES if hz != p.hz]
                before[p.name] = self.check_hears(p, t0, t1, others, [p.hz])

            # Talking events (audiolevel_event, 200 ms windows): everyone hears that the others talk.
            for p in people:
                talkers = set()
                while talkers != {x.id for x in people}:
                    ev = await conn.next_event(handles[p.name], lambda d: d.get("audiobridge") == "talking", timeout=5)
                    self.assertEqual(ev["room"], 4242)
                    talkers.add(ev["id"])

            # 2. A moderator mutes the 440 Hz sender: gone from the others' mixes within 200 ms.
            t_mute = time.monotonic()
            muted = await conn.sync(mod, {"request": "mute", "room": 4242, "secret": "m", "id": a.id})
            self.assertEqual(muted, {"audiobridge": "success"})
            await asyncio.sleep(1.2)
            for p in (b, c):
                threshold = before[p.name][440.0] - MIN_OVER_FLOOR
                track = self.ab.tone_track(p, 440.0, t_mute - 0.5, t_mute + 1.2)
                loud = [t for t, db in track if db >= threshold]
                gone_at = max(loud) if loud else t_mute
                self.assertTrue(any(t < t_mute for t in loud), f"{p.name}: 440 Hz not heard before the mute")
                print(f"  {p.name}: 440 Hz gone {1000 * (gone_at - t_mute):.0f} ms after the mute request",
                      file=sys.stderr, flush=True)
                self.assertLessEqual(gone_at - t_mute, MUTE_DEADLINE,
                                     f"{p.name}: 440 Hz still heard {gone_at - t_mute:.3f} s after the mute"
                                     + self.context())
            self.check_hears(b, t_mute + 0.3, t_mute + 1.2, [880.0], [440.0, 660.0])
            # A muted participant is not talking any more.
            await conn.next_event(handles["b"], lambda d: d.get("audiobridge") == "stopped-talking"
                                  and d.get("id") == a.id, timeout=3)
            await conn.sync(mod, {"request": "unmute", "room": 4242, "secret": "m", "id": a.id})
            await asyncio.sleep(1.0)

            # 3. changeroom: the 880 Hz sender moves to 4243, then the 660 Hz one follows.
            moved = await conn.call(handles["c"], {"request": "changeroom", "room": 4243})
            self.assertEqual(moved["plugindata"]["data"]["audiobridge"], "roomchanged", moved)
            await asyncio.sleep(0.6)
            t2 = time.monotonic()
            await asyncio.sleep(1.6)
            t3 = time.monotonic()
            self.check_hears(a, t2, t3, [660.0], [440.0, 880.0])
            self.check_hears(b, t2, t3, [440.0], [660.0, 880.0])
            moved = await conn.call(handles["b"], {"request": "changeroom", "room": 4243})
            self.assertEqual(moved["plugindata"]["data"]["audiobridge"], "roomchanged", moved)
            await asyncio.sleep(0.6)
            t4 = time.monotonic()
            await asyncio.sleep(1.6)
            t5 = time.monotonic()
            self.check_hears(c, t4, t5, [660.0], [440.0, 880.0])
            self.check_hears(b, t4, t5, [880.0], [440.0, 660.0])
            plist = await conn.sync(mod, {"request": "listparticipants", "room": 4243})
            self.assertTrue(all(p["setup"] for p in plist["participants"]), plist)

            # 4. The recording of room 4242 (a is still there until the room goes).
            destroyed = await conn.sync(mod, {"request": "destroy", "room": 4242, "secret": "m"})
            self.assertEqual(destroyed["audiobridge"], "destroyed")
            t_end = time.monotonic()
            self.check_recording(record_file, t_end - t_first_join, (t0 - t_first_join, t1 - t_first_join))
        finally:
            for p in people:
                await p.close()
            await conn.close()
        self.assertTrue(self.server.alive(), self.context())


if __name__ == "__main__":
    unittest.main()
