"""Type stub of the Cython kernel ``_frontend.pyx`` (the sensing front end's inner loop)."""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

class FrontEndKernel:
    def __init__(
        self, atrial_threshold16_uv: int, ventricular_threshold16_uv: int, dead_time_samples: int
    ) -> None: ...
    @property
    def samples_seen(self) -> int: ...
    def set_threshold16(self, channel: int, threshold16_uv: int) -> None: ...
    def reset(self) -> None: ...
    def get_state(self) -> tuple[int, tuple[int, ...], tuple[int, ...], int, int]: ...
    def set_state(
        self,
        samples_seen: int,
        atrial_history: Sequence[int],
        ventricular_history: Sequence[int],
        dead_left_a: int,
        dead_left_v: int,
    ) -> None: ...
    def process(
        self, atrial_uv: npt.NDArray[np.int16], ventricular_uv: npt.NDArray[np.int16]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]: ...
