"""Cross-check: the C firmware and the Python reference model on the same electrograms.

Two independent implementations of docs/assumptions.md. Each scenario programs both the same way,
feeds both the same 1 kHz samples (the firmware over its real link in TICK windows, the model
through its own front end), and compares the marker streams event for event. A disagreement is
reported with its time, both markers, and the rule the scenario exercises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from firmware_bridge.messages import Ack, Event, Program
from firmware_bridge.wire import ParamId
from hil.emulator import start_device
from hil.emulator.probe import ProbeClient

pacemaker = pytest.importorskip("devicetwin.pacemaker")

# Model wire names that the bridge's ParamId spells with the wire unit.
_RENAME = {
    "atrial_amplitude_v": "atrial_amplitude_mv",
    "ventricular_amplitude_v": "ventricular_amplitude_mv",
    "atrial_pulse_width_ms": "atrial_pulse_width_us",
    "ventricular_pulse_width_ms": "ventricular_pulse_width_us",
    "atrial_sensitivity_mv": "atrial_sensitivity_uv",
    "ventricular_sensitivity_mv": "ventricular_sensitivity_uv",
}


def wire_program(prog: object) -> Program:
    values: dict[str, int] = prog.to_wire_units()  # type: ignore[attr-defined]
    return Program(tuple((int(ParamId.by_name(_RENAME.get(k, k))), int(v))
                         for k, v in values.items()))


def triangle(sig: np.ndarray, start: int, peak_uv: int) -> None:
    shape = [peak_uv // 2, peak_uv] + [peak_uv * (13 - k) // 13 for k in range(1, 13)]
    for k, v in enumerate(shape):
        if 0 <= start + k < len(sig):
            sig[start + k] = v


@dataclass
class Scenario:
    name: str
    rule: str
    mode: str
    duration_ms: int
    changes: dict[str, object] = field(default_factory=dict)
    build: Callable[[np.ndarray, np.ndarray, np.ndarray], None] = lambda a, v, x: None


def _sinus(pp: int, pr: int | None, first: int = 400, stop: int | None = None
           ) -> Callable[..., None]:
    def build(a: np.ndarray, v: np.ndarray, x: np.ndarray) -> None:
        for p in range(first, (stop or len(a)) - 20, pp):
            triangle(a, p, 2000)
            if pr is not None:
                triangle(v, p + pr, 8000)
    return build


def _pvcs(a: np.ndarray, v: np.ndarray, x: np.ndarray) -> None:
    _sinus(800, 120)(a, v, x)
    for t in (2700, 3300, 6100):
        triangle(v, t, 8000)


def _crosstalk(a: np.ndarray, v: np.ndarray, x: np.ndarray) -> None:
    for t in range(850 + 60, len(v) - 20, 1000):
        triangle(v, t, 8000)


def _noise(a: np.ndarray, v: np.ndarray, x: np.ndarray) -> None:
    _sinus(800, 120)(a, v, x)
    for t in range(3000, 4500, 60):
        triangle(v, t, 6000)


def _exercise(a: np.ndarray, v: np.ndarray, x: np.ndarray) -> None:
    n = len(x)
    k = np.arange(n)
    x[:] = np.where((k > 2000) & (k < 14000), 200 * np.sign(np.sin(k / 7.0)), 0).astype(np.int16)


def _flutter(a: np.ndarray, v: np.ndarray, x: np.ndarray) -> None:
    for p in range(400, 3000, 800):
        triangle(a, p, 2000)
    for p in range(3000, 9000, 180):
        triangle(a, p, 2000)
    for p in range(9000, len(a) - 20, 800):
        triangle(a, p, 2000)


def _retro(a: np.ndarray, v: np.ndarray, x: np.ndarray) -> None:
    _sinus(900, 120, 400)(a, v, x)


def _pmt(a: np.ndarray, v: np.ndarray, x: np.ndarray) -> None:
    """P at 400 tracked (VP 550); then 'retrograde' P waves 260 ms after each VP held at the URL:
    810, 1310, 1810, ... (a VP->AS interval of 260 ms, stable: A-14 arms after 8)."""
    triangle(a, 400, 2000)
    for p in range(810, len(a) - 20, 500):
        triangle(a, p, 2000)


SCENARIOS = [
    Scenario("ddd_sinus", "A-3 tracking, inhibition", "DDD", 10_000, build=_sinus(800, 120)),
    Scenario("ddd_av_block", "A-3 SAV", "DDD", 10_000, build=_sinus(800, None)),
    Scenario("ddd_quiet", "A-2 escape", "DDD", 5_000),
    Scenario("ddd_wenckebach", "A-3 URL, PVARP", "DDD", 10_000, build=_sinus(470, None)),
    Scenario("ddd_2to1", "A-3 2:1 block", "DDD", 6_000, build=_sinus(390, None)),
    Scenario("ddd_pvc_ext", "A-6 PVC, PVARP extension", "DDD", 8_000,
             {"pvarp_extension_ms": 150}, _pvcs),
    Scenario("ddd_crosstalk", "A-7 safety pacing", "DDD", 5_000, build=_crosstalk),
    Scenario("ddd_noise", "A-11 noise reversion", "DDD", 6_000, build=_noise),
    Scenario("vvi_sinus_hyst", "A-9 hysteresis", "VVI", 8_000, {"hysteresis_rate_ppm": 50},
             _sinus(900, 120, stop=4000)),
    Scenario("ddd_hyst", "A-9 hysteresis (dual)", "DDD", 8_000, {"hysteresis_rate_ppm": 50},
             _sinus(900, 120, stop=4000)),
    Scenario("vvi_smoothing", "A-10 rate smoothing", "VVI", 8_000, {"rate_smoothing_pct": 9},
             _sinus(600, 120, 300, stop=4000)),
    Scenario("ddd_smoothing", "A-10 rate smoothing (dual)", "DDD", 8_000,
             {"rate_smoothing_pct": 12}, _sinus(600, None, 300, stop=4000)),
    Scenario("aai_sinus", "A-2 atrial timing, ARP", "AAI", 6_000,
             build=_sinus(900, None, stop=3000)),
    Scenario("ddd_pmt", "A-14 PMT termination", "DDD", 10_000, build=_pmt),
    Scenario("ddd_atrial_timing", "A-2 atrial-based timing", "DDD", 8_000,
             {"lower_rate_timing": pacemaker.LowerRateTiming.ATRIAL},
             _sinus(900, 120, stop=4000)),
    Scenario("vvt_trigger", "A-8 triggered pacing", "VVT", 6_000, build=_sinus(700, 120)),
    Scenario("dddr_exercise", "A-12 rate adaptation", "DDDR", 16_000, build=_exercise),
    Scenario("ddd_atr", "A-13 ATR", "DDD", 20_000,
             {"atr_mode": True, "atr_duration_cycles": 10}, _flutter),
    Scenario("ddd_dynamic_av", "A-4 dynamic AV", "DDD", 8_000, {"dynamic_av_delay": True},
             _sinus(700, None)),
    Scenario("vdd_sinus", "A-2/A-21 VDD", "VDD", 8_000, build=_retro),
]


def _firmware(s: Scenario, prog: object, a: np.ndarray, v: np.ndarray,
              x: np.ndarray) -> list[Event]:
    with start_device("host") as dev, ProbeClient(dev.url) as c:
        c.hello()
        reply = c.command(wire_program(prog))
        assert isinstance(reply, Ack), f"{s.name}: firmware refused the programming: {reply}"
        return list(c.run(a.tolist(), v.tolist(), x.tolist()).events)


def _key(e: object) -> tuple[int, str, str, int, int, int]:
    if isinstance(e, Event):
        return (e.t_us, e.chamber.name, e.kind.name, int(e.flags), e.amplitude_mv, e.width_us)
    t = e  # MarkerEvent
    return (t.t_us, t.chamber.name, t.kind.name, int(t.flags),  # type: ignore[attr-defined]
            t.amplitude_mv or 0, t.width_us or 0)  # type: ignore[attr-defined]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_firmware_agrees_with_reference_model(scenario: Scenario) -> None:
    mode = pacemaker.Mode[scenario.mode]
    prog = pacemaker.Programming.nominal(mode, **scenario.changes)
    n = scenario.duration_ms
    a = np.zeros(n, np.int16)
    v = np.zeros(n, np.int16)
    x = np.zeros(n, np.int16)
    scenario.build(a, v, x)
    model = pacemaker.PacemakerModel(prog)
    # The model may run its timers to an activity epoch's end just after the block; compare the
    # markers inside the samples both were given.
    end_us = 1000 * n
    predicted = [_key(m) for m in model.process_samples(0, a, v, x) if m.t_us < end_us]
    got = [_key(e) for e in _firmware(scenario, prog, a, v, x) if e.t_us < end_us]
    assert got, f"{scenario.name}: no markers at all"
    if got != predicted:
        i = next((k for k, (g, p) in enumerate(zip(got, predicted, strict=False)) if g != p),
                 min(len(got), len(predicted)))
        fw = got[i] if i < len(got) else None
        md = predicted[i] if i < len(predicted) else None
        pytest.fail(f"{scenario.name} ({scenario.rule}): first disagreement at marker #{i}: "
                    f"firmware {fw} vs model {md}; context firmware {got[max(0, i - 2):i + 3]} "
                    f"model {predicted[max(0, i - 2):i + 3]}")
