"""``devicetwin twin recommend``: a programming for a twin, from a multi-objective search.

Runs :func:`devicetwin.twin.recommend.recommend` (optuna NSGA-II over the PACEMAKER grid, each
candidate on the fast heart) for the twin's condition against the current programming, prints the
trade-off front and the recommended point against the current one, and writes the twin file back
with its ``recommendation``. ``--prove`` then runs the recommended and the current programming in
closed loop on the cell-network heart with the reference firmware (device ``emulated``, a
scenario with ``[patient] twin = ...`` written next to the output) and reports the outcomes the
bench measured, as the recommendation's evidence.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devicetwin.pacemaker.programming import Programming, ProgrammingError
from devicetwin.twin import Twin, TwinError, load_twin, save_twin
from devicetwin.twin.calibration_validation import fast_outcomes
from devicetwin.twin.recommend import (
    PVC_CHALLENGE_S,
    Candidate,
    Recommendation,
    RecommendSettings,
    challenge_condition,
    programming_changes,
    recommend,
)
from devicetwin.twin.twinfile import Recommendation as TwinRecommendation
from hil.errors import ConfigError
from hil.exitcodes import ExitCode
from hil.scenarios import load_scenario
from hil.session.runner import run_scenario

HELP = ("recommend a programming for a twin (optuna multi-objective search on the fast heart; "
        "--prove runs it on the cell-network heart with the reference firmware)")
PROVE_DEVICE = "emulated"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``twin recommend``."""
    parser.add_argument("twin", type=Path, help="a twin file (twin calibrate)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the twin with its recommendation (default: "
                             "the twin file itself)")
    parser.add_argument("--mode", default=None,
                        help="mode of the current programming (default: the twin's, else DDD)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a parameter of the current programming (repeatable)")
    parser.add_argument("--trials", type=int, default=80, help="candidates (default 80)")
    parser.add_argument("--duration-s", type=float, default=60.0,
                        help="simulated seconds per candidate (default 60)")
    parser.add_argument("--highest-sinus-bpm", type=float, default=None,
                        help="the rate the 2:1 point must stay above (default 120 bpm)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--prove", action="store_true",
                        help="run current and recommended programming on the cell-network heart "
                             "with the reference firmware (device 'emulated')")
    parser.add_argument("--prove-duration-s", type=float, default=60.0,
                        help="seconds of each closed-loop proof run (default 60)")
    parser.add_argument("--prove-out", type=Path, default=None,
                        help="folder for the proof runs' scenarios and evidence (default: next "
                             "to the output, '<name>.proof')")
    parser.add_argument("--json", action="store_true",
                        help="print the recommendation as one JSON object on the last line")


def _value(text: str) -> Any:
    low = text.strip().lower()
    if low in ("off", "none"):
        return None
    if low in ("on", "true"):
        return True
    if low == "false":
        return False
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def programming_from_options(mode: str | None, sets: Sequence[str],
                             plain: Mapping[str, Any] | None,
                             default_mode: str | None = "DDD") -> Programming:
    """A programming from ``--mode`` and ``--set NAME=VALUE`` items on top of ``plain``
    (``{"mode", "parameters"}`` in plain units, e.g. a twin's or a session's programming).

    ``--mode`` starts from that mode's nominal values (``plain``'s parameters are dropped);
    without it ``plain``'s mode and parameters are the base, else ``default_mode``'s nominal
    values. :class:`ConfigError` (exit 2) names a bad item or value; with no mode anywhere and
    ``default_mode`` None it says to pass ``--mode``.
    """
    values: dict[str, Any] = {}
    for item in sets:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--set {item!r} is not NAME=VALUE", name="set", value=item,
                              expected="NAME=VALUE, e.g. pvarp_ms=250", source="--set")
        values[name.strip()] = _value(raw)
    base_plain = plain or {}
    chosen = mode or base_plain.get("mode") or default_mode
    if chosen is None:
        raise ConfigError("no programming: the source does not state it; pass --mode (and "
                          "--set NAME=VALUE for each parameter that is not nominal)",
                          name="mode", value=None, expected="--mode MODE, e.g. --mode DDD",
                          source="--mode")
    base = {} if mode else dict(base_plain.get("parameters") or {})
    try:
        return Programming.from_plain(chosen, {**base, **values})
    except ProgrammingError as err:
        raise ConfigError(str(err), name=err.name, value=err.value, expected=err.expected,
                          source="--mode/--set") from None


def current_programming(args: argparse.Namespace, twin: Twin) -> Programming:
    """The current programming from ``--mode``/``--set``, else the twin's, else nominal DDD."""
    return programming_from_options(args.mode, args.set, twin.programming)


def _outcome_values(c: Candidate) -> dict[str, float | None]:
    return {"ventricular_paced_percent": c.ventricular_paced_percent,
            "pmt_burden": c.pmt_burden, "pmt_episodes": float(c.pmt_episodes),
            "longevity_years": c.longevity_years, "two_to_one_bpm": c.two_to_one_bpm}


def _plain(p: Programming) -> dict[str, Any]:
    changes = programming_changes(p, Programming.nominal(p.mode))
    return {"mode": changes.pop("mode"), "parameters": changes}


def _table(rec: Recommendation) -> str:
    lines = [f"{'':12s} {'VP %':>6s} {'PMT burden':>10s} {'years':>6s} {'2:1 bpm':>8s}  "
             "programming (changes from current)"]

    def row(label: str, c: Candidate) -> str:
        prog = programming_changes(c.programming, rec.current.programming)
        if prog.get("mode") == rec.current.programming.mode.value:
            del prog["mode"]
        text = ", ".join(f"{k}={v}" for k, v in prog.items()) or "-"
        return (f"{label:12s} {c.ventricular_paced_percent:6.1f} {c.pmt_burden:10.3f} "
                f"{c.longevity_years:6.2f} {c.two_to_one_bpm:8.1f}  {text}")

    lines.append(row("current", rec.current))
    lines.append(row("recommended", rec.recommended))
    for c in rec.front:
        lines.append(row("  front", c))
    return "\n".join(lines)


def prove(twin_path: Path, rec: Recommendation, out_dir: Path, duration_s: float,
          seed: int) -> dict[str, Any]:
    """Closed-loop runs of the current and recommended programmings on the cell-network heart
    with the reference firmware; the bench's outcome figures of each."""
    out_dir.mkdir(parents=True, exist_ok=True)
    twin_cond = load_twin(twin_path).condition
    pvcs = challenge_condition(twin_cond.with_changes(pvc_times_ms=()),
                               round(duration_s * 1e6)).pvc_times_ms
    evidence: dict[str, Any] = {"device": PROVE_DEVICE, "heart": "cell network",
                                "duration_s": duration_s,
                                "pvc_challenge_s": PVC_CHALLENGE_S}
    for label, cand in (("current", rec.current), ("recommended", rec.recommended)):
        plain = _plain(cand.programming)
        doc = {
            "name": f"twin_{label}", "description": f"the twin under its {label} programming",
            "duration_s": duration_s, "seed": seed,
            "patient": {"twin": str(twin_path.resolve()),
                        "overrides": {"pvc_times_ms": list(pvcs)}},
            "device": {"mode": plain["mode"], "parameters": plain["parameters"]},
        }
        path = out_dir / f"{label}.toml"
        path.write_text(_toml(doc), encoding="utf-8")
        result = run_scenario(load_scenario(path), PROVE_DEVICE, out_dir=out_dir / label)
        vals = result.outcomes.values()
        evidence[f"{label}: ventricular_paced_percent"] = vals["ventricular_paced_percent"]
        evidence[f"{label}: pmt_episodes"] = vals["pmt_episodes"]
        evidence[f"{label}: pmt_burden"] = vals["pmt_burden"]
        evidence[f"{label}: conformance"] = result.verdict
        # the evidence files, relative to the proof folder: the scenario, the WFDB record
        # (device markers 'dev', the cell heart's truth 'heart') and the bench's summary
        evidence[f"{label}: scenario"] = path.name
        for key, suffix in (("record", ".hea"), ("summary", ".json")):
            found = sorted(p for p in result.artefacts.values() if p.suffix == suffix)
            if found:
                rel = found[0].with_suffix("") if suffix == ".hea" else found[0]
                evidence[f"{label}: {key}"] = f"{label}/{rel.name}"
    return evidence


def _toml(doc: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer for the proof scenarios (scalars, arrays, inline tables)."""
    def val(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v) if not isinstance(v, float) or math.isfinite(v) else "nan"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {val(x)}" for k, x in v.items()
                                    if x is not None) + " }"
        raise TypeError(f"cannot write {v!r} as TOML")
    head = [f"{k} = {val(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    tables = [f"\n[{k}]\n" + "\n".join(f"{kk} = {val(vv)}" for kk, vv in v.items()
                                       if vv is not None)
              for k, v in doc.items() if isinstance(v, dict)]
    return "\n".join(head) + "\n" + "\n".join(tables) + "\n"


def run(args: argparse.Namespace) -> int:
    """Search, print, write the twin with its recommendation; prove it if asked."""
    try:
        twin = load_twin(args.twin)
        settings = RecommendSettings(
            trials=args.trials, duration_us=round(args.duration_s * 1e6),
            seed=args.seed, battery=twin.battery,
            **({} if args.highest_sinus_bpm is None
               else {"highest_sinus_bpm": args.highest_sinus_bpm}))
    except TwinError as err:
        raise ConfigError(str(err), name=err.name, value=err.value, expected=err.expected,
                          source=str(args.twin)) from None
    current = current_programming(args, twin)
    try:
        rec = recommend(twin.condition, current, fast_outcomes, settings)
    except TwinError as err:
        raise ConfigError(str(err), name=err.name, value=err.value, expected=err.expected,
                          source=str(args.twin)) from None
    print(_table(rec))
    out = args.out or args.twin
    evidence: dict[str, Any] = {}
    twin_rec = TwinRecommendation(
        current=_plain(rec.current.programming), recommended=_plain(rec.recommended.programming),
        predicted_current=_outcome_values(rec.current),
        predicted_recommended=_outcome_values(rec.recommended),
        method=(f"optuna NSGA-II, {rec.evaluated} candidates on the fast heart, "
                f"{settings.duration_us / 1e6:g} s each with a PVC every {PVC_CHALLENGE_S:g} s; "
                "priority: PMT burden, then ventricular pacing (within 2 pp), then longevity"),
        front=tuple({"ventricular_paced_percent": c.ventricular_paced_percent,
                     "pmt_burden": c.pmt_burden, "longevity_years": c.longevity_years}
                    for c in rec.front))
    save_twin(_with_recommendation(twin, twin_rec), out)
    if args.prove:
        proof_dir = args.prove_out or out.with_name(out.name.split(".")[0] + ".proof")
        print(f"proving on the cell-network heart with the reference firmware "
              f"({args.prove_duration_s:g} s per programming) in {proof_dir}", flush=True)
        evidence = prove(out.resolve(), rec, proof_dir, args.prove_duration_s, args.seed)
        for k, v in evidence.items():
            print(f"  {k}: {v}")
        twin_rec = TwinRecommendation(**{**twin_rec.__dict__, "evidence": evidence})
        save_twin(_with_recommendation(twin, twin_rec), out)
    print(f"wrote {out}")
    if args.json:
        print(json.dumps({**rec.to_dict(), "evidence": evidence}, default=str))
    return ExitCode.PASSED


def _with_recommendation(twin: Twin, rec: TwinRecommendation) -> Twin:
    return Twin(twin_id=twin.twin_id, condition=twin.condition, provenance=twin.provenance,
                observed=twin.observed, predicted=twin.predicted, posterior=twin.posterior,
                programming=twin.programming, analysis=twin.analysis, recommendation=rec,
                battery=twin.battery, lead_impedance_ohm=twin.lead_impedance_ohm)
