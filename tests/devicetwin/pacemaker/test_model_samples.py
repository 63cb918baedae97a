"""``PacemakerModel.process_samples``: front end (A-16) + timing over sampled electrograms."""

from __future__ import annotations

import numpy as np

import devicetwin.pacemaker._frontend  # noqa: F401  (the compiled front end must be built)
from devicetwin.pacemaker import Mode, PacemakerModel, Programming


def _signals(n: int) -> tuple[np.ndarray, np.ndarray]:
    atrial = np.zeros(n, dtype=np.int16)
    ventricular = np.zeros(n, dtype=np.int16)
    # at the pulse's first sample y16 = 16 * x (history zero) -> detection there when
    # x >= sensitivity. P wave 2 mV at 400 ms (>= 0.75 mV); R wave 5 mV at 1000 ms (>= 2.5 mV).
    atrial[400:405] = 2000
    ventricular[1000:1005] = 5000
    return atrial, ventricular


def test_detections_become_markers() -> None:
    # AS 400 -> VP 400 + 150 = 550. R at 1000 is after VRP (550 + 320): no atrial event since
    # the VP -> PVC. Next AP at 1000 + 850 = 1850.
    atrial, ventricular = _signals(2000)
    model = PacemakerModel(Programming.nominal(Mode.DDD))
    out = model.process_samples(0, atrial, ventricular)
    assert [(m.t_us // 1000, m.kind.value) for m in out] == [
        (400, "AS"), (550, "VP"), (1000, "PVC"), (1850, "AP")]


def test_blocks_give_the_same_markers_as_one_call() -> None:
    atrial, ventricular = _signals(3000)
    whole = PacemakerModel(Programming.nominal(Mode.DDD)).process_samples(0, atrial, ventricular)
    model = PacemakerModel(Programming.nominal(Mode.DDD))
    parts = []
    for first in range(0, 3000, 700):
        parts += model.process_samples(first * 1000, atrial[first:first + 700],
                                       ventricular[first:first + 700])
    assert parts == whole


def test_activity_epochs_drive_the_sensor() -> None:
    # 200 milli-g for 3 s: 3 epochs, +2 ppm each (A-12 with nominal DDDR) -> 66 ppm.
    n = 3000
    model = PacemakerModel(Programming.nominal(Mode.DDDR))
    zeros = np.zeros(n, dtype=np.int16)
    model.process_samples(0, zeros, zeros, np.full(n, -200, dtype=np.int16))
    assert model.sensor_rate_ppm == 66


def test_snapshot_covers_the_front_end() -> None:
    # The second block's P wave starts at its first sample: after restore the front end must
    # have the same 16-sample history and dead time as before, so the same markers come out.
    atrial, ventricular = _signals(3000)
    model = PacemakerModel(Programming.nominal(Mode.DDD))
    model.process_samples(0, atrial[:1500], ventricular[:1500])
    snap = model.snapshot()
    a = model.process_samples(1_500_000, atrial[1500:], ventricular[1500:])
    model.restore(snap)
    b = model.process_samples(1_500_000, atrial[1500:], ventricular[1500:])
    assert a == b and a
