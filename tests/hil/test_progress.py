"""The progress line counts and estimates the time left from the rate so far."""

from __future__ import annotations

import io

import pytest

from hil.progress import Progress


def test_line_and_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 110.0, 110.0, 110.0])
    monkeypatch.setattr("hil.progress.time.monotonic", lambda: next(clock))
    out = io.StringIO()
    p = Progress(60, "run", stream=out, force=True, min_interval_s=0)
    p.update(15)  # 15 of 60 s done in 10 s wall: 45 s left at that rate -> 30 s
    assert "ETA 0:30" in out.getvalue()
    assert "[#####               ]  25% 15.0/60.0 s" in out.getvalue()


def test_silent_when_not_a_terminal() -> None:
    out = io.StringIO()
    with Progress(10, stream=out) as p:
        p.update(5)
    assert out.getvalue() == ""
