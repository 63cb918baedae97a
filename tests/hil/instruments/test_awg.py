"""The SCPI AWG driver against the emulated AWG."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from hil.instruments.awg import ScpiAwg
from hil.instruments.emulated.awg import EmulatedAwg
from hil.instruments.emulated.world import AnalogWorld
from hil.instruments.errors import InstrumentError, WaveformRangeError
from hil.instruments.interfaces import AwgChannelSetup, SampleFormat, WaveformGenerator

FakeClock = Any  # the conftest fixture's clock (settable .t)


@pytest.fixture
def awg(awg_server: EmulatedAwg) -> Iterator[ScpiAwg]:
    with ScpiAwg(awg_server.resource, timeout_s=2.0) as drv:
        yield drv


def test_is_a_waveform_generator(awg: ScpiAwg) -> None:
    assert isinstance(awg, WaveformGenerator)
    assert awg.identify().startswith("devicetwin,EmulatedAWG")


def test_configure_reads_back(awg: ScpiAwg, world: AnalogWorld) -> None:
    awg.configure_channel(2, AwgChannelSetup(sample_rate_hz=4000, amplitude_vpp=0.5,
                                             offset_v=0.1, load_ohm=50))
    assert float(awg.io.query("SOUR2:FUNC:ARB:SRAT?")) == 4000
    assert float(awg.io.query("SOUR2:VOLT?")) == 0.5
    assert float(awg.io.query("SOUR2:VOLT:OFFS?")) == 0.1
    assert float(awg.io.query("OUTP2:LOAD?")) == 50
    assert world.awg[2].amplitude_vpp == 0.5
    awg.output(2, True)
    assert awg.io.query("OUTP2?") == "1"


@pytest.mark.parametrize("fmt", [SampleFormat.FLOAT32, SampleFormat.INT16])
def test_binary_waveform_transfer(awg: ScpiAwg, world: AnalogWorld, fmt: SampleFormat) -> None:
    awg.configure_channel(1, AwgChannelSetup(sample_rate_hz=1000, amplitude_vpp=2.0,
                                             offset_v=1.0))
    volts = np.linspace(0.0, 2.0, 4001)  # the whole window 0..2 V
    awg.load_waveform(1, volts, fmt)
    expected = volts - 1.0  # normalised: (v - offset) / (Vpp / 2)
    step = 1 / 32767 if fmt is SampleFormat.INT16 else 1e-7
    assert world.awg[1].arb.shape == (4001,)
    assert np.max(np.abs(world.awg[1].arb - expected)) <= step


def test_bad_command_quotes_the_instrument_error(awg: ScpiAwg) -> None:
    with pytest.raises(InstrumentError) as info:
        awg.send("SOUR1:FROB 3")
    assert '-113,"Undefined header' in str(info.value)
    assert "SOUR1:FROB 3" in str(info.value)
    awg.check_errors()  # the queue was drained


def test_out_of_range_setting_is_reported(awg: ScpiAwg) -> None:
    with pytest.raises(InstrumentError, match=r"-222,\"Data out of range; VOLT 50"):
        awg.configure_channel(1, AwgChannelSetup(amplitude_vpp=50.0))


def test_error_queue_is_bounded_and_in_order(awg: ScpiAwg) -> None:
    for i in range(40):
        awg.io.write(f"NOPE{i}")
    errs = awg.io.errors()
    assert len(errs) == 32
    assert errs[0] == (-113, "Undefined header; NOPE0")
    assert errs[-1] == (-350, "Queue overflow")
    assert awg.io.query("SYST:ERR?") == '0,"No error"'


def test_samples_outside_the_window_are_refused(awg: ScpiAwg) -> None:
    awg.configure_channel(1, AwgChannelSetup(amplitude_vpp=0.02))
    with pytest.raises(WaveformRangeError, match=r"sample 0\.5"):
        awg.load_waveform(1, np.array([0.0, 0.5]))


def test_streamed_segments_queue_and_play(awg: ScpiAwg, world: AnalogWorld,
                                          clock: FakeClock) -> None:
    awg.configure_channel(1, AwgChannelSetup(sample_rate_hz=1000, amplitude_vpp=0.02))
    awg.output(1, True)
    awg.append_segment(1, np.full(100, 0.005))
    awg.append_segment(1, np.full(100, -0.005))
    awg.trigger()
    assert awg.queued_s(1) == pytest.approx(0.2)
    clock.t += 0.05
    assert awg.position_s(1) == pytest.approx(0.05)
    assert awg.queued_s(1) == pytest.approx(0.15)
    # what the device's 1 kHz input gets: sample k at k ms
    got = world.awg[1].take(95, 10, 1000.0)
    assert got == pytest.approx([0.005] * 5 + [-0.005] * 5)


def test_looped_waveform_resampled_to_1khz(world: AnalogWorld) -> None:
    ch = world.awg[1]
    ch.sample_rate_hz, ch.amplitude_vpp, ch.output = 4000.0, 2.0, True
    ch.arb = (np.arange(8) / 8).astype(np.float32)  # 2 ms at 4 kHz, looped
    # 1 kHz sample k is at input index 4k (mod 8): 0, 4/8, 0, 4/8
    assert ch.take(0, 4, 1000.0) == pytest.approx([0.0, 0.5, 0.0, 0.5])


def test_reset_restores_defaults(awg: ScpiAwg, world: AnalogWorld) -> None:
    awg.configure_channel(1, AwgChannelSetup(amplitude_vpp=1.0))
    awg.reset()
    assert float(awg.io.query("SOUR1:VOLT?")) == 2.0
    assert world.trigger_wall is None
