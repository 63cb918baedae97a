"""The compiled fast path of ``Heart.advance`` (``FastWindow``) against its contract, on a cable.

A fake owner stands for the heart: its crossing handler records each crossing and either keeps
the gate open (the kernel goes on in C) or makes an action due inside the window (the rest of
the window is handed to its general path). Either way the record must hold every event in order
and the same samples as one uninterrupted kernel run.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import pytest

from devicetwin.heart import HeartOutput
from devicetwin.heart.anatomy import build_cable
from devicetwin.heart.ionic import IonicModel
from devicetwin.heart.tissue import make_fast_window, make_tissue, stimulate

N_CELLS = 60
SENTINEL = 30
DT_US = 100
SAMPLE_US = 1000
SPS = SAMPLE_US // DT_US
WINDOW_US = 40_000  # the wave from cell 0 reaches the sentinel well inside it


def _tissue() -> Any:
    cable = build_cable(N_CELLS)
    lead = np.linspace(-1.0, 1.0, 2 * N_CELLS).reshape(2, N_CELLS)
    tissue = make_tissue(
        cable, IonicModel.MITCHELL_SCHAEFFER, DT_US / 1000.0, lead, [SENTINEL]
    )
    stimulate(tissue, [0, 1, 2], 0, 10, 0.8)
    return tissue


class _Owner:
    """What the heart does for the fast path, reduced to recording."""

    def __init__(self, hand_over: bool) -> None:
        self.tissue = _tissue()
        self.hand_over = hand_over
        self.activity = np.arange(4096, dtype=np.int16)
        self.activity.flags.writeable = False
        self.fast = make_fast_window(
            self.tissue,
            HeartOutput,
            weakref.ref(self),
            _Owner.on_crossings,
            _Owner.resume,
            ("RA",),
            ("II",),
            DT_US,
            SAMPLE_US,
        )
        self.fast.gate(10**9, self.activity, 0)
        self.resumed_at: list[int] = []

    def on_crossings(self, events: list[Any]) -> None:
        for k, step in self.tissue.crossings():
            events.append(("crossing", k, step))
        # an action made due right now closes the window's remainder to the fast path
        until = int(self.tissue.step) if self.hand_over else 10**9
        self.fast.gate(until, self.activity, 0)

    def resume(
        self, step0: int, duration_us: int, buf: np.ndarray, col0: int, events: list[Any]
    ) -> tuple[np.ndarray, list[Any]]:
        step = int(self.tissue.step)
        self.resumed_at.append(step)
        end = step0 + duration_us // DT_US
        self.tissue.run(end - step, buf, step0 - col0 * SPS, SPS, False)
        n = duration_us // SAMPLE_US
        events.append(("resumed", step))
        return self.activity[step0 // SPS : step0 // SPS + n], events


def _reference() -> tuple[np.ndarray, int]:
    """One uninterrupted run: the samples and the sentinel's crossing step."""
    tissue = _tissue()
    out = np.zeros((2, WINDOW_US // SAMPLE_US))
    crossed = tissue.run(WINDOW_US // DT_US, out, 0, SPS, True)
    step = int(tissue.step)
    tissue.run(WINDOW_US // DT_US - crossed, out, 0, SPS, False)
    return out, step


@pytest.mark.parametrize("hand_over", [False, True])
def test_a_window_with_a_crossing_keeps_every_event_and_sample(hand_over: bool) -> None:
    owner = _Owner(hand_over)
    expected, cross_step = _reference()
    assert 0 < cross_step < WINDOW_US // DT_US

    out = owner.fast.advance(WINDOW_US)

    assert isinstance(out, HeartOutput)
    assert out.t0_us == 0
    assert out.egm_sites == ("RA",) and out.ecg_leads == ("II",)
    assert np.array_equal(out.samples_mv, expected)
    assert np.array_equal(out.activity_milli_g, np.arange(WINDOW_US // SAMPLE_US))
    if hand_over:
        assert out.events == [("crossing", 0, cross_step), ("resumed", cross_step)]
        assert owner.resumed_at == [cross_step]
    else:
        assert out.events == [("crossing", 0, cross_step)]
        assert owner.resumed_at == []
    assert int(owner.tissue.step) == WINDOW_US // DT_US


def test_a_window_past_the_gate_is_refused_and_changes_nothing() -> None:
    owner = _Owner(False)
    owner.fast.gate(WINDOW_US // DT_US - 1, owner.activity, 0)
    assert owner.fast.advance(WINDOW_US) is None
    assert int(owner.tissue.step) == 0
    owner.fast.gate(-1, None, 0)
    assert owner.fast.advance(SAMPLE_US) is None
    assert int(owner.tissue.step) == 0


def test_a_gone_owner_is_reported() -> None:
    owner = _Owner(False)
    fast = owner.fast
    del owner
    with pytest.raises(ReferenceError, match="gone"):
        fast.advance(WINDOW_US)
