"""``devicetwin vectors generate|run|patterns``: the command-line side of the test vectors."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hil.errors import HilError


class VectorArgumentError(HilError):
    """A bad ``--param`` or ``--tolerance-ms`` argument."""


def _value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def parse_params(items: list[str]) -> dict[str, Any]:
    """``k=v`` strings -> a parameter mapping (ints, floats, booleans, else strings)."""
    out: dict[str, Any] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise VectorArgumentError(f"--param {item!r} is not key=value", name="param",
                                      value=item, expected="key=value")
        out[key.strip()] = _value(value.strip())
    return out


def cmd_generate(args: argparse.Namespace) -> int:
    """Write a vector file from a pattern and the twin."""
    from devicetwin.pacemaker import Chamber
    from hil.vectors.format import write_vectors
    from hil.vectors.generate import generate_vectors

    tol = round(args.tolerance_ms * 1000)
    vectors = generate_vectors(args.mode, parse_params(args.param or []), args.pattern,
                               round(args.duration_s * 1e6),
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
        from hil.session.device import read_key_file

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


__all__ = ["add_parser", "cmd_generate", "cmd_patterns", "cmd_run", "parse_params"]
