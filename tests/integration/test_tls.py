"""TLS on every listener when tls_certificate / tls_private_key are set: the JSON API over wss://
and https://, the web demo and the admin API over https://, checked with clients that trust only
the test's own certificate. Plain ws:// and http:// to the TLS ports fail without hurting the
server; missing, unreadable or unusable certificate files stop the start with a message.

Run: cd tests/integration && JUNCTION_BINARY=.../junction /usr/bin/python3 -m unittest -v test_tls
"""

import asyncio
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import unittest

import aiohttp
import websockets

from junction_server import ECHOTEST, JunctionServer, new_tx, run_binary, start_server


def make_certificate(folder):
    """A self-signed P-256 certificate for 127.0.0.1 and localhost (openssl command line)."""
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-days", "2",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class TlsTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="junction-tls-")
        cls.addClassCleanup(shutil.rmtree, cls.folder, True)
        cls.cert, cls.key = make_certificate(cls.folder)
        cls.server = start_server(cls, tls_certificate=cls.cert, tls_private_key=cls.key)
        cls.trust = ssl.create_default_context(cafile=cls.cert)

    async def ws_request(self, ws, msg):
        msg = dict(msg, transaction=new_tx("tls"))
        await ws.send(json.dumps(msg))
        while True:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if reply.get("transaction") == msg["transaction"] and reply.get("janus") != "ack":
                return reply

    async def test_api_over_wss(self):
        url = f"wss://127.0.0.1:{self.server.ws_port}"
        async with websockets.connect(url, subprotocols=["janus-protocol"], ssl=self.trust) as ws:
            sid = (await self.ws_request(ws, {"janus": "create"}))["data"]["id"]
            hid = (await self.ws_request(ws, {"janus": "attach", "plugin": ECHOTEST, "session_id": sid}))["data"]["id"]
            ev = await self.ws_request(ws, {"janus": "message", "session_id": sid, "handle_id": hid,
                                            "body": {"audio": True}})
            self.assertEqual(ev["plugindata"]["data"]["result"], "ok", ev)
        self.assertIn(f"WebSocket API listening on wss://127.0.0.1:{self.server.ws_port}", self.server.log())

    async def test_api_web_demo_and_admin_over_https(self):
        base = f"https://127.0.0.1:{self.server.http_port}"
        admin = f"https://127.0.0.1:{self.server.config['admin_port']}"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.trust)) as http:
            async with http.post(base + "/janus", data=json.dumps({"janus": "create", "transaction": "t1"})) as r:
                body = await r.json(content_type=None)
                self.assertEqual((r.status, body["janus"]), (200, "success"), body)
            sid = body["data"]["id"]
            async with http.post(f"{base}/janus/{sid}", data=json.dumps({"janus": "attach", "plugin": ECHOTEST,
                                                                         "transaction": "t2"})) as r:
                hid = (await r.json(content_type=None))["data"]["id"]
            async with http.post(f"{base}/janus/{sid}/{hid}", data=json.dumps({"janus": "message", "transaction": "t3",
                                                                               "body": {"audio": True}})) as r:
                self.assertEqual((await r.json(content_type=None))["janus"], "ack")
            # The plugin's event comes on the long poll.
            async with http.get(f"{base}/janus/{sid}?maxev=1", timeout=aiohttp.ClientTimeout(total=10)) as r:
                ev = await r.json(content_type=None)
                self.assertEqual((ev["transaction"], ev["plugindata"]["data"]["result"]), ("t3", "ok"), ev)
            async with http.get(base + "/") as r:
                self.assertEqual(r.status, 200)
                self.assertIn("text/html", r.headers.get("Content-Type", ""))
            async with http.get(admin + "/health") as r:
                self.assertEqual((r.status, await r.json(content_type=None)), (200, {"status": "ok"}))
            async with http.post(admin + "/admin", data=json.dumps({"janus": "list_sessions", "transaction": "a"})) as r:
                body = await r.json(content_type=None)
                self.assertIn(sid, body["sessions"], body)
        self.assertIn(f"HTTP API listening on https://127.0.0.1:{self.server.http_port}/janus", self.server.log())

    async def test_plain_clients_on_tls_ports_fail_and_the_server_carries_on(self):
        with self.assertRaises(Exception):
            async with websockets.connect(f"ws://127.0.0.1:{self.server.ws_port}", subprotocols=["janus-protocol"],
                                          open_timeout=5):
                pass
        async with aiohttp.ClientSession() as http:
            with self.assertRaises(aiohttp.ClientError):
                async with http.post(f"http://127.0.0.1:{self.server.http_port}/janus",
                                     data=json.dumps({"janus": "create", "transaction": "p"}),
                                     timeout=aiohttp.ClientTimeout(total=5)) as r:
                    await r.read()
        # An untrusting client refuses the self-signed certificate (the server is not at fault).
        with self.assertRaises(ssl.SSLError):
            async with websockets.connect(f"wss://127.0.0.1:{self.server.ws_port}", subprotocols=["janus-protocol"],
                                          ssl=ssl.create_default_context(), open_timeout=5):
                pass
        await self.test_api_over_wss()
        self.assertTrue(self.server.alive())


class TlsConfigTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="junction-tls-cfg-")
        self.addCleanup(shutil.rmtree, self.folder, True)

    def run_with(self, **values):
        path = os.path.join(self.folder, "junction.json")
        with open(path, "w") as f:
            json.dump(dict({"ws_port": 0, "http_port": 0, "admin_port": 0, "admin_ws_port": 0}, **values), f)
        return run_binary(["--config", path])

    def test_certificate_without_key(self):
        r = self.run_with(tls_certificate="/etc/hostname")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("'tls_certificate': set it together with 'tls_private_key'", r.stderr + r.stdout)

    def test_unreadable_files(self):
        r = self.run_with(tls_certificate=os.path.join(self.folder, "nope.pem"), tls_private_key="/etc/hostname")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("'tls_certificate': cannot read", r.stderr + r.stdout)

    def test_files_that_are_not_pem_stop_the_start(self):
        junk = os.path.join(self.folder, "junk.pem")
        with open(junk, "w") as f:
            f.write("not a certificate\n")
        server = JunctionServer(tls_certificate=junk, tls_private_key=junk)
        try:
            with self.assertRaises(RuntimeError) as caught:
                server.start(attempts=1)
            self.assertIn("the TLS certificate and key were refused", str(caught.exception))
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
