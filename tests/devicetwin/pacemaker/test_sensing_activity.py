"""Activity epochs of A-12: ``m = floor(sum(|a|) / n)`` milli-g per 1 s epoch, streamed."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from devicetwin.pacemaker.sensing import ActivityEpochs, ActivityState


def test_known_epoch_means() -> None:
    first = np.full(1000, -50, dtype=np.int16)  # |a| = 50 throughout
    second = np.arange(1000, dtype=np.int16)  # sum 0 + ... + 999 = 499500 -> 499
    third = np.zeros(1000, dtype=np.int16)
    third[:999] = 2  # sum 1998 -> floor(1.998) = 1
    fourth = np.tile(np.array([3, -3], dtype=np.int16), 500)
    fifth = np.full(1000, -32768, dtype=np.int16)  # |-32768| = 32768, no int16 overflow
    signal = np.concatenate((first, second, third, fourth, fifth))
    got = ActivityEpochs().process(signal, 0)
    assert got == [
        (1_000_000, 50),
        (2_000_000, 499),
        (3_000_000, 1),
        (4_000_000, 3),
        (5_000_000, 32768),
    ]


def test_epochs_end_relative_to_the_stream_start() -> None:
    epochs = ActivityEpochs(epoch_ms=250)
    assert epochs.process(np.full(600, 7, dtype=np.int16), 40_000) == [(290_000, 7), (540_000, 7)]
    # 100 samples are pending; 150 more complete the third epoch.
    assert epochs.process(np.full(149, 7, dtype=np.int16), 640_000) == []
    assert epochs.process(np.full(1, 257, dtype=np.int16), 789_000) == [(790_000, 8)]
    assert epochs.next_t_us == 790_000


def by_hand(signal: npt.NDArray[np.int16], epoch_ms: int, t0_us: int) -> list[tuple[int, int]]:
    out = []
    for k in range(signal.shape[0] // epoch_ms):
        chunk = [abs(int(a)) for a in signal[k * epoch_ms : (k + 1) * epoch_ms]]
        out.append((t0_us + (k + 1) * epoch_ms * 1000, sum(chunk) // epoch_ms))
    return out


@given(
    signal=hnp.arrays(np.int16, st.integers(0, 3000)),
    epoch_ms=st.integers(1, 700),
    cuts=st.lists(st.integers(0, 3000), max_size=15),
    t0_us=st.integers(0, 10**9),
)
def test_any_split_gives_the_epochs_of_the_whole(
    signal: npt.NDArray[np.int16], epoch_ms: int, cuts: list[int], t0_us: int
) -> None:
    epochs = ActivityEpochs(epoch_ms)
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < signal.shape[0])), signal.shape[0]]
    got: list[tuple[int, int]] = []
    for start, stop in itertools.pairwise(bounds):
        got.extend(epochs.process(signal[start:stop], t0_us + 1000 * start))
    assert got == by_hand(signal, epoch_ms, t0_us)


def test_snapshot_and_reset() -> None:
    epochs = ActivityEpochs()
    epochs.process(np.full(400, 10, dtype=np.int16), 0)
    snapshot = epochs.state()
    assert snapshot == ActivityState(1000, 0, 400, 4000)
    assert epochs.process(np.full(600, 30, dtype=np.int16), 400_000) == [(1_000_000, 22)]
    epochs.restore(snapshot)
    assert epochs.process(np.full(600, 0, dtype=np.int16), 400_000) == [(1_000_000, 4)]
    epochs.reset()
    assert epochs.next_t_us is None
    assert epochs.process(np.full(1000, 1, dtype=np.int16), 5_000_000) == [(6_000_000, 1)]
