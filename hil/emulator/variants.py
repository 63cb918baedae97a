"""The in-process firmware with a seeded fault: a copy of ``hil.emulator._inprocess`` per fault.

The clean firmware is linked into ``hil.emulator._inprocess`` when the project is built. A seeded
fault is a build-time switch (``-DFAULT_<NAME>=1``, :mod:`hil.emulator.faults`), so each faulty
variant is its own copy of that extension: the same ``.pyx`` and the same C sources, built with
the fault's macro and the variant's firmware identity, into
``build/firmware-variants/<NAME>-<hash>/`` (the hash covers the sources, the build flags and the
interpreter, so a changed source builds a new copy). The first use builds it (~20 s; ``make
build`` builds none of them), later uses load it; a file lock keeps two processes (two Dask
workers) from building the same variant at once, and a copy is moved into place only when whole.

Every copy is loaded under the extension's own name (its ``PyInit`` symbol) but kept out of
``sys.modules``; each has its own firmware state, and the C symbols are built hidden so two
variants in one process never bind to each other's functions.

Building needs what ``setup.py`` needs (Cython, setuptools, numpy, gcc) and the project's source
tree (``setup.py`` holds the one description of the extension and its flags).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.machinery
import importlib.util
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from pathlib import Path
from types import ModuleType

from hil.emulator import _inprocess
from hil.emulator.errors import FirmwareBuildError
from hil.emulator.faults import FIRMWARE_DIR, check_fault

PROJECT_DIR = FIRMWARE_DIR.parent.parent
SETUP_PY = PROJECT_DIR / "setup.py"
VARIANTS_DIR = PROJECT_DIR / "build" / "firmware-variants"
MODULE = "hil.emulator._inprocess"
PYX = Path(__file__).resolve().parent / "_inprocess.pyx"

_loaded: dict[str, ModuleType] = {}
_lock = threading.Lock()


def firmware_module(fault: str | None = None) -> ModuleType:
    """The in-process firmware extension: the clean one for ``fault=None``, else the seeded
    fault's copy (built on first use). Raises UnknownFaultError for an unknown name and
    FirmwareBuildError when the copy cannot be built."""
    if check_fault(fault) is None:
        return _inprocess
    assert fault is not None
    with _lock:
        module = _loaded.get(fault)
        if module is None:
            module = _loaded[fault] = _load(_built(fault), fault)
        return module


def variant_path(fault: str) -> Path:
    """Where the copy of ``fault`` lives (whether built yet or not)."""
    digest = hashlib.sha256()
    for path in sorted((FIRMWARE_DIR / "src").glob("fw_*")) + sorted(
            (FIRMWARE_DIR / "hal" / "inprocess").glob("*")) + [PYX, SETUP_PY]:
        if path.exists():
            digest.update(path.name.encode() + path.read_bytes())
    for path in [*sorted((PROJECT_DIR / "firmware_bridge" / "c").glob("fb_*")),
                 PROJECT_DIR / "firmware_bridge" / "_fastcodec.pxd"]:
        digest.update(path.name.encode() + path.read_bytes())
    digest.update(f"{fault} {sys.version} {sysconfig.get_config_var('EXT_SUFFIX')}".encode())
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    return VARIANTS_DIR / f"{fault}-{digest.hexdigest()[:12]}" / f"_inprocess{suffix}"


def _built(fault: str) -> Path:
    target = variant_path(fault)
    if target.exists():
        return target
    if not SETUP_PY.exists():
        raise FirmwareBuildError(
            f"firmware variant {fault}: building it needs the project's source tree "
            f"({SETUP_PY} is missing)", name="fault", value=fault,
            expected="a checkout of devicetwin with setup.py")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():  # another process may have built it meanwhile
            _build(fault, target)
    return target


def _build(fault: str, target: Path) -> None:
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        proc = subprocess.run(
            [sys.executable, "-c", _BUILD_SCRIPT, str(SETUP_PY), fault, tmp],
            cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
        built = sorted(Path(tmp, "lib").rglob("_inprocess*.so"))
        if proc.returncode != 0 or not built:
            tail = (proc.stderr or proc.stdout).strip()[-800:]
            raise FirmwareBuildError(
                f"building the in-process firmware with fault {fault} failed "
                f"(exit {proc.returncode}): {tail}", name="fault", value=fault,
                expected="a variant that compiles (gcc, Cython and numpy installed)")
        shutil.move(str(built[0]), target)


def _load(path: Path, fault: str) -> ModuleType:
    # The loader finds PyInit__inprocess from the name's last part; the copy stays out of
    # sys.modules so the clean extension keeps its name.
    loader = importlib.machinery.ExtensionFileLoader(MODULE, str(path))
    spec = importlib.util.spec_from_file_location(MODULE, path, loader=loader)
    if spec is None:
        raise FirmwareBuildError(f"firmware variant {fault}: {path} cannot be loaded",
                                 name="fault", value=fault, expected="a loadable extension")
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


#: Run in a child interpreter: build the extension of setup.py with the fault's macro.
_BUILD_SCRIPT = """
import importlib.util, sys
from pathlib import Path
setup_py, fault, out = sys.argv[1:]
spec = importlib.util.spec_from_file_location("devicetwin_setup", setup_py)
setup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(setup)
from Cython.Build import cythonize
from setuptools import Distribution
debug = setup.debug_requested()
ext = next(e for e in setup.extensions(debug) if e.name == "hil.emulator._inprocess")
ext.define_macros = [m for m in ext.define_macros if m[0] != "FW_SOURCE_SHA256"]
ext.define_macros += [("FAULT_" + fault, "1"),
                      *setup.firmware_identity(ext.name, "inprocess " + fault)]
ext.extra_compile_args = [*ext.extra_compile_args, "-fvisibility=hidden"]
mods = cythonize([ext], compiler_directives=setup.directives(debug),
                 build_dir=str(Path(out, "c")), quiet=True, force=True)
dist = Distribution({"ext_modules": mods, "script_name": "setup.py"})
cmd = dist.get_command_obj("build_ext")
cmd.build_lib = str(Path(out, "lib"))
cmd.build_temp = str(Path(out, "obj"))
cmd.ensure_finalized()
cmd.run()
"""
