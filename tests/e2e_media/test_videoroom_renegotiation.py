"""janus.plugin.videoroom subscriber renegotiation, end to end with aiortc: a viewer subscribed to
publisher A adds publisher B with `subscribe` (an `updated` event with a new offer; B's frames
then decode on the new mids), drops A with `unsubscribe` (A's m-lines become inactive in the new
offer and A's frames stop while B's go on), takes A back with `update` (subscribe + unsubscribe
in one offer); when B unpublishes the viewer is sent an `updated` offer by itself, in which B's
mids are inactive. Bad input (unknown feed or mid, nothing to change, malformed lists) gets 428 /
429 / 430 and changes nothing. Also `joinandconfigure` / `join` with an offer: joined and published
in one request (a subscriber decodes the feed); with a missing room (426) or as a subscriber
(431) nothing is joined.

Run:  cd tests/e2e_media && /usr/bin/python3 -m unittest -v test_videoroom_renegotiation
"""

import asyncio
import re
import time
import unittest

from test_videoroom import _ServerTest, run


def directions(sdp):
    """mid -> direction attribute of each m-line of an SDP."""
    out, mid, direction = {}, None, None
    for block in sdp.split("m=")[1:]:
        mid = re.search(r"a=mid:(\S+)", block)
        direction = re.search(r"a=(sendonly|recvonly|sendrecv|inactive)\b", block)
        if mid:
            out[mid.group(1)] = direction.group(1) if direction else "sendrecv"
    return out


class RenegotiationTest(_ServerTest):
    def test_subscribe_unsubscribe_update_and_vanished_feed(self):
        __import__("echotest_aiortc").quiet_ffmpeg()
        run(self._renegotiate(), 120)

    async def _new_frames(self, sub, mid, publisher, since, timeout=8.0):
        deadline = time.monotonic() + timeout
        while not any(publisher.video.sent_at.get(c, 0) > since for c in sub.counters_by_mid.get(mid, {})):
            self.assertLess(time.monotonic(), deadline, f"mid {mid} decodes no new frame" + self.context())
            await asyncio.sleep(0.1)

    async def _renegotiate(self):
        vr = self.vr
        conns, peers = [], []
        try:
            _, _, room, pubs = await vr.room_with_members(self.server.ws_url, conns, 2)
            for i, p in enumerate(pubs):
                p["pub"] = vr.Publisher("VP8", start=1000 + 20000 * i)
                peers.append(p["pub"])
                self.assertEqual((await p["pub"].publish(p["conn"], p["ph"])).get("configured"), "ok")
            a, b = pubs
            for p in pubs:
                await p["pub"].wait_connected()

            conn = await vr.JanusConnection.open(self.server.ws_url)
            conns.append(conn)
            sh = await conn.attach()
            sub = vr.Subscriber("viewer")
            peers.append(sub)
            attached, started = await sub.subscribe(conn, sh, room, [{"feed": a["id"]}])
            self.assertEqual(started.get("started"), "ok", started)
            await sub.wait_connected()
            mids_a = {s["type"]: s["mid"] for s in attached["streams"]}
            await self._new_frames(sub, mids_a["video"], a["pub"], 0)

            # Bad input first: nothing may change.
            call = lambda body: conn.call(sh, body)  # noqa: E731
            for body, code in (({"request": "subscribe", "streams": [{"feed": 4242}]}, 428),
                               ({"request": "subscribe", "streams": [{"feed": b["id"], "mid": "9"}]}, 428),
                               ({"request": "subscribe", "streams": "all"}, 430),
                               ({"request": "subscribe"}, 429),
                               ({"request": "unsubscribe", "streams": [{"sub_mid": "77"}]}, 428),
                               ({"request": "unsubscribe", "streams": [{}]}, 429),
                               ({"request": "update"}, 429),
                               ({"request": "update", "subscribe": [{"feed": b["id"]}], "unsubscribe": [{"feed": 999}]}, 428)):
                data = (await call(body))["plugindata"]["data"]
                self.assertEqual(data.get("error_code"), code, (body, data))
                self.assertNotIn("jsep", data)

            # subscribe: B joins the same PeerConnection.
            ev = await call({"request": "subscribe", "streams": [{"feed": b["id"]}]})
            data = ev["plugindata"]["data"]
            self.assertEqual(data.get("videoroom"), "updated", data)
            self.assertEqual([s["mid"] for s in data["streams"]], ["0", "1", "2", "3"], data)
            mids_b = {s["type"]: s["mid"] for s in data["streams"] if s["feed_id"] == b["id"]}
            self.assertEqual(set(directions(ev["jsep"]["sdp"]).values()), {"sendonly"})
            t = time.monotonic()
            self.assertEqual((await sub.answer_update(conn, sh, ev["jsep"])).get("started"), "ok")
            await self._new_frames(sub, mids_b["video"], b["pub"], t)
            await self._new_frames(sub, mids_a["video"], a["pub"], t)

            # unsubscribe A: its mids go inactive, its frames stop, B's go on.
            ev = await call({"request": "unsubscribe", "streams": [{"feed": a["id"]}]})
            data = ev["plugindata"]["data"]
            self.assertEqual(data.get("videoroom"), "updated", data)
            dirs = directions(ev["jsep"]["sdp"])
            self.assertEqual((dirs[mids_a["audio"]], dirs[mids_a["video"]]), ("inactive", "inactive"), dirs)
            self.assertEqual((dirs[mids_b["audio"]], dirs[mids_b["video"]]), ("sendonly", "sendonly"), dirs)
            self.assertEqual({s["mid"]: s["active"] for s in data["streams"]},
                             {mids_a["audio"]: False, mids_a["video"]: False, mids_b["audio"]: True, mids_b["video"]: True})
            await sub.answer_update(conn, sh, ev["jsep"])
            await asyncio.sleep(0.5)
            before = len(sub.counters_by_mid[mids_a["video"]])
            t = time.monotonic()
            await asyncio.sleep(1.0)
            self.assertEqual(len(sub.counters_by_mid[mids_a["video"]]), before, "an unsubscribed mid kept decoding")
            await self._new_frames(sub, mids_b["video"], b["pub"], t)

            # update: A again (new mids) and B's audio dropped, in one offer.
            ev = await call({"request": "update", "subscribe": [{"feed": a["id"]}],
                             "unsubscribe": [{"sub_mid": mids_b["audio"]}]})
            data = ev["plugindata"]["data"]
            self.assertEqual(data.get("videoroom"), "updated", data)
            again = {s["type"]: s["mid"] for s in data["streams"] if s["feed_id"] == a["id"] and s["active"]}
            self.assertEqual(sorted(again.values()), ["4", "5"], data)
            dirs = directions(ev["jsep"]["sdp"])
            self.assertEqual((dirs[mids_b["audio"]], dirs[again["video"]]), ("inactive", "sendonly"), dirs)
            t = time.monotonic()
            await sub.answer_update(conn, sh, ev["jsep"])
            await self._new_frames(sub, again["video"], a["pub"], t)
            await self._new_frames(sub, mids_b["video"], b["pub"], t)

            # B unpublishes: the viewer is offered B's mids inactive without asking.
            await b["conn"].call(b["ph"], {"request": "unpublish"})
            msg = await conn.next_event(sh, lambda d: d.get("videoroom") == "updated", timeout=5, whole=True)
            self.assertIn("jsep", msg, msg)
            dirs = directions(msg["jsep"]["sdp"])
            self.assertEqual(dirs[mids_b["video"]], "inactive", dirs)
            self.assertEqual(dirs[again["video"]], "sendonly", dirs)
            t = time.monotonic()
            self.assertEqual((await sub.answer_update(conn, sh, msg["jsep"])).get("started"), "ok")
            await self._new_frames(sub, again["video"], a["pub"], t)
        finally:
            for p in peers:
                await p.close()
            for c in conns:
                await c.close()
        self.assertTrue(self.server.alive(), self.context())


class JoinWithOfferTest(_ServerTest):
    def test_join_and_publish_in_one_request(self):
        __import__("echotest_aiortc").quiet_ffmpeg()
        run(self._join_with_offer(), 60)

    async def _join_with_offer(self):
        vr = self.vr
        conns, peers = [], []
        try:
            conn = await vr.JanusConnection.open(self.server.ws_url)
            conns.append(conn)
            oh = await conn.attach()
            room = (await conn.sync(oh, {"request": "create", "publishers": 2}))["room"]
            # Refused: no such room (426), a subscriber with an offer (431). Neither joins.
            for request, body, code in (("joinandconfigure", {"ptype": "publisher", "room": room + 1}, 426),
                                        ("join", {"ptype": "subscriber", "room": room, "streams": [{"feed": 1}]}, 431)):
                ph = await conn.attach()
                pub = vr.Publisher("VP8")
                peers.append(pub)
                data = await pub.publish(conn, ph, dict({"request": request}, **body))
                self.assertEqual(data.get("error_code"), code, data)
            listed = await conn.sync(oh, {"request": "listparticipants", "room": room})
            self.assertEqual(listed["participants"], [], listed)

            for request in ("joinandconfigure", "join"):
                ph = await conn.attach()
                pub = vr.Publisher("VP8", start=1000 if request == "join" else 50000)
                peers.append(pub)
                data = await pub.publish(conn, ph, {"request": request, "ptype": "publisher", "room": room,
                                                    "display": request})
                self.assertEqual(data.get("videoroom"), "joined", data)
                await pub.wait_connected()
                sh = await conn.attach()
                sub = vr.Subscriber(f"{request}-watcher")
                peers.append(sub)
                _, started = await sub.subscribe(conn, sh, room, [{"feed": data["id"]}])
                self.assertEqual(started.get("started"), "ok", started)
                deadline = time.monotonic() + 10
                while len(set(sub.counters) & set(pub.video.sent_at)) < 30:
                    self.assertLess(time.monotonic(), deadline, f"{request}: the feed does not decode" + self.context())
                    await asyncio.sleep(0.1)
            listed = await conn.sync(oh, {"request": "listparticipants", "room": room})
            self.assertEqual(sorted(p["display"] for p in listed["participants"] if p["publisher"]),
                             ["join", "joinandconfigure"], listed)
        finally:
            for p in peers:
                await p.close()
            for c in conns:
                await c.close()
        self.assertTrue(self.server.alive(), self.context())


if __name__ == "__main__":
    unittest.main()
