"""``python -m hil.emulator``: list the seeded faults, build variants, or run a device.

    python -m hil.emulator --list-faults          one fault name per line
    python -m hil.emulator --describe-faults      name, requirement, description
    python -m hil.emulator --build [--target T] [--fault F]
    python -m hil.emulator --run [--target T] [--fault F]   print the URL, run until Ctrl-C
"""

from __future__ import annotations

import argparse
import sys
import time

from hil.emulator.build import build_firmware
from hil.emulator.device import start_device
from hil.emulator.errors import EmulatorError
from hil.emulator.faults import seeded_faults


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m hil.emulator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--list-faults", action="store_true", help="one fault name per line")
    action.add_argument("--describe-faults", action="store_true",
                        help="fault name, requirement it breaks, what it does")
    action.add_argument("--build", action="store_true", help="build one variant")
    action.add_argument("--run", action="store_true", help="start a device, print its URL")
    parser.add_argument("--target", choices=("host", "qemu"), default="host")
    parser.add_argument("--fault", default=None, help="seeded fault name (default: clean)")
    args = parser.parse_args(argv)
    try:
        if args.list_faults:
            for f in seeded_faults():
                print(f.name)
        elif args.describe_faults:
            for f in seeded_faults():
                print(f"{f.name}\t{f.requirement}\t{f.description}")
        elif args.build:
            program = build_firmware(args.target, args.fault)
            print(program)
            size = program.parent / "size.txt"
            if size.exists():
                print(size.read_text().strip())
        else:
            with start_device(args.target, args.fault) as dev:
                print(dev.url, flush=True)
                try:
                    while dev.running():
                        time.sleep(0.2)
                except KeyboardInterrupt:
                    pass
                dev.check()
    except EmulatorError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
