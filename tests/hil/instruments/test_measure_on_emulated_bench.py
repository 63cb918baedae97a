"""The measurement suite's pacing-output test (hil.measure, a colleague's) over the emulated
VISA bench: drivers, emulated instruments, analog device and host firmware in one path."""

from __future__ import annotations

import pytest

from devicetwin.pacemaker import Mode, Programming
from hil.instruments.bench import open_bench
from hil.measure.suite import SuiteSettings, pacing_output, program, setup_bench


@pytest.mark.slow
def test_pacing_output_measured_through_the_instruments() -> None:
    prog = Programming.nominal(Mode.VVI).replace(ventricular_amplitude_v=5.0,
                                                 ventricular_pulse_width_ms=1.0)
    with open_bench(seed=2) as bench:
        cfg = SuiteSettings()
        setup_bench(bench, cfg)
        program(bench, prog)
        got = {m.name: m.value for m in pacing_output(bench, prog, cfg)}
        bench.check()
    # the programming, independently: 60 ppm, 5.0 V, 1.0 ms into 500 ohm
    assert got["ventricular.pacing_interval_ms"] == pytest.approx(1000.0, abs=8.0)
    assert got["ventricular.pulse_amplitude_v"] == pytest.approx(5.0, rel=0.12)
    assert got["ventricular.pulse_width_ms"] == pytest.approx(1.0, abs=0.2)
    # droop with tau = 500 ohm x 10 uF = 5 ms: the trailing edge is 5 exp(-1/5) = 4.09 V
    assert got["ventricular.pulse_trailing_edge_v"] == pytest.approx(4.09, rel=0.05)
