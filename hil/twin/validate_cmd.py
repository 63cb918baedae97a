"""``devicetwin twin validate``: calibration against synthetic patients with hidden truths.

Synthetic patients (:mod:`devicetwin.twin.calibration_validation`) are recorded once on the
cell-network heart (the ten-minute protocol plus two replay runs, ~10 s of computation each) and
cached as JSON under ``--cache`` (default ``build/twin-validation``; not in git), one file per
patient, keyed by the draw seed: a cached patient is used only when its hidden truth is the one
the priors draw now and its segments' names, lengths and programmings are the protocol's.
Each patient is then calibrated on the fast heart and its replay predicted; the figures are
printed, and with ``--json`` the last line of output is one JSON object with
``av_mae_ms``, ``va_mae_ms``, ``retrograde_accuracy``, ``sinus_rate_error_pct``, ``coverage_90``,
``replay_vpace_error_pp``, ``replay_pmt_accuracy`` and ``calibrate_s_median``.

Patients run in parallel on the project's executor (:mod:`hil.executor`), one patient per task;
each calibration runs on one worker, so ``calibrate_s_median`` is one core's time.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from devicetwin.heart.conditions import Condition
from devicetwin.twin.calibration import (
    calibrate,
    cells_segment,
    draw_patients,
    fast_segment,
    simulate_recording,
)
from devicetwin.twin.calibration_abc import PriorSample
from devicetwin.twin.calibration_protocol import (
    Recording,
    SegmentRecord,
    recording_from_dict,
    recording_protocol,
    recording_to_dict,
)
from devicetwin.twin.calibration_validation import (
    PatientResult,
    ReplayPrediction,
    ReplayTruth,
    cells_outcomes,
    fast_outcomes,
    replay_prediction,
    replay_truth,
    validation_figures,
)
from hil.errors import ConfigError
from hil.executor import Executor, check_scheduler
from hil.exitcodes import ExitCode
from hil.twin.calibrate_cmd import (
    DEFAULT_PRIOR_CACHE,
    DEFAULT_SCALE,
    PRIOR_SEED,
    abc_settings,
    executor_mapper,
    prior_sample,
)

HELP = "calibrate synthetic patients with hidden parameters and score the twin against them"
#: The draw seed of the validation cohort.
VALIDATION_SEED = 2026
DEFAULT_CACHE = Path("build/twin-validation")
#: The figures and their goals (issue 17): (name, goal, True when higher is better).
GOALS: tuple[tuple[str, float, bool], ...] = (
    ("av_mae_ms", 10.0, False), ("va_mae_ms", 10.0, False),
    ("retrograde_accuracy", 0.95, True), ("sinus_rate_error_pct", 3.0, False),
    ("coverage_90", 0.85, True), ("replay_vpace_error_pp", 5.0, False),
    ("replay_pmt_accuracy", 0.90, True), ("calibrate_s_median", 120.0, False),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``twin validate``."""
    parser.add_argument("--patients", type=int, default=50,
                        help="synthetic patients (default 50)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="folder of the cached cell-heart recordings "
                             f"(default {DEFAULT_CACHE})")
    parser.add_argument("--seed", type=int, default=VALIDATION_SEED,
                        help=f"seed of the hidden parameters (default {VALIDATION_SEED})")
    parser.add_argument("--prior-cache", type=Path, default=DEFAULT_PRIOR_CACHE,
                        help=f"folder of cached prior tables (default {DEFAULT_PRIOR_CACHE})")
    parser.add_argument("--budget", choices=("quick", "standard"), default="standard",
                        help="simulations per calibration (default standard)")
    parser.add_argument("--scheduler", default=None,
                        help="a Dask scheduler address, 'synchronous', or nothing for a local "
                             "cluster")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes of the local cluster (default: one per core)")
    parser.add_argument("--details", type=Path, default=None,
                        help="write every patient's truth, estimates and replay to this JSON")
    parser.add_argument("--json", action="store_true",
                        help="print the figures as one JSON object on the last line")


def _patient_path(cache: Path, seed: int, k: int) -> Path:
    return cache / f"seed{seed}" / f"patient_{k:03d}.json"


def _record(item: tuple[int, dict[str, Any], int]) -> dict[str, Any]:
    """One synthetic patient on the cell heart: its protocol recording and replay truths."""
    k, truth, seed = item
    cond = Condition().with_changes(**truth)
    rec = simulate_recording(cond, recording_protocol(), seed * 1000 + k, cells_segment)
    replay = replay_truth(cond, cells_outcomes, seed * 1000 + k + 500)
    return {"patient": k, "seed": seed, "truth": cond.to_dict(),
            "recording": recording_to_dict(rec), "replay_truth": replay.to_dict()}


def _calibrate(item: tuple[dict[str, Any], str, PriorSample]) -> dict[str, Any]:
    """Calibrate one cached patient on the fast heart and predict its replay."""
    doc, budget, table = item
    truth = Condition().with_changes(**doc["truth"])
    rec = recording_from_dict(doc["recording"])
    cal = calibrate(rec, fast_segment, settings=abc_settings(budget), scale=DEFAULT_SCALE,
                    seed=int(doc["patient"]), check_draws=0, prior_sample=table)
    pred = replay_prediction(cal, fast_outcomes, seed=int(doc["patient"]))
    rt = doc["replay_truth"]
    res = PatientResult.of(truth, cal, ReplayTruth(float(rt["ventricular_paced_percent"]),
                                                   bool(rt["pmt"])), pred)
    return res.to_dict()


def _protocol_key(recording: dict[str, Any]) -> list[Any]:
    """What a cached recording must share with the protocol to be reused: every segment's name,
    length and programming (a recording made under an older protocol is recorded again)."""
    return [[s["name"], s["duration_us"], s["programming"]] for s in recording["segments"]]


def load_or_record(n: int, seed: int, cache: Path, ex: Executor) -> list[dict[str, Any]]:
    """The ``n`` synthetic patients, recorded on the cell heart where the cache lacks them."""
    patients = draw_patients(n, seed)
    protocol = _protocol_key(recording_to_dict(Recording(tuple(
        SegmentRecord(seg, ()) for seg in recording_protocol()))))
    docs: list[dict[str, Any] | None] = []
    todo = []
    for k, cond in enumerate(patients):
        path = _patient_path(cache, seed, k)
        doc = None
        if path.exists():
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                if (Condition().with_changes(**doc["truth"]) != cond
                        or _protocol_key(doc["recording"]) != protocol):
                    doc = None
            except (OSError, ValueError, KeyError, TypeError):
                doc = None
        docs.append(doc)
        if doc is None:
            todo.append((k, cond.to_dict(), seed))
    if todo:
        print(f"recording {len(todo)} synthetic patient(s) on the cell-network heart "
              f"(~10 s each) into {cache / f'seed{seed}'}", flush=True)

        def save(indices: list[int], values: list[dict[str, Any]]) -> None:
            for doc in values:
                path = _patient_path(cache, seed, int(doc["patient"]))
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + ".tmp")
                tmp.write_text(json.dumps(doc), encoding="utf-8")
                tmp.replace(path)
                docs[int(doc["patient"])] = doc

        ex.map_batched(_record, todo, batch_size=1, on_batch=save)
    return [d for d in docs if d is not None]


def run(args: argparse.Namespace) -> int:
    """Record (or reuse), calibrate and score the synthetic patients."""
    if not 1 <= args.patients <= 1000:
        raise ConfigError(f"--patients {args.patients} is out of range", name="patients",
                          value=args.patients, expected="1-1000", source="--patients")
    check_scheduler(args.scheduler)
    with Executor(args.scheduler, args.workers) as ex:
        docs = load_or_record(args.patients, args.seed, args.cache, ex)
        settings = abc_settings(args.budget)
        start = time.perf_counter()
        table = prior_sample(args.prior_cache, settings.first_batch, DEFAULT_SCALE, PRIOR_SEED,
                             executor_mapper(ex))
        print(f"prior table ({settings.first_batch} simulations, shared by every patient): "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        print(f"calibrating {len(docs)} patient(s) on the fast heart ({args.budget} budget)",
              flush=True)
        def show(indices: list[int], values: list[dict[str, Any]]) -> None:
            for row in values:
                t, e = row["truth"], row["estimates"]
                print(f"patient: sinus {t['sinus_rate_bpm']:.1f}/{e['sinus_rate_bpm'][0]:.1f} "
                      f"bpm, AV {t['av_delay_ms']:.0f}/{e['av_delay_ms'][0]:.0f} ms, retro "
                      f"{t['retrograde']}/{row['retrograde_probability']:.2f}, VA "
                      f"{t['va_conduction_ms']:.0f}/{e['va_conduction_ms'][0]:.0f} ms, VP "
                      f"{row['replay_truth']['ventricular_paced_percent']:.0f}/"
                      f"{row['replay_predicted']['ventricular_paced_percent']:.0f} %, "
                      f"{row['calibrate_s']:.1f} s", flush=True)

        rows = ex.map_batched(_calibrate, [(d, args.budget, table) for d in docs],
                              batch_size=1, on_batch=show)
    results = [_result(r) for r in rows]
    figures = validation_figures(results)
    print(f"{'figure':24s} {'value':>9s}  goal")
    for name, goal, higher in GOALS:
        value = figures[name]
        ok = value >= goal if higher else value <= goal
        print(f"{name:24s} {value:9.3f}  {'>=' if higher else '<='} {goal:g}  "
              f"{'met' if ok else 'NOT met'}")
    if args.details is not None:
        args.details.parent.mkdir(parents=True, exist_ok=True)
        args.details.write_text(json.dumps({"figures": figures, "patients": rows}, indent=1),
                                encoding="utf-8")
        print(f"wrote {args.details}")
    if args.json:
        print(json.dumps(figures))
    met = all((figures[n] >= g) if h else (figures[n] <= g) for n, g, h in GOALS)
    return ExitCode.PASSED if met else ExitCode.FAILED


def _result(row: dict[str, Any]) -> PatientResult:
    pred = row["replay_predicted"]
    return PatientResult(
        truth=row["truth"], estimates={k: (v[0], v[1], v[2]) for k, v in row["estimates"].items()},
        retrograde_probability=float(row["retrograde_probability"]),
        replay_truth=ReplayTruth(float(row["replay_truth"]["ventricular_paced_percent"]),
                                 bool(row["replay_truth"]["pmt"])),
        replay=ReplayPrediction(float(pred["ventricular_paced_percent"]),
                                float(pred["pmt_probability"]),
                                float(pred.get("ventricular_paced_low90", math.nan)),
                                float(pred.get("ventricular_paced_high90", math.nan))),
        calibrate_s=float(row["calibrate_s"]))

