"""Play a test vector to a device and judge it: prelude, anchor, stimuli, re-anchoring.

One session per vector, from the device's session start:

1. the prelude's stimuli at their session times (not judged);
2. with an anchor, the device runs until its first run of the anchor's paces (e.g. AP then VP)
   at or after ``anchor.after_us``; time zero is the last of them (no anchor: the session
   start). Not found within ``anchor.timeout_us``: the vector fails, nothing else is judged;
3. each stimulus at time zero + its time (+ the re-anchoring offset); before each, the device
   runs to just before it, so its paces up to then are known;
4. the device runs on to the judge-until time plus the widest tolerance.

Re-anchoring (``resync``, the tester's "allow offset"): when a device pace falls outside the
tolerance of the expected pace it pairs with (within ``PAIR_WINDOW_US``), the offset moves by the
error, so later stimuli and expectations follow the device: one difference counts once.

The check is ``hil.vectors.judge``; on a failure the twin (the reference model) is run on exactly
the stimuli the device received, and the first divergence is named with its rule
(``hil.vectors.explain``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from devicetwin.errors import DeviceTwinError
from devicetwin.pacemaker import Chamber, MarkerKind, PacemakerModel, Programming
from hil.devices import DeviceOptions, open_device
from hil.devices.events import EventDevice
from hil.devices.profile import DeviceProfile
from hil.devices.registry import REALTIME_ONLY_KINDS, split_url
from hil.errors import ConfigError
from hil.vectors.drivers import (
    SAMPLE_US,
    DevicePace,
    Driver,
    EventDriver,
    Level,
    SampleDriver,
    TwinDriver,
    VectorPlayError,
)
from hil.vectors.explain import TwinView, pace_reason
from hil.vectors.format import ExpectedPace, VectorFile
from hil.vectors.judge import PAIR_WINDOW_US, Failure, Finding, Judgement, compare

TWIN = "twin"
#: Longest step while waiting for the anchor (us): bounds how late a stimulus could be seen.
ANCHOR_STEP_US = 50_000
#: How far back the twin's account of a divergence looks (us).
ACCOUNT_US = 1_000_000


@dataclass(frozen=True, slots=True)
class Shift:
    """A re-anchoring: at device pace ``at_us`` (session time) the offset moved by ``by_us``
    (for expected[``index``])."""

    at_us: int
    by_us: int
    index: int


@dataclass
class Playback:
    """What happened in one session (session times in us)."""

    paces: list[DevicePace] = field(default_factory=list)
    sent: list[tuple[int, Chamber]] = field(default_factory=list)
    t0_us: int | None = 0
    shifts: list[Shift] = field(default_factory=list)
    rel_paces: list[tuple[int, Chamber]] = field(default_factory=list)
    end_us: int = 0
    late: list[tuple[int, int]] = field(default_factory=list)
    """Stimuli sent late after re-anchoring: (index, how late in us)."""

    def offset_at(self, t_us: int) -> int:
        """The re-anchoring offset in force just before session time ``t_us``."""
        return sum(s.by_us for s in self.shifts if s.at_us < t_us)

    def to_vector_time(self, t_us: int) -> int:
        """Session time -> the vector's time axis (from time zero, offsets applied)."""
        return t_us - (self.t0_us or 0) - self.offset_at(t_us)


class _Resync:
    """The online pairing that moves the offset (re-anchoring mode only)."""

    def __init__(self, vectors: VectorFile, tolerance_us: int | None) -> None:
        self.vectors = vectors
        self.tol = tolerance_us
        self.pending = {c: [i for i, e in enumerate(vectors.expected) if e.chamber is c]
                        for c in (Chamber.A, Chamber.V)}

    def window(self, e: ExpectedPace) -> int:
        return self.vectors.window_of(e) if self.tol is None else self.tol

    def see(self, rel_us: int, chamber: Chamber) -> tuple[int, int] | None:
        """A device pace at ``rel_us`` (vector time before this pace's shift): (index, error)
        when it pairs outside the tolerance, i.e. the offset must move by error."""
        pend = self.pending[chamber]
        exp = self.vectors.expected
        while pend and exp[pend[0]].t_us + PAIR_WINDOW_US < rel_us:
            pend.pop(0)  # missed: the judge reports it
        if len(pend) > 1 and abs(rel_us - exp[pend[1]].t_us) <= self.window(exp[pend[1]]):
            pend.pop(0)  # it is the next one, on time: the first was missed
        if not pend or abs(rel_us - exp[pend[0]].t_us) > PAIR_WINDOW_US:
            return None  # extra
        i = pend.pop(0)
        err = rel_us - exp[i].t_us
        return (i, err) if abs(err) > self.window(exp[i]) else None


class _Session:
    """Drives one vector through a driver (module docstring)."""

    def __init__(self, vectors: VectorFile, driver: Driver, *, resync: bool,
                 tolerance_us: int | None) -> None:
        self.v = vectors
        self.d = driver
        self.out = Playback()
        self.reached = -1
        self.resync = _Resync(vectors, tolerance_us) if resync else None
        self.offset = 0
        self.widest = max([vectors.window_of(e) for e in vectors.expected]
                          + list(vectors.tolerance_us.values())) \
            if tolerance_us is None else tolerance_us

    def advance(self, t_us: int) -> list[DevicePace]:
        if t_us <= self.reached:
            return []
        paces = self.d.advance(t_us)
        self.reached = t_us
        self.out.paces += paces
        if self.out.t0_us is not None:
            for p in paces:
                self.seen(p)
        return paces

    def seen(self, p: DevicePace) -> None:
        assert self.out.t0_us is not None
        rel = p.t_us - self.out.t0_us - self.offset
        if rel < 0:
            return
        self.out.rel_paces.append((rel, p.chamber))
        if self.resync is not None:
            moved = self.resync.see(rel, p.chamber)
            if moved is not None:
                self.offset += moved[1]
                self.out.shifts.append(Shift(p.t_us, moved[1], moved[0]))

    def deliver(self, t_us: int, chamber: Chamber) -> None:
        self.advance(t_us - 1)
        self.d.sense(t_us, chamber)
        self.out.sent.append((t_us, chamber))

    def run(self) -> Playback:
        v = self.v
        if v.anchor is not None:
            self.out.t0_us = None
            for s in v.prelude:
                self.deliver(s.t_us, s.chamber)
            if not self.find_anchor():
                self.out.end_us = self.reached
                return self.out
        t0 = self.out.t0_us
        assert t0 is not None
        for i, s in enumerate(v.stimuli):
            while True:  # the offset may move while running up to the stimulus
                at = t0 + self.offset + s.t_us
                if at - 1 <= self.reached:
                    break
                self.advance(at - 1)
            if at <= self.reached:
                if not self.out.shifts:
                    raise VectorPlayError(
                        f"stimuli[{i}] at {s.t_us} us from time zero falls at session time {at} "
                        f"us, which the device has already passed ({self.reached} us)",
                        name="t_us", value=s.t_us, expected="a stimulus after the anchor event")
                # re-anchored earlier than the time reached: sent at once, as the tester does
                late = self.reached + self.d.resolution_us - self.reached % self.d.resolution_us
                self.out.late.append((i, late - at))
                at = late
            self.d.sense(at, s.chamber)
            self.out.sent.append((at, s.chamber))
        end = v.judged_until_us + self.widest
        while True:
            stop = t0 + self.offset + max(v.duration_us, end)
            if stop <= self.reached:
                break
            self.advance(stop)
        self.out.end_us = self.reached
        self.d.finish()
        return self.out

    def find_anchor(self) -> bool:
        """Run until the anchor's pace sequence; sets ``t0_us``."""
        anchor = self.v.anchor
        assert anchor is not None
        first = self.v.stimuli[0].t_us if self.v.stimuli else ANCHOR_STEP_US
        step = max(self.d.resolution_us, min(ANCHOR_STEP_US, first))
        step -= step % self.d.resolution_us
        want = [k for k in anchor.events]
        kinds: list[tuple[int, MarkerKind]] = []
        limit = anchor.after_us + anchor.timeout_us
        self.advance(anchor.after_us - 1)
        while self.reached < limit:
            for p in self.advance(min(limit, self.reached + step)):
                kinds.append((p.t_us, MarkerKind.AP if p.chamber is Chamber.A else MarkerKind.VP))
                if [k for _, k in kinds[-len(want):]] == want:
                    self.out.t0_us = p.t_us
                    break
            if self.out.t0_us is not None:
                # paces after the anchor in the same step are the vector's
                for p in self.out.paces:
                    if p.t_us > self.out.t0_us:
                        self.seen(p)
                return True
        return False


# -- opening the device ----------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """Where and how to play: the device URL, the level, options, and a device profile."""

    device: str = "emulated"
    level: Level | None = None
    fault: str | None = None
    key: bytes | None = None
    profile: DeviceProfile | None = None

    @property
    def url(self) -> str:
        """The device URL (the profile's when one is given)."""
        return self.profile.url if self.profile is not None else self.device


def default_level(url: str) -> Level:
    """Events for the twin and ``events+`` devices, samples for the rest."""
    if url == TWIN:
        return Level.EVENTS
    return Level.EVENTS if split_url(url)[0] == "events" else Level.SAMPLES


def session_length_ms(vectors: VectorFile, widest_us: int) -> int:
    """The longest a session of ``vectors`` can run (ms): prelude, anchor search, the vector,
    its tolerance, and slack for re-anchoring."""
    before = 0 if vectors.anchor is None else (vectors.anchor.after_us
                                               + vectors.anchor.timeout_us)
    run = max(vectors.duration_us, vectors.judged_until_us + widest_us)
    return (before + 2 * run + 2 * PAIR_WINDOW_US) // SAMPLE_US + 2


@contextmanager
def open_driver(vectors: VectorFile, target: Target, widest_us: int
                ) -> Iterator[tuple[Driver, Programming, str]]:
    """The driver for ``target``, the programming the device runs, the device's identity."""
    url = target.url
    level = target.level or default_level(url)
    wanted = (target.profile.programming if target.profile is not None
              and target.profile.programming is not None else vectors.programming())
    if url == TWIN:
        if target.fault is not None:
            raise VectorPlayError("--fault needs an emulated firmware, not the twin",
                                  name="fault", value=target.fault, expected="no --fault")
        yield TwinDriver(wanted), wanted, "twin (the reference model, in process)"
        return
    kind, _ = split_url(url)
    if kind in REALTIME_ONLY_KINDS:
        raise ConfigError(f"device {url!r} runs only in real time; vectors play in lock-step",
                          name="device", value=url,
                          expected="twin, emulated, qemu, a binary-protocol URL or events+...",
                          source="--device")
    if level is Level.EVENTS and kind != "events":
        raise VectorPlayError(
            f"device {url!r} senses electrograms; use --level samples (or --device twin or an "
            "events+ device for the event level)", name="device", value=url,
            expected="twin or an events+ device")
    options = DeviceOptions(fault=target.fault, key=target.key,
                            profile=target.profile.settings if target.profile else {})
    with open_device(url, options) as dev:
        try:
            runs = dev.program(wanted)
        except DeviceTwinError as err:
            raise ConfigError(f"device {url!r} cannot run the vector's programming: {err}",
                              name="programming", value=err.value,
                              expected=err.expected) from err
        ident = f"{dev.identity.spec} ({dev.identity.model} {dev.identity.firmware_version})"
        if level is Level.EVENTS:
            assert isinstance(dev, EventDevice)
            yield EventDriver(dev.driver, url), runs, ident
        else:
            yield SampleDriver(dev, runs, session_length_ms(vectors, widest_us)), runs, ident


# -- the report ------------------------------------------------------------------------------

@dataclass
class VectorReport:
    """The result of playing one vector: the session, the check and, on a failure, the twin's
    account of the first divergence."""

    vectors: VectorFile
    device: str
    level: Level
    playback: Playback
    judgement: Judgement
    programming: Programming
    identity: str = ""
    resync: bool = False
    tolerance_us: int | None = None
    explanation: str = ""
    notes: list[str] = field(default_factory=list)
    divergence_rules: list[str] = field(default_factory=list)
    """The rule IDs the first divergence touches (docs/assumptions.md)."""

    @property
    def passed(self) -> bool:
        """Anchored, every judged expected pace in time, nothing extra."""
        return self.anchored and self.judgement.passed

    @property
    def anchored(self) -> bool:
        """Time zero was found (always, without an anchor)."""
        return self.playback.t0_us is not None

    @property
    def device_paces(self) -> list[tuple[int, Chamber]]:
        """The device's paces on the vector's time axis."""
        return list(self.playback.rel_paces)

    @property
    def failures(self) -> tuple[Failure, ...]:
        """Every failure, in time order."""
        return self.judgement.failures

    @property
    def matched(self) -> int:
        """Expected paces delivered within their tolerance."""
        return len(self.judgement.matched)

    @property
    def errors_us(self) -> list[int]:
        """Signed timing errors (device minus expected, us) of the matched paces."""
        return [e for _, e in self.judgement.matched]

    def timing_summary(self) -> str:
        """Signed errors of the matched paces, or that none matched."""
        errs = self.errors_us
        if not errs:
            return "no expected pace matched" if self.judgement.judged else "no pace judged"
        worst = max(errs, key=abs)
        return (f"timing error {min(errs) / 1000:+.3f} .. {max(errs) / 1000:+.3f} ms (worst "
                f"{worst / 1000:+.3f} ms) over {len(errs)} matched")

    def text(self) -> str:
        """The report: summary, the first divergence explained, then every failure."""
        v = self.vectors
        verdict = "PASS" if self.passed else "FAIL"
        head = (f"vectors {v.name} ({v.source}): {verdict} - {v.mode}, {len(v.stimuli)} stimuli, "
                f"{self.matched}/{self.judgement.judged} expected paces matched, "
                f"{self.judgement.device_paces} device paces judged, {self.timing_summary()} "
                f"(device {self.device}, level {self.level.value}"
                + (", re-anchoring" if self.resync else "")
                + (f", tolerance +-{self.tolerance_us / 1000:g} ms" if self.tolerance_us
                   is not None else "") + ")")
        lines = [head] + ["  " + n for n in self.notes]
        if self.explanation:
            lines.append("  first divergence: " + self.explanation)
        lines += ["  " + f.describe() for f in self.failures]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the summary and the full list of failures."""
        v = self.vectors
        pb = self.playback
        return {
            "name": v.name, "source": v.source, "passed": self.passed, "mode": v.mode,
            "device": self.device, "identity": self.identity, "level": self.level.value,
            "requirements": list(v.requirements), "resync": self.resync,
            "tolerance_override_us": self.tolerance_us, "anchored": self.anchored,
            "t0_us": pb.t0_us, "stimuli": len(v.stimuli), "expected_judged": self.judgement.judged,
            "matched": self.matched, "device_paces_judged": self.judgement.device_paces,
            "errors_us": self.errors_us,
            "shifts": [dataclasses.asdict(s) for s in pb.shifts],
            "first_divergence": self.explanation or None,
            "first_divergence_rules": self.divergence_rules, "notes": self.notes,
            "failures": [f.to_dict() for f in self.failures],
            "device_paces_us": [[t, c.name] for t, c in pb.rel_paces],
        }


def twin_view(vectors: VectorFile, programming: Programming, pb: Playback) -> TwinView:
    """The twin run on exactly what the device received, on the vector's time axis."""
    model = PacemakerModel(programming)
    order = sorted(pb.sent, key=lambda s: (s[0], s[1].value))
    sent: list[tuple[int, Chamber | int]] = [(t, c) for t, c in order]
    markers = model.run_detections(sent, max(pb.end_us, 0))
    return TwinView(
        tuple(dataclasses.replace(m, t_us=pb.to_vector_time(m.t_us)) for m in markers
              if m.t_us >= (pb.t0_us or 0)),
        tuple((pb.to_vector_time(t), c) for t, c in pb.sent if t >= (pb.t0_us or 0)),
        programming)


def explain_first(vectors: VectorFile, report: VectorReport) -> tuple[str, list[str]]:
    """The first divergence in words, with its rule and what the twin would have done; and the
    rule IDs it touches (the expected pace's first, then those of the twin's account)."""
    pb = report.playback
    if not report.anchored:
        a = vectors.anchor
        assert a is not None
        seen = ", ".join(f"{'AP' if p.chamber is Chamber.A else 'VP'} at {p.t_us / 1000:g} ms"
                         for p in pb.paces if p.t_us >= a.after_us)[:200]
        return (f"anchor {a.describe()} not found within {a.timeout_us / 1000:g} ms "
                f"(device paces after {a.after_us / 1000:g} ms: {seen or 'none'})"), []
    if not report.failures:
        return "", []
    f = report.failures[0]
    twin = twin_view(vectors, vectors.programming(), pb)
    ch = f.chamber.name
    if f.finding is Finding.EXTRA:
        assert f.device_us is not None
        t = f.device_us
        near = twin.pace_near(t, f.chamber, PAIR_WINDOW_US)
        what = (f"the twin paced {ch} at {near.t_us / 1000:.3f} ms ({', '.join(twin.reason(near))})"
                if near is not None else f"the twin did not pace {ch} within "
                f"{PAIR_WINDOW_US / 1000:g} ms")
        account = twin.account(t - ACCOUNT_US, t)
        rules = twin.rules(t - ACCOUNT_US, t)
        return (f"device paced {ch} at {t / 1000:.3f} ms where no pace was expected; {what}"
                + (f"; the twin took: {'; '.join(account)}" if account else "")
                + (f" [rules: {', '.join(rules)}]" if rules else "")), rules
    assert f.expected_us is not None
    e = vectors.expected[f.index] if f.index is not None else None
    twin_pace = twin.pace_near(f.expected_us, f.chamber, f.tolerance_us)
    if e is not None and (e.flags or twin_pace is None):
        reason, rule = pace_reason(f.chamber, e.flags, twin.before(f.expected_us))
        if e.rule:
            rule = e.rule
    elif twin_pace is not None:
        reason, rule = twin.reason(twin_pace)
    else:
        reason, rule = pace_reason(f.chamber, f.flags, twin.before(f.expected_us))
    if twin_pace is None:
        other = twin.pace_near(f.expected_us, f.chamber, PAIR_WINDOW_US)
        twin_says = ("; the twin does not pace there either (" + (
            f"it paced at {other.t_us / 1000:.3f} ms, {', '.join(twin.reason(other))}"
            if other is not None else "no pace within 300 ms") + ")")
    else:
        twin_says = ""
    account = twin.account(f.expected_us - ACCOUNT_US, f.expected_us)
    rules = list(dict.fromkeys(rule.split(", ")
                               + twin.rules(f.expected_us - ACCOUNT_US, f.expected_us)))
    tail = twin_says + (f"; the twin took: {'; '.join(account)}" if account else "")
    if f.finding is Finding.MISSING:
        return (f"device did not pace {ch} at {f.expected_us / 1000:.3f} ms: {reason} expected, "
                f"{rule}{tail}"), rules
    assert f.device_us is not None
    return (f"device paced {ch} at {f.device_us / 1000:.3f} ms, "
            f"{(f.device_us - f.expected_us) / 1000:+.3f} ms from the {reason} expected at "
            f"{f.expected_us / 1000:.3f} ms ({rule}; tolerance +-{f.tolerance_us / 1000:g} ms)"
            f"{tail}"), rules


def run_vectors(vectors: VectorFile, device: str = "emulated", *,
                level: Level | str | None = None, fault: str | None = None,
                key: bytes | None = None, profile: DeviceProfile | None = None,
                resync: bool = False, tolerance_us: int | None = None) -> VectorReport:
    """Play ``vectors`` to ``device`` (or the profile's) and judge it (module docstring).

    Parameters
    ----------
    level:
        ``samples`` or ``events``; None: events for ``twin`` and ``events+`` devices, samples
        for the rest.
    resync:
        Re-anchor after a divergence (module docstring).
    tolerance_us:
        Overrides every tolerance window (+-, us) at run time.
    """
    lvl = Level(level) if level is not None else None
    target = Target(device, lvl, fault, key, profile)
    widest = tolerance_us if tolerance_us is not None else max(
        [vectors.window_of(e) for e in vectors.expected] + list(vectors.tolerance_us.values()))
    notes: list[str] = []
    with open_driver(vectors, target, widest) as (driver, runs, ident):
        pb = _Session(vectors, driver, resync=resync, tolerance_us=tolerance_us).run()
    if pb.late:
        notes.append(f"{len(pb.late)} stimuli sent up to {max(d for _, d in pb.late) / 1000:g} ms "
                     "late: re-anchoring moved them before the time already reached")
    if runs != vectors.programming():
        notes.append("the device runs "
                     + ("the device profile's programming (device-defined)"
                        if profile is not None and profile.programming is not None else
                        "the vector's programming without the features it lacks")
                     + "; expectations and the twin's account are the vector's")
    judgement = compare(vectors, pb.rel_paces, tolerance_us) if pb.t0_us is not None else \
        Judgement((), (), len(vectors.expected), 0)
    report = VectorReport(vectors, target.url, lvl or default_level(target.url), pb, judgement,
                          runs, ident, resync, tolerance_us, notes=notes)
    report.explanation, report.divergence_rules = explain_first(vectors, report)
    return report


__all__ = ["ANCHOR_STEP_US", "PAIR_WINDOW_US", "TWIN", "Failure", "Finding", "Level", "Playback",
           "Shift", "Target", "VectorPlayError", "VectorReport", "compare", "default_level",
           "explain_first", "open_driver", "run_vectors",
           "session_length_ms", "twin_view"]
