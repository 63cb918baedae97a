"""Progress with ETA for long runs: a line redrawn in place on a terminal; whole lines now and
then (a CI log) when the stream is not a terminal."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    """Show ``label [####....] 42% 12.0/60.0 s ETA 0:35``.

    On a terminal the line is redrawn in place. Otherwise (a CI job's log, a pipe) the same line
    is written whole, ending in a newline, at most every ``line_interval_s`` seconds of wall
    time and once more at the end, so a log shows the run is alive; :meth:`note` adds a line of
    its own (a suite's finished run) either way.

    Parameters
    ----------
    total:
        The amount that means done (simulated seconds, scenarios, ...).
    unit:
        Unit shown after the amounts.
    stream:
        Where to write (standard error by default).
    force:
        Draw in place even when ``stream`` is not a terminal.
    min_interval_s:
        Redraw in place at most this often (terminal).
    line_interval_s:
        Write a whole line at most this often (not a terminal).
    quiet:
        Write nothing at all.
    """

    def __init__(
        self,
        total: float,
        label: str = "",
        unit: str = "s",
        *,
        stream: TextIO | None = None,
        force: bool = False,
        min_interval_s: float = 0.2,
        line_interval_s: float = 30.0,
        quiet: bool = False,
    ) -> None:
        self.total = max(float(total), 1e-12)
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        #: drawing in place (a terminal, or forced)
        self.enabled = not quiet and (force or self.stream.isatty())
        #: writing whole lines (not a terminal)
        self.lines = not quiet and not self.enabled
        self.min_interval_s = min_interval_s
        self.line_interval_s = line_interval_s
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._last_line = self._start
        self._written = ""
        self.done = 0.0

    def eta_s(self) -> float | None:
        """Estimated seconds left at the rate so far; None before any progress."""
        elapsed = time.monotonic() - self._start
        if self.done <= 0 or elapsed <= 0:
            return None
        return elapsed * (self.total - self.done) / self.done

    def line(self) -> str:
        """The progress line as it would be drawn."""
        frac = min(1.0, self.done / self.total)
        bar = "#" * int(frac * 20)
        eta = self.eta_s()
        eta_text = "--:--" if eta is None else f"{int(eta) // 60}:{int(eta) % 60:02d}"
        return (f"{self.label} [{bar:<20}] {frac * 100:3.0f}% "
                f"{self.done:.1f}/{self.total:.1f} {self.unit} ETA {eta_text}")

    def update(self, done: float) -> None:
        """Set the amount done and redraw (or write a line) if due."""
        self.done = float(done)
        now = time.monotonic()
        if self.enabled and (now - self._last_draw >= self.min_interval_s or done >= self.total):
            self._last_draw = now
            self.stream.write("\r" + self.line())
            self.stream.flush()
        elif self.lines and now - self._last_line >= self.line_interval_s:
            self._last_line = now
            self._write_line(self.line())

    def note(self, text: str) -> None:
        """Write ``text`` as a line of its own (above the bar on a terminal)."""
        if self.enabled:
            self.stream.write("\r\x1b[K" + text + "\n\r" + self.line())
            self.stream.flush()
        elif self.lines:
            self._write_line(text)

    def _write_line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
        self._written = text

    def close(self) -> None:
        """End the line (a terminal), or write the final state unless just written."""
        if self.enabled:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()
        elif self.lines:
            final = self.line()
            if final != self._written:
                self._write_line(final)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
