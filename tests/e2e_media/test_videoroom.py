"""janus.plugin.videoroom end to end: room management and error codes over WebSocket, then
media: one aiortc publisher (VP8 frame-counter video + Opus tone) and three aiortc subscribers
answering the server's offers; each subscriber must decode >= 90 % of the frames the publisher
sent during the measured window, with the right counters. Then: `configure` video off stops the
video and on resumes it; a subscriber's `pause` / `start` does the same for it alone; unpublish and
leave reach the watchers' participant handles as `unpublished` / `leaving` events. Last, a viewer
subscribes to two publishers in one multistream PeerConnection, and three publishers each
subscribe to the other two (>= 90 % of each feed's frames; a fourth publisher gets 432).

Run:  cd tests/e2e_media && /usr/bin/python3 -m unittest -v test_videoroom
Environment: JUNCTION_BINARY (default /work/main/build/junction); E2E_MEDIA_SECONDS (window, default 8).
"""

import asyncio
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "integration"))

import junction_server  # noqa: E402

SECONDS = float(os.environ.get("E2E_MEDIA_SECONDS", "8"))
MULTI_SECONDS = 5.0


def run(coro, timeout):
    return asyncio.run(asyncio.wait_for(coro, timeout))


class _ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            import videoroom_client  # noqa: F401
        except ImportError as e:
            raise unittest.SkipTest(f"run with /usr/bin/python3 (aiortc, av, numpy): {e}")
        cls.vr = videoroom_client
        cls.server = junction_server.start_server(cls, log_level="info")

    def context(self):
        return "\n--- server log ---\n" + self.server.log()[-4000:]

    async def watch_feeds(self, watching, settle):
        """`watching`: [(subscriber, [publisher members])]. Waits for each subscriber's first frame of
        each of its sources, lets it settle, measures MULTI_SECONDS, and asserts that every feed sent
        enough frames, >= 90 % of them were decoded, and nothing decoded came from elsewhere."""
        deadline = time.monotonic() + 15
        while True:
            waiting = [sub.name for sub, sources in watching for o in sources
                       if not set(sub.counters) & set(o["pub"].video.sent_at)]
            if not waiting:
                break
            self.assertLess(time.monotonic(), deadline, f"no frame decoded by {waiting}" + self.context())
            await asyncio.sleep(0.1)
        await asyncio.sleep(settle)
        t0 = time.monotonic()
        await asyncio.sleep(MULTI_SECONDS)
        t1 = time.monotonic()
        await asyncio.sleep(1.5)
        summary, results = [], []
        for sub, sources in watching:
            for o in sources:
                window = {c for c, t in o["pub"].video.sent_at.items() if t0 <= t <= t1}
                got = window & set(sub.counters)
                ratio = len(got) / max(1, len(window))
                summary.append(f"{sub.name} {o['name']}: {len(got)}/{len(window)} ({ratio:.1%}), "
                               f"decoded {sub.decoded}, audio frames {sub.audio_frames}")
                results.append((len(window), ratio))
            sent = set().union(*(o["pub"].video.sent_at for o in sources))
            self.assertEqual([c for c in sub.counters if c not in sent], [], f"{sub.name}: foreign counters")
        summary = "\n".join(summary)
        print("\n" + summary, file=sys.stderr, flush=True)
        for frames, ratio in results:
            self.assertGreater(frames, 0.6 * 30 * MULTI_SECONDS, summary)
            self.assertGreaterEqual(ratio, 0.9, summary + self.context())
        return summary


class RoomManagementTest(_ServerTest):
    """Synchronous requests, async joins and the error codes of API.md §4."""

    def test_management_and_errors(self):
        run(self._management(), 60)

    async def _management(self):
        conn = await self.vr.JanusConnection.open(self.server.ws_url)
        try:
            h = await conn.attach()
            sync = lambda body: conn.sync(h, body)  # noqa: E731

            # The default room of Janus's sample configuration.
            data = await sync({"request": "list"})
            self.assertEqual(data["videoroom"], "success")
            rooms = {r["room"]: r for r in data["list"]}
            self.assertIn(1234, rooms)
            self.assertEqual(rooms[1234]["description"], "Demo Room")
            self.assertEqual(rooms[1234]["max_publishers"], 6)
            self.assertEqual(await sync({"request": "exists", "room": 1234}),
                             {"videoroom": "success", "room": 1234, "exists": True})
            self.assertFalse((await sync({"request": "exists", "room": 999}))["exists"])

            # Errors: unknown request, no request, room not an integer, no such room.
            self.assertEqual((await sync({"request": "nonsense"}))["error_code"], 423)
            self.assertEqual((await sync({"foo": 1}))["error_code"], 429)
            self.assertEqual((await sync({"request": "exists", "room": "1234"}))["error_code"], 430)
            self.assertEqual((await sync({"request": "listparticipants", "room": 999}))["error_code"], 426)
            self.assertEqual((await sync({"request": "exists"}))["error_code"], 429)

            # create / exists / list / destroy.
            created = await sync({"request": "create", "room": 4321, "description": "t", "secret": "s3",
                                  "pin": "p1", "publishers": 2, "bitrate": 256000, "fir_freq": 5,
                                  "audiocodec": "opus", "videocodec": "vp8,h264", "notify_joining": True})
            self.assertEqual(created, {"videoroom": "created", "room": 4321, "permanent": False})
            self.assertEqual((await sync({"request": "create", "room": 4321}))["error_code"], 427)
            self.assertEqual((await sync({"request": "create", "videocodec": "nope"}))["error_code"], 430)
            self.assertEqual((await sync({"request": "create", "bitrate": "x"}))["error_code"], 430)
            random_room = (await sync({"request": "create", "is_private": True}))["room"]
            self.assertIsInstance(random_room, int)
            self.assertTrue((await sync({"request": "exists", "room": random_room}))["exists"])
            listed = {r["room"]: r for r in (await sync({"request": "list"}))["list"]}
            self.assertNotIn(random_room, listed)       # private
            entry = listed[4321]
            self.assertEqual((entry["pin_required"], entry["max_publishers"], entry["bitrate"],
                              entry["fir_freq"], entry["videocodec"], entry["notify_joining"]),
                             (True, 2, 256000, 5, "vp8,h264", True))

            # Joining: missing room, wrong pin, then the right pin.
            ev = await conn.call(h, {"request": "join", "ptype": "publisher", "room": 999})
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 426)
            ev = await conn.call(h, {"request": "join", "ptype": "publisher", "room": 4321, "pin": "bad"})
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 433)
            ev = await conn.call(h, {"request": "join", "ptype": "publisher", "room": 4321, "pin": "p1",
                                     "display": "alice"})
            joined = ev["plugindata"]["data"]
            self.assertEqual(joined["videoroom"], "joined")
            self.assertEqual((joined["room"], joined["publishers"]), (4321, []))
            self.assertIsInstance(joined["id"], int)
            self.assertIsInstance(joined["private_id"], int)
            self.assertEqual(joined["attendees"], [])
            ev = await conn.call(h, {"request": "join", "ptype": "publisher", "room": 4321, "pin": "p1"})
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 425)
            parts = await sync({"request": "listparticipants", "room": 4321})
            self.assertEqual(parts, {"videoroom": "participants", "room": 4321,
                                     "participants": [{"id": joined["id"], "display": "alice", "publisher": False}]})
            # notify_joining: a second participant is announced to the first.
            h2 = await conn.attach()
            ev = await conn.call(h2, {"request": "join", "ptype": "publisher", "room": 4321, "pin": "p1",
                                      "display": "bob"})
            bob = ev["plugindata"]["data"]
            self.assertEqual(bob["attendees"], [{"id": joined["id"], "display": "alice"}])
            joining = await conn.next_event(h, lambda d: "joining" in d)
            self.assertEqual(joining["joining"], {"id": bob["id"], "display": "bob"})
            # Unpublish without publishing; a subscription to an unknown feed; malformed streams.
            ev = await conn.call(h2, {"request": "unpublish"})
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 435)
            h3 = await conn.attach()
            ev = await conn.call(h3, {"request": "join", "ptype": "subscriber", "room": 4321, "pin": "p1",
                                      "streams": [{"feed": 12345}]})
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 428)
            ev = await conn.call(h3, {"request": "join", "ptype": "subscriber", "room": 4321, "pin": "p1",
                                      "streams": "x"})
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 430)
            ev = await conn.call(h3, {"request": "join", "ptype": "subscriber", "room": 4321, "pin": "p1",
                                      "streams": [{"mid": "0"}]})
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 429)
            ev = await conn.call(h3, {"request": "start"})
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 424)
            # bob leaves: alice hears it.
            ev = await conn.call(h2, {"request": "leave"})
            self.assertEqual(ev["plugindata"]["data"]["leaving"], "ok")
            leaving = await conn.next_event(h, lambda d: "leaving" in d)
            self.assertEqual(leaving["leaving"], bob["id"])

            # edit: wrong secret, then new description, pin and publishers.
            self.assertEqual((await sync({"request": "edit", "room": 4321, "secret": "no",
                                          "new_description": "x"}))["error_code"], 433)
            self.assertEqual((await sync({"request": "edit", "room": 4321, "secret": "s3",
                                          "new_publishers": "x"}))["error_code"], 430)
            self.assertEqual(await sync({"request": "edit", "room": 4321, "secret": "s3", "new_description": "edited",
                                         "new_pin": "p2", "new_publishers": 4}),
                             {"videoroom": "edited", "room": 4321, "permanent": False})
            entry = {r["room"]: r for r in (await sync({"request": "list"}))["list"]}[4321]
            self.assertEqual((entry["description"], entry["max_publishers"]), ("edited", 4))
            h4 = await conn.attach()
            ev = await conn.call(h4, {"request": "join", "ptype": "publisher", "room": 4321, "pin": "p1"})
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 433)

            # allowed: an ACL of tokens for `join`.
            allowed = lambda **kw: sync(dict({"request": "allowed", "room": 4321, "secret": "s3"}, **kw))  # noqa: E731
            self.assertEqual((await sync({"request": "allowed", "room": 4321, "secret": "no",
                                          "action": "enable"}))["error_code"], 433)
            self.assertEqual((await allowed(action="bogus"))["error_code"], 430)
            self.assertEqual((await allowed(action="add"))["error_code"], 429)
            self.assertEqual((await allowed(action="add", allowed=[1]))["error_code"], 430)
            self.assertEqual(await allowed(action="add", allowed=["t1", "t2"]),
                             {"videoroom": "success", "room": 4321, "allowed": ["t1", "t2"]})
            self.assertEqual((await allowed(action="enable"))["allowed"], ["t1", "t2"])
            join_carol = {"request": "join", "ptype": "publisher", "room": 4321, "pin": "p2", "display": "carol"}
            ev = await conn.call(h4, join_carol)
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 433, "no token")
            ev = await conn.call(h4, dict(join_carol, token="t3"))
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 433, "a token not in the list")
            self.assertEqual((await allowed(action="remove", allowed=["t1"]))["allowed"], ["t2"])
            ev = await conn.call(h4, dict(join_carol, token="t1"))
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 433, "a removed token")
            ev = await conn.call(h4, dict(join_carol, token="t2"))
            carol = ev["plugindata"]["data"]
            self.assertEqual(carol["videoroom"], "joined", carol)
            self.assertEqual((await allowed(action="disable"))["videoroom"], "success")

            # kick: the kicked participant is told, the others hear `kicked` and `leaving`.
            self.assertEqual((await sync({"request": "kick", "room": 4321, "secret": "s3", "id": 424242}))["error_code"],
                             428)
            self.assertEqual((await sync({"request": "kick", "room": 4321, "secret": "no",
                                          "id": carol["id"]}))["error_code"], 433)
            self.assertEqual((await sync({"request": "kick", "room": 4321, "secret": "s3"}))["error_code"], 429)
            self.assertEqual(await sync({"request": "kick", "room": 4321, "secret": "s3", "id": carol["id"]}),
                             {"videoroom": "success"})
            told = await conn.next_event(h4, lambda d: d.get("reason") == "kicked")
            self.assertEqual((told["room"], told["leaving"]), (4321, "ok"))
            self.assertEqual((await conn.next_event(h, lambda d: "kicked" in d))["kicked"], carol["id"])
            self.assertEqual((await conn.next_event(h, lambda d: "leaving" in d))["leaving"], carol["id"])
            parts = await sync({"request": "listparticipants", "room": 4321})
            self.assertEqual([p["id"] for p in parts["participants"]], [joined["id"]])
            ev = await conn.call(h4, {"request": "configure", "audio": True})
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 424, "the kicked handle is out of the room")

            # destroy: wrong secret, then right; the participant is told.
            self.assertEqual((await sync({"request": "destroy", "room": 4321, "secret": "no"}))["error_code"], 433)
            self.assertEqual(await sync({"request": "destroy", "room": 4321, "secret": "s3"}),
                             {"videoroom": "destroyed", "room": 4321, "permanent": False})
            gone = await conn.next_event(h, lambda d: d.get("videoroom") == "destroyed")
            self.assertEqual(gone["room"], 4321)
            self.assertFalse((await sync({"request": "exists", "room": 4321}))["exists"])
            self.assertEqual((await sync({"request": "destroy", "room": 4321}))["error_code"], 426)
            self.assertTrue((await sync({"request": "destroy", "room": random_room}))["videoroom"] == "destroyed")
        finally:
            await conn.close()
        self.assertTrue(self.server.alive(), self.context())


class VideoRoomMediaTest(_ServerTest):
    """One publisher, three subscribers, in a fresh room."""

    def test_publisher_and_three_subscribers(self):
        media_mod = __import__("echotest_aiortc")
        media_mod.quiet_ffmpeg()
        run(self._media(), SECONDS + 70)

    async def _wait_resumed(self, subs, publisher, since, timeout=5.0):
        """Waits until every one of `subs` decoded a frame the publisher sent after `since`."""
        deadline = time.monotonic() + timeout
        while True:
            late = [s.name for s in subs
                    if not any(publisher.video.sent_at.get(c, 0) > since for c in s.counters)]
            if not late:
                return
            self.assertLess(time.monotonic(), deadline, f"video did not resume for {late}" + self.context())
            await asyncio.sleep(0.1)

    async def _media(self):
        vr = self.vr
        conns, peers = [], []
        try:
            owner = await vr.JanusConnection.open(self.server.ws_url)
            conns.append(owner)
            oh = await owner.attach()
            room = (await owner.sync(oh, {"request": "create", "description": "e2e", "bitrate": 512000,
                                          "publishers": 3, "fir_freq": 0}))["room"]
            # The publisher.
            pub_handle = await owner.attach()
            joined = (await owner.call(pub_handle, {"request": "join", "ptype": "publisher", "room": room,
                                                    "display": "camera"}))["plugindata"]["data"]
            pub_id = joined["id"]
            publisher = vr.Publisher("VP8")
            peers.append(publisher)
            configured = await publisher.publish(owner, pub_handle, {"audio": True, "video": True})
            self.assertEqual(configured.get("configured"), "ok", configured)
            self.assertEqual(configured.get("video_codec"), "vp8", configured)
            self.assertEqual(configured.get("audio_codec"), "opus", configured)
            await publisher.wait_connected()
            ev = await owner.call(pub_handle, {"request": "publish"})   # publishing twice
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 434, ev)

            # Three watchers: each a participant handle (for room events) and a subscriber handle.
            watchers = []
            for i in range(3):
                conn = await vr.JanusConnection.open(self.server.ws_url)
                conns.append(conn)
                ph = await conn.attach()
                j = (await conn.call(ph, {"request": "join", "ptype": "publisher", "room": room,
                                          "display": f"watcher{i}"}))["plugindata"]["data"]
                self.assertEqual([p["id"] for p in j["publishers"]], [pub_id], j)
                streams = j["publishers"][0]["streams"]
                self.assertEqual(sorted((s["type"], s["codec"]) for s in streams),
                                 [("audio", "opus"), ("video", "vp8")], j)
                sh = await conn.attach()
                sub = vr.Subscriber(f"sub{i}")
                peers.append(sub)
                # One subscriber names the mids, the others take the whole feed (legacy `feed` for one).
                if i == 0:
                    wanted = [{"feed": pub_id, "mid": s["mid"]} for s in streams]
                    attached, started = await sub.subscribe(conn, sh, room, wanted)
                elif i == 1:
                    attached, started = await sub.subscribe(conn, sh, room, [{"feed": pub_id}])
                else:
                    attached, started = await sub.subscribe(conn, sh, room, None, {"feed": pub_id})
                self.assertEqual(attached.get("videoroom"), "attached", attached)
                self.assertEqual(len(attached["streams"]), 2, attached)
                self.assertEqual({s["feed_id"] for s in attached["streams"]}, {pub_id})
                self.assertIn("a=sendonly", sub.offer_sdp)
                self.assertEqual(started, {"videoroom": "event", "room": room, "started": "ok"})
                watchers.append((conn, ph, sh, sub))
            for _, _, _, sub in watchers:
                await sub.wait_connected()
            # Wait for every subscriber's first decoded frame, then measure.
            deadline = time.monotonic() + 15
            while any(not sub.counters for *_, sub in watchers):
                self.assertLess(time.monotonic(), deadline, "a subscriber decoded no frame within 15 s"
                                + self.context())
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            t0 = time.monotonic()
            await asyncio.sleep(SECONDS)
            t1 = time.monotonic()
            await asyncio.sleep(1.5)          # frames of the window still in flight
            window = {c for c, t in publisher.video.sent_at.items() if t0 <= t <= t1}
            self.assertGreater(len(window), 0.7 * 30 * SECONDS, "the publisher sent too few frames")
            summary = []
            for _, _, _, sub in watchers:
                got = window & set(sub.counters)
                foreign = [c for c in sub.counters if c not in publisher.video.sent_at]
                ratio = len(got) / len(window)
                summary.append(f"{sub.name}: {len(got)}/{len(window)} ({ratio:.1%}), decoded {sub.decoded}, "
                               f"unreadable {sub.unreadable}, audio frames {sub.audio_frames}")
                self.assertGreaterEqual(ratio, 0.9, "\n".join(summary) + self.context())
                self.assertEqual(foreign, [], f"{sub.name} decoded counters never sent")
                self.assertGreater(sub.audio_frames, 25 * SECONDS, f"{sub.name} got too little audio")
            print("\n" + "\n".join(summary), file=sys.stderr, flush=True)

            # configure video off: the subscribers' video stops; on again: it resumes (from a
            # keyframe the server asks the publisher for).
            ev = await owner.call(pub_handle, {"request": "configure", "video": False})
            self.assertEqual(ev["plugindata"]["data"].get("configured"), "ok", ev)
            await asyncio.sleep(0.7)
            before = [len(sub.counters) for *_, sub in watchers]
            await asyncio.sleep(1.0)
            self.assertEqual(before, [len(sub.counters) for *_, sub in watchers],
                             "video kept flowing with video off")
            on = time.monotonic()
            ev = await owner.call(pub_handle, {"request": "configure", "video": True})
            self.assertEqual(ev["plugindata"]["data"].get("configured"), "ok", ev)
            await self._wait_resumed([sub for *_, sub in watchers], publisher, on)
            # A subscriber pauses and starts again (no new SDP).
            conn0, _, sh0, sub0 = watchers[0]
            ev = await conn0.call(sh0, {"request": "pause"})
            self.assertEqual(ev["plugindata"]["data"].get("paused"), "ok", ev)
            await asyncio.sleep(0.7)
            before = len(sub0.counters)
            await asyncio.sleep(1.0)
            self.assertEqual(before, len(sub0.counters), "video kept flowing to a paused subscriber")
            on = time.monotonic()
            ev = await conn0.call(sh0, {"request": "start"})
            self.assertEqual(ev["plugindata"]["data"].get("started"), "ok", ev)
            await self._wait_resumed([sub0], publisher, on)

            # moderate: the room's moderator mutes the publisher's video mid for everyone, then
            # lets it through again; the watchers see `moderated` in an updated publishers list.
            video_mid = next(s["mid"] for s in configured["streams"] if s["type"] == "video")
            moderate = {"request": "moderate", "room": room, "id": pub_id, "mid": video_mid}
            self.assertEqual((await owner.sync(oh, dict(moderate, mid="nope", mute=True)))["error_code"], 428)
            self.assertEqual((await owner.sync(oh, dict(moderate)))["error_code"], 429)
            self.assertEqual(await owner.sync(oh, dict(moderate, mute=True)), {"videoroom": "success"})
            for conn, ph, _, _ in watchers:
                data = await conn.next_event(ph, lambda d: "publishers" in d)
                video = [s for s in data["publishers"][0]["streams"] if s["mid"] == video_mid]
                self.assertEqual(video[0].get("moderated"), True, data)
            await asyncio.sleep(0.7)
            before = [len(sub.counters) for *_, sub in watchers]
            await asyncio.sleep(1.0)
            self.assertEqual(before, [len(sub.counters) for *_, sub in watchers], "moderated video kept flowing")
            on = time.monotonic()
            self.assertEqual(await owner.sync(oh, dict(moderate, mute=False)), {"videoroom": "success"})
            await self._wait_resumed([sub for *_, sub in watchers], publisher, on)

            parts = await owner.sync(oh, {"request": "listparticipants", "room": room})
            self.assertEqual(len(parts["participants"]), 4)
            self.assertEqual([p["publisher"] for p in parts["participants"] if p["id"] == pub_id], [True])

            # Unpublish, then leave: every watcher's participant handle hears both.
            publisher.hold()
            ev = await owner.call(pub_handle, {"request": "unpublish"})
            self.assertEqual(ev["plugindata"]["data"].get("unpublished"), "ok", ev)
            for conn, ph, _, _ in watchers:
                data = await conn.next_event(ph, lambda d: "unpublished" in d)
                self.assertEqual((data["room"], data["unpublished"]), (room, pub_id))
            ev = await owner.call(pub_handle, {"request": "leave"})
            self.assertEqual(ev["plugindata"]["data"].get("leaving"), "ok", ev)
            for conn, ph, _, _ in watchers:
                data = await conn.next_event(ph, lambda d: "leaving" in d)
                self.assertEqual((data["room"], data["leaving"]), (room, pub_id))
            # The room works on: a new subscription to the gone feed is refused, the room is listed.
            conn, ph, sh, _ = watchers[0]
            h = await conn.attach()
            ev = await conn.call(h, {"request": "join", "ptype": "subscriber", "room": room,
                                     "streams": [{"feed": pub_id}]})
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 428)
            self.assertEqual((await owner.sync(oh, {"request": "destroy", "room": room}))["videoroom"], "destroyed")
        finally:
            for p in peers:
                await p.close()
            for c in conns:
                await c.close()
        self.assertTrue(self.server.alive(), self.context())


class TalkingTest(_ServerTest):
    """audiolevel_event: a publisher's tone makes the others get `talking` with its id, and its
    silence (zero samples, still sent) `stopped-talking`; a room without audiolevel_event is quiet."""

    def test_talking_events(self):
        run(self._talking(), 60)

    async def _talking(self):
        vr = self.vr
        from av import AudioFrame

        class SilenceableTone(vr.media.ToneAudioTrack):
            silent = False

            async def recv(self):
                frame = await super().recv()
                if not self.silent:
                    return frame
                quiet = AudioFrame.from_ndarray(frame.to_ndarray() * 0, format="s16", layout="mono")
                quiet.sample_rate, quiet.pts, quiet.time_base = frame.sample_rate, frame.pts, frame.time_base
                return quiet

        conn = await vr.JanusConnection.open(self.server.ws_url)
        publisher = None
        try:
            h = await conn.attach()
            bad = await conn.sync(h, {"request": "create", "audiolevel_event": True, "audio_level_average": 200})
            self.assertEqual(bad["error_code"], 430)
            room = (await conn.sync(h, {"request": "create", "audiolevel_event": True, "audio_active_packets": 25,
                                        "audio_level_average": 40}))["room"]
            entry = {r["room"]: r for r in (await conn.sync(h, {"request": "list"}))["list"]}[room]
            self.assertEqual((entry["audiolevel_event"], entry["audio_active_packets"], entry["audio_level_average"]),
                             (True, 25, 40))
            watcher = await conn.attach()
            await conn.call(watcher, {"request": "join", "ptype": "publisher", "room": room, "display": "ears"})
            pub_handle = await conn.attach()
            joined = (await conn.call(pub_handle, {"request": "join", "ptype": "publisher", "room": room,
                                                   "display": "voice"}))["plugindata"]["data"]
            publisher = vr.Publisher("VP8")
            tone = SilenceableTone()
            publisher.pc.getTransceivers()[0].sender.replaceTrack(tone)
            publisher.audio = tone
            configured = await publisher.publish(conn, pub_handle, {"audio": True, "video": True})
            audio_mid = next(x["mid"] for x in configured["streams"] if x["type"] == "audio")
            talking = await conn.next_event(watcher, lambda d: d.get("videoroom") == "talking", timeout=10)
            self.assertEqual((talking["room"], talking["id"], talking["mid"]), (room, joined["id"], audio_mid), talking)
            self.assertLessEqual(talking["audio-level-dBov-avg"], 40)

            def audio_talking():
                return [st.get("talking") for p in listed["participants"] if p["id"] == joined["id"]
                        for st in p.get("streams", []) if st["type"] == "audio"]
            # `publishers` lists show the state too: a newcomer's `joined` says it talks.
            newcomer = await conn.attach()
            listed = {"participants": (await conn.call(newcomer, {"request": "join", "ptype": "publisher", "room": room}))
                      ["plugindata"]["data"]["publishers"]}
            self.assertEqual(audio_talking(), [True], listed)
            tone.silent = True
            stopped = await conn.next_event(watcher, lambda d: d.get("videoroom") == "stopped-talking", timeout=10)
            self.assertEqual(stopped["id"], joined["id"])
            self.assertGreater(stopped["audio-level-dBov-avg"], 40)
            await conn.call(newcomer, {"request": "leave"})
            listed = {"participants": (await conn.call(newcomer, {"request": "join", "ptype": "publisher", "room": room}))
                      ["plugindata"]["data"]["publishers"]}
            self.assertEqual(audio_talking(), [False], listed)
            tone.silent = False
            again = await conn.next_event(watcher, lambda d: d.get("videoroom") == "talking", timeout=10)
            self.assertEqual(again["id"], joined["id"])
            # The publisher hears about itself too (as with Janus).
            own = await conn.next_event(pub_handle, lambda d: d.get("videoroom") == "talking", timeout=5)
            self.assertEqual(own["id"], joined["id"])
        finally:
            if publisher is not None:
                await publisher.close()
            await conn.close()
        self.assertTrue(self.server.alive(), self.context())


class MultistreamTest(_ServerTest):
    """Two publishers and a viewer that subscribes to both feeds in ONE PeerConnection (four
    m-lines); one publisher also watches the other. (A full mesh of three publishers each
    watching the other two needs 3 encoders and 6 decoders in this one Python process, more
    than a loaded 2-core machine keeps at 30 fps.)"""

    def test_multistream_subscription(self):
        __import__("echotest_aiortc").quiet_ffmpeg()
        run(self._multistream(), MULTI_SECONDS + 70)

    async def _wait_new_frames(self, sub, mid, publisher, since, timeout=5.0):
        """Waits until `sub` decoded on `mid` a frame `publisher` sent after `since`."""
        deadline = time.monotonic() + timeout
        while not any(publisher["pub"].video.sent_at.get(c, 0) > since for c in sub.counters_by_mid.get(mid, {})):
            self.assertLess(time.monotonic(), deadline, f"mid {mid} shows no new frame of {publisher['name']}"
                            + self.context())
            await asyncio.sleep(0.1)

    async def _multistream(self):
        vr = self.vr
        conns, peers = [], []
        try:
            _, _, room, members = await vr.room_with_members(self.server.ws_url, conns, 3)
            publishers = members[:2]
            for i, m in enumerate(publishers):
                m["pub"] = vr.Publisher("VP8", start=1000 + 20000 * i)   # disjoint counter ranges
                peers.append(m["pub"])
                configured = await m["pub"].publish(m["conn"], m["ph"])
                self.assertEqual(configured.get("configured"), "ok", configured)
            # The viewer (m2) heard of both publishers; m0 of m1.
            for m, expected in ((members[2], [members[0]["id"], members[1]["id"]]), (members[0], [members[1]["id"]])):
                heard = []
                while len(heard) < len(expected):
                    data = await m["conn"].next_event(m["ph"], lambda d: "publishers" in d)
                    heard += [p["id"] for p in data["publishers"]]
                self.assertEqual(sorted(heard), sorted(expected))
            for m in publishers:
                await m["pub"].wait_connected()
            plan = [(members[2], publishers), (members[0], [members[1]])]
            for m, sources in plan:
                sh = await m["conn"].attach()
                sub = vr.Subscriber(f"{m['name']}-watching")
                peers.append(sub)
                attached, started = await sub.subscribe(m["conn"], sh, room, [{"feed": x["id"]} for x in sources])
                self.assertEqual(len(attached["streams"]), 2 * len(sources), attached)
                self.assertEqual([s["mid"] for s in attached["streams"]],
                                 [str(i) for i in range(2 * len(sources))], attached)
                self.assertEqual(started.get("started"), "ok", started)
                self.assertEqual(sub.offer_sdp.count("m=video"), len(sources))
                m["sub"], m["sources"], m["sub_handle"], m["attached"] = sub, sources, sh, attached
            for m, _ in plan:
                await m["sub"].wait_connected()
            summary = await self.watch_feeds([(m["sub"], sources) for m, sources in plan], settle=0.5)
            # The viewer gets both publishers' audio too (two audio m-lines).
            self.assertGreater(members[2]["sub"].audio_frames, 2 * 25 * MULTI_SECONDS, summary)

            # Subscriber `configure`: the viewer stops the first feed's video mid, then takes it again.
            viewer = members[2]
            sub, vconn, vh = viewer["sub"], viewer["conn"], viewer["sub_handle"]
            first, second = publishers
            mid_of = {(s["feed_id"], s["type"]): s["mid"] for s in viewer["attached"]["streams"]}
            feed_mid_of = {(s["feed_id"], s["type"]): s["feed_mid"] for s in viewer["attached"]["streams"]}
            mid_a, mid_b = mid_of[(first["id"], "video")], mid_of[(second["id"], "video")]
            from_pub = lambda counters, pub: {c for c in counters if c in pub["pub"].video.sent_at}  # noqa: E731
            ev = await vconn.call(vh, {"request": "configure", "streams": [{"mid": "nope", "send": False}]})
            self.assertEqual(ev["plugindata"]["data"]["error_code"], 428)
            ev = await vconn.call(vh, {"request": "configure", "streams": [{"mid": mid_a, "send": False}]})
            self.assertEqual(ev["plugindata"]["data"].get("configured"), "ok", ev)
            await asyncio.sleep(0.7)
            before_a, before_b = len(sub.counters_by_mid[mid_a]), len(sub.counters_by_mid[mid_b])
            await asyncio.sleep(1.0)
            self.assertEqual(len(sub.counters_by_mid[mid_a]), before_a, "a mid configured send:false kept flowing")
            self.assertGreater(len(sub.counters_by_mid[mid_b]), before_b + 10, "the other mid stopped too")
            on = time.monotonic()
            ev = await vconn.call(vh, {"request": "configure", "streams": [{"mid": mid_a, "send": True}]})
            self.assertEqual(ev["plugindata"]["data"].get("configured"), "ok", ev)
            await self._wait_new_frames(sub, mid_a, first, on)

            # `switch`: the first video mid now carries the second publisher's video, without SDP.
            bad = await vconn.call(vh, {"request": "switch", "streams": [
                {"feed": second["id"], "mid": feed_mid_of[(second["id"], "audio")], "sub_mid": mid_a}]})
            self.assertEqual(bad["plugindata"]["data"]["error_code"], 430, "audio onto a video mid")
            bad = await vconn.call(vh, {"request": "switch", "streams": [{"feed": 777, "mid": "1", "sub_mid": mid_a}]})
            self.assertEqual(bad["plugindata"]["data"]["error_code"], 428)
            on = time.monotonic()
            ev = await vconn.call(vh, {"request": "switch", "streams": [
                {"feed": second["id"], "mid": feed_mid_of[(second["id"], "video")], "sub_mid": mid_a}]})
            switched = ev["plugindata"]["data"]
            self.assertEqual((switched.get("switched"), switched.get("changes")), ("ok", 1), switched)
            self.assertEqual([s["feed_id"] for s in switched["streams"] if s["mid"] == mid_a], [second["id"]])
            await self._wait_new_frames(sub, mid_a, second, on)
            await asyncio.sleep(0.5)
            first_after = from_pub(sub.counters_by_mid[mid_a], first)
            await asyncio.sleep(1.0)
            self.assertEqual(from_pub(sub.counters_by_mid[mid_a], first), first_after,
                             "the switched mid still shows the first publisher")
            self.assertEqual(sub.unreadable, 0, "a frame decoded after the switch was not a clean picture")
        finally:
            for p in peers:
                await p.close()
            for c in conns:
                await c.close()
        self.assertTrue(self.server.alive(), self.context())


class FullMeshTest(_ServerTest):
    """Three publishers; each subscribes to the other two in one multistream PeerConnection
    (the acceptance case of issue 4). The window starts 3 s after every feed was first decoded:
    3 encoders and 6 decoders share this one Python process, and its start-up burst is not the
    server's doing."""

    def test_three_publishers_each_watching_the_other_two(self):
        __import__("echotest_aiortc").quiet_ffmpeg()
        run(self._mesh(), MULTI_SECONDS + 80)

    async def _mesh(self):
        vr = self.vr
        conns, peers = [], []
        try:
            owner, _, room, members = await vr.room_with_members(self.server.ws_url, conns, 3, prefix="p")
            for i, m in enumerate(members):
                m["pub"] = vr.Publisher("VP8", start=1000 + 20000 * i)   # disjoint counter ranges
                peers.append(m["pub"])
                configured = await m["pub"].publish(m["conn"], m["ph"])
                self.assertEqual(configured.get("configured"), "ok", configured)
            # A fourth publisher is one too many for this room.
            ph = await owner.attach()
            await owner.call(ph, {"request": "join", "ptype": "publisher", "room": room})
            extra = vr.Publisher("VP8")
            peers.append(extra)
            refused = await extra.publish(owner, ph)
            self.assertEqual(refused.get("error_code"), 432, refused)
            for m in members:
                await m["pub"].wait_connected()
            for m in members:
                others = [x for x in members if x is not m]
                sh = await m["conn"].attach()
                sub = vr.Subscriber(f"{m['name']}-watching")
                peers.append(sub)
                attached, started = await sub.subscribe(m["conn"], sh, room, [{"feed": x["id"]} for x in others])
                self.assertEqual(len(attached["streams"]), 4, attached)
                self.assertEqual(started.get("started"), "ok", started)
                m["sub"], m["others"] = sub, others
            for m in members:
                await m["sub"].wait_connected()
            await self.watch_feeds([(m["sub"], m["others"]) for m in members], settle=3.0)
        finally:
            for p in peers:
                await p.close()
            for c in conns:
                await c.close()
        self.assertTrue(self.server.alive(), self.context())


if __name__ == "__main__":
    unittest.main()
