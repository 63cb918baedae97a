"""Follower mode at activity-epoch boundaries: a device pace at a block's last sample, when that
block completes an activity epoch (A-12: the epoch's result applies 1 ms after its last sample),
must still be accepted, and the epoch must still be applied, at its end time."""

from __future__ import annotations

import numpy as np

from devicetwin.pacemaker import Chamber, Mode, PacemakerModel, Programming


def _block(n: int, activity_milli_g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = np.zeros(n, dtype=np.int16)
    return z, z.copy(), np.full(n, activity_milli_g, dtype=np.int16)


def test_device_pace_on_the_last_sample_of_an_epoch_is_accepted() -> None:
    # DOO 70 ppm (found by the bench): LRI = floor(60035 / 70) = 857 ms, so VP at 7 * 857 =
    # 5999 ms, the last sample of activity epoch 5 (its result is due at 6000 ms).
    model = PacemakerModel(Programming.nominal(Mode.DOO, lower_rate_ppm=70), follower=True)
    paces = sorted([(857_000 * j - 180_000, Chamber.A) for j in range(1, 8)]
                   + [(857_000 * j, Chamber.V) for j in range(1, 8)])
    t = 0
    for t_pace, chamber in paces:  # blocks end at each pace, as the lock-step loop's windows do
        a, v, act = _block((t_pace - t) // 1000 + 1, 0)
        model.process_samples(t, a, v, act)
        model.device_pace(t_pace, chamber)
        t = t_pace + 1000
    # the twin's clock stopped at the block's last sample, not at the epoch's end
    assert model.now_us == 5_999_000


def test_a_deferred_epoch_is_still_applied_at_its_end() -> None:
    # VVIR 60..120 ppm, reaction 10 s: the sensor rises by (120 - 60) / 10 = 6 ppm per epoch.
    # Epoch 0 (mean 1000 milli-g, far above Med 80) ends at 1000 ms, after the device's VP at
    # 999 ms: that escape still runs at the LRI (VP at 1999 ms). From the VP at 1999 ms the
    # sensor rate is 66 ppm: interval floor(60033 / 66) = 909 ms, so the next VP is due at
    # 1999 + 909 = 2908 ms.
    prog = Programming.nominal(Mode.VVIR, max_sensor_rate_ppm=120, reaction_time_s=10)
    model = PacemakerModel(prog, follower=True)
    a, v, act = _block(1000, 1000)
    model.process_samples(0, a, v, act)
    model.device_pace(999_000, Chamber.V)
    assert model.next_pace_due_us() == 1_999_000
    model.process_samples(1_000_000, a, v, act)
    model.device_pace(1_999_000, Chamber.V)
    assert model.next_pace_due_us() == 2_908_000
