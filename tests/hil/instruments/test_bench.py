"""The emulated bench end to end: the host firmware's paces measured on the emulated scope,
and the bench's lifecycle."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from hil.instruments.bench import open_bench
from hil.instruments.errors import InstrumentConnectionError, InstrumentError
from hil.instruments.interfaces import ChannelSetup


def _vvi(rate_ppm: int, amplitude_mv: int, width_us: int) -> dict[str | int, int]:
    return {"mode": 4, "lower_rate_ppm": rate_ppm, "ventricular_amplitude_mv": amplitude_mv,
            "ventricular_pulse_width_us": width_us}


def test_pace_on_the_scope_has_the_programmed_amplitude_and_width() -> None:
    with open_bench(seed=11) as bench:
        assert bench.programmer is not None
        bench.programmer.program({"mode": 3, "lower_rate_ppm": 120,
                                  "ventricular_amplitude_mv": 2500,
                                  "ventricular_pulse_width_us": 1000})
        bench.scope.configure_timebase(500e3)
        bench.scope.configure_channel(2, ChannelSetup(range_v=8.0))
        bench.scope.configure_trigger(2, 0.5)
        bench.awg.trigger()
        wf = bench.scope.acquire(5000, channel=2, timeout_s=5.0)
        bench.check()
    v, t = wf.volts, wf.times_s()
    # leading edge: the first 20 us after the trigger; the pulse: samples above half of it
    lead = float(np.mean(v[(t > 4e-6) & (t < 24e-6)]))
    assert lead == pytest.approx(2.5, rel=0.12)
    above = t[v > lead / 2]
    assert above[-1] - above[0] == pytest.approx(1.0e-3, abs=0.2e-3)
    # paces come every 500 ms (120 ppm) in record time
    assert wf.record_t0_s is not None
    assert (wf.record_t0_s - wf.t0_s) % 0.5 == pytest.approx(0.0, abs=2e-3)


def _emulator_threads() -> set[str]:
    return {t.name for t in threading.enumerate()
            if t.name.startswith(("scpi-", "analog-device", "analyzer"))}


def test_exception_inside_the_bench_closes_everything() -> None:
    before = _emulator_threads()
    with pytest.raises(RuntimeError, match="boom"), open_bench(analyzer="emulated") as bench:
        assert _emulator_threads() - before  # servers, analyzer and device coupling run
        servers_up = bench.world is not None
        device = bench.device
        awg, scope, analyzer = bench.awg, bench.scope, bench.analyzer
        raise RuntimeError("boom")
    assert servers_up
    assert not awg.io.is_open and not scope.io.is_open
    assert analyzer is not None and analyzer._port is None
    assert device is not None and not device.running()
    assert _emulator_threads() <= before
    with pytest.raises(InstrumentConnectionError):
        from hil.instruments.scope import ScpiDigitizer

        ScpiDigitizer(bench.resources.scope or "", timeout_s=0.5).open()


def test_a_bad_resource_stops_what_was_started() -> None:
    before = _emulator_threads()
    with pytest.raises(InstrumentConnectionError, match=r"TCPIP::127\.0\.0\.1::1::SOCKET"):
        open_bench(scope="TCPIP::127.0.0.1::1::SOCKET", device=None, analyzer="emulated")
    # the emulated AWG's server and the analyzer were started before the scope failed to open;
    # both are gone again
    assert _emulator_threads() <= before


def test_emulated_device_needs_emulated_instruments() -> None:
    with pytest.raises(InstrumentError, match="wired to the emulated AWG and scope"):
        open_bench(awg="TCPIP::127.0.0.1::1::SOCKET")


@pytest.mark.slow
def test_analyzer_demand_test_on_the_firmware() -> None:
    with open_bench(analyzer="emulated", seed=5) as bench:
        assert bench.programmer is not None and bench.analyzer is not None
        bench.programmer.program(_vvi(100, 3000, 500))
        bench.scope.configure_timebase(100e3)
        bench.scope.configure_trigger(2, 1.0)
        bench.awg.trigger()
        bench.scope.acquire(100, channel=2)
        bench.scope.acquire(100, channel=2)  # two paces: the analyzer can measure the rate
        a = bench.analyzer
        assert a.measure_rate_ppm() == pytest.approx(100.0, abs=0.5)
        assert a.measure_amplitude_v() == pytest.approx(3.0, rel=0.12)
        assert a.measure_width_ms() == pytest.approx(0.5, abs=0.2)
        # 4 s: the overdrive stimuli walk out of the refractory period after a pace by
        # 600 - 522 = 78 ms per beat (<= 5 beats), then two periods are judged
        assert a.demand_test(0.85, seconds=4.0) is True
        assert a.demand_test(1.15, seconds=4.0) is False
        bench.check()


def test_drivers_and_bench_satisfy_the_interfaces() -> None:
    # checked by mypy (structural typing) and at run time (method names)
    from hil.instruments.analyzer import LineAnalyzer
    from hil.instruments.awg import ScpiAwg
    from hil.instruments.interfaces import (
        Digitizer,
        PacemakerAnalyzer,
        VisaBench,
        WaveformGenerator,
    )
    from hil.instruments.scope import ScpiDigitizer

    awg: WaveformGenerator = ScpiAwg("TCPIP::127.0.0.1::1::SOCKET")
    scope: Digitizer = ScpiDigitizer("TCPIP::127.0.0.1::1::SOCKET")
    analyzer: PacemakerAnalyzer = LineAnalyzer("/dev/null")
    assert isinstance(awg, WaveformGenerator) and isinstance(scope, Digitizer)
    assert isinstance(analyzer, PacemakerAnalyzer)
    with open_bench(device=None) as bench:
        plug: VisaBench = bench
        assert plug.programmer is None and plug.load_ohm == 500.0
