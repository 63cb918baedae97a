"""Type stub of the compiled tissue kernel (portable build)."""

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

MODEL_MS: int
MODEL_AP: int

def cpu_has_avx2_fma() -> bool: ...

class Tissue:
    n: int
    pad: int
    width: int
    model: int
    dt_ms: float
    step: int
    n_crossings: int
    def __init__(
        self,
        model: int,
        dt_ms: float,
        width: int,
        gr: npt.NDArray[np.float64],
        gd: npt.NDArray[np.float64],
        seg_start: npt.NDArray[np.intp],
        seg_par: npt.NDArray[np.float64],
        rem_rows: npt.NDArray[np.intp],
        rem_ptr: npt.NDArray[np.intp],
        rem_idx: npt.NDArray[np.intp],
        rem_w: npt.NDArray[np.float64],
        sentinels: npt.NDArray[np.intp],
        lead: npt.NDArray[np.float64],
        v0: npt.NDArray[np.float64],
        h0: npt.NDArray[np.float64],
        threshold: float = ...,
    ) -> None: ...
    def set_stimuli(
        self,
        ptr: npt.NDArray[np.intp],
        cells: npt.NDArray[np.intp],
        on: npt.NDArray[np.int64],
        off: npt.NDArray[np.int64],
        cur: npt.NDArray[np.float64],
    ) -> None: ...
    @property
    def v(self) -> npt.NDArray[np.float64]: ...
    @property
    def h(self) -> npt.NDArray[np.float64]: ...
    def crossings(self) -> list[tuple[int, int]]: ...
    def get_state(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], int]: ...
    def set_state(
        self, v: npt.NDArray[np.float64], h: npt.NDArray[np.float64], step: int
    ) -> None: ...
    def set_cells(self, cells: npt.NDArray[np.intp], v: float, h: float) -> None: ...
    def run(
        self,
        n_steps: int,
        out: npt.NDArray[np.float64],
        out_step0: int,
        steps_per_sample: int,
        stop_on_crossing: bool = ...,
    ) -> int: ...

_Resume = Callable[[Any, int, int, npt.NDArray[np.float64], int, list[Any]], tuple[Any, list[Any]]]

class FastWindow:
    def __init__(
        self,
        tissue: Tissue,
        output_type: type,
        owner_ref: Callable[[], Any],
        on_crossings: Callable[[Any, list[Any]], None],
        resume: _Resume,
        egm_names: tuple[str, ...],
        ecg_names: tuple[str, ...],
        dt_us: int,
        sample_us: int,
        capacity: int = ...,
    ) -> None: ...
    def gate(
        self, until_step: int, act_block: npt.NDArray[np.int16] | None, act_first: int
    ) -> None: ...
    def advance(self, duration_us: object) -> Any: ...
