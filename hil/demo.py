"""``devicetwin demo``: the main job on built-in defaults, and a bench-free reference-model demo.

:func:`run_bench_demo` (``devicetwin demo``) runs the default scenario on the emulated device with
its report. :func:`run_demo` (``devicetwin demo --reference-only``) needs no device: an
event-level heart (sinus rhythm, intermittent Mobitz II AV block, one sinus pause, one PVC)
drives ``devicetwin.pacemaker.PacemakerModel``, and the heart reacts to the model's paces (an AP
captures the atrium and resets the sinus node, a VP captures the ventricle). The marker channel
and a summary are printed.
"""

from __future__ import annotations

import dataclasses
import heapq
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from devicetwin.pacemaker import (
    Chamber,
    MarkerEvent,
    MarkerKind,
    Mode,
    PacemakerModel,
    Programming,
)
from hil.errors import HilError
from hil.exitcodes import exit_code_of_run
from hil.progress import Progress
from hil.reports.console import run_summary
from hil.reports.evidence import write_evidence
from hil.scenarios import load_scenario, resolve
from hil.session.runner import run_scenario

SINUS_MS = 800
"""Sinus cycle length (75 bpm, between the nominal LRL 60 and URL 120: tracked 1:1)."""
PR_MS = 120
"""Intrinsic AV conduction time, shorter than the 150 ms AV delay: conducted beats are sensed."""
PVC_COUPLING_MS = 520
"""The PVC comes this long after the P wave of its beat (400 ms after the conducted R)."""
VENTRICULAR_REFRACTORY_MS = 300
"""A conducted wave arriving this soon after a ventricular activation is blocked."""


@dataclass(frozen=True, slots=True)
class HeartScript:
    """Which sinus beats do what. Beat ``n`` is the n-th P wave the sinus node would make.

    Attributes
    ----------
    block_every:
        Mobitz II: every ``block_every``-th beat (``n % block_every == block_every - 1``) is not
        conducted.
    pvc_after_beat:
        A PVC follows this beat's P wave by ``PVC_COUPLING_MS``.
    pause_beat:
        The sinus node skips this beat (sinus pause); the pacemaker's AP then resets it.
    """

    block_every: int
    pvc_after_beat: int
    pause_beat: int

    @classmethod
    def from_seed(cls, seed: int) -> HeartScript:
        """A script whose events never fall on neighbouring beats (so each is seen alone)."""
        rng = random.Random(seed)
        k = rng.choice([4, 5, 6])

        def clear(n: int) -> bool:
            return all((n + d) % k != k - 1 for d in (-1, 0, 1))

        pvc = rng.choice([n for n in range(3, 12) if clear(n)])
        pause = rng.choice([n for n in range(pvc + 4, pvc + 12) if clear(n)])
        return cls(block_every=k, pvc_after_beat=pvc, pause_beat=pause)

    def blocked(self, beat: int) -> bool:
        """True when this beat's P wave is not conducted to the ventricles."""
        return beat % self.block_every == self.block_every - 1


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo produced: the marker channel and per-kind counts."""

    duration_ms: int
    script: HeartScript
    markers: tuple[MarkerEvent, ...]
    counts: dict[str, int]
    sinus_beats: int
    blocked_beats: int

    @property
    def atrial_rate_bpm(self) -> float:
        """Mean atrial rate over the run (AP + AS + AR per minute)."""
        n = sum(self.counts.get(k, 0) for k in ("AP", "AS", "AR", "AT"))
        return 60000 * n / self.duration_ms

    @property
    def ventricular_rate_bpm(self) -> float:
        """Mean ventricular rate over the run (VP + VS + PVC per minute)."""
        n = sum(self.counts.get(k, 0) for k in ("VP", "VS", "PVC"))
        return 60000 * n / self.duration_ms

    @property
    def ventricular_paced_pct(self) -> float:
        """Share of ventricular events that were paces, in %."""
        n = sum(self.counts.get(k, 0) for k in ("VP", "VS", "PVC"))
        return 100 * self.counts.get("VP", 0) / n if n else 0.0

    @property
    def atrial_paced_pct(self) -> float:
        """Share of atrial events (AP, AS) that were paces, in %."""
        n = self.counts.get("AP", 0) + self.counts.get("AS", 0)
        return 100 * self.counts.get("AP", 0) / n if n else 0.0


_SINUS, _ARRIVAL, _PVC = 0, 1, 2


class _Heart:
    """The event heart: a queue of (t_us, kind, beat) with sinus, AV conduction and a PVC."""

    def __init__(self, script: HeartScript) -> None:
        self.script = script
        self.queue: list[tuple[int, int, int]] = []
        self.beat = 0
        self.sinus_us = SINUS_MS * 1000
        self.last_v_us = -(10**12)
        self.sinus_beats = 0
        self.blocked_beats = 0
        self.next_sinus: tuple[int, int, int] | None = None
        self._schedule_sinus(400_000)

    def _schedule_sinus(self, t_us: int) -> None:
        item = (t_us, _SINUS, self.beat)
        self.next_sinus = item
        heapq.heappush(self.queue, item)

    def next_time(self) -> int | None:
        return self.queue[0][0] if self.queue else None

    def step(self, model: PacemakerModel) -> None:
        """Handle the earliest heart event, feeding the model its detection if there is one."""
        t, kind, beat = heapq.heappop(self.queue)
        if kind == _SINUS:
            if (t, kind, beat) != self.next_sinus:
                return  # cancelled by an atrial pace
            self.beat += 1
            self._schedule_sinus(t + self.sinus_us)
            if beat == self.script.pause_beat:
                return  # sinus pause: no P wave
            self.sinus_beats += 1
            model.detect(t, Chamber.A)
            if self.script.blocked(beat):
                self.blocked_beats += 1
            else:
                heapq.heappush(self.queue, (t + PR_MS * 1000, _ARRIVAL, beat))
            if beat == self.script.pvc_after_beat:
                heapq.heappush(self.queue, (t + PVC_COUPLING_MS * 1000, _PVC, beat))
        elif kind == _ARRIVAL:
            if t - self.last_v_us >= VENTRICULAR_REFRACTORY_MS * 1000:
                self.last_v_us = t
                model.detect(t, Chamber.V)
        else:
            self.last_v_us = t
            model.detect(t, Chamber.V)

    def paced(self, marker: MarkerEvent) -> None:
        """React to a pace: AP captures the atrium (resets sinus, conducts); VP the ventricle."""
        if marker.kind is MarkerKind.AP:
            self._schedule_sinus(marker.t_us + self.sinus_us)
            heapq.heappush(self.queue, (marker.t_us + PR_MS * 1000, _ARRIVAL, -1))
        elif marker.kind is MarkerKind.VP:
            self.last_v_us = marker.t_us


def simulate(duration_s: float = 20.0, seed: int = 1) -> DemoResult:
    """Run the closed loop for ``duration_s`` seconds of session time (lock-step on events)."""
    if not 1.0 <= duration_s <= 86_400.0:
        raise HilError(
            f"duration_s={duration_s!r}: expected 1 to 86400 seconds",
            name="duration_s", value=duration_s, expected="1 <= duration_s <= 86400",
        )
    script = HeartScript.from_seed(seed)
    heart = _Heart(script)
    model = PacemakerModel(Programming.nominal(Mode.DDD))
    end_us = round(duration_s * 1_000_000)
    markers: list[MarkerEvent] = []
    while True:
        t_heart = heart.next_time()
        due = model.next_pace_due_us()
        if t_heart is not None and t_heart <= end_us and (due is None or t_heart <= due):
            heart.step(model)
            new = model.advance_to(t_heart)
        elif due is not None and due <= end_us:
            new = model.advance_to(due)
        else:
            markers += model.advance_to(end_us)
            break
        for m in new:
            heart.paced(m)
        markers += new
    counts = Counter(m.kind.value for m in markers)
    return DemoResult(
        duration_ms=end_us // 1000,
        script=script,
        markers=tuple(markers),
        counts=dict(counts),
        sinus_beats=heart.sinus_beats,
        blocked_beats=heart.blocked_beats,
    )


def run_demo(duration_s: float = 20.0, seed: int = 1, max_lines: int = 40) -> int:
    """Run the demo, print the marker channel and the summary; returns the exit code."""
    result = simulate(duration_s, seed)
    s = result.script
    print(f"devicetwin demo: reference pacemaker DDD (nominal) vs scripted heart, "
          f"{result.duration_ms / 1000:.0f} s, seed {seed}")
    print(f"heart: sinus {SINUS_MS} ms, PR {PR_MS} ms, Mobitz II 1 in {s.block_every}, "
          f"PVC after beat {s.pvc_after_beat}, sinus pause at beat {s.pause_beat}")
    print("marker channel (time, channel, marker):")
    for m in result.markers[:max_lines]:
        print(f"  {m}")
    if len(result.markers) > max_lines:
        print(f"  ... {len(result.markers) - max_lines} more markers")
    order = ["AP", "AS", "AR", "AT", "VP", "VS", "VR", "PVC", "TN", "PVARP_EXT", "ATR_DUR",
             "ATR_FB", "ATR_END"]
    counts = ", ".join(f"{k} {result.counts[k]}" for k in order if k in result.counts)
    print(f"summary: {counts}")
    print(f"summary: atrial rate {result.atrial_rate_bpm:.1f} bpm, ventricular rate "
          f"{result.ventricular_rate_bpm:.1f} bpm, A paced {result.atrial_paced_pct:.1f} %, "
          f"V paced {result.ventricular_paced_pct:.1f} %")
    print(f"summary: heart made {result.sinus_beats} P waves, {result.blocked_beats} blocked")
    return 0


DEFAULT_SCENARIO = "bench_default"


def run_bench_demo(out_dir: Path | None, device: str = "emulated",
                   duration_s: float | None = None) -> int:
    """The main job on built-in defaults: the default scenario against the emulated device.

    Prints the first seconds of the device's marker channel beside the twin's prediction, the
    run's summary, and where the report is; returns 0 when the run passed.
    """
    scenario = load_scenario(resolve(DEFAULT_SCENARIO))
    if duration_s is not None:
        scenario = dataclasses.replace(scenario, duration_us=round(duration_s * 1e6))
    print(f"devicetwin demo: scenario {scenario.name!r} on device {device!r}")
    print(f"  {scenario.description}")
    with Progress(scenario.duration_s, scenario.name) as bar:
        result = run_scenario(scenario, device, out_dir=out_dir,
                              progress=lambda t_us: bar.update(t_us / 1e6),
                              evidence=write_evidence)
    twin = {(e.t_us, e.chamber, e.kind) for e in result.loop.twin_events}
    print("marker channel, first 5 s (device; '=' when the twin predicted the same):")
    for e in result.loop.device_events:
        if e.t_us > 5_000_000:
            break
        same = "=" if (e.t_us, e.chamber, e.kind) in twin else " "
        print(f"  {same} {e}")
    print(run_summary(result))
    if out_dir is not None:
        print(f"report: {out_dir / 'report.html'}  (record {out_dir / 'run'}.hea, "
              f"summary.json, junit.xml, manifest.json)")
    return exit_code_of_run(result.passed, result.loop.signal)
