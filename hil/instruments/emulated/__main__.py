"""Serve the emulated bench from its own process: ``python -m hil.instruments.emulated``.

Prints one JSON line with the resource strings (``awg``, ``scope``, ``analyzer``, ``device``),
then serves until stdin closes or SIGTERM/SIGINT arrives; everything is stopped on the way out.
Any VISA client (pyvisa with pyvisa-py, or another process's ``open_bench``) can then use the
printed resources as if they were real instruments.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from firmware_bridge import DeviceClient
from firmware_bridge.auth import DEV_KEY
from hil.emulator.device import start_device
from hil.instruments.emulated.analyzer import EmulatedAnalyzer
from hil.instruments.emulated.awg import EmulatedAwg
from hil.instruments.emulated.device import AnalogDevice
from hil.instruments.emulated.scope import EmulatedScope
from hil.instruments.emulated.world import AnalogWorld


def main(argv: Sequence[str] | None = None) -> int:
    """Start the emulated instruments, print their resources, serve until told to stop."""
    ap = argparse.ArgumentParser(prog="python -m hil.instruments.emulated")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", action="store_true",
                    help="also start the host firmware behind the emulated analog device")
    ap.add_argument("--analyzer", action="store_true", help="also serve the analyzer on a pty")
    ap.add_argument("--fault", default=None, help="seeded-fault firmware variant (--device)")
    args = ap.parse_args(argv)
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    world = AnalogWorld(seed=args.seed)
    with contextlib.ExitStack() as stack:
        awg = stack.enter_context(EmulatedAwg(world))
        scope = stack.enter_context(EmulatedScope(world))
        out: dict[str, str | None] = {"awg": awg.resource, "scope": scope.resource,
                                      "analyzer": None, "device": None}
        analog = None
        if args.device:
            dev = stack.enter_context(start_device("host", args.fault))
            client = stack.enter_context(DeviceClient.open(dev.url, key=DEV_KEY))
            client.connect()
            analog = stack.enter_context(AnalogDevice(world, client))
            out["device"] = "(driven by the emulated analog device)"
        if args.analyzer:
            out["analyzer"] = stack.enter_context(EmulatedAnalyzer(world, analog)).url
        print(json.dumps(out), flush=True)

        def watch_stdin() -> None:
            with contextlib.suppress(Exception):
                while sys.stdin.readline():
                    pass
            done.set()

        threading.Thread(target=watch_stdin, daemon=True).start()
        done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
