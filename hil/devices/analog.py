"""The analog kind of device: a pacemaker behind lab instruments (``analog+<programmer URL>``).

The heart's electrograms leave through an arbitrary waveform generator and the device's paces
come back through a scope (``hil.instruments``); a programmer link programs it. It runs in real
time only and shows paces only. ``devicetwin run --via visa`` is this kind.
"""

from __future__ import annotations

from hil.devices.registry import DeviceOptions
from hil.instruments.bench import EMULATED
from hil.instruments.session import VisaDeviceConnection


def open_device(target: str, options: DeviceOptions) -> VisaDeviceConnection:
    """The registry's entry: the bench's instruments with the device's programmer at
    ``target`` (``emulated`` for the reference firmware behind the emulated analog device)."""
    inst = options.instruments
    return VisaDeviceConnection(target or EMULATED, fault=options.fault, key=options.key,
                                awg=inst.get("awg", EMULATED), scope=inst.get("scope", EMULATED),
                                analyzer=inst.get("analyzer"), timeout_s=options.timeout_s)
