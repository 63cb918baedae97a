"""Build the Cython extensions of devicetwin, firmware_bridge and hil.

Every ``.pyx`` file under the three packages becomes an extension module. Cython directives and C
compiler flags are set here, once: no ``.pyx`` carries a ``# distutils:`` or ``# cython:`` header
that could override them (tests/test_build_flags.py checks both). ``DEVICETWIN_CYTHON_DEBUG=1``
builds without optimisation (``-O0 -g``) and with bounds, wrap-around, initialisation and None
checks on; CI builds a separate copy of the tree that way and runs tests/devicetwin/heart and
tests/devicetwin/pacemaker/test_sensing*.py against it. Switching between the two modes
regenerates every C file (the last mode is kept in ``build/cython/BUILD_MODE``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup  # type: ignore[import-untyped,unused-ignore]

HERE = Path(__file__).resolve().parent
PACKAGES = ("devicetwin", "firmware_bridge", "hil")
DEBUG_ENV = "DEVICETWIN_CYTHON_DEBUG"
BUILD_DIR = Path("build") / "cython"
MODE_STAMP = BUILD_DIR / "BUILD_MODE"
CODEC_DIR = Path("firmware_bridge") / "c"
FIRMWARE_DIR = Path("hil") / "firmware"
#: The reference firmware's device and timing core (not its main loop) for the in-process device.
FIRMWARE_CORE = tuple(FIRMWARE_DIR / "src" / f"fw_{name}.c"
                      for name in ("device", "faults", "frontend", "pacing", "params", "telemetry"))

DEBUG_COMPILE_ARGS = ("-O0", "-g")
RELEASE_COMPILE_ARGS = ("-O3", "-fno-math-errno")
#: Release flags of single modules, appended to RELEASE_COMPILE_ARGS.
RELEASE_EXTRA_ARGS: Mapping[str, tuple[str, ...]] = {
    "devicetwin.heart._kernel": ("--param=vect-max-version-for-alias-checks=64",),
    "devicetwin.heart._kernel_avx2": ("--param=vect-max-version-for-alias-checks=64",),
}
#: C sources compiled into single modules: the codec the firmware links (one implementation).
C_SOURCES: Mapping[str, tuple[Path, ...]] = {
    "firmware_bridge._fastcodec": (CODEC_DIR / "fb_protocol.c", CODEC_DIR / "fb_sha256.c"),
    "hil.emulator._inprocess": (*FIRMWARE_CORE, CODEC_DIR / "fb_protocol.c",
                                CODEC_DIR / "fb_sha256.c",
                                FIRMWARE_DIR / "hal" / "inprocess" / "hal_inprocess.c"),
}
C_HEADERS: Mapping[str, tuple[Path, ...]] = {
    "firmware_bridge._fastcodec": (CODEC_DIR / "fb_protocol.h", CODEC_DIR / "fb_sha256.h"),
    "hil.emulator._inprocess": (*sorted(p.relative_to(HERE) for p in
                                        (HERE / FIRMWARE_DIR / "src").glob("fw_*.h")),
                                CODEC_DIR / "fb_protocol.h", CODEC_DIR / "fb_sha256.h",
                                FIRMWARE_DIR / "hal" / "inprocess" / "hal_inprocess.h"),
}


def firmware_identity(module: str, target: str = "inprocess clean") -> list[tuple[str, str]]:
    """The firmware's HELLO hash for a module that links the firmware: SHA-256 over its C
    sources and headers and the target name (``inprocess <FAULT>`` for a seeded fault's copy,
    ``hil.emulator.variants``), as the firmware Makefile computes it per target."""
    if module != "hil.emulator._inprocess":
        return []
    digest = hashlib.sha256()
    for path in (*C_SOURCES[module], *C_HEADERS[module]):
        digest.update((HERE / path).read_bytes())
    digest.update(target.encode())
    return [("FW_SOURCE_SHA256", f'"{digest.hexdigest()}"')]


def debug_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``DEVICETWIN_CYTHON_DEBUG`` asks for the debug build (set and not 0)."""
    return environ.get(DEBUG_ENV, "0") not in ("", "0")


def directives(debug: bool) -> dict[str, object]:
    """Cython compiler directives of every module."""
    return {
        "language_level": 3,
        "boundscheck": debug,
        "wraparound": debug,
        "initializedcheck": debug,
        "cdivision": not debug,
        "nonecheck": debug,
        "embedsignature": True,
        "binding": False,
    }


def compile_args(module: str, debug: bool) -> list[str]:
    """C compiler flags of one module."""
    if debug:
        return list(DEBUG_COMPILE_ARGS)
    return [*RELEASE_COMPILE_ARGS, *RELEASE_EXTRA_ARGS.get(module, ())]


def extensions(debug: bool) -> list[Extension]:
    """One extension per ``.pyx`` under PACKAGES (paths relative to the project)."""
    exts = []
    for package in PACKAGES:
        for pyx in sorted((HERE / package).rglob("*.pyx")):
            rel = pyx.relative_to(HERE)
            module = ".".join(rel.with_suffix("").parts)
            c_sources = C_SOURCES.get(module, ())
            exts.append(
                Extension(
                    module,
                    [str(rel), *map(str, c_sources)],
                    include_dirs=[np.get_include(), *sorted({str(p.parent) for p in c_sources})],
                    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                                   *firmware_identity(module)],
                    extra_compile_args=compile_args(module, debug),
                    depends=[str(p) for p in C_HEADERS.get(module, ())],
                )
            )
    return exts


def last_mode() -> str:
    """The mode of the last build of this tree (a tree without a record was built in release)."""
    stamp = HERE / MODE_STAMP
    return stamp.read_text().strip() if stamp.exists() else "release"


def main() -> None:
    """Cythonize (everything again when the mode changed) and run setuptools."""
    debug = debug_requested()
    mode = "debug" if debug else "release"
    modules = cythonize(  # type: ignore[no-untyped-call,unused-ignore]
        extensions(debug), compiler_directives=directives(debug), build_dir=str(BUILD_DIR),
        force=last_mode() != mode, quiet=True)
    (HERE / MODE_STAMP).parent.mkdir(parents=True, exist_ok=True)
    (HERE / MODE_STAMP).write_text(mode + "\n")
    setup(ext_modules=modules)


if __name__ == "__main__":
    main()
