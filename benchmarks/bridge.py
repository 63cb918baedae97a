"""Benchmark: the bridge codec's speed and the round trip over a pseudo-terminal.

- ``frames_per_s``: encode + decode of one 10 ms TICK window in Python (the compiled fast path
  when built): atrial and ventricular electrograms (a P wave and a QRS-like triangle with a
  little noise, int16 microvolts) and a zero activity channel.
- ``roundtrip_us_p50`` / ``roundtrip_us_p99``: one TICK frame written to a pty, answered by the C
  echo peer (``firmware_bridge/c/tools/fb_peer.c``, -O2, no sanitizers) with an EVENTS frame,
  read back and decoded, measured with ``time.perf_counter_ns`` through the pyserial link.
- ``raw_pty_echo_us_p50``: the floor under that: the same TICK bytes written with ``os.write`` to
  a pty whose peer, a bare C byte echo (``firmware_bridge/c/tools/fb_echo.c``, -O2), writes them
  back, read back with ``os.read`` (no link, no codec; both peers are C with the same flags).
  ``roundtrip_vs_raw_pty`` is ``roundtrip_us_p50`` over it, the median of the per-run ratios.
- ``client_tick_us_p50``: the same through ``DeviceClient.tick`` (full request machinery).

Pty latency depends on what else the machine does (a busy core wakes faster than an idle one),
so each run measures the floor, the link and the client one after the other and the ratio is
taken per run. Each figure is the median of a few repeated runs; the last line is one JSON
object.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time

from firmware_bridge import cbuild, protocol
from firmware_bridge.client import DeviceClient
from firmware_bridge.framing import HAVE_FAST
from firmware_bridge.links import open_link
from firmware_bridge.messages import Tick
from firmware_bridge.serve import ProcessOnPty


def window(k: int) -> Tick:
    """The k-th 10 ms window of a synthetic two-channel electrogram."""
    a = tuple(int(800 * math.exp(-((i + 10 * k) % 800 - 40) ** 2 / 200)) + (i * 7 + k) % 5 - 2
              for i in range(10))
    v = tuple(max(0, 6000 - 600 * abs((i + 10 * k) % 800 - 200)) + (i * 3 + k) % 5 - 2
              for i in range(10))
    return Tick(10_000 * k, a, v, (0,) * 10)


def frames_per_s(n: int = 30_000) -> float:
    """Encode + decode ``n`` windows; frames per second."""
    windows = [window(k) for k in range(200)]
    t0 = time.perf_counter()
    for i in range(n):
        w = windows[i % 200]
        frame = protocol.decode(protocol.encode(w, i & 0xFFFF))
    dt = time.perf_counter() - t0
    assert frame.message == windows[(n - 1) % 200]
    return n / dt


def raw_echo_roundtrips(path: str, n: int = 3000) -> list[float]:
    """Round-trip times in microseconds of the TICK bytes through a bare pty echo."""
    wires = [protocol.encode(window(k), k) for k in range(200)]
    out = []
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    try:
        for i in range(n):
            wire = wires[i % 200]
            t0 = time.perf_counter_ns()
            os.write(fd, wire)
            got = os.read(fd, 4096)
            while len(got) < len(wire):
                got += os.read(fd, 4096)
            out.append((time.perf_counter_ns() - t0) / 1000)
            assert got == wire
    finally:
        os.close(fd)
    return out


def link_roundtrips(url: str, n: int = 3000) -> list[float]:
    """Round-trip times in microseconds of TICK -> EVENTS over ``url``."""
    out = []
    windows = [window(k) for k in range(200)]
    with open_link(url, timeout_s=1.0) as link:
        dec = protocol.FrameDecoder()
        for i in range(n):
            w = windows[i % 200]
            t0 = time.perf_counter_ns()
            link.write(protocol.encode(w, i & 0xFFFF))
            frames: list[protocol.Frame] = []
            while not frames:
                data = link.read()
                if not data:
                    raise RuntimeError("echo peer did not answer")
                frames = dec.feed(data)
            out.append((time.perf_counter_ns() - t0) / 1000)
            assert frames[0].seq == i & 0xFFFF
    return out


def client_ticks(url: str, n: int = 2000) -> list[float]:
    """``DeviceClient.tick`` times in microseconds."""
    out = []
    windows = [window(k) for k in range(200)]
    with DeviceClient.open(url, timeout_s=1.0) as client:
        client.connect()
        for i in range(n):
            t0 = time.perf_counter_ns()
            client.tick(windows[i % 200])
            out.append((time.perf_counter_ns() - t0) / 1000)
    return out


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))]


def main() -> None:
    """Run, print medians, and the JSON line."""
    repeats = 5
    fps = statistics.median(frames_per_s() for _ in range(repeats))
    print(f"codec: {fps:,.0f} TICK frames/s encode+decode (compiled kernels: {HAVE_FAST})")
    exe = cbuild.build_peer(sanitize=False, opt="-O2")
    echo_exe = cbuild.build_echo(opt="-O2")
    raw50, p50s, p99s, client50, ratios = [], [], [], [], []
    with ProcessOnPty([str(exe)]) as peer, \
            ProcessOnPty([str(echo_exe)]) as echo:
        raw_echo_roundtrips(echo.url, 300)  # warm-up
        link_roundtrips(peer.url, 300)
        for _ in range(repeats):
            raw50.append(percentile(raw_echo_roundtrips(echo.url), 50))
            rt = link_roundtrips(peer.url)
            p50s.append(percentile(rt, 50))
            p99s.append(percentile(rt, 99))
            client50.append(percentile(client_ticks(peer.url), 50))
            ratios.append(p50s[-1] / raw50[-1])
    raw, p50, p99, c50, ratio = (statistics.median(x)
                                 for x in (raw50, p50s, p99s, client50, ratios))
    print(f"bare pty echo of the same bytes: p50 {raw:.1f} us")
    print(f"pty round trip to the C echo peer: p50 {p50:.1f} us ({ratio:.2f} x the bare echo), "
          f"p99 {p99:.1f} us; DeviceClient.tick p50 {c50:.1f} us")
    print(json.dumps({"frames_per_s": round(fps), "roundtrip_us_p50": round(p50, 1),
                      "roundtrip_us_p99": round(p99, 1), "client_tick_us_p50": round(c50, 1),
                      "raw_pty_echo_us_p50": round(raw, 1),
                      "roundtrip_vs_raw_pty": round(ratio, 2), "compiled": HAVE_FAST}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
