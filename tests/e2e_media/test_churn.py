"""Churn (issue 11): many cycles of create -> attach -> offer -> ICE/DTLS -> media -> hangup ->
destroy against one server, whose threads, open file descriptors and RSS (/proc/<pid>) must come
back to within 5 % of their baseline (RSS: 15 % in the short default run, see RSS_TOLERANCE).

Each cycle is an aiortc echotest peer (echotest_aiortc.py: VP8 counter frames and a tone) on its
own WebSocket: it connects, must get echoed video decoded and audio back, then sends `hangup` on
its handle (the server must answer and send the `hangup` event of the closed PeerConnection),
then `destroy`s its session.
CHURN_PARALLEL cycles run at a time. The baseline is taken after a warm-up of CHURN_WARMUP
cycles (the first calls fill allocator arenas, thread-local caches, the DTLS/SRTP libraries'
one-time state); the final figures once the last cycle is gone and the server's fds have
settled (bounded wait). Both are printed with the figures before the warm-up.

Default (CI, ~45 s): CHURN_CYCLES=30 (10 of them warm-up), fds and threads within 5 %, RSS within
15 % (see RSS_TOLERANCE). The issue's run, 1,000 cycles with 300 of warm-up and RSS within 5 %
(about 10-15 min on 2 loaded cores): scripts/soak.sh.
Not checked under ASan/TSan (their allocators keep freed memory in quarantine); LeakSanitizer
at exit covers leaks there (scripts/sanitize.sh). Loopback only; every wait is bounded.
"""

import asyncio
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import junction_server as js  # noqa: E402
import test_webrtc_faults as wf  # noqa: E402  (aiortc helpers; wf.ea is None without aiortc)

CYCLES = int(os.environ.get("CHURN_CYCLES", "30"))
PARALLEL = int(os.environ.get("CHURN_PARALLEL", "4"))
WARMUP = int(os.environ.get("CHURN_WARMUP", "10"))
TOLERANCE = float(os.environ.get("CHURN_TOLERANCE", "0.05"))     # fds and threads
# RSS: the 5 % holds only after the allocator has warmed up. glibc's arenas keep ~14 MB
# of heap (flat from ~100 cycles on) of which ~5 MB is in use; calls that free and allocate at new
# addresses keep touching free pages of it, so anonymous RSS climbs for a few hundred cycles
# towards that bound while the heap in use stays flat (RELIABILITY.md, measured with
# malloc_stats). A short run cannot tell that from a leak at 5 %, so it allows 15 %; the soak
# run (scripts/soak.sh: 1,000 cycles, 300 of warm-up) checks 5 %.
RSS_TOLERANCE = float(os.environ.get("CHURN_RSS_TOLERANCE", "0.05" if CYCLES >= 500 else "0.15"))
MEDIA_SECONDS = 1.5              # media window of each cycle
SETTLE_TIMEOUT = 20.0            # for fds to come back once the last cycle is gone
PROGRESS_EVERY = 100             # cycles between progress lines
MAX_FAILED = 0.02                # cycles allowed to fail on a loaded machine (reported)


def rss_kinds(pid):
    """(RssAnon, RssFile) in kB: what the process allocated vs code and data pages of its files."""
    kinds = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("RssAnon", "RssFile"):
                kinds[key] = int(line.split()[1])
    return kinds.get("RssAnon"), kinds.get("RssFile")


class ChurnRun(wf.ea._Run if wf.ea else object):
    """An echotest run that hangs up its handle (and checks the answer) before destroying."""

    hangup_reply = None

    async def teardown(self):
        for task in self.tasks:
            task.cancel()
        if self.janus is not None and self.handle_id is not None and not self.janus.closed.is_set():
            try:
                self.hangup_reply = await self.janus.request(
                    {"janus": "hangup", "session_id": self.session_id, "handle_id": self.handle_id},
                    5.0, "reply to hangup")
                # The server confirms the PeerConnection is closed with a `hangup` event.
                deadline = time.monotonic() + 5.0
                while self.hangup is None and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
            except Exception as e:
                self.note(f"hangup: {e}")
        await super().teardown()


class ChurnTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        wf._require_aiortc()
        wf.ea.quiet_ffmpeg()
        cls.server = js.start_server(cls, log_level="warn")

    def cycle_ok(self, run, result):
        """None when the cycle did everything, else why not."""
        if result.error:
            return result.error
        if result.decoded_frames == 0:
            return "no echoed video frame decoded"
        if result.audio_frames_received == 0:
            return "no audio came back"
        if run.hangup_reply is None or run.hangup_reply.get("janus") != "success":
            return f"hangup not answered with success: {run.hangup_reply}"
        if run.hangup is None:
            return "no hangup event after the hangup request"
        return None

    async def batch(self, n):
        runs = [wf.start_run(self.server.ws_url, "VP8", MEDIA_SECONDS, run_cls=ChurnRun) for _ in range(n)]
        results = await asyncio.gather(*(task for _, task in runs))
        return [self.cycle_ok(run, result) for (run, _), result in zip(runs, results)]

    async def cycles(self, n, failures):
        done = 0
        while done < n:
            k = min(PARALLEL, n - done)
            failures.extend(f for f in await self.batch(k) if f)
            done += k
            if done % PROGRESS_EVERY < k:   # the trend in long runs: a plateau or a leak
                print(f"churn: {done} cycles, threads/fds/RSS kB {wf.proc_stats(self.server.proc.pid)}",
                      file=sys.stderr, flush=True)
        return done

    async def settle(self, reference_fds):
        """Waits (bounded) until the server holds no more fds than `reference_fds`."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while time.monotonic() < deadline:
            if wf.proc_stats(self.server.proc.pid)[1] <= reference_fds:
                break
            await asyncio.sleep(0.25)
        await asyncio.sleep(1.0)      # the sweep timer frees what the last hangups left
        return wf.proc_stats(self.server.proc.pid)

    def test_churn_returns_to_baseline(self):
        pid = self.server.proc.pid
        sanitizer = js.sanitizer_runtime(pid)
        failures = []

        async def scenario():
            start = wf.proc_stats(pid)
            warm = await self.cycles(min(WARMUP, CYCLES), failures)
            baseline = await self.settle(start[1])
            t0 = time.monotonic()
            rest = await self.cycles(CYCLES - warm, failures)
            wall = time.monotonic() - t0
            final = await self.settle(baseline[1])
            return start, baseline, final, warm + rest, wall

        start, baseline, final, total, wall = asyncio.run(scenario())
        print(f"\nchurn: anonymous / file-backed RSS kB at the end {rss_kinds(pid)}", file=sys.stderr)
        print(f"\nchurn: {total} cycles ({PARALLEL} at a time, {len(failures)} failed), "
              f"{wall:.0f} s after the warm-up; threads/fds/RSS kB at start {start}, after "
              f"{min(WARMUP, CYCLES)} warm-up cycles {baseline}, at the end {final}; "
              f"fds {final[1] - baseline[1]:+d}, RSS {100.0 * (final[2] - baseline[2]) / baseline[2]:+.1f} %",
              file=sys.stderr, flush=True)
        if failures:
            print("failed cycles: " + "; ".join(sorted(set(failures))[:10]), file=sys.stderr, flush=True)
        self.assertTrue(self.server.alive(), f"the server died\n{wf.tail(self.server.log())}")
        self.assertLessEqual(len(failures), MAX_FAILED * total, f"failed cycles: {failures[:10]}")
        self.assertLessEqual(final[1], baseline[1] * (1 + TOLERANCE), "open fds did not come back")
        self.assertLessEqual(final[0], baseline[0] * (1 + TOLERANCE) + 1, "threads did not come back")
        if sanitizer:
            print(f"RSS check skipped: the server runs with {sanitizer}", file=sys.stderr, flush=True)
        else:
            self.assertLessEqual(final[2], baseline[2] * (1 + RSS_TOLERANCE),
                                 f"RSS did not come back within {RSS_TOLERANCE:.0%}")


if __name__ == "__main__":
    unittest.main()
