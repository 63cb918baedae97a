"""Open-loop cross-check of the emulated firmware against the reference model.

Each :class:`Scenario` is a programming plus synthetic electrograms (triangle P and R waves, an
activity signal) that exercises one rule of docs/assumptions.md. :func:`compare` runs the
firmware over its real link (TICK windows) and ``devicetwin.pacemaker.PacemakerModel`` on the
same samples and returns the first disagreement, if any. The emulator's tests use it to show the
two independent implementations agree, and that every seeded fault makes them disagree.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from devicetwin.pacemaker import (
    PARAMETERS,
    LowerRateTiming,
    Mode,
    PacemakerModel,
    Programming,
    ProgrammingError,
)
from firmware_bridge.messages import Ack, Event, Program
from firmware_bridge.wire import ParamId
from hil.emulator.device import start_device
from hil.emulator.probe import ProbeClient

Signal = npt.NDArray[np.int16]
Builder = Callable[[Signal, Signal, Signal], None]
MarkerKey = tuple[int, str, str, int, int, int]

def wire_program(wire_units: dict[str, int]) -> Program:
    """A PROGRAM message from ``Programming.to_wire_units()``."""
    return Program(tuple((int(ParamId.by_name(k)), int(v))
                         for k, v in wire_units.items()))


def triangle(sig: Signal, start_ms: int, peak_uv: int) -> None:
    """Add a 2 ms rise / 13 ms fall pulse; its first sample (half the peak) is the detection."""
    shape = [peak_uv // 2, peak_uv] + [peak_uv * (13 - k) // 13 for k in range(1, 13)]
    for k, v in enumerate(shape):
        if 0 <= start_ms + k < len(sig):
            sig[start_ms + k] = v


def sinus(pp_ms: int, pr_ms: int | None, first_ms: int = 400,
          stop_ms: int | None = None) -> Builder:
    """P waves every ``pp_ms`` (2 mV) and, unless ``pr_ms`` is None, R waves (8 mV) after them."""
    def build(a: Signal, v: Signal, x: Signal) -> None:
        for p in range(first_ms, (stop_ms or len(a)) - 20, pp_ms):
            triangle(a, p, 2000)
            if pr_ms is not None:
                triangle(v, p + pr_ms, 8000)
    return build


def _pvcs(a: Signal, v: Signal, x: Signal) -> None:
    sinus(800, 120)(a, v, x)
    for t in (2700, 3300, 6100):
        triangle(v, t, 8000)


def _crosstalk(a: Signal, v: Signal, x: Signal) -> None:
    for t in range(850 + 60, len(v) - 20, 1000):
        triangle(v, t, 8000)


def _noise(a: Signal, v: Signal, x: Signal) -> None:
    sinus(800, 120)(a, v, x)
    for t in range(3000, 4500, 60):
        triangle(v, t, 6000)


def _exercise(a: Signal, v: Signal, x: Signal) -> None:
    k = np.arange(len(x))
    burst = (k > 2000) & (k < 14000)
    x[:] = np.where(burst, 200 * np.sign(np.sin(k / 7.0)), 0).astype(np.int16)


def _flutter(a: Signal, v: Signal, x: Signal) -> None:
    for p in range(400, 3000, 800):
        triangle(a, p, 2000)
    for p in range(3000, 9000, 180):
        triangle(a, p, 2000)
    for p in range(9000, len(a) - 20, 800):
        triangle(a, p, 2000)


def _pmt(a: Signal, v: Signal, x: Signal) -> None:
    """P at 400 tracked (VP 550); then 'retrograde' P waves 260 ms after each VP held at the URL:
    810, 1310, 1810, ... (a stable VP->AS interval of 260 ms: A-14 arms after 8)."""
    triangle(a, 400, 2000)
    for p in range(810, len(a) - 20, 500):
        triangle(a, p, 2000)


def _late_p(a: Signal, v: Signal, x: Signal) -> None:
    """P waves every 1300 ms: in VDD the ventricular escape ends the cycle before SAV (A-21)."""
    for p in range(400, len(a) - 20, 1300):
        triangle(a, p, 2000)


def _hard_exercise(a: Signal, v: Signal, x: Signal) -> None:
    _exercise(a, v, x)
    x[:] = (x.astype(np.int32) * 3).astype(np.int16)


def _atrial_noise(a: Signal, v: Signal, x: Signal) -> None:
    sinus(800, None)(a, v, x)
    for t in range(2000, 3500, 70):
        triangle(a, t, 3000)


@dataclass(frozen=True)
class Scenario:
    """A programming (mode + changes to nominal) and electrograms exercising one rule."""

    name: str
    rule: str
    mode: str
    duration_ms: int
    changes: dict[str, Any] = field(default_factory=dict)
    build: Builder = field(default=lambda a, v, x: None)

    def signals(self) -> tuple[Signal, Signal, Signal]:
        """Atrial, ventricular (uV) and activity (milli-g) samples at 1 kHz."""
        n = self.duration_ms
        a, v, x = (np.zeros(n, np.int16) for _ in range(3))
        self.build(a, v, x)
        return a, v, x


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("ddd_sinus", "A-3 tracking, inhibition", "DDD", 10_000, build=sinus(800, 120)),
    Scenario("ddd_av_block", "A-3 SAV", "DDD", 10_000, build=sinus(800, None)),
    Scenario("ddd_quiet", "A-2 escape", "DDD", 5_000),
    Scenario("ddd_wenckebach", "A-3 URL, PVARP", "DDD", 10_000, build=sinus(470, None)),
    Scenario("ddd_2to1", "A-3 2:1 block", "DDD", 6_000, build=sinus(390, None)),
    Scenario("ddd_pvc_ext", "A-6 PVC, PVARP extension", "DDD", 8_000,
             {"pvarp_extension_ms": 150}, _pvcs),
    Scenario("ddd_crosstalk", "A-7 safety pacing", "DDD", 5_000, build=_crosstalk),
    Scenario("ddd_noise", "A-11 noise reversion", "DDD", 6_000, build=_noise),
    Scenario("vvi_sinus_hyst", "A-9 hysteresis", "VVI", 8_000, {"hysteresis_rate_ppm": 50},
             sinus(900, 120, stop_ms=4000)),
    Scenario("ddd_hyst", "A-9 hysteresis (dual)", "DDD", 8_000, {"hysteresis_rate_ppm": 50},
             sinus(900, 120, stop_ms=4000)),
    Scenario("vvi_smoothing", "A-10 rate smoothing", "VVI", 8_000, {"rate_smoothing_pct": 9},
             sinus(600, 120, 300, stop_ms=4000)),
    Scenario("ddd_smoothing", "A-10 rate smoothing (dual)", "DDD", 8_000,
             {"rate_smoothing_pct": 12}, sinus(600, None, 300, stop_ms=4000)),
    Scenario("aai_sinus", "A-2 atrial timing, ARP", "AAI", 6_000,
             build=sinus(900, None, stop_ms=3000)),
    Scenario("ddd_pmt", "A-14 PMT termination", "DDD", 10_000, build=_pmt),
    Scenario("ddd_atrial_timing", "A-2 atrial-based timing", "DDD", 8_000,
             {"lower_rate_timing": "ATRIAL"}, sinus(900, 120, stop_ms=4000)),
    Scenario("vvt_trigger", "A-8 triggered pacing", "VVT", 6_000, build=sinus(700, 120)),
    Scenario("aat_trigger", "A-8 triggered pacing", "AAT", 6_000, build=sinus(400, None)),
    Scenario("dddr_exercise", "A-12 rate adaptation", "DDDR", 16_000, build=_exercise),
    Scenario("ddd_atr", "A-13 ATR", "DDD", 20_000,
             {"atr_mode": True, "atr_duration_cycles": 10}, _flutter),
    Scenario("ddd_dynamic_av", "A-4 dynamic AV", "DDD", 8_000, {"dynamic_av_delay": True},
             sinus(700, None)),
    Scenario("vdd_sinus", "A-2/A-21 VDD", "VDD", 8_000, build=sinus(900, 120, stop_ms=5000)),
    Scenario("ddi_sinus", "A-2 DDI", "DDI", 8_000, build=sinus(700, None, stop_ms=5000)),
    Scenario("vdd_late_p", "A-21 VDD escape bound", "VDD", 8_000, build=_late_p),
    Scenario("vvir_msr_above_url", "A-21 URI on escape paces", "VVIR", 16_000,
             {"max_sensor_rate_ppm": 150, "upper_rate_ppm": 100}, _hard_exercise),
    Scenario("ddd_sav_offset", "A-4 sensed AV offset", "DDD", 8_000,
             {"sensed_av_offset_ms": -50}, sinus(800, None)),
    Scenario("ddd_atrial_noise", "A-11 atrial noise", "DDD", 6_000, build=_atrial_noise),
    Scenario("dddr_atr", "A-13 VVIR fallback", "DDDR", 20_000,
             {"atr_mode": True, "atr_duration_cycles": 10}, _flutter),
)


@dataclass(frozen=True)
class Disagreement:
    """Where the firmware and the model first differ (``None``: that side has no marker)."""

    scenario: str
    rule: str
    index: int
    firmware: MarkerKey | None
    model: MarkerKey | None
    firmware_context: tuple[MarkerKey, ...]
    model_context: tuple[MarkerKey, ...]

    def __str__(self) -> str:
        return (f"{self.scenario} ({self.rule}): first disagreement at marker #{self.index}: "
                f"firmware {self.firmware} vs model {self.model}; firmware context "
                f"{list(self.firmware_context)}, model context {list(self.model_context)}")


def _key(e: Any) -> MarkerKey:
    if isinstance(e, Event):
        return (e.t_us, e.chamber.name, e.kind.name, int(e.flags), e.amplitude_mv, e.width_us)
    return (e.t_us, e.chamber.name, e.kind.name, int(e.flags), e.amplitude_mv or 0,
            e.width_us or 0)


def _programming(s: Scenario) -> Programming:
    changes = dict(s.changes)
    if isinstance(changes.get("lower_rate_timing"), str):
        changes["lower_rate_timing"] = LowerRateTiming[changes["lower_rate_timing"]]
    return Programming.nominal(Mode[s.mode], **changes)


def model_markers(s: Scenario) -> list[MarkerKey]:
    """The reference model's markers for a scenario (inside its samples)."""
    a, v, x = s.signals()
    model = PacemakerModel(_programming(s))
    end_us = 1000 * s.duration_ms
    # The model may run its timers to an activity epoch's end just after the block.
    return [_key(m) for m in model.process_samples(0, a, v, x) if m.t_us < end_us]


def firmware_markers(s: Scenario, target: str = "host", fault: str | None = None
                     ) -> list[MarkerKey]:
    """The firmware's markers for a scenario, over its real link."""
    a, v, x = s.signals()
    with start_device(target, fault) as dev, ProbeClient(dev.url) as c:  # type: ignore[arg-type]
        c.hello()
        reply = c.command(wire_program(_programming(s).to_wire_units()))
        if not isinstance(reply, Ack):
            raise AssertionError(f"{s.name}: the firmware refused the programming: {reply}")
        events = c.run(a.tolist(), v.tolist(), x.tolist()).events
        dev.check()
    end_us = 1000 * s.duration_ms
    return [_key(e) for e in events if e.t_us < end_us]


def compare(s: Scenario, target: str = "host", fault: str | None = None
            ) -> Disagreement | None:
    """None when firmware and model emit the same markers, else the first disagreement."""
    got = firmware_markers(s, target, fault)
    want = model_markers(s)
    if got == want:
        return None
    i = next((k for k, (g, p) in enumerate(zip(got, want, strict=False)) if g != p),
             min(len(got), len(want)))
    return Disagreement(
        s.name, s.rule, i, got[i] if i < len(got) else None, want[i] if i < len(want) else None,
        tuple(got[max(0, i - 2):i + 3]), tuple(want[max(0, i - 2):i + 3]),
    )


def random_case(seed: int) -> tuple[Programming, Signal, Signal, Signal]:
    """A random valid programming (a permanent mode, up to 5 applicable parameters off nominal)
    and random electrograms: P waves at random intervals, conducted or not, PVCs, sometimes a
    noise burst on either channel and an activity burst. Deterministic in ``seed``."""
    rng = random.Random(seed)
    params = PARAMETERS
    modes = [m for m in Mode if 1 <= m.wire_code <= 18]
    while True:
        mode = rng.choice(modes)
        names = [n for n in params if n != "mode" and params[n].applies_to(mode)]
        changes = {n: rng.choice(params[n].values) for n in rng.sample(names, rng.randint(0, 5))}
        try:
            prog = Programming.nominal(mode, **changes)
            break
        except ProgrammingError:
            continue
    n = rng.randint(3000, 15000)
    a, v, x = (np.zeros(n, np.int16) for _ in range(3))
    t = rng.randint(100, 900)
    while t < n - 20:
        triangle(a, t, rng.choice([0, 2000, 2000, 5000]))
        if rng.random() < 0.6:
            triangle(v, t + rng.randint(60, 300), rng.choice([3000, 8000]))
        if rng.random() < 0.1:
            triangle(v, t + rng.randint(300, 700), 8000)
        t += rng.randint(150, 1500)
    if rng.random() < 0.3:
        start = rng.randint(0, n - 2000)
        for u in range(start, start + 1500, rng.randint(50, 90)):
            triangle(v if rng.random() < 0.5 else a, u, 6000)
    if rng.random() < 0.3:
        k = np.arange(n)
        level = rng.randint(50, 400)
        burst = (k > n // 4) & (k < 3 * n // 4)
        x[:] = np.where(burst, level * np.sign(np.sin(k / 7.0)), 0).astype(np.int16)
    return prog, a, v, x


def compare_random(client: ProbeClient, seed: int) -> str | None:
    """Run :func:`random_case` on a connected device (session reset) and on the model; None
    when they agree, else a description of the first disagreement."""
    prog, a, v, x = random_case(seed)
    client.reset_session()
    reply = client.command(wire_program(prog.to_wire_units()))
    if not isinstance(reply, Ack):
        return f"seed {seed}: the firmware refused {prog}: {reply}"
    client.reset_session()
    end_us = 1000 * len(a)
    got = [_key(e) for e in client.run(a.tolist(), v.tolist(), x.tolist()).events
           if e.t_us < end_us]
    want = [_key(m) for m in PacemakerModel(prog).process_samples(0, a, v, x)
            if m.t_us < end_us]
    if got == want:
        return None
    i = next((k for k, (g, p) in enumerate(zip(got, want, strict=False)) if g != p),
             min(len(got), len(want)))
    nominal = Programming.nominal(prog.mode).to_wire_units()
    changed = {k: w for k, w in prog.to_wire_units().items() if nominal.get(k) != w}
    return (f"seed {seed}: {prog.mode.name} {changed}: marker #{i}: firmware "
            f"{got[max(0, i - 2):i + 3]} model {want[max(0, i - 2):i + 3]}")
