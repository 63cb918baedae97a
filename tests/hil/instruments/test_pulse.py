"""The pulse model's arithmetic, checked by hand."""

from __future__ import annotations

import math

import numpy as np

from hil.instruments.emulated.pulse import Pulse, PulseModel, add_pulse


def test_tau_is_rc() -> None:
    m = PulseModel(load_ohm=500.0, coupling_uf=10.0)
    assert math.isclose(m.tau_s, 5e-3)
    assert math.isclose(PulseModel(recharge_ohm=500.0).recharge_tau_s, 10e-3)


def test_shape_leading_droop_trailing_recharge() -> None:
    m = PulseModel()
    fs = 1e6
    out = np.zeros(20_000)
    add_pulse(out, 0.0, 1 / fs, Pulse(1e-3, 1, 5.0, 0.5e-3), m)
    assert out[:1000].max() == 0.0  # nothing before the pulse
    # just after the leading edge (5 us ramp): 5 V less the droop of 10 us
    assert math.isclose(out[1010], 5.0 * math.exp(-10e-6 / 5e-3), rel_tol=1e-9)
    # the end of the pulse: 5 exp(-0.5/5) = 4.524 V
    assert math.isclose(out[1499], 5.0 * math.exp(-499e-6 / 5e-3), rel_tol=1e-9)
    # recharge: opposite polarity, the charge the capacitor took (5 - 4.524 = 0.476 V)
    vr = 5.0 - 5.0 * math.exp(-0.1)
    assert math.isclose(out[1505], -vr, rel_tol=1e-6)
    assert math.isclose(out[1505 + 5000], -vr * math.exp(-1.0), rel_tol=1e-6)
    # width at half amplitude: 0.5 ms within two edge times
    above = np.flatnonzero(out > 2.5)
    assert abs((above[-1] - above[0] + 1) / fs - 0.5e-3) <= 10e-6


def test_the_analog_bench_is_deterministic_with_a_seed() -> None:
    from hil.instruments.emulated.world import AnalogWorld

    def record(seed: int) -> np.ndarray:
        w = AnalogWorld(seed=seed, clock=lambda: 0.0)
        w.trigger()
        for k in range(3):
            w.add_pace(2, 0.1 + 0.5 * k, 3.5, 0.4e-3)
        return w.render(2, 0.0, 150_000, 100e3)

    a, b, c = record(4), record(4), record(5)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # a record is a function of its times: a window inside it renders the same samples
    w = AnalogWorld(seed=4, clock=lambda: 0.0)
    w.trigger()
    for k in range(3):
        w.add_pace(2, 0.1 + 0.5 * k, 3.5, 0.4e-3)
    assert np.allclose(w.render(2, 0.6, 1000, 100e3), a[60_000:61_000], rtol=0, atol=1e-9)
