"""Glue between an :class:`~devicetwin.heart.anatomy.Anatomy` and the kernels."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

import devicetwin.heart._kernel as _kernel
from devicetwin.heart.anatomy import Anatomy
from devicetwin.heart.ionic import IonicModel, resting_state, segment_table
from devicetwin.heart.reference import ReferenceTissue

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]
AnyTissue = _kernel.Tissue

#: The kernel build this CPU runs: AVX2 + FMA where available, else the portable one.
KERNEL_BUILD = "avx2" if _kernel.cpu_has_avx2_fma() else "portable"


def _build_module(build: str) -> Any:
    """The kernel module of a build; the AVX2 module is imported only where it can run."""
    if build == "avx2":
        if not _kernel.cpu_has_avx2_fma():
            raise ValueError("this CPU cannot run the avx2 build")
        return importlib.import_module("devicetwin.heart._kernel_avx2")
    if build != "portable":
        raise ValueError(f"build {build!r} is not 'avx2' or 'portable'")
    return _kernel


def _tissue_class(build: str) -> Any:
    """The Tissue class of a build."""
    return _build_module(build).Tissue


#: ``Heart.advance`` of this CPU's build (see ``heart_advance`` in ``_tissue_body.pxi``); the
#: heart's tissue and FastWindow are of the same build.
heart_advance = _build_module(KERNEL_BUILD).heart_advance


@dataclass(frozen=True)
class KernelArgs:
    """The constructor arguments shared by the Cython and the NumPy tissue."""

    model: int
    dt_ms: float
    width: int
    gr: FloatArray
    gd: FloatArray
    seg_start: IndexArray
    seg_par: FloatArray
    rem_rows: IndexArray
    rem_ptr: IndexArray
    rem_idx: IndexArray
    rem_w: FloatArray
    lead: FloatArray
    v0: FloatArray
    h0: FloatArray


def kernel_arguments(
    anatomy: Anatomy, model: IonicModel, dt_ms: float, lead: FloatArray
) -> KernelArgs:
    """The arguments for a tissue at rest."""
    rows, ptr, idx, w = anatomy.remainder_csr()
    seg_start = np.array(
        [s.start for s in anatomy.segments] + [anatomy.segments[-1].stop], dtype=np.intp
    )
    v0, h0 = resting_state(model)
    return KernelArgs(
        model=model.value,
        dt_ms=dt_ms,
        width=anatomy.width,
        gr=np.ascontiguousarray(anatomy.gr, dtype=np.float64),
        gd=np.ascontiguousarray(anatomy.gd, dtype=np.float64),
        seg_start=seg_start,
        seg_par=segment_table(model, [s.kind for s in anatomy.segments], dt_ms),
        rem_rows=rows,
        rem_ptr=ptr,
        rem_idx=idx,
        rem_w=w,
        lead=np.ascontiguousarray(lead, dtype=np.float64),
        v0=np.full(anatomy.n, v0),
        h0=np.full(anatomy.n, h0),
    )


def make_tissue(
    anatomy: Anatomy,
    model: IonicModel,
    dt_ms: float,
    lead: FloatArray,
    sentinels: list[int],
    *,
    build: str | None = None,
) -> AnyTissue:
    """The compiled tissue at rest (``build``: "avx2", "portable" or None for this CPU's best)."""
    a = kernel_arguments(anatomy, model, dt_ms, lead)
    cls = _tissue_class(KERNEL_BUILD if build is None else build)
    tissue: AnyTissue = cls(
        a.model,
        a.dt_ms,
        a.width,
        a.gr,
        a.gd,
        a.seg_start,
        a.seg_par,
        a.rem_rows,
        a.rem_ptr,
        a.rem_idx,
        a.rem_w,
        np.array(sentinels, dtype=np.intp),
        a.lead,
        a.v0,
        a.h0,
    )
    return tissue


def stimulate(
    tissue: AnyTissue, cells: list[int], on_step: int, off_step: int, current_per_ms: float
) -> None:
    """Install one stimulus (replacing any): ``current_per_ms`` into ``cells`` over the steps
    ``[on_step, off_step)``."""
    tissue.set_stimuli(
        np.array([0, len(cells)], dtype=np.intp),
        np.array(cells, dtype=np.intp),
        np.array([on_step], dtype=np.int64),
        np.array([off_step], dtype=np.int64),
        np.array([current_per_ms]),
    )


def make_reference(
    anatomy: Anatomy, model: IonicModel, dt_ms: float, lead: FloatArray
) -> ReferenceTissue:
    """The NumPy tissue at rest (same arithmetic as :func:`make_tissue`)."""
    a = kernel_arguments(anatomy, model, dt_ms, lead)
    return ReferenceTissue(
        model=a.model,
        dt_ms=a.dt_ms,
        width=a.width,
        gr=a.gr,
        gd=a.gd,
        seg_start=a.seg_start,
        seg_par=a.seg_par,
        rem_rows=a.rem_rows,
        rem_ptr=a.rem_ptr,
        rem_idx=a.rem_idx,
        rem_w=a.rem_w,
        lead=a.lead,
        v=a.v0,
        h=a.h0,
    )


def make_fast_window(
    tissue: AnyTissue,
    output_type: type,
    owner_ref: Any,
    on_crossings: Any,
    resume: Any,
    egm_names: tuple[str, ...],
    ecg_names: tuple[str, ...],
    dt_us: int,
    sample_us: int,
) -> Any:
    """The compiled fast path of ``Heart.advance`` over ``tissue`` (the ``FastWindow`` class
    of the tissue's own build, whose kernel it calls directly)."""
    module = importlib.import_module(type(tissue).__module__)
    return module.FastWindow(
        tissue, output_type, owner_ref, on_crossings, resume, egm_names, ecg_names, dt_us, sample_us
    )
