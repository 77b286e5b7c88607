"""Link cut mid-call between two network namespaces (issue 11), then restored.

The test creates two network namespaces joined by a veth pair (server 10.231.<n>.1, client
10.231.<n>.2) and removes them at the end. The server runs in one (forked while the test's main
thread is switched into it with setns(2), so the launcher is unchanged), listening on the veth
address with ice_consent_timeout 5; the aiortc echotest peer (echotest_aiortc.py) runs in the
other (the main thread, where asyncio and aiortc create their sockets, is switched into it), and
gathers its host candidate on the veth address only.

1. A call starts; echoed video is decoded and audio comes back.
2. The link is cut (the server's end of the veth set down: no carrier on either side). A cut at
   the link needs only iproute2 and the veth driver, where a loss rule would need tc netem or
   netfilter modules that a CI kernel may lack. Within ice_consent_timeout + slack the server must end the PeerConnection for lost ICE
   consent (its `pc <handle>: closed (ICE consent lost...)` line).
3. The link is restored. The client's signaling WebSocket, a TCP connection over the same link,
   survives the outage: the server's `hangup` event for that handle must reach it.
4. A new call in the same namespaces passes a full echotest (frames decoded, the tone back).

Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and `ip netns`; otherwise it fails, saying why (a skip
would count as a pass in ctest).
Run:  cd tests/e2e_media && /usr/bin/python3 -m unittest -v test_link_cut
"""

import asyncio
import ctypes
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import junction_server as js  # noqa: E402
import test_webrtc_faults as wf  # noqa: E402  (aiortc helpers; wf.ea is None without aiortc)

CONSENT_TIMEOUT = 5          # the minimum the server allows
CLOSE_SLACK = 6.0            # the consent close must come within CONSENT_TIMEOUT + this
HANGUP_WAIT = 40.0           # for the hangup to arrive over the restored TCP connection
CALL_SECONDS = 60.0          # media window of the call that is cut (it ends with the cut)
NEW_CALL_SECONDS = 4.0
CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)


def ip(*args, check=True):
    """Runs `ip ...` (bounded); returns the completed process."""
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=check)


class Netns:
    """Two namespaces joined by a veth pair; the calling thread can be switched between them."""

    def __init__(self):
        n = os.getpid() % 250 + 1
        tag = f"{os.getpid()}"
        self.server_ns, self.client_ns = f"jct-srv-{tag}", f"jct-cli-{tag}"
        self.server_if, self.client_if = f"jcs{tag}"[:15], f"jcc{tag}"[:15]
        self.server_ip, self.client_ip = f"10.231.{n}.1", f"10.231.{n}.2"
        self.original = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.created = []

    def create(self):
        for ns in (self.server_ns, self.client_ns):
            ip("netns", "add", ns)
            self.created.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
        ip("link", "add", self.server_if, "netns", self.server_ns, "type", "veth",
           "peer", "name", self.client_if, "netns", self.client_ns)
        ip("-n", self.server_ns, "addr", "add", f"{self.server_ip}/24", "dev", self.server_if)
        ip("-n", self.client_ns, "addr", "add", f"{self.client_ip}/24", "dev", self.client_if)
        ip("-n", self.server_ns, "link", "set", self.server_if, "up")
        ip("-n", self.client_ns, "link", "set", self.client_if, "up")

    def remove(self):
        self.enter(None)
        for ns in self.created:
            ip("netns", "del", ns, check=False)   # takes the veth pair with it
        self.created = []

    def enter(self, ns):
        """Switches the calling thread into `ns` (None: the test's own namespace)."""
        if ns is None:
            fd = os.dup(self.original)
        else:
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns({ns}): {os.strerror(err)}")
        finally:
            os.close(fd)

    def set_link(self, up):
        ip("-n", self.server_ns, "link", "set", self.server_if, "up" if up else "down")


def cannot_use_netns():
    """Why this machine cannot run the test, or None."""
    if os.geteuid() != 0:
        return "not root: creating network namespaces needs CAP_SYS_ADMIN"
    probe = f"jct-probe-{os.getpid()}"
    try:
        r = ip("netns", "add", probe, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return f"`ip netns add` cannot run: {e}"
    if r.returncode != 0:
        return f"`ip netns add` failed: {r.stderr.strip()}"
    ip("netns", "del", probe, check=False)
    return None


class LinkCutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        wf._require_aiortc()
        reason = cannot_use_netns()
        if reason:
            # A failure, not a skip: a machine that cannot make namespaces has not shown that a
            # cut link is handled (CI runs as root and can).
            raise RuntimeError(f"cannot create the network namespaces this test needs: {reason}")
        wf.ea.quiet_ffmpeg()
        cls.net = Netns()
        cls.addClassCleanup(cls.net.remove)
        cls.net.create()
        cls.net.enter(cls.net.server_ns)
        try:
            # Forked here, the server lives in the server namespace; the launcher's readiness
            # check connects from here too. Cleanup (SIGTERM, exit 0) needs no namespace.
            cls.server = js.start_server(cls, log_level="info", bind="0.0.0.0",
                                         ice_addresses=[cls.net.server_ip],
                                         ice_consent_timeout=CONSENT_TIMEOUT)
        finally:
            cls.net.enter(None)
        cls.url = f"ws://{cls.net.server_ip}:{cls.server.ws_port}"

    def setUp(self):
        self.net.enter(self.net.client_ns)
        self.addCleanup(self.net.enter, None)
        self.addCleanup(self.net.set_link, True)
        # aioice gathers on the client's veth address only (echotest_aiortc.use_loopback_only).
        wf.ea.HOST_ADDRESS = self.net.client_ip
        self.addCleanup(setattr, wf.ea, "HOST_ADDRESS", "127.0.0.1")

    def context(self, result=None):
        return wf.failure_context(self.server, result)

    def test_cut_mid_call_then_restore(self):
        async def cut_call():
            run, task = wf.start_run(self.url, "VP8", CALL_SECONDS)
            try:
                await wf.wait_until(lambda: (run.result.decoded_frames >= 10 and
                                             run.result.audio_frames_received >= 10) or task.done(),
                                    40, "no media on the call before the cut")
                self.assertFalse(task.done(), f"the call ended before the cut{self.context(run.result)}")
                before = (run.result.decoded_frames, run.result.audio_frames_received)
                self.net.set_link(False)
                cut_at = time.monotonic()
                closed = await self.server.async_wait_for_log(
                    rf"pc {run.handle_id}: closed \(ICE consent lost[^)]*\)", CONSENT_TIMEOUT + CLOSE_SLACK)
                closed_after = time.monotonic() - cut_at
                self.net.set_link(True)
                await wf.wait_until(lambda: run.hangup is not None or task.done(), HANGUP_WAIT,
                                    "no hangup event reached the client after the link came back")
                hangup_after = time.monotonic() - cut_at
                return run, closed, closed_after, hangup_after, before
            finally:
                self.net.set_link(True)
                run.result.seconds = 0
                if not task.done():
                    task.cancel()
                    try:
                        await asyncio.wait_for(task, 30)
                    except (asyncio.CancelledError, asyncio.TimeoutError):
                        pass
                    await run.teardown()

        run, closed, closed_after, hangup_after, before = asyncio.run(cut_call())
        print(f"\nlink cut: media before {before}, server closed the PeerConnection "
              f"{closed_after:.1f} s after the cut: {closed and closed.group(0)}; the client got "
              f"hangup '{run.hangup}' {hangup_after:.1f} s after the cut", file=sys.stderr, flush=True)
        self.assertIsNotNone(closed, f"the server did not end the call for lost consent within "
                                     f"{CONSENT_TIMEOUT + CLOSE_SLACK} s{self.context(run.result)}")
        self.assertIsNotNone(run.hangup, "no hangup event")
        self.assertIn("ICE consent lost", run.hangup)
        self.assertTrue(self.server.alive(), f"the server died{self.context()}")

        result = asyncio.run(wf.ea.run_echotest(self.url, "VP8", NEW_CALL_SECONDS))
        print(f"new call after the restore: {result.summary()}", file=sys.stderr, flush=True)
        self.assertIsNone(result.error, f"the new call did not complete{self.context(result)}")
        self.assertEqual(result.failures(), [], f"the new call after the restore{self.context(result)}")
        self.assertIn(self.net.server_ip, " ".join(result.answer_candidates + result.trickled_candidates),
                      "the server did not offer its veth address")


if __name__ == "__main__":
    unittest.main()
