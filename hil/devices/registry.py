"""Which module opens which device: a device is a URL, its kind the part before ``+``.

``events+socket://lab-pc:7000`` is an event-level device on a socket; ``analog+emulated`` the
analog bench (electrograms out of an AWG, paces back through a scope); a plain URL or
``emulated``/``qemu`` a device of the binary protocol. ``exec:<program> [arguments]`` runs a
program as the device, its stdin and stdout the link (``events+exec:./build/fw --ddd`` for a
firmware team's host build of event-level firmware). As pyserial's ``serial_for_url`` finds the
module of a URL scheme, :func:`open_device` imports the kind's module on first use and calls its
``open_device(target, options)``; adding a kind is one module with that function and one line in
:data:`KINDS`.
"""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from devicetwin.errors import did_you_mean
from hil.devices.contract import DeviceUnderTest
from hil.errors import ConfigError

#: Kind name -> the module that opens it (each has ``open_device(target, options)``).
KINDS: dict[str, str] = {
    "binary": "hil.devices.binary",
    "events": "hil.devices.events",
    "analog": "hil.devices.analog",
    "bytes": "hil.devices.bytes",
    "inprocess": "hil.emulator.inprocess",
}
#: Kinds that run only on the wall clock (no lock-step): ``devicetwin run`` goes real time.
REALTIME_ONLY_KINDS = frozenset({"analog", "bytes"})
DEFAULT_KIND = "binary"


@dataclass(frozen=True)
class DeviceOptions:
    """How to open a device, beyond its URL.

    Attributes
    ----------
    fault:
        A seeded-fault variant of an emulated firmware.
    key:
        The device key for therapy commands (binary protocol).
    corrupt_store:
        Damage the emulated device's parameter store before boot (A-15).
    instruments:
        The analog bench's resources: ``awg``, ``scope``, ``analyzer``.
    profile:
        A device profile's settings for the kind (``hil.devices.profile``), or empty.
    timeout_s:
        How long to wait for an answer.
    """

    fault: str | None = None
    key: bytes | None = None
    corrupt_store: bool = False
    instruments: Mapping[str, str] = field(default_factory=dict)
    profile: Mapping[str, object] = field(default_factory=dict)
    timeout_s: float = 5.0


EXEC_PREFIX = "exec:"


def exec_argv(target: str) -> list[str] | None:
    """The command line of an ``exec:<program> [arguments]`` target (a program run as a device,
    its stdin and stdout the link), or None for any other target."""
    if not target.startswith(EXEC_PREFIX):
        return None
    try:
        return shlex.split(target[len(EXEC_PREFIX):])
    except ValueError as err:
        raise ConfigError(f"cannot split the command line of {target!r}: {err}", name="device",
                          value=target, expected="exec:<program> [arguments], shell quoting",
                          source="--device") from err


def split_url(url: str) -> tuple[str, str]:
    """``(kind, target)`` of a device URL: ``events+socket://h:1`` -> ``("events",
    "socket://h:1")``; a URL without a known kind prefix is of the binary protocol."""
    head, plus, rest = url.partition("+")
    if plus and "://" not in head and ":" not in head and "/" not in head:
        if head not in KINDS:
            allowed = ", ".join(KINDS)
            raise ConfigError(f"unknown device kind {head!r} in {url!r}"
                              f"{did_you_mean(head, KINDS)}; expected one of {allowed}",
                              name="device", value=url, expected=f"<kind>+<url>, kind in {allowed}",
                              source="--device")
        return head, rest
    return DEFAULT_KIND, url


def seeded_faults(url: str) -> list[str]:
    """The seeded-fault variants of the emulated firmware of ``url``'s kind (a kind's module
    lists them in ``seeded_faults()``; none for kinds without an emulated firmware)."""
    kind, _ = split_url(url)
    module = importlib.import_module(KINDS[kind])
    lister = getattr(module, "seeded_faults", None)
    return list(lister()) if lister is not None else []


def open_device(url: str, options: DeviceOptions | None = None) -> DeviceUnderTest:
    """Open and identify the device at ``url`` (see the module docstring)."""
    kind, target = split_url(url)
    module = importlib.import_module(KINDS[kind])
    device: DeviceUnderTest = module.open_device(target, options or DeviceOptions())
    return device
