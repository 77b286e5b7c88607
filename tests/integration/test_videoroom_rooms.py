"""The videoroom's permanent rooms: `create` / `edit` / `destroy` with "permanent": true keep the
rooms file (state_dir/janus.plugin.videoroom.rooms.json) in step, the rooms come back after a
restart with their settings (pin, secret, allowed tokens), a corrupt file is moved aside with a
log line instead of stopping the start, and `kill -9` while rooms are being saved leaves a valid
file holding every room whose `create` was answered.

Run: cd tests/integration && JUNCTION_BINARY=.../junction /usr/bin/python3 -m unittest -v test_videoroom_rooms
"""

import asyncio
import json
import os
import random
import signal
import sys
import unittest

from junction_server import JunctionServer, WsApi, create_session

VIDEOROOM = "janus.plugin.videoroom"
ROOMS_FILE = "janus.plugin.videoroom.rooms.json"


class _Room:
    """One WebSocket, one session, one videoroom handle: sync requests in, plugin data out."""

    @classmethod
    async def open(cls, server):
        self = cls()
        self.api = await WsApi.open(server)
        self.session = await create_session(self.api)
        r = await self.api.request({"janus": "attach", "plugin": VIDEOROOM}, session_id=self.session)
        self.handle = r["data"]["id"]
        return self

    async def sync(self, body):
        r = await self.api.request({"janus": "message", "body": body}, session_id=self.session, handle_id=self.handle)
        assert r.get("janus") == "success", r
        return r["plugindata"]["data"]

    async def join(self, body):
        """An async request: ack, then the event with its transaction."""
        r = await self.api.request({"janus": "message", "body": body}, session_id=self.session, handle_id=self.handle)
        assert r.get("janus") == "ack", r
        ev = await self.api.event(self.session, lambda m: m.get("transaction") == r["transaction"]
                                  and m.get("janus") == "event")
        return ev["plugindata"]["data"]

    async def close(self):
        await self.api.close()


def read_rooms(server):
    with open(os.path.join(server.dir, ROOMS_FILE)) as f:
        return {room["room"]: room for room in json.load(f)}


class PermanentRoomsTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.server = JunctionServer()
        self.addCleanup(self.server.cleanup)
        self.server.start()

    async def restart(self):
        self.assertEqual(self.server.stop(), 0, self.server.log()[-3000:])
        self.server.start()

    async def test_rooms_survive_a_restart(self):
        c = await _Room.open(self.server)
        try:
            created = await c.sync({"request": "create", "room": 5001, "permanent": True, "description": "kept",
                                    "secret": "s", "pin": "p", "publishers": 4, "allowed": ["tok"]})
            self.assertEqual(created, {"videoroom": "created", "room": 5001, "permanent": True})
            await c.sync({"request": "create", "room": 5002, "description": "memory only"})
            self.assertEqual(sorted(read_rooms(self.server)), [5001])
            self.assertNotIn("permanent", read_rooms(self.server)[5001])
            # An edit without "permanent" stays in memory; with it, the file follows.
            edited = await c.sync({"request": "edit", "room": 5001, "secret": "s", "new_description": "edited"})
            self.assertEqual(edited["permanent"], False)
            self.assertEqual(read_rooms(self.server)[5001]["description"], "kept")
            edited = await c.sync({"request": "edit", "room": 5001, "secret": "s", "new_publishers": 9,
                                   "permanent": True})
            self.assertEqual(edited, {"videoroom": "edited", "room": 5001, "permanent": True})
            saved = read_rooms(self.server)[5001]
            self.assertEqual((saved["description"], saved["publishers"], saved["pin"], saved["allowed"]),
                             ("edited", 9, "p", ["tok"]))
            # destroy with "permanent" leaves the file; without it the room comes back (as in Janus).
            await c.sync({"request": "create", "room": 5003, "permanent": True})
            await c.sync({"request": "create", "room": 5004, "permanent": True})
            self.assertEqual((await c.sync({"request": "destroy", "room": 5003, "permanent": True}))["permanent"], True)
            self.assertEqual((await c.sync({"request": "destroy", "room": 5004}))["permanent"], False)
            self.assertEqual(sorted(read_rooms(self.server)), [5001, 5004])
            self.assertEqual((await c.sync({"request": "create", "room": 5001, "permanent": True}))["error_code"], 427)
        finally:
            await c.close()

        await self.restart()
        c = await _Room.open(self.server)
        try:
            for room, exists in ((5001, True), (5002, False), (5003, False), (5004, True), (1234, True)):
                self.assertEqual((await c.sync({"request": "exists", "room": room}))["exists"], exists, room)
            entry = {r["room"]: r for r in (await c.sync({"request": "list"}))["list"]}[5001]
            self.assertEqual((entry["description"], entry["max_publishers"], entry["pin_required"]),
                             ("edited", 9, True))
            join = {"request": "join", "ptype": "publisher", "room": 5001, "pin": "p"}
            self.assertEqual((await c.join(join))["error_code"], 433, "the allowed list came back too")
            self.assertEqual((await c.join(dict(join, token="tok")))["videoroom"], "joined")
            self.assertEqual((await c.sync({"request": "destroy", "room": 5001, "secret": "x",
                                            "permanent": True}))["error_code"], 433)
        finally:
            await c.close()
        self.assertIn("2 permanent room(s)", self.server.log())

    async def test_a_corrupt_rooms_file_is_moved_aside(self):
        self.assertEqual(self.server.stop(), 0)
        path = os.path.join(self.server.dir, ROOMS_FILE)
        with open(path, "w") as f:
            f.write('[{"room": 7001, "descr')
        self.server.start()
        self.assertIsNotNone(self.server.wait_for_log(r"not a JSON array of rooms; moved to .*\.corrupt"),
                             self.server.log())
        with open(path + ".corrupt") as f:
            self.assertIn("7001", f.read(), "the operator can still recover the old file")
        c = await _Room.open(self.server)
        try:
            self.assertTrue((await c.sync({"request": "exists", "room": 1234}))["exists"])
            self.assertEqual((await c.sync({"request": "create", "room": 7002, "permanent": True}))["permanent"], True)
            self.assertEqual(sorted(read_rooms(self.server)), [7002])
        finally:
            await c.close()

    async def test_kill_9_while_saving_leaves_a_valid_file(self):
        # Each round creates permanent rooms as fast as one client can while the process is killed
        # with SIGKILL after a random delay; every room whose `create` was answered must be in the
        # file afterwards, and the file must always parse. The file grows across rounds, so the
        # saves (whole-file rewrites with fsync) get longer and a kill mid-save more likely.
        rng = random.Random(20261121)
        acknowledged = set()
        mid_save_kills = 0
        next_room = 100000
        for round_no in range(10):
            c = await _Room.open(self.server)
            stop = asyncio.Event()

            async def create_rooms():
                nonlocal next_room
                while not stop.is_set():
                    room, next_room = next_room, next_room + 1
                    try:
                        data = await c.sync({"request": "create", "room": room, "permanent": True,
                                             "description": "x" * 200})
                    except Exception:  # the server was killed under us
                        return
                    if data.get("permanent") is True:
                        acknowledged.add(room)

            task = asyncio.create_task(create_rooms())
            await asyncio.sleep(rng.uniform(0.3, 1.2))
            self.server.proc.send_signal(signal.SIGKILL)
            self.server.proc.wait(timeout=5)
            stop.set()
            await asyncio.wait_for(task, 10)
            try:
                await c.close()
            except Exception:
                pass
            mid_save_kills += any(n.startswith("." + ROOMS_FILE) for n in os.listdir(self.server.dir))
            stored = read_rooms(self.server)  # raises if the file does not parse
            for body in stored.values():
                self.assertEqual(body["description"], "x" * 200)
            missing = acknowledged - set(stored)
            self.assertFalse(missing, f"round {round_no}: answered creates lost by kill -9: {sorted(missing)[:5]}")
            self.server.start()
            c = await _Room.open(self.server)
            try:
                sample = rng.sample(sorted(stored), min(5, len(stored)))
                for room in sample:
                    self.assertTrue((await c.sync({"request": "exists", "room": room}))["exists"], room)
            finally:
                await c.close()
        self.assertGreater(len(acknowledged), 50, "too few rooms were created to mean anything")
        print(f"\n{len(acknowledged)} permanent rooms created; {mid_save_kills} of 10 kills landed during a save "
              "(a temporary file was left)", file=sys.stderr)
        leftovers = [n for n in os.listdir(self.server.dir) if n.startswith("." + ROOMS_FILE)]
        self.assertEqual(leftovers, [], "a start removes the temporary files a killed save left")


if __name__ == "__main__":
    unittest.main()
