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

A run on a Dask worker runs in a worker *thread*, where no signal arrives and no exception can
be raised by one. There the stop is cooperative: :func:`install_stop_handlers` (called in the
worker process's main thread, by the executor's worker plugin) makes SIGINT, SIGTERM and SIGHUP
only :func:`request_stop`; the lock-step and real-time loops call :func:`raise_if_stop_requested`
once per window, which raises :class:`Interrupted` there, so the run ends exactly as a signal
ends a single run (marked interrupted with the signal, evidence written, device stopped).
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


_stop_signum: int | None = None


def request_stop(signum: int = int(signal.SIGINT)) -> None:
    """Ask every run in this process to stop at its next window, as if signal ``signum`` had
    interrupted it. Thread-safe (one assignment); the first request's signal is kept."""
    global _stop_signum
    if _stop_signum is None:
        _stop_signum = int(signum)


def stop_requested() -> int | None:
    """The signal of a pending :func:`request_stop`, or None."""
    return _stop_signum


def clear_stop() -> None:
    """Forget a stop request (a worker process that serves the next suite)."""
    global _stop_signum
    _stop_signum = None


def raise_if_stop_requested() -> None:
    """Raise :class:`Interrupted` if a stop was requested; the loops call it once per window."""
    if _stop_signum is not None:
        raise Interrupted(_stop_signum)


def _stop_handler(signum: int, frame: FrameType | None) -> None:
    request_stop(signum)


def install_stop_handlers() -> bool:
    """In this process, SIGINT, SIGTERM and SIGHUP request a cooperative stop (see
    :func:`request_stop`) instead of raising or killing; clears an earlier request. Only in
    the main thread; returns whether the handlers were installed."""
    clear_stop()
    if threading.current_thread() is not threading.main_thread():
        return False
    for s in HANDLED_SIGNALS:
        signal.signal(s, _stop_handler)
    return True


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
