"""The web demo's files on the client HTTP listener: Content-Type per extension (JavaScript as
text/javascript, which ES modules need), cache headers (no-cache with an ETag, 304 on
revalidation), 404 for what is not a public file (missing, hidden, outside the folder, unknown
type), and the API under /janus unchanged beside them.

One server serves a folder made by the test (every type, a hidden folder, a file outside the
folder behind a symbolic link); a second one, started with its defaults for web_dir, serves
build/web-demo (the copy the build makes beside the binary), whose index.html must be the
source tree's.

Run: cd tests/integration && JUNCTION_BINARY=.../junction /usr/bin/python3 -m unittest -v test_web_demo
"""

import http.client
import json
import os
import shutil
import socket
import tempfile
import unittest

from junction_server import BINARY, JunctionServer, start_server

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

FILES = {
    "index.html": ("<!doctype html><p>home</p>", "text/html; charset=utf-8"),
    "app/page.js": ("export const page = 1;", "text/javascript; charset=utf-8"),
    "app/module.mjs": ("export default 2;", "text/javascript; charset=utf-8"),
    "app/demo.css": ("body { margin: 0 }", "text/css; charset=utf-8"),
    "icon.svg": ("<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
    "icon.png": ("\x89PNG\r\n\x1a\n", "image/png"),
    "favicon.ico": ("\0\0\1\0", "image/x-icon"),
    "data.json": ('{"a": 1}', "application/json"),
    "app.webmanifest": ('{"name": "x"}', "application/manifest+json"),
}


def get(port, path, headers=None, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


class WebFolder(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="junction-web-")
        cls.root = os.path.join(cls.base, "www")
        for name, (text, _) in FILES.items():
            path = os.path.join(cls.root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(text.encode("latin-1") if name.endswith((".png", ".ico")) else text.encode())
        os.makedirs(os.path.join(cls.root, ".hidden"))
        with open(os.path.join(cls.root, ".hidden", "x.json"), "w") as f:
            f.write("{}")
        with open(os.path.join(cls.root, "tool.sh"), "w") as f:
            f.write("#!/bin/sh\n")
        with open(os.path.join(cls.base, "secret.json"), "w") as f:
            f.write('{"secret": true}')
        os.symlink(os.path.join(cls.base, "secret.json"), os.path.join(cls.root, "link.json"))
        cls.server = start_server(cls, web_dir=cls.root)
        cls.port = cls.server.http_port

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.base, ignore_errors=True)

    def test_types_and_cache_headers(self):
        for name, (text, content_type) in FILES.items():
            with self.subTest(name=name):
                status, headers, body = get(self.port, "/" + name)
                self.assertEqual(status, 200)
                self.assertEqual(headers.get("content-type"), content_type)
                self.assertEqual(headers.get("cache-control"), "no-cache")
                self.assertEqual(headers.get("x-content-type-options"), "nosniff")
                self.assertTrue(headers.get("etag", "").startswith('"'), headers)
                self.assertEqual(body, text.encode("latin-1") if name.endswith((".png", ".ico")) else text.encode())

    def test_folder_gives_its_index(self):
        status, headers, body = get(self.port, "/")
        self.assertEqual((status, headers.get("content-type")), (200, "text/html; charset=utf-8"))
        self.assertIn(b"home", body)
        status, _, body = get(self.port, "/index.html?room=demo&name=x")
        self.assertEqual(status, 200)
        self.assertIn(b"home", body)

    def test_revalidation_answers_304(self):
        _, headers, _ = get(self.port, "/app/page.js")
        etag = headers["etag"]
        status, headers304, body = get(self.port, "/app/page.js", {"If-None-Match": etag})
        self.assertEqual(status, 304)
        self.assertEqual(body, b"")
        self.assertEqual(headers304.get("etag"), etag)
        self.assertEqual(headers304.get("cache-control"), "no-cache")
        status, _, body = get(self.port, "/app/page.js", {"If-None-Match": '"something-else"'})
        self.assertEqual(status, 200)
        self.assertEqual(body, FILES["app/page.js"][0].encode())

    def test_a_changed_file_gets_a_new_validator(self):
        path = os.path.join(self.root, "app", "changing.js")
        with open(path, "w") as f:
            f.write("export const version = 1;")
        _, headers, _ = get(self.port, "/app/changing.js")
        etag = headers["etag"]
        with open(path, "w") as f:
            f.write("export const version = 2;")
        os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 1_000_000_000))
        status, headers, body = get(self.port, "/app/changing.js", {"If-None-Match": etag})
        self.assertEqual(status, 200)
        self.assertEqual(body, b"export const version = 2;")
        self.assertNotEqual(headers["etag"], etag)

    def test_what_is_not_a_public_file_is_404(self):
        for path in ["/missing.html", "/missing/", "/.hidden/x.json", "/link.json", "/tool.sh", "/%2e%2e/secret.json",
                     "/app/%2e%2e/%2e%2e/secret.json", "/janusx", "/admin"]:
            with self.subTest(path=path):
                status, headers, body = get(self.port, path)
                self.assertEqual(status, 404, (path, body))
                self.assertNotIn(b"secret", body)
                self.assertEqual(headers.get("cache-control"), "no-store")

    def test_raw_path_traversal_is_refused(self):
        # http.client sends the path as given: no client-side normalisation of "..".
        for path in ["/../secret.json", "/app/../../secret.json", "/..%2fsecret.json"]:
            with self.subTest(path=path):
                status, _, body = get(self.port, path)
                self.assertIn(status, (400, 403, 404), path)
                self.assertNotIn(b"secret", body)

    def test_api_beside_the_files(self):
        status, headers, body = get(self.port, "/janus/info")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertEqual(json.loads(body)["janus"], "server_info")
        status, _, body = get(self.port, "/janus/123")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["error"]["code"], 458)
        # A POST outside /janus is not an API request.
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("POST", "/index.html", body=json.dumps({"janus": "create", "transaction": "t"}),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 404)
            self.assertEqual(json.loads(resp.read())["error"]["code"], 457)
        finally:
            conn.close()

    def test_many_files_on_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            for _ in range(3):
                for name, (text, _) in FILES.items():
                    conn.request("GET", "/" + name)
                    resp = conn.getresponse()
                    self.assertEqual(resp.status, 200)
                    resp.read()
                conn.request("GET", "/nothing.js")
                resp = conn.getresponse()
                self.assertEqual(resp.status, 404)
                resp.read()
        finally:
            conn.close()


class DefaultWebDir(unittest.TestCase):
    """Without web_dir, the server serves web-demo/ beside its binary: the build's copy."""

    @classmethod
    def setUpClass(cls):
        cls.server = start_server(cls)

    def test_demo_pages_are_served(self):
        beside = os.path.join(os.path.dirname(BINARY), "web-demo")
        self.assertTrue(os.path.isdir(beside), f"{beside} missing: the build copies web-demo/ there")
        status, headers, body = get(self.server.http_port, "/")
        self.assertEqual((status, headers.get("content-type")), (200, "text/html; charset=utf-8"))
        with open(os.path.join(REPO, "web-demo", "index.html"), "rb") as f:
            self.assertEqual(body, f.read())
        for path, content_type in [("/app/sfu.js", "text/javascript; charset=utf-8"),
                                   ("/lib/session.js", "text/javascript; charset=utf-8"),
                                   ("/app/demo.css", "text/css; charset=utf-8"),
                                   ("/favicon.svg", "image/svg+xml")]:
            with self.subTest(path=path):
                status, headers, _ = get(self.server.http_port, path)
                self.assertEqual((status, headers.get("content-type")), (200, content_type))


if __name__ == "__main__":
    unittest.main()
