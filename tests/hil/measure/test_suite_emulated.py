"""The measurement suite, unchanged, against the emulated VISA bench (SCPI servers on loopback,
the emulated analog device, the host firmware) in real time, and against seeded-fault firmware.

Point checks instead of full searches keep each test a few seconds of real time; the full
searches run on the simulated bench (test_suite.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devicetwin.conformance import judge
from devicetwin.pacemaker import Mode, Programming
from hil.instruments.bench import Bench, open_bench
from hil.measure.suite import (
    SuiteSettings,
    escape_interval,
    pacing_output,
    probe_inhibits,
    program,
    setup_bench,
    train_inhibits,
)

VVI = Programming(mode=Mode.VVI, lower_rate_ppm=100)
CFG = SuiteSettings()
V = 2


def _open(fault: str | None = None) -> Bench:
    bench = open_bench(fault=fault, seed=3)
    setup_bench(bench, CFG)
    program(bench, VVI)
    return bench


@pytest.fixture(scope="module")
def bench() -> Iterator[Bench]:
    with _open() as b:
        yield b


@pytest.mark.slow
def test_output_and_escape_match_the_programming(bench: Bench) -> None:
    ms = pacing_output(bench, VVI, CFG) + escape_interval(bench, VVI, CFG)
    assert all(judge(m).passed for m in ms), [judge(m).sentence for m in ms]
    val = {m.name: m.value for m in ms}
    assert val["ventricular.pacing_interval_ms"] == pytest.approx(600.0, abs=1.0)
    assert val["ventricular.pulse_amplitude_v"] == pytest.approx(3.5, rel=0.05)
    assert val["ventricular.pulse_width_ms"] == pytest.approx(0.4, abs=0.05)


@pytest.mark.slow
def test_sensitivity_brackets_the_a16_threshold(bench: Bench) -> None:
    # detected from 32/31 * 2.5 = 2.58 mV; 10 % either side inhibits / does not.
    assert train_inhibits(bench, VVI, V, 2.84, 1, CFG)
    assert not train_inhibits(bench, VVI, V, 2.32, 1, CFG)
    assert train_inhibits(bench, VVI, V, 2.84, -1, CFG)


@pytest.mark.slow
def test_sensed_refractory_probe_and_its_seeded_fault(bench: Bench) -> None:
    # A probe 40 ms inside the VRP (320 ms) after a sensed pulse is ignored by the firmware ...
    res = probe_inhibits(bench, VVI, V, 280.0, False, CFG)
    assert res is not None and res[0] is False
    # ... and restarts the timing with REFRACTORY_SENSE_INHIBITS.
    with _open("REFRACTORY_SENSE_INHIBITS") as faulty:
        res = probe_inhibits(faulty, VVI, V, 280.0, False, CFG)
    assert res is not None and res[0] is True


@pytest.mark.slow
def test_escape_interval_detects_lrl_not_reset_by_sense() -> None:
    with _open("LRL_NOT_RESET_BY_SENSE") as faulty:
        ms = escape_interval(faulty, VVI, CFG)
    assert not judge(ms[0]).passed, judge(ms[0]).sentence
