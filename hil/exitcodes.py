"""One convention for how every ``devicetwin`` subcommand ends, and which error means which end.

=====  =======================================================================================
code   meaning
=====  =======================================================================================
0      every verdict passed
1      a verdict failed (the device ran, the bench judged it and something failed)
2      bad usage or configuration: a scenario, vector or key file, a programming, CLI values
3      the device or an instrument could not be reached, could not be started, or stopped
       answering
4      internal error: a bug in devicetwin (the traceback is printed; please report it)
130    interrupted by SIGINT (Ctrl-C); the evidence written so far is kept and closed
143    interrupted by SIGTERM (``timeout``, a CI cancel, ``docker stop``); likewise
129    interrupted by SIGHUP (the terminal closed); likewise
141    the reader of the output went away (``devicetwin ... | head``): output stopped quietly
=====  =======================================================================================

The mapping from an exception to its code lives only here (:func:`exit_code_for`); the CLI and
the pytest plugin read it, so a new error class is classified once.
"""

from __future__ import annotations

import enum
import signal

from devicetwin.errors import DeviceTwinError
from firmware_bridge.auth import KeyFileError
from firmware_bridge.errors import BridgeError
from hil.emulator.errors import EmulatorError, UnknownFaultError
from hil.errors import ConfigError, DeviceUnavailableError, HilError
from hil.instruments.errors import InstrumentError


class ExitCode(enum.IntEnum):
    """The process exit codes of every subcommand (the table in the module docstring)."""

    PASSED = 0
    FAILED = 1
    CONFIG = 2
    DEVICE = 3
    INTERNAL = 4
    SIGHUP = 128 + signal.SIGHUP
    SIGINT = 128 + signal.SIGINT
    SIGPIPE = 128 + signal.SIGPIPE
    SIGTERM = 128 + signal.SIGTERM

    @classmethod
    def for_signal(cls, signum: int) -> ExitCode:
        """The code of a run ended by signal ``signum`` (128 + the signal number)."""
        return cls(128 + signum)


#: Which error ends a command with which code; the first matching class wins (subclasses first).
ERROR_EXIT_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (ConfigError, ExitCode.CONFIG),
    (DeviceUnavailableError, ExitCode.DEVICE),
    (KeyFileError, ExitCode.CONFIG),
    (UnknownFaultError, ExitCode.CONFIG),
    (BridgeError, ExitCode.DEVICE),
    (EmulatorError, ExitCode.DEVICE),
    (InstrumentError, ExitCode.DEVICE),
    (DeviceTwinError, ExitCode.CONFIG),
    (HilError, ExitCode.CONFIG),
)


def exit_code_of_run(passed: bool, signum: int | None) -> ExitCode:
    """The code of a run that reached its verdict: interrupted, passed or failed."""
    if signum is not None:
        return ExitCode.for_signal(signum)
    return ExitCode.PASSED if passed else ExitCode.FAILED


def exit_code_for(error: BaseException) -> ExitCode | None:
    """The exit code an error ends a command with, or None for an error that is a bug."""
    for cls, code in ERROR_EXIT_CODES:
        if isinstance(error, cls):
            return code
    return None


EPILOG = """exit codes (every subcommand):
  0    every verdict passed
  1    a verdict failed
  2    bad usage or configuration (scenario, programming, vector file, key file, CLI values)
  3    the device or an instrument could not be reached, started, or stopped answering
  4    internal error (a bug in devicetwin: please report the traceback)
  130  interrupted by SIGINT; 143 by SIGTERM; 129 by SIGHUP (evidence kept and closed)
  141  the reader of the output went away (`devicetwin ... | head`): output stopped, quietly"""
"""The exit-code table as ``--help`` prints it."""
