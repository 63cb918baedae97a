"""The bench plug: open every instrument of a bench, close them all on the way out.

``open_bench`` takes resource strings; ``"emulated"`` starts the loopback emulator instead
(SCPI servers for the AWG and the scope, a pty for the analyzer, the host firmware behind the
emulated analog device). Real and emulated benches differ only in these strings.
"""

from __future__ import annotations

import contextlib
from types import TracebackType

from firmware_bridge import DeviceClient
from firmware_bridge.auth import DEV_KEY
from firmware_bridge.errors import BridgeError
from hil.emulator.device import EmulatedDevice, start_device
from hil.instruments.analyzer import LineAnalyzer
from hil.instruments.awg import ScpiAwg
from hil.instruments.emulated.analyzer import EmulatedAnalyzer
from hil.instruments.emulated.awg import EmulatedAwg
from hil.instruments.emulated.device import AnalogDevice
from hil.instruments.emulated.pulse import PulseModel
from hil.instruments.emulated.scope import EmulatedScope
from hil.instruments.emulated.world import AnalogWorld
from hil.instruments.errors import InstrumentConnectionError, InstrumentError
from hil.instruments.interfaces import BenchResources
from hil.instruments.programmer import BridgeProgrammer
from hil.instruments.scope import ScpiDigitizer

EMULATED = "emulated"
LOAD_OHM = 500.0


class Bench:
    """An open bench (:class:`hil.instruments.interfaces.VisaBench`).

    Attributes
    ----------
    awg, scope, analyzer, programmer
        The drivers (``analyzer``/``programmer`` None when not asked for).
    resources : BenchResources
        What was opened (emulated resources resolved to their loopback ports and pty).
    world, analog_device
        The emulated analog bench and device coupling (None on a real bench).
    device
        The emulated firmware (an EmulatedDevice) or None.
    """

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self.awg: ScpiAwg
        self.scope: ScpiDigitizer
        self.analyzer: LineAnalyzer | None = None
        self.programmer: BridgeProgrammer | None = None
        self.resources = BenchResources()
        self.world: AnalogWorld | None = None
        self.analog_device: AnalogDevice | None = None
        self.device: EmulatedDevice | None = None
        self.load_ohm = LOAD_OHM
        self.closed = False

    def close(self) -> None:
        """Close every instrument, stop every emulator (reverse order); safe to call twice."""
        self.closed = True
        self._stack.close()

    def __enter__(self) -> Bench:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def check(self) -> None:
        """Re-raise an error the emulated analog device stopped on."""
        if self.analog_device is not None:
            self.analog_device.check()


def open_bench(awg: str = EMULATED, scope: str = EMULATED, analyzer: str | None = None,
               device: str | None = EMULATED, *, fault: str | None = None, seed: int = 0,
               key: bytes | None = None, timeout_s: float = 5.0, attenuation: float = 1.0,
               model: PulseModel | None = None) -> Bench:
    """Open a bench; use as ``with open_bench(...) as bench:``.

    Parameters
    ----------
    awg, scope : str
        VISA resources (``TCPIP::host::5025::SOCKET``) or ``"emulated"``.
    analyzer : str or None
        Serial port / pty path / ``ASRL...::INSTR``, ``"emulated"``, or None for none.
    device : str or None
        The programmer's firmware_bridge URL, ``"emulated"`` (the host firmware wired to the
        emulated instruments), or None for none.
    fault : str or None
        Seeded-fault firmware variant (emulated device only).
    seed : int
        Noise seed of the emulated analog bench.
    key : bytes or None
        Device key (the development key for the emulated firmware).
    attenuation : float
        AWG volts per lead volt in the emulated device (a bench divider; 1 = none).
    model : PulseModel or None
        The emulated output stage and measurement noise.

    Raises
    ------
    InstrumentError
        An instrument could not be opened (everything opened so far is closed again).
    """
    bench = Bench()
    try:
        _open(bench, awg, scope, analyzer, device, fault, seed, key, timeout_s, attenuation,
              model)
    except BaseException:
        bench.close()
        raise
    return bench


def _open(bench: Bench, awg: str, scope: str, analyzer: str | None, device: str | None,
          fault: str | None, seed: int, key: bytes | None, timeout_s: float,
          attenuation: float, model: PulseModel | None) -> None:
    stack = bench._stack
    emulated = [r == EMULATED for r in (awg, scope, analyzer, device)]
    if emulated[3] and not (emulated[0] and emulated[1]):
        raise InstrumentError(
            "the emulated device is wired to the emulated AWG and scope only", name="device",
            value=(awg, scope), expected='awg="emulated" and scope="emulated"')
    if fault is not None and not emulated[3]:
        raise InstrumentError(f"fault {fault!r} needs the emulated device", name="fault",
                              value=fault, expected='device="emulated"')
    world: AnalogWorld | None = None
    if any(emulated[:3]):
        world = AnalogWorld(seed=seed, model=model)
        bench.world = world
    if awg == EMULATED:
        assert world is not None
        awg = stack.enter_context(EmulatedAwg(world)).resource
    if scope == EMULATED:
        assert world is not None
        scope = stack.enter_context(EmulatedScope(world)).resource
    analog: AnalogDevice | None = None
    programmer_url: str | None = device
    if device == EMULATED:
        emu = stack.enter_context(start_device("host", fault))
        bench.device = emu
        programmer_url = emu.url
        key = key or DEV_KEY
    if programmer_url is not None:
        try:
            client = DeviceClient.open(programmer_url, key=key, timeout_s=timeout_s)
        except BridgeError as err:
            raise InstrumentConnectionError(f"cannot open the programmer {programmer_url!r}: "
                                            f"{err}", name="device", value=programmer_url,
                                            expected="a firmware_bridge URL") from err
        stack.callback(client.close)
        try:
            client.connect()
        except BridgeError as err:
            raise InstrumentConnectionError(f"device {programmer_url!r} did not answer HELLO: "
                                            f"{err}", name="device", value=programmer_url,
                                            expected="a HELLO") from err
        if device == EMULATED:
            assert world is not None
            analog = AnalogDevice(world, client, attenuation=attenuation)
            stack.enter_context(analog)
            bench.analog_device = analog
            bench.programmer = BridgeProgrammer(client, analog.lock)
        else:
            bench.programmer = BridgeProgrammer(client)
    if analyzer == EMULATED:
        assert world is not None
        analyzer = stack.enter_context(EmulatedAnalyzer(world, analog)).url
    bench.awg = ScpiAwg(awg, timeout_s)
    stack.callback(bench.awg.close)
    bench.awg.open()
    bench.scope = ScpiDigitizer(scope, timeout_s)
    stack.callback(bench.scope.close)
    bench.scope.open()
    if analyzer is not None:
        bench.analyzer = LineAnalyzer(analyzer, timeout_s)
        stack.callback(bench.analyzer.close)
        bench.analyzer.open()
    bench.resources = BenchResources(awg=awg, scope=scope, analyzer=analyzer,
                                     device=programmer_url)
