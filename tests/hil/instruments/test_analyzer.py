"""The line analyzer driver against the emulated analyzer on a pty."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hil.instruments.analyzer import LineAnalyzer
from hil.instruments.emulated.analyzer import EmulatedAnalyzer, triangle_uv
from hil.instruments.emulated.world import AnalogWorld
from hil.instruments.errors import AnalyzerError
from hil.instruments.interfaces import PacemakerAnalyzer

FakeClock = Any  # the conftest fixture's clock (settable .t)


@pytest.fixture
def analyzer(world: AnalogWorld) -> Iterator[LineAnalyzer]:
    with EmulatedAnalyzer(world) as emu, LineAnalyzer(emu.url, timeout_s=2.0) as drv:
        yield drv


def test_identity_and_load(analyzer: LineAnalyzer) -> None:
    assert isinstance(analyzer, PacemakerAnalyzer)
    assert analyzer.identify().startswith("devicetwin,EmulatedAnalyzer")
    analyzer.set_load_ohm(1000)
    assert analyzer.command("LOAD?") == "LOAD=1000"


def test_errors_quote_the_reply(analyzer: LineAnalyzer) -> None:
    with pytest.raises(AnalyzerError, match=r"ERR LOAD=5 outside 250\.\.2000 ohm"):
        analyzer.set_load_ohm(5)
    with pytest.raises(AnalyzerError, match=r"unknown command 'FOO\?'"):
        analyzer.command("FOO?")
    with pytest.raises(AnalyzerError, match="fewer than 2 pulses"):
        analyzer.measure_rate_ppm()


def test_measures_pulses(analyzer: LineAnalyzer, world: AnalogWorld, clock: FakeClock) -> None:
    world.trigger()
    # A at 0.1 + 0.8 k s, V 160 ms later: 75 ppm, AV 160 ms
    for k in range(5):
        world.add_pace(1, 0.1 + 0.8 * k, 2.5, 0.4e-3)
        world.add_pace(2, 0.26 + 0.8 * k, 4.0, 1.0e-3)
    clock.t += 4.0
    assert analyzer.measure_rate_ppm() == pytest.approx(75.0, abs=0.01)
    assert analyzer.measure_interval_ms() == pytest.approx(800.0, abs=0.01)
    assert analyzer.measure_av_interval_ms() == pytest.approx(160.0, abs=0.01)
    assert analyzer.measure_amplitude_v() == pytest.approx(4.0, rel=0.05)
    assert analyzer.measure_width_ms() == pytest.approx(1.0, abs=0.02)
    analyzer.select_chamber("A")
    assert analyzer.measure_amplitude_v() == pytest.approx(2.5, rel=0.05)


def test_demand_without_device_is_refused(analyzer: LineAnalyzer, world: AnalogWorld,
                                          clock: FakeClock) -> None:
    world.trigger()
    for k in range(3):
        world.add_pace(2, 0.1 + k, 3.0, 0.4e-3)
    clock.t += 3.0
    with pytest.raises(AnalyzerError, match="needs the emulated device"):
        analyzer.demand_test(0.85)


def test_triangle_test_pulse() -> None:
    import numpy as np

    y = triangle_uv(np.array([-1.0, 0.0, 1.0, 2.0, 8.5, 15.0]), 1000.0)
    assert y.tolist() == pytest.approx([0.0, 0.0, 500.0, 1000.0, 500.0, 0.0])
