"""The ``devicetwin`` command line.

Each subcommand lives in the module that owns its logic; this file only parses and dispatches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from devicetwin import __version__
from hil.errors import HilError


def _cmd_demo(args: argparse.Namespace) -> int:
    from hil.demo import run_demo

    return run_demo(duration_s=args.duration_s, seed=args.seed)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``devicetwin`` command."""
    parser = argparse.ArgumentParser(
        prog="devicetwin",
        description=(
            "A pacemaker digital twin with hardware in the loop: a simulated heart plays the "
            "patient, a device paces it, and a reference model scores every device event."
        ),
    )
    parser.add_argument("--version", action="version", version=f"devicetwin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the main job on built-in defaults")
    demo.add_argument("--duration-s", type=float, default=20.0, help="simulated seconds")
    demo.add_argument("--seed", type=int, default=1, help="random seed")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``devicetwin`` console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except HilError as err:
        print(f"devicetwin: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
