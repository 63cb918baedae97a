"""SIGINT, SIGTERM and SIGHUP end a run the same way: the evidence is closed, then the exit code.

Python turns only SIGINT into an exception (``KeyboardInterrupt``); SIGTERM, which ``timeout``,
a CI cancel and ``docker stop`` send, would kill the process with no summary, no report and its
children (QEMU, the host firmware, emulated instruments) left running. Inside
:func:`signals_as_interrupts` all three raise :class:`Interrupted`, a ``KeyboardInterrupt``, so
every loop that already keeps its evidence on Ctrl-C does the same on the others, and every
``with`` block stops its child processes on the way out.

The first signal raises; later ones are only remembered, so that closing the record and writing
the reports is not itself cut short. Code that must finish (writing the evidence) runs inside
:func:`shielded`, where even the first signal is only remembered.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

#: The signals handled like Ctrl-C.
HANDLED_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A run was interrupted by signal ``signum`` (SIGINT, SIGTERM or SIGHUP)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def signal_name(self) -> str:
        """``SIGTERM`` and so on."""
        return signal.Signals(self.signum).name

    def __str__(self) -> str:
        return f"interrupted by {self.signal_name}"


@dataclass
class _State:
    signum: int | None = None
    shield_depth: int = 0
    active: bool = False


_state = _State()


def received_signal() -> int | None:
    """The first handled signal received inside :func:`signals_as_interrupts`, or None."""
    return _state.signum


def interruption_text(exc: BaseException) -> str:
    """What a summary says of an interruption: ``interrupted by SIGTERM``."""
    if isinstance(exc, Interrupted):
        return str(exc)
    return "interrupted by SIGINT"


def signal_of(exc: BaseException) -> int:
    """The signal number behind an interruption (SIGINT for a plain KeyboardInterrupt)."""
    return exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)


def _handler(signum: int, frame: FrameType | None) -> None:
    first = _state.signum is None
    if first:
        _state.signum = signum
    if first and _state.shield_depth == 0:
        raise Interrupted(signum)


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` (main thread).

    Outside the main thread (where Python cannot install handlers) the block does nothing.
    """
    if threading.current_thread() is not threading.main_thread() or _state.active:
        yield
        return
    previous = {s: signal.getsignal(s) for s in HANDLED_SIGNALS}
    _state.signum = None
    _state.active = True
    try:
        for s in HANDLED_SIGNALS:
            signal.signal(s, _handler)
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        _state.active = False


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Within the block, a first signal is remembered (see :func:`received_signal`), not raised.

    For work that must complete once started: closing the record, writing the summary and the
    reports. The caller checks :func:`received_signal` afterwards.
    """
    _state.shield_depth += 1
    try:
        yield
    finally:
        _state.shield_depth -= 1
