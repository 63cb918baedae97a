"""Build the Cython extensions of devicetwin, firmware_bridge and hil.

Every ``.pyx`` file under the three packages becomes an extension module. Compiler
directives are set here, once. ``DEVICETWIN_CYTHON_DEBUG=1`` turns bounds checking,
wrap-around and initialisation checks on (one CI job runs the tests that way).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent
PACKAGES = ("devicetwin", "firmware_bridge", "hil")
DEBUG = os.environ.get("DEVICETWIN_CYTHON_DEBUG", "0") not in ("", "0")

DIRECTIVES: dict[str, object] = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
    "nonecheck": DEBUG,
    "embedsignature": True,
    "binding": False,
}
COMPILE_ARGS = ["-O0", "-g"] if DEBUG else ["-O3", "-fno-math-errno"]


def _extensions() -> list[Extension]:
    exts = []
    for package in PACKAGES:
        for pyx in sorted((HERE / package).rglob("*.pyx")):
            rel = pyx.relative_to(HERE).with_suffix("")
            exts.append(
                Extension(
                    ".".join(rel.parts),
                    [str(pyx.relative_to(HERE))],
                    include_dirs=[np.get_include()],
                    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                    extra_compile_args=COMPILE_ARGS,
                )
            )
    return exts


setup(
    ext_modules=cythonize(
        _extensions(),
        compiler_directives=DIRECTIVES,
        build_dir="build/cython",
        quiet=True,
    )
)
