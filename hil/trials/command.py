"""``devicetwin population`` and ``devicetwin trial``: sample a virtual population; run a trial."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from devicetwin.population import load_population, sample_patients
from hil.errors import ConfigError
from hil.executor import Executor, ProgressLines, check_scheduler
from hil.exitcodes import ExitCode
from hil.trials.runner import TrialRun, run_trial
from hil.trials.spec import LIBRARY_DIR, TrialSpec, library_trials, load_trial, resolve_file
from hil.trials.store import write_table


def add_parsers(sub: Any) -> None:
    """Add the ``population`` and ``trial`` subcommands to the ``devicetwin`` parser."""
    pop = sub.add_parser("population", help="virtual populations: sample patients to a table")
    pop_sub = pop.add_subparsers(dest="population_command", metavar="ACTION",
                                 parser_class=type(pop))
    sample = pop_sub.add_parser("sample", help="draw patients from a population file")
    sample.add_argument("population", help="a population file (TOML) or a library population "
                        f"({', '.join(_library_populations())})")
    sample.add_argument("--n", type=int, required=True, help="number of patients")
    sample.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    sample.add_argument("--out", type=Path, required=True,
                        help="output table: .parquet or .csv (one row per patient)")
    sample.set_defaults(func=cmd_population_sample)
    pop.set_defaults(func=_needs_action(pop))

    trial = sub.add_parser("trial", help="in-silico trials: every patient in every arm, on Dask")
    trial_sub = trial.add_subparsers(dest="trial_command", metavar="ACTION",
                                     parser_class=type(trial))
    run = trial_sub.add_parser("run", help="run (or resume) a trial into a folder")
    run.add_argument("trial", help="a trial file (TOML) or a library trial "
                     f"({', '.join(library_trials())})")
    run.add_argument("--out", type=Path, required=True,
                     help="folder for patients, per-patient results (Parquet), summary, report; "
                          "an interrupted run resumes in the same folder")
    run.add_argument("--scheduler", default=None,
                     help="Dask scheduler address (tcp://host:8786) of a running cluster; "
                          "default: a local cluster, one worker process per core; "
                          "'synchronous': no cluster, this process")
    run.add_argument("--workers", type=int, default=None,
                     help="worker processes of the local cluster (default: cores)")
    run.add_argument("--patients", type=int, default=None,
                     help="override the trial's number of patients")
    run.add_argument("--batch-size", type=int, default=None,
                     help="patient-arms per task (default: sized to ~0.5 s of work)")
    run.set_defaults(func=cmd_trial_run)
    listing = trial_sub.add_parser("list", help="list the reference trials")
    listing.set_defaults(func=cmd_trial_list)
    trial.set_defaults(func=_needs_action(trial))


def _library_populations() -> list[str]:
    trials = set(library_trials())
    return sorted(p.stem for p in LIBRARY_DIR.glob("*.toml") if p.stem not in trials)


def _needs_action(parser: argparse.ArgumentParser) -> Any:
    def show_help(_args: argparse.Namespace) -> int:
        parser.print_help()
        return int(ExitCode.CONFIG)
    return show_help


def cmd_population_sample(args: argparse.Namespace) -> int:
    """Sample ``--n`` patients with ``--seed`` and write them, one row each."""
    if args.n < 1:
        raise ConfigError(f"--n {args.n} must be at least 1", name="n", value=args.n,
                          expected="an integer >= 1", source="--n")
    if args.seed < 0:
        raise ConfigError(f"--seed {args.seed} must be >= 0", name="seed", value=args.seed,
                          expected="an integer >= 0", source="--seed")
    population = load_population(resolve_file(args.population, "population"))
    patients = sample_patients(population, args.n, args.seed)
    path = write_table(args.out, [p.row() for p in patients])
    counts: dict[str, int] = {}
    for p in patients:
        counts[p.indication] = counts.get(p.indication, 0) + 1
    shares = ", ".join(f"{k} {v}" for k, v in counts.items())
    print(f"wrote {len(patients)} patients of {population.name} (seed {args.seed}) to {path}: "
          f"{shares}")
    return int(ExitCode.PASSED)


def cmd_trial_list(_args: argparse.Namespace) -> int:
    """Print the reference trials."""
    for name in library_trials():
        spec = load_trial(name)
        print(f"{name:24s} {spec.patients:5d} patients x {len(spec.arms)} arms, "
              f"{spec.duration_s:g} s each  {spec.description}")
    return int(ExitCode.PASSED)


def cmd_trial_run(args: argparse.Namespace) -> int:
    """Run a trial; 0 when it reproduces every published comparison it names, else 1."""
    check_scheduler(args.scheduler)
    spec = load_trial(args.trial)
    if args.patients is not None:
        if args.patients < 1:
            raise ConfigError(f"--patients {args.patients} must be at least 1", name="patients",
                              value=args.patients, expected="an integer >= 1",
                              source="--patients")
        spec = dataclasses.replace(spec, patients=args.patients)
    with Executor(args.scheduler, args.workers) as ex:
        print(ex.describe(), file=sys.stderr)
        progress = ProgressLines(f"trial {spec.name}", "patient-arms")
        run = _run(spec, args, ex, progress)
    s = run.summary
    print(f"trial {spec.name}: {s.patients} patients x {len(s.arms)} arms "
          f"({run.computed} run now, {run.resumed} from an earlier run) in {run.wall_s:.1f} s")
    for c in s.comparisons:
        cmp = c.comparison
        values = ", ".join(f"{a} {c.trial[a].value:.3g}" for a in s.arms)
        published = ", ".join(f"{a} {v:g}" for a, v in cmp.published.items())
        print(f"  {cmp.statistic} {cmp.endpoint}: {values} (published: {published}) -> "
              f"{'reproduced' if c.passed else 'NOT reproduced: ' + '; '.join(c.failures)}")
    for t in s.timing:
        if t.two_to_one_bpm is not None:
            print(f"  {t.arm}: TARP {t.tarp_ms} ms, 2:1 point {t.two_to_one_bpm:.0f} bpm")
    for name, path in run.files.items():
        print(f"{name}: {path}")
    return int(ExitCode.PASSED if s.passed else ExitCode.FAILED)


def _run(spec: TrialSpec, args: argparse.Namespace, ex: Executor,
         progress: ProgressLines) -> TrialRun:
    return run_trial(spec, args.out, ex, batch_size=args.batch_size, on_progress=progress.update,
                     log=lambda text: print(text, file=sys.stderr))
