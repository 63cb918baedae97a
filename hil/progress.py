"""A progress line with ETA for long runs, on a terminal; silent when output is not a terminal."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    """Show ``label [####....] 42% 12.0/60.0 s ETA 0:35`` and update it in place.

    Parameters
    ----------
    total:
        The amount that means done (simulated seconds, scenarios, ...).
    unit:
        Unit shown after the amounts.
    stream:
        Where to draw; nothing is drawn unless it is a terminal (or ``force`` is set).
    min_interval_s:
        Redraw at most this often.
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
    ) -> None:
        self.total = max(float(total), 1e-12)
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = force or self.stream.isatty()
        self.min_interval_s = min_interval_s
        self._start = time.monotonic()
        self._last_draw = 0.0
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
        """Set the amount done and redraw if due."""
        self.done = float(done)
        now = time.monotonic()
        if self.enabled and (now - self._last_draw >= self.min_interval_s or done >= self.total):
            self._last_draw = now
            self.stream.write("\r" + self.line())
            self.stream.flush()

    def close(self) -> None:
        """End the line."""
        if self.enabled:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
