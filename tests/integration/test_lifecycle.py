"""The server process's life: graceful SIGTERM with clients connected, configuration and command-line
validation, ports in use, max_sessions, broken plugin libraries, and reclaiming sessions after a
WebSocket closes (reclaim_session_timeout).

Run: cd tests/integration && JUNCTION_BINARY=.../junction /usr/bin/python3 -m unittest -v test_lifecycle
"""

import asyncio
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from junction_server import (BINARY, ECHOTEST, HttpApi, JunctionServer, WsApi, attach_echotest, check_binary,
                             create_session, echotest_roundtrip, free_ports, new_tx, run_binary, start_server)

STOP_LIMIT = 5.0


class _ServerPerTest(unittest.IsolatedAsyncioTestCase):
    """A fresh server for every test (the tests stop it themselves)."""

    server_config = {}

    async def asyncSetUp(self):
        self.server = JunctionServer(**self.server_config)
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.apis = []

    async def asyncTearDown(self):
        for api in self.apis:
            await api.close()

    async def open(self, cls):
        api = await cls.open(self.server)
        self.apis.append(api)
        return api

    async def wait_exit(self, limit=STOP_LIMIT):
        return await asyncio.to_thread(self.server.wait_exit, limit)


class ShutdownTest(_ServerPerTest):
    server_config = {"long_poll_timeout": 30}

    async def test_sigterm_detaches_websocket_handles_and_closes(self):
        ws = await self.open(WsApi)
        sid = await create_session(ws)
        hids = [await attach_echotest(ws, sid) for _ in range(2)]
        await echotest_roundtrip(ws, sid, hids[0])
        start = time.monotonic()
        self.server.terminate()
        for hid in hids:
            ev = await ws.event(sid, lambda m: m.get("janus") == "detached" and m.get("sender") == hid, timeout=5)
            self.assertEqual(ev, {"janus": "detached", "session_id": sid, "sender": hid})
        self.assertTrue(await ws.client.wait_closed(STOP_LIMIT), "the server did not close the WebSocket")
        code = await self.wait_exit(max(0.1, STOP_LIMIT - (time.monotonic() - start)))
        self.assertEqual(code, 0, f"exit code after SIGTERM (None: still running after {STOP_LIMIT} s)\n"
                                  f"{self.server.log()[-2000:]}")
        log = self.server.log()
        self.assertRegex(log, r"signal 15: shutting down \(sessions: 1\)")
        self.assertRegex(log, rf"session {sid} destroyed \(server shutting down\)")
        self.assertRegex(log, r"\bstopped\b")

    async def test_sigterm_sends_websocket_close_frame(self):
        # RFC 6455 §7.1.1/§7.4.1: the server ends the connection with a Close frame; 1001 "going away"
        # is the code for a server shutting down (ws_server.cpp means to send it).
        ws = await self.open(WsApi)
        await create_session(ws)
        self.server.terminate()
        self.assertTrue(await ws.client.wait_closed(STOP_LIMIT), "the server did not close the WebSocket")
        self.assertEqual(ws.client.close_code, 1001,
                         f"close code {ws.client.close_code} (1006 = the TCP connection ended without a Close "
                         f"frame); expected 1001 going away")
        self.assertEqual(await self.wait_exit(), 0)

    async def test_sigterm_answers_pending_long_poll(self):
        http = await self.open(HttpApi)
        sid = await create_session(http)
        hid = await attach_echotest(http, sid)
        idle_sid = await create_session(http)  # a session without handles, also polling
        await echotest_roundtrip(http, sid, hid)
        polls = [asyncio.ensure_future(http.poll(s, maxev=maxev, timeout=10))
                 for s, maxev in ((sid, None), (idle_sid, 10))]
        await asyncio.sleep(0.5)  # both polls are pending now
        self.assertFalse(any(p.done() for p in polls), "long polls returned early")
        start = time.monotonic()
        self.server.terminate()
        (status, body), (idle_status, idle_body) = await asyncio.wait_for(asyncio.gather(*polls), STOP_LIMIT)
        self.assertLess(time.monotonic() - start, STOP_LIMIT)
        self.assertEqual(status, 200, body)
        self.assertIsInstance(body, dict, body)
        self.assertIn(body.get("janus"), ("detached", "keepalive"), body)
        if body.get("janus") == "detached":
            self.assertEqual(body, {"janus": "detached", "session_id": sid, "sender": hid})
        self.assertEqual(idle_status, 200, idle_body)
        self.assertIsInstance(idle_body, (list, dict), idle_body)
        code = await self.wait_exit(max(0.1, STOP_LIMIT - (time.monotonic() - start)))
        self.assertEqual(code, 0, f"exit code after SIGTERM\n{self.server.log()[-2000:]}")

    async def test_sigterm_idle_server_exits_quickly(self):
        start = time.monotonic()
        self.server.terminate()
        code = await self.wait_exit()
        self.assertEqual(code, 0)
        # A hang guard, not a speed test: stopping takes well under a second on an idle machine.
        self.assertLess(time.monotonic() - start, 5.0, "an idle server should not hang on SIGTERM")


class CommandLineTest(unittest.TestCase):
    """Bad configuration stops the start with exit code 2 and a message naming the key."""

    @classmethod
    def setUpClass(cls):
        check_binary()
        cls.dir = tempfile.mkdtemp(prefix="junction-it-cli-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)

    def write_config(self, values, name="config.json"):
        """A config with free ports (so a config that wrongly passes does not take the defaults)."""
        path = os.path.join(self.dir, name)
        ws_port, http_port, admin_port, admin_ws_port = free_ports(4)
        base = {"ws_port": ws_port, "http_port": http_port, "admin_port": admin_port, "admin_ws_port": admin_ws_port}
        with open(path, "w") as f:
            if isinstance(values, str):
                f.write(values)
            else:
                json.dump(dict(base, **values), f)
        return path

    def run_bad(self, args, key, label):
        with self.subTest(label):
            try:
                r = run_binary(args, timeout=10)
            except subprocess.TimeoutExpired:
                self.fail(f"{label}: the server started instead of refusing the configuration")
            self.assertEqual(r.returncode, 2, f"{label}: rc {r.returncode}\nstderr: {r.stderr}")
            self.assertIn(key, r.stderr, f"{label}: stderr does not name {key!r}: {r.stderr}")

    def test_bad_config_file_values(self):
        cases = [
            ({"wsport": 8188}, "wsport", "unknown key"),
            ({"WS_PORT": 8188}, "WS_PORT", "unknown key (case)"),
            ({"ws_port": "abc"}, "ws_port", "wrong type"),
            ({"ws_port": 8188.5}, "ws_port", "float port"),
            ({"ws_port": 70000}, "ws_port", "port out of range"),
            ({"http_port": -1}, "http_port", "negative port"),
            ({"log_level": "loud"}, "log_level", "unknown log level"),
            ({"bind": "not-an-ip"}, "bind", "bind not an address"),
            ({"session_timeout": -5}, "session_timeout", "negative timeout"),
            ({"long_poll_timeout": 0}, "long_poll_timeout", "long poll below 1 s"),
            ({"max_message_size": 100}, "max_message_size", "max message below 4096"),
            ({"max_sessions": "3"}, "max_sessions", "max_sessions a string"),
            ({"plugins": []}, "plugins", "plugins not an object"),
            ({"server_name": ""}, "server_name", "empty server name"),
        ]
        for values, key, label in cases:
            self.run_bad(["--config", self.write_config(values)], key, f"{label}: {values}")

    def test_bad_command_line_values(self):
        cfg = self.write_config({})
        cases = [
            (["--ws-port", "70000"], "ws_port"),
            (["--http-port", "-1"], "http_port"),
            (["--admin-port", "99999"], "admin_port"),
            (["--log-level", "loud"], "log_level"),
            (["--bind", "not-an-ip"], "bind"),
            (["--media-workers", "100000"], "media_workers"),
        ]
        for flags, key in cases:
            self.run_bad(["--config", cfg, *flags], key, " ".join(flags))

    def test_unreadable_config(self):
        path = self.write_config("{ this is not json", name="broken.json")
        r = run_binary(["--config", path])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("broken.json", r.stderr)
        path = self.write_config("[1, 2]", name="array.json")
        r = run_binary(["--config", path])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("array.json", r.stderr)
        missing = os.path.join(self.dir, "missing.json")
        r = run_binary(["--config", missing])
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn("missing.json", r.stdout + r.stderr)

    def test_comments_allowed_in_config(self):
        # A valid config with // and /* */ comments starts (and stops at once).
        ws_port, http_port, admin_port, admin_ws_port = free_ports(4)
        text = ("// ports\n{\n  \"ws_port\": %d, /* ws */\n  \"http_port\": %d, \"admin_port\": %d,\n"
                "  \"admin_ws_port\": %d\n}\n") % (ws_port, http_port, admin_port, admin_ws_port)
        path = self.write_config(text, name="commented.jsonc")
        proc = subprocess.Popen([BINARY, "--config", path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", ws_port), 0.5).close()
                    break
                except OSError:
                    time.sleep(0.05)
            self.assertIsNone(proc.poll(), "a commented config was refused")
            proc.terminate()
            self.assertEqual(proc.wait(STOP_LIMIT), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def test_same_port_for_two_listeners(self):
        # ws_port == http_port cannot work (lws would put both APIs behind one listener: HTTP requests
        # then go to the WebSocket vhost); it must be refused like any other bad value.
        port = free_ports(1)[0]
        cfg = self.write_config({"ws_port": port, "http_port": port}, name="same-port.json")
        try:
            r = run_binary(["--config", cfg], timeout=4)
        except subprocess.TimeoutExpired:
            self.fail(f"ws_port == http_port == {port} was accepted: the server started")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertRegex(r.stderr, r"ws_port|http_port", r.stderr)

    def test_help(self):
        r = run_binary(["--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for flag in ("--bind", "--ws-port", "--http-port", "--admin-port", "--plugins-dir", "--log-level",
                     "--media-workers", "--config"):
            self.assertIn(flag, r.stdout, f"--help does not list {flag}")

    def test_version(self):
        r = run_binary(["--version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout + r.stderr, r"\b\d+\.\d+\.\d+\b")

    def test_port_in_use(self):
        for key in ("ws_port", "http_port"):
            with self.subTest(key), socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
                taken.bind(("127.0.0.1", 0))
                taken.listen(1)
                port = taken.getsockname()[1]
                cfg = self.write_config({key: port}, name=f"{key}-taken.json")
                try:
                    r = run_binary(["--config", cfg], timeout=10)
                except subprocess.TimeoutExpired:
                    self.fail(f"{key} {port} already in use, but the server kept running")
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(f"127.0.0.1:{port}", r.stdout + r.stderr, r.stderr)


class RunningServerChecks(unittest.IsolatedAsyncioTestCase):
    """max_sessions, and --version agreeing with server_info."""

    @classmethod
    def setUpClass(cls):
        cls.server = start_server(cls, max_sessions=3)

    async def test_max_sessions(self):
        ws = await WsApi.open(self.server)
        http = await HttpApi.open(self.server)
        try:
            sids = [await create_session(ws), await create_session(http), await create_session(ws)]
            for api in (ws, http):
                tx = new_tx("fourth")
                r = await api.request({"janus": "create", "transaction": tx})
                self.assertEqual(r.get("janus"), "error", r)
                self.assertEqual(r["error"]["code"], 472, r)
                self.assertEqual(r.get("transaction"), tx, r)
                tx = new_tx("fourth-id")
                r = await api.request({"janus": "create", "id": 4242, "transaction": tx})
                self.assertEqual(r.get("error", {}).get("code"), 472, r)
            # The three sessions still work.
            for api, sid in ((ws, sids[0]), (http, sids[1]), (ws, sids[2])):
                tx = new_tx("ka")
                r = await api.request({"janus": "keepalive", "transaction": tx}, session_id=sid)
                self.assertEqual(r, {"janus": "ack", "session_id": sid, "transaction": tx})
                hid = await attach_echotest(api, sid)
                await echotest_roundtrip(api, sid, hid)
            # Destroying one frees a place.
            r = await ws.request({"janus": "destroy"}, session_id=sids[0])
            self.assertEqual(r.get("janus"), "success", r)
            sids[0] = await create_session(http)
            r = await ws.request({"janus": "create"})
            self.assertEqual(r.get("error", {}).get("code"), 472, r)
            for api, sid in ((http, sids[0]), (http, sids[1]), (ws, sids[2])):
                await api.request({"janus": "destroy"}, session_id=sid)
        finally:
            await ws.close()
            await http.close()

    async def test_version_matches_server_info(self):
        r = run_binary(["--version"])
        http = await HttpApi.open(self.server)
        try:
            status, info, _ = await http.get("/janus/info")
        finally:
            await http.close()
        self.assertEqual(status, 200)
        self.assertIn(info["version_string"], r.stdout + r.stderr)


class PluginFolderTest(unittest.IsolatedAsyncioTestCase):
    """Libraries that are not Junction plugins are skipped with a log line; the real one loads."""

    @classmethod
    def setUpClass(cls):
        real = os.path.join(os.path.dirname(BINARY), "plugins")
        echotest = sorted(glob.glob(os.path.join(real, "*echotest*.so")))
        if not echotest:
            raise RuntimeError(f"no echotest plugin library in {real}")
        cls.plugins = tempfile.mkdtemp(prefix="junction-it-plugins-")
        cls.addClassCleanup(shutil.rmtree, cls.plugins, True)
        open(os.path.join(cls.plugins, "x.so"), "wb").close()                     # empty: dlopen fails
        with open(os.path.join(cls.plugins, "garbage.so"), "wb") as f:          # not an ELF file
            f.write(b"\x7fELF but not really" * 10)
        libz = next((p for p in ("/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1")
                     if os.path.exists(p)), None)
        cls.libz = libz
        if libz:                                                                  # loads, no descriptor
            shutil.copy(libz, os.path.join(cls.plugins, "libnotaplugin.so"))
        with open(os.path.join(cls.plugins, "README.txt"), "w") as f:
            f.write("not a library\n")
        shutil.copy(echotest[0], os.path.join(cls.plugins, os.path.basename(echotest[0])))
        cls.server = start_server(cls, plugins_dir=cls.plugins)

    async def test_broken_libraries_are_skipped(self):
        # The log is written by a background thread: wait for the last plugin line first.
        self.assertTrue(await self.server.async_wait_for_log(r"\b1 plugin\(s\) loaded from ", 10),
                        "no plugin summary line in the log")
        log = self.server.log()
        self.assertRegex(log, r"x\.so: cannot load: .*\(skipped\)")
        self.assertRegex(log, r"garbage\.so: cannot load: .*\(skipped\)")
        if self.libz:
            self.assertRegex(log, r"libnotaplugin\.so: no junction_plugin_descriptor symbol")
        self.assertRegex(log, r"loaded janus\.plugin\.echotest ")
        self.assertRegex(log, r"\b1 plugin\(s\) loaded from " + re.escape(self.plugins))
        self.assertNotIn("README.txt", log)

    async def test_echotest_still_attaches(self):
        ws = await WsApi.open(self.server)
        try:
            r = await ws.request({"janus": "info"})
            self.assertEqual(set(r.get("plugins", {})), {ECHOTEST}, r)
            sid = await create_session(ws)
            hid = await attach_echotest(ws, sid)
            await echotest_roundtrip(ws, sid, hid)
            r = await ws.request({"janus": "attach", "plugin": "libnotaplugin"}, session_id=sid)
            self.assertEqual(r.get("error", {}).get("code"), 460, r)
        finally:
            await ws.close()


class ReclaimTest(unittest.IsolatedAsyncioTestCase):
    """reclaim_session_timeout 5: a closed WebSocket's sessions wait to be claimed."""

    @classmethod
    def setUpClass(cls):
        cls.server = start_server(cls, reclaim_session_timeout=5)

    async def test_claim_from_a_new_websocket(self):
        first = await WsApi.open(self.server)
        sid = await create_session(first)
        hid = await attach_echotest(first, sid)
        await echotest_roundtrip(first, sid, hid)
        await first.close()
        self.assertTrue(await self.server.async_wait_for_log(rf"session {sid} waits 5 s to be claimed", 3))
        await asyncio.sleep(1.0)

        second = await WsApi.open(self.server)
        try:
            tx = new_tx("claim")
            r = await second.request({"janus": "claim", "transaction": tx}, session_id=sid)
            self.assertEqual(r, {"janus": "success", "session_id": sid, "transaction": tx})
            tx = new_tx("ka")
            r = await second.request({"janus": "keepalive", "transaction": tx}, session_id=sid)
            self.assertEqual(r, {"janus": "ack", "session_id": sid, "transaction": tx})
            # The handle survived, and its events now come to the new connection.
            await echotest_roundtrip(second, sid, hid)
            # Still there after the reclaim window: it has a connection again.
            await asyncio.sleep(5.0)
            tx = new_tx("ka2")
            r = await second.request({"janus": "keepalive", "transaction": tx}, session_id=sid)
            self.assertEqual(r, {"janus": "ack", "session_id": sid, "transaction": tx})
            await second.request({"janus": "destroy"}, session_id=sid)
        finally:
            await second.close()

    async def test_unclaimed_session_goes_away(self):
        first = await WsApi.open(self.server)
        sid = await create_session(first)
        await first.close()
        self.assertTrue(await self.server.async_wait_for_log(rf"session {sid} waits 5 s to be claimed", 3))
        m = await self.server.async_wait_for_log(rf"session {sid} destroyed \(not claimed", 8)
        self.assertTrue(m, "the unclaimed session was not destroyed after reclaim_session_timeout")
        other = await WsApi.open(self.server)
        try:
            tx = new_tx("late-claim")
            r = await other.request({"janus": "claim", "transaction": tx}, session_id=sid)
            self.assertEqual(r.get("error", {}).get("code"), 458, r)
            self.assertEqual(r.get("transaction"), tx, r)
        finally:
            await other.close()

    async def test_claim_over_http(self):
        first = await WsApi.open(self.server)
        sid = await create_session(first)
        hid = await attach_echotest(first, sid)
        await first.close()
        self.assertTrue(await self.server.async_wait_for_log(rf"session {sid} waits 5 s to be claimed", 3))
        http = await HttpApi.open(self.server)
        try:
            tx = new_tx("claim")
            r = await http.request({"janus": "claim", "transaction": tx}, session_id=sid)
            self.assertEqual(r, {"janus": "success", "session_id": sid, "transaction": tx})
            await echotest_roundtrip(http, sid, hid)
            await http.request({"janus": "destroy"}, session_id=sid)
        finally:
            await http.close()


if __name__ == "__main__":
    unittest.main()
