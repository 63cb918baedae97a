"""Electrograms, surface ECG, pacing artefacts, noise and the activity signal.

Extracellular potentials come from a volume conductor (infinite, homogeneous): the cells'
transmembrane sources are their diffusion currents, ``s = L_w v`` (L_w: the graph Laplacian with
each edge scaled by the smaller tissue volume of its two cells relative to a ventricular cell, so
that the sources of the whole heart sum to zero), and the potential at an
electrode at distance ``r_i`` is ``K sum_i s_i / r_i``. So a unipolar lead is a fixed row vector
``K (w / r) L`` applied to the potentials (precomputed once), a bipolar lead is tip minus ring,
and ECG lead II is left leg minus right arm. Far-field signals (ventricular activation on the
atrial lead) fall off with distance because the sources of a wavefront sum to zero (a dipole).

A pacing pulse is a current dipole between the pacing lead's tip and ring: at a point x its
potential is ``A r0 (1/|x - tip| - 1/|x - ring|)`` (distances floored at ``r0``), with A set so
that the pacing lead's own bipolar signal is the pulse amplitude.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from devicetwin.heart.anatomy import Anatomy

FloatArray = npt.NDArray[np.float64]

#: Volume-conductor constant for the electrograms (mV per unit source per 1/mm).
K_EGM_MV = 150.0
#: The same for the body surface (torso attenuation folded in).
K_ECG_MV = 22000.0
#: Electrode radius (mm): distances below it are floored.
R0_MM = 1.0

#: Body-surface electrode positions (mm, heart-centred; x to the patient's left, z up).
LIMB_ELECTRODES: dict[str, tuple[float, float, float]] = {
    "RA_arm": (-250.0, 0.0, 180.0),
    "LA_arm": (250.0, 0.0, 180.0),
    "LL": (80.0, 0.0, -420.0),
}
ECG_LEADS: dict[str, tuple[str, str]] = {
    "I": ("LA_arm", "RA_arm"),
    "II": ("LL", "RA_arm"),
    "III": ("LL", "LA_arm"),
}


def laplacian_sparse(anatomy: Anatomy, weighted: bool = False) -> sp.csr_matrix:
    """L as a sparse matrix, (L v)_i = sum_j g_ij (v_j - v_i).

    With ``weighted`` every edge's conductance is scaled by the smaller source weight of its two
    cells: the tissue-volume scaling of the sources then keeps them summing to zero (charge
    conservation), so no spurious monopole reaches the distant electrodes.
    """
    w = anatomy.source_weight
    rows, cols, vals = [], [], []
    for i, row in enumerate(anatomy.laplacian_rows()):
        total = 0.0
        for j, g in row.items():
            ge = g * min(w[i], w[j]) if weighted else g
            rows.append(i)
            cols.append(j)
            vals.append(ge)
            total += ge
        rows.append(i)
        cols.append(i)
        vals.append(-total)
    n = anatomy.n
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def _inverse_distance(anatomy: Anatomy, point: FloatArray) -> FloatArray:
    d = np.linalg.norm(anatomy.positions - point[None, :], axis=1)
    inv: FloatArray = 1.0 / np.maximum(d, R0_MM)
    return inv


def lead_rows(
    anatomy: Anatomy, egm_sites: tuple[str, ...], ecg_leads: tuple[str, ...]
) -> FloatArray:
    """The lead-field matrix: one row per bipolar EGM site, then one per ECG lead."""
    lap = laplacian_sparse(anatomy, weighted=True)
    out = []
    for site in egm_sites:
        tip, ring = anatomy.electrodes[site]
        c = _inverse_distance(anatomy, tip) - _inverse_distance(anatomy, ring)
        out.append(K_EGM_MV * (lap @ c))
    for lead in ecg_leads:
        plus, minus = ECG_LEADS[lead]
        c = _inverse_distance(anatomy, np.array(LIMB_ELECTRODES[plus])) - _inverse_distance(
            anatomy, np.array(LIMB_ELECTRODES[minus])
        )
        out.append(K_ECG_MV * (lap @ c))
    if not out:
        return np.zeros((0, anatomy.n))
    return np.ascontiguousarray(np.array(out), dtype=np.float64)


def _dipole_potential(x: FloatArray, tip: FloatArray, ring: FloatArray) -> float:
    a = max(float(np.linalg.norm(x - tip)), R0_MM)
    b = max(float(np.linalg.norm(x - ring)), R0_MM)
    return R0_MM * (1.0 / a - 1.0 / b)


def artefact_coupling(
    anatomy: Anatomy, egm_sites: tuple[str, ...], ecg_leads: tuple[str, ...]
) -> dict[str, FloatArray]:
    """For each pacing site: the artefact on every output row per volt... of pulse (mV/mV)."""
    coupling = {}
    for pace_site, (ptip, pring) in anatomy.electrodes.items():
        self_signal = _dipole_potential(ptip, ptip, pring) - _dipole_potential(pring, ptip, pring)
        scale = 1.0 / self_signal
        col = []
        for site in egm_sites:
            tip, ring = anatomy.electrodes[site]
            col.append(
                scale * (_dipole_potential(tip, ptip, pring) - _dipole_potential(ring, ptip, pring))
            )
        for lead in ecg_leads:
            plus, minus = ECG_LEADS[lead]
            col.append(
                scale
                * (
                    _dipole_potential(np.array(LIMB_ELECTRODES[plus]), ptip, pring)
                    - _dipole_potential(np.array(LIMB_ELECTRODES[minus]), ptip, pring)
                )
            )
        coupling[pace_site] = np.array(col)
    return coupling


def block_rng(seed: int, stream: int, block: int) -> np.random.Generator:
    """A generator that depends only on (seed, stream, block): randomness keyed by time, so
    any chunking of the same run draws the same numbers."""
    return np.random.default_rng([seed & 0xFFFFFFFF, stream, block])


def activity_block(
    seed: int,
    block: int,
    samples_per_block: int,
    sample_rate_hz: int,
    workload: FloatArray,
    rest_milli_g: float,
    max_milli_g: float,
) -> npt.NDArray[np.int16]:
    """Accelerometer samples (milli-g) for one block, given the workload (0..1) per sample.

    Walking-like: a rectified sinusoid at the step frequency (1.5 Hz at rest to 3 Hz at full
    workload) scaled between the resting and maximal amplitudes, plus seeded sensor noise.
    """
    rng = block_rng(seed, 7, block)
    t_s = (block * samples_per_block + np.arange(samples_per_block)) / sample_rate_hz
    freq = 1.5 + 1.5 * workload
    amp = rest_milli_g + (max_milli_g - rest_milli_g) * workload
    wave = amp * (math.pi / 2.0) * np.abs(np.sin(np.pi * freq * t_s))
    sign = np.where(np.sin(np.pi * freq * t_s / 2.0) >= 0, 1.0, -1.0)
    noise = rng.normal(0.0, 2.0, samples_per_block)
    values = np.clip(np.rint(sign * wave + noise), -32767, 32767)
    return values.astype(np.int16)


def noise_block(
    seed: int,
    block: int,
    samples_per_block: int,
    sample_rate_hz: int,
    n_rows: int,
    mains_mv: float,
    mains_hz: float,
    myopotential_mv: float,
    emi_bursts: tuple[tuple[float, float, float], ...],
    cond_t0_ms: float,
) -> FloatArray:
    """Additive noise (mV) for every output row over one block."""
    rng = block_rng(seed, 11, block)
    t_ms = (block * samples_per_block + np.arange(samples_per_block)) * (1000.0 / sample_rate_hz)
    out = np.zeros((n_rows, samples_per_block))
    if mains_mv > 0:
        phase = block_rng(seed, 12, 0).uniform(0, 2 * math.pi, n_rows)  # one phase per run
        out += mains_mv * np.sin(2 * math.pi * mains_hz * t_ms[None, :] / 1000.0 + phase[:, None])
    if myopotential_mv > 0:
        white = rng.normal(0.0, 1.0, (n_rows, samples_per_block + 4))
        band = (white[:, 4:] - white[:, :-4]) / 2.0  # crude band-pass (~60-250 Hz at 1 kHz)
        envelope = 0.5 + 0.5 * np.abs(np.sin(2 * math.pi * 0.7 * t_ms / 1000.0))
        out += myopotential_mv * band * envelope[None, :]
    for start, duration, amplitude in emi_bursts:
        lo, hi = cond_t0_ms + start, cond_t0_ms + start + duration
        mask = (t_ms >= lo) & (t_ms < hi)
        if mask.any():
            out[:, mask] += amplitude * np.sign(np.sin(2 * math.pi * 180.0 * t_ms[mask] / 1000.0))
    return out
