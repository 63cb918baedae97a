from collections.abc import Callable

import numpy as np
import numpy.typing as npt

ORIGINS: tuple[str, ...]

class Kernel:
    now: int
    sense_t: int
    n_senses: int
    arrival_log: list[tuple[int, int, int]] | None
    def __init__(
        self,
        table: npt.NDArray[np.int64],
        erp_target: npt.NDArray[np.int64],
        erp_source: npt.NDArray[np.int64],
        propagation: npt.NDArray[np.int64],
        coupling: npt.NDArray[np.int64],
        extra: npt.NDArray[np.int64],
        target_tissue: npt.NDArray[np.int64],
        cycles: npt.NDArray[np.int64],
        shifts: npt.NDArray[np.int64],
        sense_offsets: npt.NDArray[np.int64],
        seed: int,
        p: dict[str, object],
        pac_times: npt.NDArray[np.int64],
        pvc_times: npt.NDArray[np.int64],
        profile_t_s: npt.NDArray[np.float64],
        profile_load: npt.NDArray[np.float64],
        draw: Callable[[int, int, int], float] | None = None,
    ) -> None: ...
    def run(self, limit: int) -> int: ...
    def change(
        self,
        t: int,
        p: dict[str, object],
        exercise: bool,
        block: bool,
        threshold: bool,
        rhythm: bool,
        pac_rate: bool,
        pvc_rate: bool,
        pac_times: npt.NDArray[np.int64] | None,
        pvc_times: npt.NDArray[np.int64] | None,
        profile_t_s: npt.NDArray[np.float64],
        profile_load: npt.NDArray[np.float64],
    ) -> None: ...
    def next_due(self) -> int: ...
    def threshold_factor(self, t: int) -> float: ...
    def pace(self, t: int, site: int, amplitude_v: float, width_us: int) -> bool: ...
    def records(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]: ...
