"""``devicetwin vectors generate|run|import|patterns``: the command-line side of the test
vectors."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from devicetwin.pacemaker import Chamber, MarkerKind
from devicetwin.pacemaker.programming import (
    ProgrammingError,
    parameter_spec,
    value_from_plain,
)
from hil.devices import read_key_file
from hil.devices.profile import load_profile
from hil.errors import ConfigError
from hil.vectors.evidence import write_evidence, write_json
from hil.vectors.format import (
    ANCHOR_EVENTS,
    FORMAT_NAME,
    MIN_DURATION_US,
    Stimulus,
    VectorFile,
    parse_vectors,
    programming_of,
    read_vectors,
    write_vectors,
)
from hil.vectors.generate import generate_vectors, vectors_from_stimuli
from hil.vectors.importers import (
    ATRIAL_INPUT,
    PRELUDE_UNTIL_MS,
    VENTRICULAR_INPUT,
    ImportSettings,
    import_csv,
    import_tester,
    read_csv_rows,
    read_programming,
)
from hil.vectors.patterns import PATTERNS
from hil.vectors.play import run_vectors
from hil.vectors.probes import tracking_ratio

#: The longest vector set ``generate`` makes (a day), seconds.
MAX_DURATION_S = 86_400.0
#: The widest tolerance window ``generate`` writes, +- milliseconds.
MAX_TOLERANCE_MS = 1000.0


class VectorArgumentError(ConfigError):
    """A bad ``generate`` argument; ``source`` names the option (``--param``, ``--mode``, ...)."""


def _number(text: str) -> Any:
    """A number when ``text`` reads as one (int first), else the text: the parameter's spec
    decides what it takes (``value_from_plain``)."""
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def parse_params(items: list[str]) -> dict[str, Any]:
    """``k=v`` strings -> parameter values, each name and type checked against its spec.

    Values read as the parameter takes them: numbers, ``true``/``false`` or ``on``/``off``
    for switches, ``off`` for Off, enum names in any case (``lower_rate_timing=atrial``).

    Raises
    ------
    VectorArgumentError
        (source ``--param``) for an item that is not ``key=value``, an unknown parameter (with
        the closest names), a value of the wrong type, or a parameter given twice.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, eq, text = (part.strip() for part in item.partition("="))
        if not eq or not key:
            raise VectorArgumentError(f"{item!r} is not key=value", name="param",
                                      value=item, expected="key=value", source="--param")
        if key in out:
            raise VectorArgumentError(f"{item!r}: {key} is given twice", name=key, value=item,
                                      expected="each parameter once", source="--param")
        try:
            out[key] = value_from_plain(parameter_spec(key), _number(text))
        except ProgrammingError as err:
            raise VectorArgumentError(f"{item!r}: {err}", name=key, value=err.value,
                                      expected=err.expected, source="--param") from None
    return out


def _checked(value: float, option: str, low: float, high: float, unit: str) -> float:
    if not (math.isfinite(value) and low <= value <= high):
        expected = f"{low:g} to {high:g} {unit}"
        raise VectorArgumentError(f"{value!r} is not allowed: expected {expected}",
                                  name=option, value=value, expected=expected, source=option)
    return value


def _tolerance_us(value_ms: float | None, option: str = "--tolerance-ms") -> int | None:
    if value_ms is None:
        return None
    return round(_checked(value_ms, option, 0.0, MAX_TOLERANCE_MS, "ms") * 1000)


def _programming_args(args: argparse.Namespace) -> tuple[str, dict[str, Any], bool]:
    """Mode, parameters and device-defined from ``--programming`` then ``--mode``/``--param``
    (the command line wins), checked by the reference model."""
    mode, defined = "DDD", False
    params: dict[str, Any] = {}
    if getattr(args, "programming", None) is not None:
        mode, params, defined = read_programming(args.programming)
    if getattr(args, "mode", None):
        mode = args.mode
    params = {**params, **parse_params(args.param or [])}
    defined = defined or bool(getattr(args, "device_defined", False))
    try:
        programming_of(mode, params, device_defined=defined)
    except ProgrammingError as err:
        option = "--mode" if err.name == "mode" else "--param"
        raise VectorArgumentError(str(err), name=err.name, value=err.value,
                                  expected=err.expected, source=option) from None
    return mode, params, defined


def read_stimuli(path: Path) -> list[Stimulus]:
    """A hand-written stimulus list: CSV rows ``t_ms,A|V`` or JSON (a list of ``{"t_us",
    "chamber"}`` entries, or a vector file whose stimuli are taken)."""
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as err:
            raise VectorArgumentError(f"cannot read {str(path)!r}: {err}", name="stimuli",
                                      value=str(path), expected="a JSON list of stimuli",
                                      source="--stimuli") from None
        if isinstance(data, dict):
            return list(parse_vectors(path.read_text(encoding="utf-8"), str(path)).stimuli)
        wrapped = json.dumps({"format": FORMAT_NAME, "version": 2, "mode": "DDD",
                              "duration_us": 2**62, "stimuli": data, "expected": []})
        return list(parse_vectors(wrapped, str(path)).stimuli)
    rows = read_csv_rows(path)
    chamber = {ATRIAL_INPUT: Chamber.A, VENTRICULAR_INPUT: Chamber.V}
    for t, code in rows:
        if code not in chamber:
            raise VectorArgumentError(
                f"{path}: the row at {t / 1000:g} ms is an expected pace (code {code}); a "
                "stimulus list holds inputs only (A or V)", name="stimuli", value=code,
                expected="A or V", source="--stimuli")
    return [Stimulus(t, chamber[code]) for t, code in rows]


def _sweep(text: str | None) -> tuple[str, list[str]] | None:
    if text is None:
        return None
    key, eq, values = text.partition("=")
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not eq or not key.strip() or not items:
        raise VectorArgumentError(f"{text!r} is not KEY=V1,V2,...", name="sweep", value=text,
                                  expected="an option and its values, e.g. delta_ms=-1,0,1",
                                  source="--sweep")
    return key.strip(), items


def cmd_generate(args: argparse.Namespace) -> int:
    """Write vector files from a pattern (or a stimulus list) and the twin."""
    mode, params, _ = _programming_args(args)
    tol_us = _tolerance_us(args.tolerance_ms)
    assert tol_us is not None
    tol = {Chamber.A: tol_us, Chamber.V: tol_us}
    reqs = tuple(args.requirement or ())
    if (args.pattern is None) == (args.stimuli is None):
        raise VectorArgumentError("give one of --pattern and --stimuli", name="pattern",
                                  value=None, expected="--pattern NAME or --stimuli FILE",
                                  source="--pattern")
    if args.stimuli is not None:
        stimuli = read_stimuli(args.stimuli)
        last_s = stimuli[-1].t_us / 1e6 if stimuli else 0.0
        duration_s = _checked(args.duration_s if args.duration_s is not None else last_s + 2.0,
                              "--duration-s", MIN_DURATION_US / 1e6, MAX_DURATION_S, "s")
        v = vectors_from_stimuli(mode, params, stimuli, round(duration_s * 1e6),
                                 tolerance_us=tol, name=args.name or args.stimuli.stem,
                                 requirements=reqs)
        path = write_vectors(v, args.out)
        print(f"wrote {path}: {v.description}")
        return 0
    if args.duration_s is None:
        raise VectorArgumentError("--duration-s is needed with --pattern", name="duration_s",
                                  value=None, expected="a length in seconds",
                                  source="--duration-s")
    duration_s = _checked(args.duration_s, "--duration-s", MIN_DURATION_US / 1e6,
                          MAX_DURATION_S, "s")
    sweep = _sweep(args.sweep)
    specs = [args.pattern] if sweep is None else [
        args.pattern + ("," if ":" in args.pattern else ":") + f"{sweep[0]}={value}"
        for value in sweep[1]]
    for spec in specs:
        v = generate_vectors(mode, params, spec, round(duration_s * 1e6), tolerance_us=tol,
                             name=args.name if sweep is None else None)
        if reqs:
            v = dataclasses.replace(v, requirements=tuple(dict.fromkeys(v.requirements + reqs)))
        if v.generator.get("pattern") == "pp_sweep":
            v = _with_ratio(v)
        out = args.out if sweep is None else args.out / f"{v.name}.json"
        path = write_vectors(v, out)
        print(f"wrote {path}: {v.description}")
    return 0


def _with_ratio(v: VectorFile) -> VectorFile:
    """A P-P sweep's description states the closed-form tracking ratio."""
    p = v.programming()
    pp = int(v.generator["options"]["pp_ms"])
    a, n = tracking_ratio(pp, p)
    kind = "1:1 tracking" if (a, n) == (1, 1) else "2:1 block" if (a, n) == (2, 1) else \
        f"Wenckebach {a}:{n}"
    return dataclasses.replace(v, description=f"{v.description}; P-P {pp} ms, URI {p.uri_ms} ms, "
                               f"TARP {int(p.fixed_av_delay_ms) + int(p.pvarp_ms)} ms: expects "
                               f"{kind} (closed form)")


def _vector_paths(items: list[Path]) -> list[Path]:
    out: list[Path] = []
    for item in items:
        if item.is_dir():
            found = sorted(item.rglob("*.json"))
            if not found:
                raise VectorArgumentError(f"folder {str(item)!r} holds no .json vector files",
                                          name="file", value=str(item),
                                          expected="vector files (JSON)", source="FILE")
            out += found
        else:
            out.append(item)
    return out


def cmd_run(args: argparse.Namespace) -> int:
    """Play vector files to a device; 0 only when every one passes."""
    key = read_key_file(args.key_file) if args.key_file is not None else None
    profile = load_profile(args.device_profile) if args.device_profile is not None else None
    tol = _tolerance_us(args.tolerance_ms)
    files = [read_vectors(p) for p in _vector_paths(args.files)]  # all valid before any runs
    reports = []
    for v in files:
        r = run_vectors(v, args.device, level=args.level, fault=args.fault, key=key,
                        profile=profile, resync=args.resync, tolerance_us=tol)
        print(r.text())
        reports.append(r)
    if len(reports) > 1:
        passed = sum(1 for r in reports if r.passed)
        print(f"{passed}/{len(reports)} vector files passed")
    if args.json is not None:
        write_json(reports, args.json)
    if args.out is not None:
        for path in write_evidence(reports, args.out):
            print(f"wrote {path}")
    return 0 if all(r.passed for r in reports) else 1


def _anchor(text: str) -> tuple[MarkerKind, ...] | None:
    if text.lower() == "none":
        return None
    out = []
    for name in text.split(","):
        kind = ANCHOR_EVENTS.get(name.strip().upper())
        if kind is None:
            raise VectorArgumentError(f"anchor event {name!r} is not AP or VP", name="anchor",
                                      value=text, expected="AP, VP, e.g. AP,VP, or none",
                                      source="--anchor")
        out.append(kind)
    return tuple(out)


def cmd_import(args: argparse.Namespace) -> int:
    """Import a tester .mat suite or a CSV file as version-2 vector files."""
    mode, params, defined = _programming_args(args)
    tol_us = _tolerance_us(args.tolerance_ms)
    assert tol_us is not None
    anchor_text = args.anchor or ("AP,VP" if args.kind == "tester" or args.initializer
                                  else "none")
    settings = ImportSettings(
        mode=mode, parameters=params, device_defined=defined,
        tolerance_us={Chamber.A: tol_us, Chamber.V: tol_us},
        prelude_until_ms=int(_checked(args.prelude_until_ms, "--prelude-until-ms", 0,
                                      MAX_DURATION_S * 1000, "ms")),
        anchor=_anchor(anchor_text), requirements=tuple(args.requirement or ()))
    if args.kind == "tester":
        vectors = import_tester(args.file, settings, initializer=args.initializer,
                                tests=args.test or ())
    else:
        if args.test:
            raise VectorArgumentError("--test selects arrays of a .mat file, not CSV rows",
                                      name="test", value=args.test, expected="no --test",
                                      source="--test")
        vectors = [import_csv(args.file, settings, initializer=args.initializer)]
    out: Path = args.out
    for v in vectors:
        path = write_vectors(v, out / f"{v.name}.json" if len(vectors) > 1
                             or out.suffix.lower() != ".json" else out)
        print(f"wrote {path}: {v.description}")
    return 0


def cmd_patterns(args: argparse.Namespace) -> int:
    """List the built-in patterns and their options."""
    for p in PATTERNS.values():
        opts = ",".join(f"{k}={v:g}" for k, v in p.defaults.items())
        print(f"{p.name:15s} {p.description}\n{'':15s} options: {opts}"
              + (f"; checks {', '.join(p.requirements)}" if p.requirements else ""))
        for k, o in p.options.items():
            print(f"{'':17s} {k}: {o.allowed}")
    return 0


def _programming_options(p: argparse.ArgumentParser, mode_required: bool) -> None:
    p.add_argument("--mode", required=mode_required, default=None,
                   help="pacing mode, e.g. DDD" + ("" if mode_required else
                                                   " (default: the programming file's, else DDD)"))
    p.add_argument("--param", action="append", metavar="K=V",
                   help="programming value in model units (repeatable; enums by name, e.g. "
                        "lower_rate_timing=atrial)")
    p.add_argument("--programming", type=Path, default=None,
                   help="a TOML file: mode and parameters (or a [programming] table), "
                        "device_defined")
    p.add_argument("--device-defined", action="store_true",
                   help="the programming is the device's own: held to physical sense, not to "
                        "the PACEMAKER grid")


def add_parser(sub: Any) -> None:
    """Add ``vectors`` and its subcommands to the ``devicetwin`` parser."""
    vec = sub.add_parser("vectors", help="open-loop test vectors: generate, import and run")
    vsub = vec.add_subparsers(dest="vectors_command", metavar="ACTION", required=True)

    gen = vsub.add_parser("generate", help="expected outputs for a stimulus pattern, by the twin")
    _programming_options(gen, mode_required=False)
    gen.add_argument("--pattern", default=None,
                     help="NAME[:key=value,...] (see `devicetwin vectors patterns`)")
    gen.add_argument("--stimuli", type=Path, default=None,
                     help="a hand-written stimulus list instead of a pattern (CSV t_ms,A|V or "
                          "JSON entries)")
    gen.add_argument("--sweep", default=None, metavar="KEY=V1,V2,...",
                     help="one file per value of a pattern option (--out is then a folder)")
    gen.add_argument("--duration-s", type=float, default=None, help="length in seconds")
    gen.add_argument("--tolerance-ms", type=float, default=8.0,
                     help="tolerance window per chamber, +- ms (default 8)")
    gen.add_argument("--name", default=None, help="name stored in the file (default: unique)")
    gen.add_argument("--requirement", action="append", metavar="ID",
                     help="a requirement ID the vector checks (repeatable)")
    gen.add_argument("--out", type=Path, required=True, help="vector file to write (JSON)")
    gen.set_defaults(func=cmd_generate)

    run = vsub.add_parser("run", help="play vector files to a device and judge its paces")
    run.add_argument("files", nargs="+", type=Path, metavar="FILE",
                     help="vector files (JSON) or folders of them")
    run.add_argument("--device", default="emulated",
                     help="twin, emulated, qemu, events+emulated, events+exec:..., a device URL")
    run.add_argument("--device-profile", type=Path, default=None,
                     help="a device profile (TOML; docs/devices.md): its URL replaces --device, "
                          "its programming is what the device runs")
    run.add_argument("--level", choices=["samples", "events"], default=None,
                     help="stimuli as electrogram pulses (TICK) or as sense events (default: "
                          "events for twin and events+ devices, else samples)")
    run.add_argument("--fault", default=None, help="a seeded-fault firmware variant")
    run.add_argument("--key-file", type=Path, default=None, help="device key file")
    run.add_argument("--resync", action="store_true",
                     help="re-anchor after a divergence so one difference counts once")
    run.add_argument("--tolerance-ms", type=float, default=None,
                     help="override every tolerance window, +- ms")
    run.add_argument("--json", type=Path, default=None,
                     help="write the results (every failure) as JSON")
    run.add_argument("--out", type=Path, default=None,
                     help="folder for the evidence: JSON, JUnit XML, HTML")
    run.set_defaults(func=cmd_run)

    imp = vsub.add_parser("import", help="external vectors (the Penn tester's .mat, CSV) as "
                                         "version-2 files")
    imp.add_argument("kind", choices=["tester", "csv"], help="the input format")
    imp.add_argument("file", type=Path, help="the .mat or .csv file")
    _programming_options(imp, mode_required=False)
    imp.add_argument("--initializer", default=None,
                     help="the initializer: an array of the .mat (VAR), another file "
                          "(FILE.mat[:VAR], or a CSV for csv)")
    imp.add_argument("--test", action="append", metavar="VAR",
                     help="an array that is a test (repeatable; default: every n x 2 array)")
    imp.add_argument("--tolerance-ms", type=float, default=8.0,
                     help="tolerance window per chamber, +- ms (default 8)")
    imp.add_argument("--prelude-until-ms", type=float, default=float(PRELUDE_UNTIL_MS),
                     help="initializer rows are sent only before this time (default 2000)")
    imp.add_argument("--anchor", default=None,
                     help="the pace sequence that makes t = 0, e.g. AP,VP, or none (default: "
                          "AP,VP for tester and with an initializer, else none)")
    imp.add_argument("--requirement", action="append", metavar="ID",
                     help="a requirement ID stored in every vector (repeatable)")
    imp.add_argument("--out", type=Path, required=True,
                     help="folder for the vector files (or one .json file for one vector)")
    imp.set_defaults(func=cmd_import)

    pat = vsub.add_parser("patterns", help="list the built-in stimulus patterns")
    pat.set_defaults(func=cmd_patterns)


__all__ = ["MAX_DURATION_S", "MAX_TOLERANCE_MS", "VectorArgumentError", "add_parser",
           "cmd_generate", "cmd_import", "cmd_patterns", "cmd_run", "parse_params",
           "read_stimuli"]
