"""End-to-end media through Junction's EchoTest with aiortc as the peer: VP8+Opus and H.264+Opus.

Starts the Junction binary (JUNCTION_BINARY, default /work/main/build/junction) with the shared
launcher of the integration tests (tests/integration/junction_server.py: a JSON config in a
temporary folder, bind 127.0.0.1, free ports, log level info, log captured), runs
`echotest_aiortc.py` once per codec against it (a child process with its own overall timeout;
the JSON result is checked here), and finally stops the server with SIGTERM, expecting exit
status 0.

Run:  cd tests/e2e_media && /usr/bin/python3 -m unittest -v test_echotest_media
Environment:
  JUNCTION_BINARY     the server binary (default /work/main/build/junction)
  E2E_MEDIA_PYTHON    the interpreter with aiortc 1.4, av, numpy, websockets (default /usr/bin/python3)
  E2E_MEDIA_SECONDS   media window per run (default 10)
  E2E_MEDIA_SERVER    a ws:// URL of an already running Janus-compatible server: no binary is
                      started (used to check the client against Debian's Janus)
Only loopback is used.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "integration"))

import junction_server  # noqa: E402  (the shared server launcher)

CLIENT = os.path.join(HERE, "echotest_aiortc.py")
PYTHON = os.environ.get("E2E_MEDIA_PYTHON", "/usr/bin/python3")
SECONDS = float(os.environ.get("E2E_MEDIA_SECONDS", "10"))
EXTERNAL_SERVER = os.environ.get("E2E_MEDIA_SERVER")
STOP_TIMEOUT = 10.0
CLIENT_TIMEOUT = SECONDS + 30.0           # the client's own overall limit
CLIENT_KILL_AFTER = CLIENT_TIMEOUT + 20.0 # teardown slack before the child is killed


def tail(text, limit=4000):
    return text if len(text) <= limit else "...\n" + text[-limit:]


def run_client(server_url, codec, seconds=SECONDS):
    """Runs echotest_aiortc.py in a child process. Returns (exit status, parsed JSON result or
    None, its output)."""
    out_dir = tempfile.mkdtemp(prefix="echotest-aiortc-")
    json_path = os.path.join(out_dir, "result.json")
    cmd = [PYTHON, CLIENT, "--server", server_url, "--codec", codec, "--seconds", str(seconds),
           "--timeout", str(CLIENT_TIMEOUT), "--json", json_path]
    try:
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=CLIENT_KILL_AFTER, cwd=HERE)
            code, output = proc.returncode, proc.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            code = None
            output = (e.stdout or b"").decode("utf-8", "replace") + \
                f"\n[killed after {CLIENT_KILL_AFTER:.0f} s]"
        result = None
        if os.path.exists(json_path):
            with open(json_path) as f:
                result = json.load(f)
        return code, result, output
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


class CounterPictureTest(unittest.TestCase):
    """The picture code itself, without a server: what is painted is read back, and damaged
    pictures are refused rather than misread."""

    @classmethod
    def setUpClass(cls):
        try:
            import echotest_aiortc  # noqa: F401  (needs numpy, av, aiortc)
        except ImportError as e:
            raise unittest.SkipTest(f"run with {PYTHON} (has aiortc, av, numpy): {e}")
        cls.m = echotest_aiortc

    def luma(self, counter):
        return self.m.paint_counter(counter)[:self.m.HEIGHT]

    def test_round_trip(self):
        for n in (0, 1, 0x5555, 0xAAAA, 12345, 0xFFFF):
            self.assertEqual(self.m.read_counter(self.luma(n)), n)

    def test_noise_and_scaling(self):
        import numpy as np
        rng = np.random.default_rng(7)
        y = self.luma(4242).astype(np.int16) + rng.integers(-30, 31, (self.m.HEIGHT, self.m.WIDTH))
        y = np.clip(y, 0, 255).astype(np.uint8)
        self.assertEqual(self.m.read_counter(y), 4242)
        self.assertEqual(self.m.read_counter(np.kron(y, np.ones((2, 2), dtype=np.uint8))), 4242)

    def test_damage_is_refused(self):
        import numpy as np
        self.assertIsNone(self.m.read_counter(np.full((self.m.HEIGHT, self.m.WIDTH), 128, np.uint8)))
        y = self.luma(777).copy()
        top, left = self.m._block_origin(3)
        y[top:top + self.m.BLOCK, left:left + self.m.BLOCK] ^= 0xFF  # one flipped bit
        self.assertIsNone(self.m.read_counter(y))

    def test_codec_from_answer(self):
        sdp = ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"
               "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n"
               "m=video 9 UDP/TLS/RTP/SAVPF 102 103\r\na=rtpmap:103 rtx/90000\r\n"
               "a=rtpmap:102 H264/90000\r\n")
        self.assertEqual(self.m.chosen_codec(sdp, "audio"), "opus")
        self.assertEqual(self.m.chosen_codec(sdp, "video"), "H264")


class EchotestMediaTest(unittest.TestCase):
    """Media through the echotest: frames come back decoded with their content, audio comes back
    as the tone, with the negotiated codec the one asked for."""

    server = None

    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(CLIENT):
            raise RuntimeError(f"{CLIENT} is missing")
        if EXTERNAL_SERVER:
            cls.url = EXTERNAL_SERVER
            return
        server = junction_server.JunctionServer(log_level="info")
        try:
            server.start()
        except BaseException:
            server.cleanup()
            raise
        cls.server = server
        cls.url = server.ws_url

    @classmethod
    def tearDownClass(cls):
        server = cls.server
        if server is None:
            return
        try:
            was_alive = server.alive()
            code = server.stop(timeout=STOP_TIMEOUT)
            log = server.log()
        finally:
            server.cleanup()
        if not was_alive:
            raise AssertionError(f"junction died during the tests (exit {server.proc.returncode}):\n"
                                 f"{tail(log)}")
        if code != 0:
            raise AssertionError(f"junction did not exit 0 on SIGTERM within {STOP_TIMEOUT} s "
                                 f"(got {code}):\n{tail(log)}")

    def server_log(self):
        return tail(self.server.log()) if self.server is not None else "(external server)"

    def check_run(self, codec):
        if self.server is not None:
            self.assertTrue(self.server.alive(), f"junction is not running:\n{self.server_log()}")
        started = time.monotonic()
        code, result, output = run_client(self.url, codec)
        wall = time.monotonic() - started
        summary = next((line for line in reversed(output.splitlines())
                        if line.startswith("echotest ")), "(no summary line)")
        print(f"\n{summary}", file=sys.stderr, flush=True)
        context = (f"\n--- client output ---\n{tail(output)}\n--- server log ---\n"
                   f"{self.server_log()}")
        self.assertIsNotNone(code, f"the {codec} client did not finish in time{context}")
        self.assertIsNotNone(result, f"the {codec} client wrote no result (exit {code}){context}")
        self.assertIsNone(result["error"], f"the {codec} run did not complete{context}")
        self.assertEqual((result["answer_video_codec"] or "").upper(), codec, context)
        self.assertEqual((result["answer_audio_codec"] or "").lower(), "opus", context)
        self.assertTrue(result["ack_seen"], context)
        self.assertGreaterEqual(result["frames_sent"], 0.8 * 30 * SECONDS,
                                f"aiortc sent too few frames{context}")
        self.assertGreaterEqual(result["ratio"], 0.9, f"video frames lost{context}")
        self.assertEqual(result["foreign_values"], [], f"wrong picture content{context}")
        self.assertGreaterEqual(result["increasing_share"], 0.95, f"frames out of order{context}")
        self.assertGreater(result["audio_frames_received"], 0, f"no audio came back{context}")
        self.assertGreater(result["audio_rms"], 300, f"the echoed audio is silent{context}")
        self.assertEqual(result["failures"], [], context)
        self.assertEqual(code, 0, context)
        self.assertLess(wall, CLIENT_KILL_AFTER, context)
        if self.server is not None:
            self.assertTrue(self.server.alive(), f"junction died during the run{context}")

    def test_h264_opus(self):
        self.check_run("H264")

    def test_vp8_opus(self):
        self.check_run("VP8")


if __name__ == "__main__":
    unittest.main()
