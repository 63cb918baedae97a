"""Benchmark: lock-step ticks per second of the emulated device over its real link, and QEMU's
startup time.

A tick is one 1 ms sample on each channel (atrial, ventricular, activity). The electrograms are a
sinus rhythm with the ventricle missing: P waves every 800 ms (triangles of 2 mV) on a slow
baseline wander of 1 uV/ms on both channels (so no sample repeats the previous one: about one
byte per sample per channel on the wire). Nominal DDD paces the ventricle once a beat, so TICK
windows (100 samples, early stop) end at a pace about once per 800 ms. Each figure is the median
of a few runs and includes the round trip (encode, link, device, reply, decode) through
firmware_bridge's DeviceClient, the bench's own client.
The last line is one JSON object: host_ticks_per_s, qemu_ticks_per_s, qemu_startup_ms, and the
same rates on a flat baseline (P waves only: a few bytes per window, the link's latency bound).
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time

from firmware_bridge.client import DeviceClient
from firmware_bridge.messages import Tick
from hil.emulator import build_firmware, start_device
from hil.emulator.probe import DEV_KEY

SECONDS = 20
REPEATS = 3
WINDOW = 100


def _wander(k: int, period_ms: int) -> int:
    """Baseline wander: a triangle of +-period/4 uV, slope 1 uV/ms (so it is never flat)."""
    phase = k % period_ms
    half = period_ms // 2
    return (phase if phase < half else period_ms - phase) - period_ms // 4


def signals(n: int, flat: bool = False) -> tuple[list[int], list[int], list[int]]:
    """Sinus P waves every 800 ms on a baseline wander (or a flat baseline); quiet activity."""
    a = [0 if flat else _wander(k, 37) for k in range(n)]
    v = [0 if flat else _wander(k, 53) for k in range(n)]
    shape = [1000, 2000] + [2000 * (13 - j) // 13 for j in range(1, 13)]
    for p in range(400, n - 20, 800):
        for j, x in enumerate(shape):
            a[p + j] = x
    return a, v, [0] * n


def run_lockstep(client: DeviceClient, a: list[int], v: list[int], act: list[int]
                 ) -> tuple[int, int]:
    """Feed the signals through TICK windows of 100 samples with early stop; resend from the
    consumed point after a pace. Returns (round trips, paces)."""
    pos = trips = paces = 0
    n = len(a)
    while pos < n:
        end = min(n, pos + WINDOW)
        ev = client.tick(Tick(1000 * pos, a[pos:end], v[pos:end], act[pos:end], True))
        trips += 1
        paces += sum(1 for e in ev.events if e.kind.name in ("AP", "VP"))
        pos += ev.consumed
    return trips, paces


def ticks_per_s(target: str, flat: bool = False) -> float:
    n = SECONDS * 1000
    a, v, act = signals(n, flat)
    rates = []
    for _ in range(REPEATS):
        with start_device(target) as dev:
            client = DeviceClient.open(dev.url, key=DEV_KEY, timeout_s=5.0)
            try:
                client.connect()
                client.program({"mode": 10})  # DDD, nominal otherwise
                t0 = time.perf_counter()
                trips, paces = run_lockstep(client, a, v, act)
                dt = time.perf_counter() - t0
            finally:
                client.close()
            dev.check()
        label = f"{target}{' (flat baseline)' if flat else ''}"
        print(f"{label}: {n} ticks in {dt:.3f} s = {n / dt:,.0f} ticks/s "
              f"({trips} round trips, {paces} paces)")
        rates.append(n / dt)
    return statistics.median(rates)


def qemu_startup_ms() -> float:
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        with start_device("qemu") as dev:
            client = DeviceClient.open(dev.url, key=DEV_KEY, timeout_s=5.0)
            try:
                client.connect()
                times.append((time.perf_counter() - t0) * 1000.0)
            finally:
                client.close()
    print("qemu startup to first HELLO (ms): " + ", ".join(f"{t:.1f}" for t in times))
    return statistics.median(times)


def main() -> int:
    build_firmware("host")
    out: dict[str, float | None] = {"host_ticks_per_s": round(ticks_per_s("host"))}
    if shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc"):
        build_firmware("qemu")
        out["qemu_ticks_per_s"] = round(ticks_per_s("qemu"))
        out["qemu_startup_ms"] = round(qemu_startup_ms(), 1)
        out["qemu_ticks_per_s_flat_baseline"] = round(ticks_per_s("qemu", flat=True))
    else:
        out["qemu_ticks_per_s"] = None
        out["qemu_startup_ms"] = None
    out["host_ticks_per_s_flat_baseline"] = round(ticks_per_s("host", flat=True))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
