"""Writes the load generator's results (scripts/bench.sh: <out>/<scenario>-<server>.json) into
BENCHMARKS.md, between the markers of the whole-server section (replaced on every run, the rest of
the file kept). One table per scenario, Junction and janus side by side with the ratio.

Usage: report.py RESULTS_DIR BENCHMARKS.md --command "..." --scenarios "fanout:50 ..."
"""

import argparse
import datetime
import json
import os
import platform

BEGIN = "<!-- whole-server benchmarks (scripts/bench.sh): generated, edit the script instead -->"
END = "<!-- end of whole-server benchmarks -->"

# (label, key path, format, lower is better)
ROWS = [
    ("PeerConnections", ("peer_connections",), "{:.0f}", None),
    ("receivers with media / expected", None, None, None),
    ("setup failures", ("setup_failures",), "{:.0f}", True),
    ("server CPU, share of one core", ("server_cpu_fraction",), "{:.2f}", None),
    ("packets/s the server had to send (SFU: published × subscribers; MCU: 50 × participants)",
     ("offered_packets_per_s",), "{:.0f}", None),
    ("packets/s received by the clients", ("received_packets_per_s",), "{:.0f}", None),
    ("server CPU per packet to send (µs)", ("server_cpu_us_per_offered_packet",), "{:.1f}", True),
    ("server CPU per packet received by a client (µs)", ("server_cpu_us_per_packet",), "{:.1f}", True),
    ("packets to send per s per core (derived)", ("offered_packets_per_s_per_core",), "{:.0f}", False),
    ("participants per core (derived)", ("participants_per_core",), "{:.0f}", False),
    ("server RSS per PeerConnection when all have media (kB)", ("server_rss_kb_per_pc",), "{:.0f}", True),
    ("server RSS per PeerConnection after the window (kB)", ("server_rss_kb_per_pc_end",), "{:.0f}", True),
    ("create → first media p50 (ms)", ("first_media_ms", "p50"), "{:.0f}", True),
    ("create → first media p95 (ms)", ("first_media_ms", "p95"), "{:.0f}", True),
    ("forwarding latency p50 (µs)", ("latency_us", "p50"), "{:.0f}", True),
    ("forwarding latency p99 (µs)", ("latency_us", "p99"), "{:.0f}", True),
    ("in-server forwarding latency p50, at most (µs; Junction's own histogram)", ("server_forwarding_latency_us", "p50"), "{:.0f}", True),
    ("in-server forwarding latency p99, at most (µs; Junction's own histogram)", ("server_forwarding_latency_us", "p99"), "{:.0f}", True),
    ("loss (%)", ("loss_pct",), "{:.3f}", True),
    ("lost packets (receiver × packet, whole run)", ("lost_packets",), "{:.0f}", True),
    ("… not sent by the server (its RTP numbering closed over them)", ("lost_server_skipped",), "{:.0f}", True),
    ("… missed by every receiver (lost before the fan-out)", ("lost_upstream",), "{:.0f}", True),
    ("… lost after the server numbered them (its send, the kernel, the client)", ("lost_in_transit",), "{:.0f}", True),
    ("publisher → server: sent by the clients, not received by the server (Junction's counters)",
     ("upstream_leg", "not_received"), "{:.0f}", True),
    ("RTP sequence gaps seen by the receivers", ("server_seq_gaps",), "{:.0f}", True),
    ("UDP datagrams dropped, full socket buffers (whole machine, whole run)", ("udp_rcvbuf_drops",), "{:.0f}", True),
    ("packets the client failed to send", ("client_send_failures",), "{:.0f}", True),
    ("load generator CPU, share of one core", ("loadgen_cpu_fraction",), "{:.2f}", None),
    ("machine load average at start", ("load_average",), "{:.1f}", None),
]


def get(result, path):
    v = result
    for k in path:
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return v


def scenario_names(scenarios):
    for s in scenarios.split():
        kind, *rest = s.split(":")
        if kind == "fanout":
            yield f"fanout-{rest[0]}", f"Fan-out: 1 publisher (Opus + VP8) → {rest[0]} subscribers, one videoroom"
        elif kind == "mesh":
            yield f"mesh-{rest[0]}x{rest[1]}", (f"{rest[0]} videorooms × {rest[1]} participants, each publishing "
                                                 f"and subscribing to the {int(rest[1]) - 1} others")
        elif kind == "audiobridge":
            yield f"audiobridge-{rest[0]}+{rest[1]}", (f"Audiobridge: {rest[0]} talkers + {rest[1]} listeners "
                                                       "in one room (16 kHz, audio levels sent)")
        elif kind == "audioroom":
            yield f"audioroom-{rest[0]}+{rest[1]}", (f"Audio-only videoroom: {rest[0]} talkers (Opus) → {rest[1]} "
                                                     f"listeners, each receiving all {rest[0]} (SFU)")


def value(result, path):
    if not result or "error" in result:
        return None
    if path[0] == "latency_us" and not get(result, ("latency_us", "samples")):
        return None  # a mixer's output carries no send time
    if path[0] == "server_forwarding_latency_us" and not get(result, ("server_forwarding_latency_us", "samples")):
        return None  # janus, or nothing forwarded (the audiobridge's mix leaves on the mixer's tick)
    return get(result, path)


def table(junction, janus):
    lines = ["| | Junction | janus | Junction / janus |", "|---|---:|---:|---:|"]
    for label, path, fmt, _ in ROWS:
        if path is None:
            cells = []
            for r in (junction, janus):
                cells.append("—" if r is None or "error" in r else f"{r['receivers_with_media']} / {r['expected_receivers']}")
            lines.append(f"| {label} | {cells[0]} | {cells[1]} | |")
            continue
        a = value(junction, path)
        b = value(janus, path)
        if a is None and b is None:
            continue
        fa = fmt.format(a) if isinstance(a, (int, float)) else "—"
        fb = fmt.format(b) if isinstance(b, (int, float)) else "—"
        ratio = f"{a / b:.2f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else ""
        lines.append(f"| {label} | {fa} | {fb} | {ratio} |")
    return lines


def audio_capacity(results_dir, scenarios):
    """Issue 6's figure: per server, the largest audiobridge room of this run that one core carried
    (every connected participant got at least 99.5 % of its mix packets, server CPU within one core),
    and participants per core there."""
    rooms = [(name, title) for name, title in scenario_names(scenarios) if name.startswith("audiobridge-")]
    if not rooms:
        return []
    best = {}
    lines = ["### Audiobridge: the largest room one core carried in this run", "",
             "A room counts when the participants that connected received together at least 99.5 % of the "
             "mix packets due to them (50 per second each) and the server used at most one core; \"participants per core\" "
             "is connected participants / server CPU share in that room.", "",
             "| server | room (talkers + listeners) | connected | setup failures | mix packets delivered | server CPU | participants per core |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for server in ("junction", "janus"):
        for name, _ in rooms:
            path = os.path.join(results_dir, f"{name}-{server}.json")
            if not os.path.exists(path):
                continue
            with open(path) as f:
                r = json.loads(f.read())
            if "error" in r:
                continue
            offered = r.get("offered_packets_per_s") or 0
            delivered = r["received_packets_per_s"] / offered if offered else 0
            cpu = r["server_cpu_fraction"]
            connected = r["receivers_with_media"]
            carried = delivered >= 0.995 and cpu <= 1.0 and connected > 0
            per_core = connected / cpu if carried and cpu > 0 else None
            lines.append(f"| {server} | {name.split('-', 1)[1]} | {connected} | {r['setup_failures']} | "
                         f"{100 * delivered:.1f} % | {cpu:.2f} | {f'{per_core:.0f}' if per_core else 'not carried'} |")
            if carried and (server not in best or connected > best[server][0]):
                best[server] = (connected, per_core)
    lines.append("")
    if "junction" in best and "janus" in best:
        j, a = best["junction"], best["janus"]
        lines.append(f"Largest room carried: Junction {j[0]}, janus {a[0]} ({j[0] / a[0]:.1f}×); participants "
                     f"per core there: Junction {j[1]:.0f}, janus {a[1]:.0f} ({j[1] / a[1]:.1f}×).")
        lines.append("")
    return lines


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Linux {platform.release()}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("markdown")
    ap.add_argument("--command", required=True)
    ap.add_argument("--scenarios", required=True)
    args = ap.parse_args()

    out = [BEGIN, "## Whole server: Junction and Debian's janus side by side (load generator)", ""]
    out += [
        "What: `tests/bench/loadgen` emulates WebRTC peers in one process (the project's own ICE/DTLS/SRTP in "
        "the client role) over the Janus HTTP API, the same client against both servers. Publishers send "
        "synthetic VP8 (30 fps, a keyframe every 3 s, ~110 packets/s of ~1.1 kB) and Opus (50 packets/s, "
        "libopus frames); every packet carries a send timestamp and a per-source sequence number in a "
        "trailer (in the Opus padding, at the end of the VP8 partition). Subscribers check sequence "
        "continuity, loss and latency. Each run starts a fresh server pinned to one core; server CPU is "
        "utime + stime from /proc/<pid>/stat over the measured window; RSS per PeerConnection is (RSS "
        "− RSS before the first PeerConnection) / PeerConnections, taken when every receiver has media "
        "and again after warm-up and the measured window (by then the send-side history kept for NACKs "
        "has filled).",
        "",
        f"Command: `{args.command}` ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {machine()}; shared with other engineers' builds during the run (load average in each "
        "table). Server pinned with `taskset -c 0` (Junction with one media worker; janus with its "
        "defaults: a thread per handle), load generator with `taskset -c 1`, both real-time round-robin "
        "(`chrt -r 20`): under the default scheduler, on a core shared with builds, Junction's one media "
        "worker thread gets one share of the core while janus's hundred threads get a hundred shares, and "
        "the figures measure the scheduler rather than the servers.",
        "",
        "Reading the figures: \"in-server forwarding latency\" is Junction's own histogram "
        "(`junction_forwarding_latency_seconds` on /metrics, read before and after the window): from a "
        "datagram's arrival at its media worker to each packet its handling sends, given as the upper "
        "bound of the bucket holding the quantile; janus has no such figure. "
        "\"forwarding latency\" is measured from the publisher's send to the "
        "subscriber's receive on one monotonic clock, so it includes both clients' SRTP and the "
        "load generator's own queueing on a loaded core, not only the server; when the load generator "
        "is near one full core its delays dominate, and it then also loses packets itself (full socket "
        "buffers): \"packets to send\" (published × subscribers) is what the server had to send "
        "whatever the client managed to receive, and is the denominator of the CPU figures. Loss is per source from the trailer sequence "
        "(server-independent), over the whole run, and split per lost packet and receiver: not sent by the "
        "server (the packet after the hole came with the next RTP sequence number, so RTCP and NACK never "
        "saw it), missed by every receiver of its source (lost before the fan-out; for Junction its own "
        "counters on /metrics then tell the publisher → server leg apart: packets the publishers sent "
        "minus the RTP packets the server accepted, read after the publishers stop), or lost after the "
        "server numbered it; server CPU covers everything the server did in the window (ICE, DTLS "
        "keepalives, RTCP, SRTP both ways, forwarding).",
        "",
    ]
    for name, title in scenario_names(args.scenarios):
        results = {}
        for server in ("junction", "janus"):
            path = os.path.join(args.results, f"{name}-{server}.json")
            if os.path.exists(path):
                with open(path) as f:
                    results[server] = json.loads(f.read())
        out.append(f"### {title}")
        out.append("")
        out += table(results.get("junction"), results.get("janus"))
        for server, r in results.items():
            if "error" in r:
                out.append("")
                out.append(f"{server} did not complete this scenario: {r['error']}")
        out.append("")
    out += audio_capacity(args.results, args.scenarios)
    out.append(END)

    text = open(args.markdown).read() if os.path.exists(args.markdown) else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + "\n".join(out) + tail
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(out) + "\n"
    with open(args.markdown, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
