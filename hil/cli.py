"""The ``devicetwin`` command line.

Each subcommand lives in the module that owns its logic; this file only parses and dispatches.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from devicetwin import __version__
from hil.demo import run_bench_demo, run_demo
from hil.devices import read_key_file
from hil.devices.profile import DeviceProfile, load_profile
from hil.devices.registry import seeded_faults
from hil.errors import ConfigError
from hil.executor import check_scheduler
from hil.exitcodes import EPILOG, ExitCode, exit_code_for, exit_code_of_run
from hil.interrupts import interruption_text, received_signal, signal_of, signals_as_interrupts
from hil.measure.command import add_parser as add_measure_parser
from hil.progress import Progress
from hil.reports.console import mutant_summary, run_summary, suite_summary
from hil.reports.evidence import write_evidence
from hil.reports.index import write_suite_evidence
from hil.results import SuiteEntry
from hil.scenarios import library_names, load_scenario, resolve
from hil.session.realtime import RealtimeOptions, describe
from hil.session.runner import run_scenario
from hil.suite import expand, mutant_table, run_suite, suite_exit_code, write_json
from hil.trials.command import add_parsers as add_trial_parsers
from hil.twin.command import add_parser as add_twin_parser
from hil.vectors.command import add_parser as add_vectors_parser


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.reference_only:
        return run_demo(duration_s=args.duration_s or 20.0, seed=args.seed)
    return run_bench_demo(args.out, device=args.device, duration_s=args.duration_s)


def _cmd_run(args: argparse.Namespace) -> int:
    scenario = load_scenario(resolve(args.scenario))
    with Progress(scenario.duration_s, scenario.name) as bar:
        result = run_scenario(scenario, args.device, out_dir=args.out, fault=args.fault,
                              key=_key(args), progress=lambda t_us: bar.update(t_us / 1e6),
                              realtime=args.realtime, realtime_options=_rt_options(args),
                              via=args.via, profile=_profile(args), instruments={
                                  k: v for k in ("awg", "scope", "analyzer")
                                  if (v := getattr(args, k)) is not None},
                              evidence=write_evidence)
    print(run_summary(result))
    if result.realtime is not None:
        print(describe(result.realtime))
    if args.out is not None:
        print(f"report: {args.out / 'report.html'}")
    return exit_code_of_run(result.passed, result.loop.signal)


def _rt_options(args: argparse.Namespace) -> RealtimeOptions | None:
    if args.lead_ms is None:
        return None
    return RealtimeOptions(lead_ms=args.lead_ms)


def _profile(args: argparse.Namespace) -> DeviceProfile | None:
    path = getattr(args, "device_profile", None)
    return None if path is None else load_profile(path)


def _key(args: argparse.Namespace) -> bytes | None:
    if getattr(args, "key_file", None) is None:
        return None
    return read_key_file(args.key_file)


def _cmd_scenarios(args: argparse.Namespace) -> int:
    for name in library_names():
        sc = load_scenario(resolve(name))
        print(f"{name:32s} {sc.mode:5s} {sc.duration_s:6.0f} s  {sc.description}")
    return 0


def _cmd_suite(args: argparse.Namespace) -> int:
    paths = expand(args.scenarios)
    profile = _profile(args)  # a bad profile is a configuration error before any run starts
    _check_executor_args(args)
    with Progress(len(paths), "suite", "runs") as bar:
        entries = run_suite(paths, device=args.device, jobs=args.jobs, out_dir=args.out,
                            on_done=_progress_note(bar), profile=args.device_profile,
                            scheduler=args.scheduler, on_start=bar.note)
    print(suite_summary(entries))
    code = suite_exit_code(entries)
    if args.out is not None:
        url = profile.url if profile is not None else args.device
        written = write_suite_evidence(args.out, entries, kind="suite", device=url,
                                       exit_code=code)
        print(f"index: {written['index.html']}")
    return code


def _executor_args(parser: argparse.ArgumentParser) -> None:
    """Where a suite's runs go: the Dask executor's options (hil.executor)."""
    parser.add_argument("--jobs", "--workers", dest="jobs", type=int, default=None,
                        help="parallel runs: worker processes of the local Dask cluster "
                             "(default: cores)")
    parser.add_argument("--scheduler", default=None,
                        help="Dask scheduler address (tcp://host:8786) of a running cluster, "
                             "whose workers import hil and can write to --out; default: a "
                             "local cluster; 'synchronous': one run at a time in this process")


def _check_executor_args(args: argparse.Namespace) -> None:
    """A bad --scheduler or --jobs is a configuration error before the progress bar starts."""
    check_scheduler(args.scheduler)
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs {args.jobs} must be at least 1", name="jobs", value=args.jobs,
                          source="--jobs/--workers", expected="an integer >= 1")


def _progress_note(bar: Progress) -> Callable[[SuiteEntry, int, int], None]:
    """A suite's ``on_done``: a line per finished run, and the bar moved on."""
    def done(entry: SuiteEntry, n: int, total: int) -> None:
        why = ", ".join(entry.failed[:3]) or (entry.error or "")[:80]
        bar.note(f"[{n}/{total}] {entry.scenario} ({entry.variant}): {entry.verdict}"
                 f" in {entry.wall_s:.1f} s" + (f" - {why}" if why else ""))
        bar.update(n)

    return done


def _cmd_mutants(args: argparse.Namespace) -> int:
    paths = expand(args.scenarios)
    profile = _profile(args)
    _check_executor_args(args)
    url = profile.url if profile is not None else args.device
    faults: list[str | None] = [None, *seeded_faults(url)]
    with Progress(len(paths) * len(faults), "mutants", "runs") as bar:
        entries = run_suite(paths, device=args.device, faults=faults, jobs=args.jobs,
                            out_dir=args.out, on_done=_progress_note(bar),
                            profile=args.device_profile, scheduler=args.scheduler,
                            on_start=bar.note)
    table = mutant_table(entries)
    print(mutant_summary(table["faults"], [p.stem for p in paths]))
    print(f"clean firmware passed every scenario: {table['clean_passed']}")
    if table["clean_failures"]:
        for name, why in table["clean_failures"].items():
            print(f"  clean failed {name}: {', '.join(why)}")
    print("undetected faults: " + (", ".join(table["undetected"]) or "none"))
    # a clean-firmware run that could not start (2, 3, 4) says so first; a mutant that cannot
    # start has been caught, not broken the bench
    broken = suite_exit_code([e for e in entries if e.fault is None])
    code = (broken if broken not in (ExitCode.PASSED, ExitCode.FAILED)
            else ExitCode.PASSED if table["clean_passed"] and not table["undetected"]
            else ExitCode.FAILED)
    if args.out is not None:
        print(f"wrote {write_json(args.out / 'mutants.json', table)}")
        written = write_suite_evidence(args.out, entries, kind="mutants", device=url,
                                       exit_code=code, extra={"mutants": table})
        print(f"index: {written['index.html']}")
    return code


class _Parser(argparse.ArgumentParser):
    """Every (sub)command's ``--help`` ends with the exit-code table."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("epilog", EPILOG)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``devicetwin`` command."""
    parser = _Parser(
        prog="devicetwin",
        description=(
            "A pacemaker digital twin with hardware in the loop: a simulated heart plays the "
            "patient, a device paces it, and a reference model scores every device event."
        ),
    )
    parser.add_argument("--version", action="version", version=f"devicetwin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser(
        "demo", help="run the main job on built-in defaults: the default scenario on the "
        "emulated device, with the report")
    demo.add_argument("--duration-s", type=float, default=None,
                      help="simulated seconds (default: the scenario's)")
    demo.add_argument("--out", type=Path, default=Path("runs/demo"),
                      help="folder for the record and reports (default: runs/demo)")
    demo.add_argument("--device", default="emulated", help="emulated, qemu, or a device URL")
    demo.add_argument("--reference-only", action="store_true",
                      help="only the reference model against a scripted event heart (no bench)")
    demo.add_argument("--seed", type=int, default=1, help="seed of the --reference-only demo")
    demo.set_defaults(func=_cmd_demo)

    run = sub.add_parser("run", help="run one scenario against a device and judge it")
    run.add_argument("scenario", help="a built-in scenario name or a scenario file (TOML)")
    _device_args(run)
    run.add_argument("--fault", default=None, help="a seeded-fault firmware variant")
    run.add_argument("--out", type=Path, default=None, help="folder for the record and reports")
    run.add_argument("--realtime", action="store_true",
                     help="drive the loop by the wall clock (STREAM; docs/realtime.md)")
    run.add_argument("--lead-ms", type=int, default=None,
                     help="real time: how far the stream runs ahead of the device (default 20; "
                          "100 for QEMU)")
    run.add_argument("--via", choices=("bridge", "visa"), default="bridge",
                     help="visa: electrograms out through the AWG, paces back from the scope, "
                          "in real time (docs/instruments.md)")
    run.add_argument("--awg", default=None, help="--via visa: AWG resource (default emulated)")
    run.add_argument("--scope", default=None,
                     help="--via visa: scope resource (default emulated)")
    run.add_argument("--analyzer", default=None,
                     help="--via visa: analyzer port or resource (default none)")
    run.set_defaults(func=_cmd_run)

    scen = sub.add_parser("scenarios", help="list the built-in scenarios")
    scen.set_defaults(func=_cmd_scenarios)

    suite = sub.add_parser("suite", help="run many scenarios in parallel")
    suite.add_argument("scenarios", nargs="*", help="names, files or folders (default: all)")
    _device_args(suite)
    _executor_args(suite)
    suite.add_argument("--out", type=Path, default=None,
                       help="folder for every run's evidence, junit.xml, summary.json and "
                            "index.html")
    suite.set_defaults(func=_cmd_suite)

    mut = sub.add_parser("mutants", help="measure detection power on the seeded faults")
    mut.add_argument("scenarios", nargs="*", help="names, files or folders (default: all)")
    _device_args(mut)
    _executor_args(mut)
    mut.add_argument("--out", type=Path, default=None,
                     help="folder for every run's evidence, mutants.json, junit.xml, "
                          "summary.json and index.html")
    mut.set_defaults(func=_cmd_mutants)

    add_vectors_parser(sub)
    add_measure_parser(sub)
    add_trial_parsers(sub)
    add_twin_parser(sub)
    return parser


def _device_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="emulated",
                   help="emulated (host firmware), qemu, or a device URL (default: emulated)")
    p.add_argument("--key-file", type=Path, default=None,
                   help="device key file (64 hex digits) for therapy commands")
    p.add_argument("--device-profile", type=Path, default=None,
                   help="a device profile (TOML: URL, what the device reports, the programming "
                        "it runs; docs/devices.md); its URL replaces --device")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``devicetwin`` console script; returns the process exit code.

    Every subcommand ends by one convention (``hil.exitcodes``): 0 passed, 1 a verdict failed,
    2 bad usage or configuration, 3 device or instrument unreachable, 128 + N on signal N.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return ExitCode.CONFIG
    with signals_as_interrupts():
        try:
            code = int(args.func(args))
        except KeyboardInterrupt as exc:
            print(f"devicetwin: {interruption_text(exc)}", file=sys.stderr)
            return ExitCode.for_signal(signal_of(exc))
        except BrokenPipeError:
            # the reader of stdout went away (`| head`): stop quietly, as a shell tool does;
            # stdout goes to /dev/null so the interpreter's final flush does not complain
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return ExitCode.SIGPIPE
        except Exception as err:
            known = exit_code_for(err)
            if known is None:  # not a classified error: a bug in devicetwin itself
                traceback.print_exc()
                print("devicetwin: internal error (a bug in devicetwin; please report it with "
                      "the traceback above)", file=sys.stderr)
                return ExitCode.INTERNAL
            print(f"devicetwin: error: {err}", file=sys.stderr)
            return known
        signum = received_signal()
    if signum is not None:  # a signal arrived while the evidence was being written
        print(f"devicetwin: interrupted by {signal.Signals(signum).name}", file=sys.stderr)
        return ExitCode.for_signal(signum)
    return code


if __name__ == "__main__":
    sys.exit(main())
