"""The model's front end and the C firmware's (hil/firmware/src/fw_frontend.c) agree bit for bit.

A-16 is implemented twice, independently; this compiles the firmware's front end for the host with
gcc and runs both on the same signals. Skips (with the reason) when gcc or the C sources are absent.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from toolchain import require_tools

from devicetwin.pacemaker.sensing import SensingFrontEnd

FIRMWARE_SRC = Path(__file__).resolve().parents[3] / "hil" / "firmware" / "src"

# One channel through the firmware's per-sample step; out[n] = 1 where sample n detects.
HARNESS = r"""
#include <stddef.h>
#include <stdint.h>
#include "fw_frontend.h"

void run_channel(const int16_t *x, size_t n, uint32_t sensitivity_uv, uint8_t *out)
{
    fw_frontend_t fe;
    fw_frontend_init(&fe, sensitivity_uv);
    for (size_t i = 0; i < n; i++) {
        out[i] = fw_frontend_step(&fe, x[i]) ? 1u : 0u;
    }
}
"""


@pytest.fixture(scope="module")
def firmware(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    require_tools("gcc")
    gcc = str(shutil.which("gcc"))
    source = FIRMWARE_SRC / "fw_frontend.c"
    assert source.is_file(), f"the firmware front end {source} is gone"
    build = tmp_path_factory.mktemp("fw_frontend")
    (build / "harness.c").write_text(HARNESS)
    library = build / "libfwfe.so"
    result = subprocess.run(
        [
            gcc,
            "-std=c99",
            "-O1",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-shared",
            "-fPIC",
            f"-I{FIRMWARE_SRC}",
            str(source),
            str(build / "harness.c"),
            "-o",
            str(library),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail("the firmware front end no longer builds against this harness (its "
                    f"interface drifted from the model's): {result.stderr[:600]}")
    lib = ctypes.CDLL(str(library))
    lib.run_channel.restype = None
    lib.run_channel.argtypes = [
        ctypes.POINTER(ctypes.c_int16),
        ctypes.c_size_t,
        ctypes.c_uint32,
        ctypes.POINTER(ctypes.c_uint8),
    ]
    return lib


def firmware_detections(
    lib: ctypes.CDLL, signal: npt.NDArray[np.int16], sensitivity_uv: int
) -> list[int]:
    x = np.ascontiguousarray(signal, dtype=np.int16)
    out = np.zeros(x.shape[0], dtype=np.uint8)
    lib.run_channel(
        x.ctypes.data_as(ctypes.POINTER(ctypes.c_int16)),
        x.shape[0],
        sensitivity_uv,
        out.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)),
    )
    return np.flatnonzero(out).tolist()


@settings(max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([300, 3000, 12000, 32767]),
    a_uv=st.integers(1, 32767),
    v_uv=st.integers(1, 32767),
    n=st.integers(0, 3000),
)
def test_model_and_firmware_detect_the_same_samples(
    firmware: ctypes.CDLL, seed: int, scale: int, a_uv: int, v_uv: int, n: int
) -> None:
    rng = np.random.default_rng(seed)
    # Sparse spikes on a random walk: quiet stretches, steps, and bursts near the thresholds.
    walk = np.cumsum(rng.integers(-scale // 30 - 1, scale // 30 + 2, size=(2, n)), axis=1)
    spikes = rng.integers(-scale, scale + 1, size=(2, n)) * (rng.random((2, n)) < 0.02)
    signal = np.clip(walk + spikes, -32768, 32767).astype(np.int16)
    found = SensingFrontEnd(a_uv, v_uv).process(signal[0], signal[1], 0)
    samples = (found.t_us // 1000).tolist()
    channels = found.chamber.tolist()
    model_a = [s for s, c in zip(samples, channels, strict=True) if c == 0]
    model_v = [s for s, c in zip(samples, channels, strict=True) if c == 1]
    assert model_a == firmware_detections(firmware, signal[0], a_uv)
    assert model_v == firmware_detections(firmware, signal[1], v_uv)
