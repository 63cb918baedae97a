"""Benchmark: SCPI over VISA to the emulated instruments, and the measurement suite's wall time.

The emulated AWG and scope run in their own process (``python -m hil.instruments.emulated``), as
an instrument would; the client is stock pyvisa with the pyvisa-py backend.

- ``scpi_query_us_p50``: one ``*IDN?`` round trip (``ScpiResource.query``), median of the
  per-run medians (goal < 100 us).
- ``waveform_transfer_mb_s``: a 1,000,000-point scope record (int16, 2 MB) transferred with
  ``WAV:PRE?`` + ``WAV:DATA?`` and scaled into a float64 NumPy array (``ScpiDigitizer.transfer``),
  bytes on the wire per second, median of the runs (goal >= 50 MB/s).
- ``measurement_suite_wall_s``: ``hil.measure.suite.run_suite`` on the emulated bench (host
  firmware, VVI nominal) when that module exists (``--no-suite`` skips it); null otherwise.

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from hil.instruments.awg import ScpiAwg
from hil.instruments.scope import ScpiDigitizer
from hil.instruments.scpi import ScpiResource


def idn_round_trips(resource: str, n: int) -> list[float]:
    """``n`` *IDN? round trips, us each."""
    io = ScpiResource(resource, timeout_s=2.0)
    io.open()
    try:
        for _ in range(50):
            io.query("*IDN?")
        out = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            io.query("*IDN?")
            out.append((time.perf_counter_ns() - t0) / 1e3)
        return out
    finally:
        io.close()


def transfer_rates(awg_res: str, scope_res: str, repeats: int) -> list[float]:
    """MB/s of ``repeats`` transfers of a 1M-point record."""
    with ScpiAwg(awg_res) as awg, ScpiDigitizer(scope_res, timeout_s=10.0) as scope:
        scope.configure_timebase(10e6)
        scope.configure_trigger(1, 1.0, auto=True)
        awg.trigger()
        wf = scope.acquire(1_000_000, channel=1, timeout_s=5.0)
        assert wf.n_points == 1_000_000
        out = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            wf = scope.transfer(1)
            dt = time.perf_counter() - t0
            out.append(2 * wf.n_points / dt / 1e6)
        return out


def suite_wall_s() -> float | None:
    """Wall time of the measurement suite on the emulated bench, or None without the suite."""
    try:
        from hil.measure.suite import run_suite
    except ImportError:
        return None
    from devicetwin.pacemaker import Mode, Programming
    from hil.instruments.bench import open_bench

    t0 = time.perf_counter()
    with open_bench(seed=1) as bench:
        run_suite(bench, Programming.nominal(Mode.VVI))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-suite", action="store_true")
    args = ap.parse_args()
    proc = subprocess.Popen([sys.executable, "-m", "hil.instruments.emulated"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        res = json.loads(proc.stdout.readline())
        p50s = [statistics.median(idn_round_trips(res["awg"], 2000))
                for _ in range(args.repeats)]
        rates = transfer_rates(res["awg"], res["scope"], args.repeats)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=10)
    idn = statistics.median(p50s)
    rate = statistics.median(rates)
    print(f"*IDN? round trip p50 {idn:.1f} us (runs: {', '.join(f'{p:.1f}' for p in p50s)})")
    print(f"1M-point capture transfer {rate:.1f} MB/s (runs: "
          f"{', '.join(f'{r:.1f}' for r in rates)})")
    wall = None if args.no_suite else suite_wall_s()
    if wall is not None:
        print(f"measurement suite (VVI, emulated bench): {wall:.1f} s")
    print(json.dumps({"scpi_query_us_p50": round(idn, 1),
                      "waveform_transfer_mb_s": round(rate, 1),
                      "measurement_suite_wall_s": None if wall is None else round(wall, 1)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
