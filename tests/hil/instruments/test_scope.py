"""The SCPI digitizer driver against the emulated scope (record clock moved by the test)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from hil.instruments.emulated.scope import EmulatedScope
from hil.instruments.emulated.world import AnalogWorld
from hil.instruments.errors import AcquisitionTimeoutError, InstrumentError
from hil.instruments.interfaces import ChannelSetup, Coupling, Digitizer, Slope
from hil.instruments.scope import ScpiDigitizer

FakeClock = Any  # the conftest fixture's clock (settable .t)


@pytest.fixture
def scope(scope_server: EmulatedScope) -> Iterator[ScpiDigitizer]:
    with ScpiDigitizer(scope_server.resource, timeout_s=2.0) as drv:
        yield drv


def test_is_a_digitizer(scope: ScpiDigitizer) -> None:
    assert isinstance(scope, Digitizer)
    assert "EmulatedScope" in scope.identify()


def test_channel_setup_reads_back(scope: ScpiDigitizer) -> None:
    scope.configure_channel(2, ChannelSetup(range_v=8.0, offset_v=1.0, coupling=Coupling.AC,
                                            impedance_ohm=50))
    assert float(scope.io.query("CHAN2:SCAL?")) == 0.8
    assert float(scope.io.query("CHAN2:OFFS?")) == 1.0
    assert scope.io.query("CHAN2:COUP?") == "AC"
    scope.configure_trigger(2, 0.3, Slope.FALLING)
    assert scope.io.query("TRIG:SOUR?") == "CHAN2"
    assert scope.io.query("TRIG:SLOP?") == "NEG"


def test_acquire_finds_the_pulse(scope: ScpiDigitizer, world: AnalogWorld,
                                 clock: FakeClock) -> None:
    world.trigger()
    world.add_pace(2, 0.050, 5.0, 0.5e-3)
    clock.t += 0.03  # armed at record time 0.018, before the pulse
    scope.configure_timebase(1e6)
    scope.configure_channel(2, ChannelSetup(range_v=12.0))
    scope.configure_trigger(2, 1.0)
    scope.io.write("ACQ:POIN 10000")
    scope.io.write("SING")
    assert float(scope.io.query("ACQ:TIME?")) == pytest.approx(0.018)  # armed (in order)
    clock.t += 1.0
    assert scope.io.query("*OPC?") == "1"
    wf = scope.transfer(2)
    # 10 % pre-trigger: the trigger sample is number 1000, t = 0
    assert wf.n_points == 10_000
    assert wf.t0_s == pytest.approx(-1e-3)
    assert wf.dt_s == pytest.approx(1e-6)
    assert wf.record_t0_s == pytest.approx(0.050 - 1e-3, abs=2e-6)
    assert wf.resolution_v == pytest.approx(12.0 / 65536)
    # amplitude and width by threshold arithmetic (1 % amplitude noise, 2 us width jitter)
    lead = wf.volts[(wf.times_s() > 10e-6) & (wf.times_s() < 20e-6)].mean()
    assert lead == pytest.approx(5.0 * math.exp(-15e-6 / 5e-3), rel=0.04)
    above = wf.times_s()[wf.volts > lead / 2]
    assert above[-1] - above[0] == pytest.approx(0.5e-3, abs=20e-6)
    # recharge: negative after the pulse
    assert wf.volts[(wf.times_s() > 0.6e-3) & (wf.times_s() < 1e-3)].max() < -0.2


def test_scaling_matches_the_analog_signal(scope: ScpiDigitizer, world: AnalogWorld,
                                           clock: FakeClock) -> None:
    world.trigger()
    world.add_pace(1, 0.010, 3.0, 0.4e-3)
    clock.t += 0.5
    scope.configure_timebase(200e3)
    scope.configure_channel(1, ChannelSetup(range_v=8.0, offset_v=0.5))
    wf = scope.fetch(2000, channel=1, start_s=0.009)
    analog = world.render(1, 0.009, 2000, 200e3)
    # quantised to 8 V / 65536 codes around the 0.5 V offset
    assert np.max(np.abs(wf.volts - analog)) <= wf.resolution_v / 2 + 1e-12
    assert wf.record_t0_s == pytest.approx(0.009)


def test_fetch_beyond_the_record_is_an_error(scope: ScpiDigitizer, world: AnalogWorld,
                                             clock: FakeClock) -> None:
    world.trigger()
    clock.t += 0.1
    scope.send("ACQ:TOUT 0.05")
    with pytest.raises(InstrumentError, match="-221"):
        scope.fetch(1000, channel=1, start_s=0.5)


def test_no_trigger_times_out_with_the_instrument_error(scope: ScpiDigitizer,
                                                        world: AnalogWorld) -> None:
    world.trigger()
    scope.configure_trigger(1, 1.0)
    with pytest.raises(AcquisitionTimeoutError, match="-214"):
        scope.acquire(100, channel=1, timeout_s=0.05)


def test_bad_setting_quotes_command_and_error(scope: ScpiDigitizer) -> None:
    with pytest.raises(InstrumentError) as info:
        scope.configure_trigger(1, 0.5, Slope.RISING)
        scope.send("TRIG:SLOP SIDEWAYS")
    assert "TRIG:SLOP SIDEWAYS" in str(info.value)
    assert '-224,"Illegal parameter value' in str(info.value)


def test_big_capture_transfers_every_point(scope: ScpiDigitizer, world: AnalogWorld,
                                           clock: FakeClock) -> None:
    world.trigger()
    clock.t += 2.0
    scope.configure_timebase(1e6)
    wf = scope.fetch(1_000_000, channel=1, start_s=0.5)
    assert wf.n_points == 1_000_000
    noise = world.model.baseline_noise_v
    assert float(np.std(wf.volts)) == pytest.approx(noise, rel=0.05)


def test_unanswered_query_reports_the_instruments_reason(scope_server: EmulatedScope) -> None:
    with ScpiDigitizer(scope_server.resource, timeout_s=0.2) as drv:
        with pytest.raises(InstrumentError, match=r"-230,\"Data corrupt or stale; no acq"):
            drv.io.query("WAV:PRE?")  # nothing acquired yet: the scope does not answer
        assert drv.identify().startswith("devicetwin")  # and the link is still in step
