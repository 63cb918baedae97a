"""``devicetwin twin``: import a recording, calibrate, validate, recommend, report.

``import`` and ``report`` live here. ``calibrate``, ``validate`` and ``recommend`` live in their
own modules (:data:`STEP_MODULES`), each exposing the same three names:

- ``HELP: str`` -- the one-line help of the subcommand;
- ``add_arguments(parser: argparse.ArgumentParser) -> None`` -- its options;
- ``run(args: argparse.Namespace) -> int`` -- do it, return an exit code (``hil.exitcodes``).

A step whose module is not installed, or does not (yet) expose all three, is not offered (it
does not appear in ``--help``); ``tests/hil/twin/test_command.py`` fails for a module that
exists but breaks the contract.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from devicetwin.twin import TwinError, analyse_beat_labels, load_twin
from devicetwin.twin.session import SESSION_FORMAT
from devicetwin.twin.twinfile import TWIN_FORMAT
from hil.errors import ConfigError
from hil.exitcodes import ExitCode
from hil.twin.csv_import import import_marker_csv
from hil.twin.report import write_twin_report
from hil.twin.sources import read_salt_file
from hil.twin.store import load_session, write_session
from hil.twin.wfdb_import import ImportedSession, import_wfdb

#: The twin steps implemented in their own modules, in the order a user runs them.
STEP_MODULES = {
    "calibrate": "hil.twin.calibrate_cmd",
    "validate": "hil.twin.validate_cmd",
    "recommend": "hil.twin.recommend_cmd",
}
#: What a step module exposes.
STEP_CONTRACT = ("HELP", "add_arguments", "run")
SOURCE_FORMATS = ("auto", "wfdb", "csv")


def add_parser(sub: Any) -> None:
    """Add ``twin`` and its subcommands to the ``devicetwin`` parser's subparsers."""
    twin = sub.add_parser("twin", help="the patient's twin: import a recording, calibrate, "
                          "validate, recommend programming, report (docs/twin.md)")
    steps = twin.add_subparsers(dest="twin_command", metavar="STEP",
                                parser_class=type(twin))
    twin.set_defaults(func=lambda args: _no_step(twin))

    imp = steps.add_parser("import", help="import a WFDB record or a CSV marker log, "
                           "de-identified, into a session folder")
    imp.add_argument("source", type=Path,
                     help="a WFDB record (path without extension, its .hea, or a bench run's "
                          "folder) or a .csv marker log")
    imp.add_argument("--out", type=Path, required=True, help="folder for session.json "
                     "(and signals.npz)")
    imp.add_argument("--format", choices=SOURCE_FORMATS, default="auto",
                     help="source format (default: csv for a .csv file, else wfdb)")
    imp.add_argument("--annotator", action="append", default=None,
                     help="WFDB annotator to read (repeatable; default: every one found but "
                          "the bench's heart and twin)")
    imp.add_argument("--salt-file", type=Path, default=None,
                     help="salt for the device pseudonym (64 hex digits; default: a fresh "
                          "random salt per import)")
    imp.set_defaults(func=_cmd_import)

    rep = steps.add_parser("report", help="write the HTML twin report of a twin file or an "
                           "imported session")
    rep.add_argument("input", type=Path, help="a twin file, or a session folder/session.json")
    rep.add_argument("--session", type=Path, default=None,
                     help="with a twin file: the session it was calibrated on (for the strip "
                          "and the analysis of the recording)")
    rep.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    rep.set_defaults(func=_cmd_report)

    for name, module in step_modules().items():
        step = steps.add_parser(name, help=module.HELP)
        module.add_arguments(step)
        step.set_defaults(func=module.run)


def step_modules() -> dict[str, ModuleType]:
    """The installed step modules that implement the contract (module docstring), by step."""
    out = {}
    for name, module_name in STEP_MODULES.items():
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        if all(hasattr(module, attr) for attr in STEP_CONTRACT):
            out[name] = module
    return out


def _no_step(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return ExitCode.CONFIG


def import_source(source: Path, fmt: str = "auto", *, salt: bytes | None = None,
                  annotators: list[str] | None = None) -> ImportedSession:
    """Import ``source`` as ``fmt`` (``auto``: csv for a ``.csv`` file, else wfdb)."""
    if fmt not in SOURCE_FORMATS:
        raise ConfigError(f"source format {fmt!r} is not one of {SOURCE_FORMATS}",
                          name="format", value=fmt, expected=", ".join(SOURCE_FORMATS),
                          source="--format")
    if fmt == "csv" or (fmt == "auto" and source.suffix.lower() == ".csv"):
        if annotators:
            raise ConfigError("--annotator applies to WFDB records, not a CSV marker log",
                              name="annotator", value=annotators, expected="no --annotator",
                              source="--annotator")
        return import_marker_csv(source, salt=salt)
    return import_wfdb(source, salt=salt, annotators=annotators)


def _cmd_import(args: argparse.Namespace) -> int:
    salt = None if args.salt_file is None else read_salt_file(args.salt_file)
    imported = import_source(args.source, args.format, salt=salt, annotators=args.annotator)
    written = write_session(args.out, imported)
    s = imported.session
    print(f"session {s.session_id}: {s.duration_s:.1f} s, {len(s.signals)} waveform(s), "
          f"{len(s.markers)} device marker(s), {len(s.beats)} beat label(s)")
    if s.beats:
        a = analyse_beat_labels(s.beats)
        if a.paced_rate_ppm is not None:
            p = a.paced_rate_ppm
            print(f"paced rate {p.value:.1f} ppm (95 % CI {p.low:.1f}-{p.high:.1f}); implied "
                  f"lower rate {a.implied_lower_rate_ppm} ppm (grid values within +-8 ms: "
                  f"{', '.join(str(v) for v in a.lower_rate_candidates_ppm)})")
    print("removed: " + ("; ".join(s.provenance.removed) or "nothing"))
    for path in written:
        print(f"wrote {path}")
    return ExitCode.PASSED


def _kind_of(path: Path) -> str:
    target = path / "session.json" if path.is_dir() else path
    try:
        doc = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"cannot read {str(target)!r} as JSON: {err}", name="input",
                          value=str(path), expected="a twin file or a session",
                          source=str(path)) from None
    fmt = doc.get("format") if isinstance(doc, dict) else None
    if fmt not in (TWIN_FORMAT, SESSION_FORMAT):
        raise ConfigError(f"{str(target)!r} is neither a twin file nor a session (format "
                          f"{fmt!r})", name="input", value=fmt,
                          expected=f"{TWIN_FORMAT} or {SESSION_FORMAT}", source=str(path))
    return str(fmt)


def _cmd_report(args: argparse.Namespace) -> int:
    twin = session = signals = None
    if _kind_of(args.input) == TWIN_FORMAT:
        try:
            twin = load_twin(args.input)
        except TwinError as err:
            raise ConfigError(str(err), name=err.name, value=err.value,
                              expected=err.expected) from None
        if args.session is not None:
            session, signals = load_session(args.session)
    else:
        if args.session is not None:
            raise ConfigError("--session goes with a twin file, not with a session",
                              name="session", value=str(args.session),
                              expected="a twin file as the input", source="--session")
        session, signals = load_session(args.input)
    path = write_twin_report(args.out, twin, session, signals)
    print(f"report: {path}")
    return ExitCode.PASSED
