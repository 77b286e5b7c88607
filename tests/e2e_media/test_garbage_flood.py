"""Garbage flood at the media port during a live call (issue 11: "100k garbage UDP datagrams per
second at the media ports for 10 s while a call runs").

An aiortc echotest (VP8 counter frames + a 440 Hz tone, echotest_aiortc.py) connects; once media
flows, tests/e2e_media/udp_flood.c (built by CMake, JUNCTION_UDP_FLOOD) sends garbage datagrams
(random, fake DTLS, fake RTP/RTCP, fake STUN) at FLOOD_RATE per second for FLOOD_SECONDS from a dup
of the peer's own UDP socket, to the server's port of the selected ICE pair (checked to be the
host candidate of the server's answer), so they reach the PeerConnection as an on-path attacker's
would. Pass:
- the echotest passes as a whole (frames echoed and readable, the tone comes back);
- video frames and audio frames keep being decoded during the flood and after it;
- the server is alive, and its close line counts the garbage (garbage and srtp drops > 0).
The sender's achieved rate is printed: on a loaded machine it may be below FLOOD_RATE.

Default (CI) is the issue's figure, FLOOD_RATE=100000 for FLOOD_SECONDS=10 (~20 s in all). Run alone:
    cd tests/e2e_media && /usr/bin/python3 -m unittest -v test_garbage_flood
Environment: JUNCTION_BINARY, JUNCTION_UDP_FLOOD (default: udp_flood beside the junction
binary, where CMake puts it), FLOOD_RATE, FLOOD_SECONDS, FLOOD_THREADS. Loopback only; every wait
is bounded.
"""

import asyncio
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import junction_server as js  # noqa: E402
import test_webrtc_faults as wf  # noqa: E402  (its aiortc helpers; ea is None without aiortc)

FLOOD_RATE = int(os.environ.get("FLOOD_RATE", "100000"))
FLOOD_SECONDS = float(os.environ.get("FLOOD_SECONDS", "10"))
# Sending threads (udp_flood --threads): on loopback each datagram costs the sender the kernel's
# receive path too, and one thread on the shared 2-core machine stays below 100k/s (60-80k/s);
# two reach ~100k/s. (Before the media workers drove a context per PeerConnection on epoll, the
# server read only ~15k/s of it and lost the call's ICE consent under two threads.)
FLOOD_THREADS = int(os.environ.get("FLOOD_THREADS", "2"))
AFTER_SECONDS = 4.0              # media window after the flood
BEFORE_SECONDS = 1.0             # media flowing before the flood starts
MIN_SENT = 10000                 # below this the sender did not make a flood at all
# "Media keeps flowing": of the frames (video + audio) aiortc sent in a window, at least this share
# came back decoded in it. Relative to what was sent, because on a loaded 2-core machine aiortc
# itself sends far fewer than its nominal 30 video + 50 audio frames per second; a call that
# stopped under the flood gets ~0.
MIN_SHARE_DURING = 0.10
MIN_SHARE_AFTER = 0.25


def counts(run):
    """(video decoded, audio received, video sent, audio sent, time) of a run so far."""
    r = run.result
    return (r.decoded_frames, r.audio_frames_received, run.video.frames_sent, run.audio.frames_sent,
            time.monotonic())


def udp_receive_errors():
    """The kernel's UDP RcvbufErrors (datagrams dropped because a socket's buffer was full), from
    /proc/net/snmp; None if unreadable. Says how much of the flood never reached the server."""
    try:
        with open("/proc/net/snmp") as f:
            rows = [line.split() for line in f if line.startswith("Udp:")]
        return int(rows[1][rows[0].index("RcvbufErrors")])
    except (OSError, IndexError, ValueError):
        return None


def flood_binary():
    path = os.environ.get("JUNCTION_UDP_FLOOD")
    if not path:
        path = os.path.join(os.path.dirname(js.BINARY), "udp_flood")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError(f"udp_flood not found at {path}: build it (cmake --build build --target "
                           "udp_flood) or set JUNCTION_UDP_FLOOD")
    return path


class GarbageFloodTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        wf._require_aiortc()
        cls.flood = flood_binary()
        wf.ea.quiet_ffmpeg()
        cls.server = js.start_server(cls, log_level="info")

    def context(self, result=None):
        return wf.failure_context(self.server, result)

    def test_call_survives_garbage_flood(self):
        seconds = BEFORE_SECONDS + FLOOD_SECONDS + AFTER_SECONDS + 1.0

        async def scenario():
            run, task = wf.start_run(self.server.ws_url, "VP8", seconds)
            marks = {}
            try:
                await wf.wait_until(lambda: run.connected.is_set() or task.done(), 30,
                                    "the echotest peer did not connect")
                if task.done():
                    return run, await task, marks, None
                await wf.wait_until(lambda: run.result.decoded_frames > 0 or task.done(), 15,
                                    "no echoed video frame was decoded")
                await asyncio.sleep(BEFORE_SECONDS)
                announced = wf.media_address(run.result.answer_candidates +
                                             run.result.trickled_candidates)
                own, selected = wf.peer_socket(run)
                self.assertEqual(announced, tuple(selected),
                                 "the selected pair is not the media port from the answer's candidates")
                marks["start"] = counts(run)
                marks["rcvbuf"] = udp_receive_errors()
                try:
                    proc = await asyncio.create_subprocess_exec(
                        self.flood, "--host", announced[0], "--port", str(announced[1]),
                        "--fd", str(own.fileno()), "--rate", str(FLOOD_RATE),
                        "--seconds", str(FLOOD_SECONDS), "--seed", "11",
                        "--threads", str(FLOOD_THREADS),
                        pass_fds=(own.fileno(),), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                    out, err = await asyncio.wait_for(proc.communicate(), FLOOD_SECONDS + 30)
                finally:
                    own.close()
                marks["end"] = counts(run)
                if marks["rcvbuf"] is not None:
                    marks["rcvbuf"] = udp_receive_errors() - marks["rcvbuf"]
                flood = (proc.returncode, out.decode(), err.decode())
                await asyncio.sleep(AFTER_SECONDS)
                marks["after"] = counts(run)
                return run, await task, marks, flood
            finally:
                if not task.done():
                    await asyncio.wait_for(task, seconds + 60)

        run, result, marks, flood = asyncio.run(scenario())
        self.assertIsNotNone(flood, f"the call ended before the flood{self.context(result)}")
        code, out, err = flood
        self.assertEqual(code, 0, f"udp_flood failed: {out} {err}")
        fields = out.split()
        sent, failed, achieved = int(fields[1]), int(fields[3]), float(fields[7])
        line = wf.close_line(self.server, run.handle_id)
        (v0, a0, sv0, sa0, t0), (v1, a1, sv1, sa1, t1), (v2, a2, sv2, sa2, _) = \
            marks["start"], marks["end"], marks["after"]
        during, sent_during = (v1 - v0) + (a1 - a0), (sv1 - sv0) + (sa1 - sa0)
        after, sent_after = (v2 - v1) + (a2 - a1), (sv2 - sv1) + (sa2 - sa1)
        print(f"\n{result.summary()}\nflood: {sent} datagrams sent ({failed} refused by the "
              f"socket) in {t1 - t0:.1f} s, {achieved:.0f}/s achieved (asked {FLOOD_RATE}/s); "
              f"decoded during the flood: {v1 - v0} video, {a1 - a0} audio frames (of "
              f"{sv1 - sv0} + {sa1 - sa0} sent); after: {v2 - v1} video, {a2 - a1} audio (of "
              f"{sv2 - sv1} + {sa2 - sa1}); kernel UDP receive-buffer drops meanwhile (all sockets): "
              f"{marks['rcvbuf']}; close line: {line and line['line']}",
              file=sys.stderr, flush=True)
        self.assertGreaterEqual(sent, MIN_SENT, f"the sender made no flood: {out} {err}")
        self.assertTrue(self.server.alive(), f"the server died{self.context(result)}")
        self.assertIsNone(result.error, f"the run did not complete{self.context(result)}")
        self.assertEqual(result.failures(), [], f"echotest under a garbage flood{self.context(result)}")
        self.assertGreater(v1 - v0, 0, f"no video decoded during the flood{self.context(result)}")
        self.assertGreater(a1 - a0, 0, f"no audio received during the flood{self.context(result)}")
        self.assertGreaterEqual(during, MIN_SHARE_DURING * sent_during,
                                f"media stopped during the flood{self.context(result)}")
        self.assertGreater(v2 - v1, 0, f"no video decoded after the flood{self.context(result)}")
        self.assertGreater(a2 - a1, 0, f"no audio received after the flood{self.context(result)}")
        self.assertGreaterEqual(after, MIN_SHARE_AFTER * sent_after,
                                f"media did not recover after the flood{self.context(result)}")
        self.assertIsNotNone(line, f"no close line for handle {run.handle_id}{self.context(result)}")
        self.assertGreater(line["garbage"], 0, line["line"])
        self.assertGreater(line["srtp"], 0, line["line"])
        self.assertGreater(line["rtp_in"], 0, line["line"])


if __name__ == "__main__":
    unittest.main()
