"""``devicetwin vectors generate|run|patterns``: the command-line side of the test vectors."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from devicetwin.pacemaker.programming import (
    ProgrammingError,
    parameter_spec,
    value_from_plain,
)
from hil.errors import ConfigError

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


def cmd_generate(args: argparse.Namespace) -> int:
    """Write a vector file from a pattern and the twin."""
    from devicetwin.pacemaker import Chamber
    from hil.session.mapping import programming_from
    from hil.vectors.format import MIN_DURATION_US, write_vectors
    from hil.vectors.generate import generate_vectors

    params = parse_params(args.param or [])
    try:
        programming_from(args.mode, params)
    except ProgrammingError as err:
        option = "--mode" if err.name == "mode" else "--param"
        raise VectorArgumentError(str(err), name=err.name, value=err.value,
                                  expected=err.expected, source=option) from None
    tol_ms = _checked(args.tolerance_ms, "--tolerance-ms", 0.0, MAX_TOLERANCE_MS, "ms")
    duration_s = _checked(args.duration_s, "--duration-s", MIN_DURATION_US / 1e6,
                          MAX_DURATION_S, "s")
    tol = round(tol_ms * 1000)
    vectors = generate_vectors(args.mode, params, args.pattern, round(duration_s * 1e6),
                               tolerance_us={Chamber.A: tol, Chamber.V: tol}, name=args.name)
    path = write_vectors(vectors, args.out)
    print(f"wrote {path}: {vectors.description}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Play a vector file to a device; 0 only when it passes."""
    from hil.vectors.format import read_vectors
    from hil.vectors.play import run_vectors

    key = None
    if getattr(args, "key_file", None) is not None:
        from hil.devices import read_key_file

        key = read_key_file(args.key_file)
    vectors = read_vectors(args.file)
    report = run_vectors(vectors, args.device, level=args.level, fault=args.fault, key=key)
    print(report.text())
    return 0 if report.passed else 1


def cmd_patterns(args: argparse.Namespace) -> int:
    """List the built-in patterns and their options."""
    from hil.vectors.patterns import PATTERNS

    for p in PATTERNS.values():
        opts = ",".join(f"{k}={v:g}" for k, v in p.defaults.items())
        print(f"{p.name:11s} {p.description}\n{'':11s} options: {opts}")
        for k, o in p.options.items():
            print(f"{'':13s} {k}: {o.allowed}")
    return 0


def add_parser(sub: Any) -> None:
    """Add ``vectors`` and its subcommands to the ``devicetwin`` parser."""
    vec = sub.add_parser("vectors", help="open-loop test vectors: generate and run")
    vsub = vec.add_subparsers(dest="vectors_command", metavar="ACTION", required=True)

    gen = vsub.add_parser("generate", help="expected outputs for a stimulus pattern, by the twin")
    gen.add_argument("--mode", required=True, help="pacing mode, e.g. DDD")
    gen.add_argument("--param", action="append", metavar="K=V",
                     help="programming value in model units (repeatable)")
    gen.add_argument("--pattern", required=True,
                     help="NAME[:key=value,...] (see `devicetwin vectors patterns`)")
    gen.add_argument("--duration-s", type=float, required=True, help="length in seconds")
    gen.add_argument("--tolerance-ms", type=float, default=8.0,
                     help="tolerance window per chamber, +- ms (default 8)")
    gen.add_argument("--name", default=None, help="name stored in the file")
    gen.add_argument("--out", type=Path, required=True, help="vector file to write (JSON)")
    gen.set_defaults(func=cmd_generate)

    run = vsub.add_parser("run", help="play a vector file to a device and check its paces")
    run.add_argument("file", type=Path, help="vector file (JSON)")
    run.add_argument("--device", default="emulated",
                     help="emulated, qemu, a device URL, or twin (event level)")
    run.add_argument("--level", choices=["samples", "events"], default="samples",
                     help="stimuli as electrogram pulses (TICK) or as sense events")
    run.add_argument("--fault", default=None, help="a seeded-fault firmware variant")
    run.add_argument("--key-file", type=Path, default=None, help="device key file")
    run.set_defaults(func=cmd_run)

    pat = vsub.add_parser("patterns", help="list the built-in stimulus patterns")
    pat.set_defaults(func=cmd_patterns)


__all__ = ["MAX_DURATION_S", "MAX_TOLERANCE_MS", "VectorArgumentError", "add_parser",
           "cmd_generate", "cmd_patterns", "cmd_run", "parse_params"]
