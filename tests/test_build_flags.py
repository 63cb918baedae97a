"""The Cython build's flags are set once, in setup.py, and the debug switch reaches every module.

``DEVICETWIN_CYTHON_DEBUG=1`` must give every extension ``-O0 -g`` and bounds, wrap-around and
initialisation checks. A ``# distutils: extra_compile_args`` header in a ``.pyx`` is appended by
Cython after setup.py's flags (so its ``-O3`` would win), and a ``# cython:`` header or a
``@cython.boundscheck(False)`` overrides the directives: none may exist.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("devicetwin", "firmware_bridge", "hil")
HEADER = re.compile(r"^\s*#\s*(distutils|cython)\s*:", re.MULTILINE)
LOCAL_CHECK_OVERRIDE = re.compile(
    r"cython\.(boundscheck|wraparound|initializedcheck|nonecheck)\s*\(")
OPTIMISE = re.compile(r"^-O(?!0$)")


@pytest.fixture(scope="module")
def setup_py() -> ModuleType:
    """setup.py as a module (its ``main()`` runs only as a script)."""
    spec = importlib.util.spec_from_file_location("devicetwin_setup", ROOT / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cython_sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for ext in ("*.pyx", "*.pxd", "*.pxi")
                  for p in (ROOT / pkg).rglob(ext))


# Resolve the extensions as cythonize does (setup.py's flags, then whatever the sources' headers
# add), in a fresh interpreter: Cython caches parsed headers in module globals and merges each
# call's flags into that cache, so one process can resolve only one mode.
RESOLVE = """
import importlib.util, json
from Cython.Build import Dependencies
from Cython.Compiler.Main import CompilationOptions, Context
spec = importlib.util.spec_from_file_location("devicetwin_setup", "setup.py")
setup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(setup)
ctx = Context.from_options(CompilationOptions(include_path=["."]))
exts, _ = Dependencies.create_extension_list(setup.extensions(setup.debug_requested()), ctx=ctx,
                                             quiet=True)
print(json.dumps({e.name: list(e.extra_compile_args) for e in exts}))
"""


def _resolved(debug_env: str) -> dict[str, list[str]]:
    """Each module's compile flags, resolved with ``DEVICETWIN_CYTHON_DEBUG=debug_env``."""
    proc = subprocess.run([sys.executable, "-c", RESOLVE], cwd=ROOT, capture_output=True,
                          text=True, check=False,
                          env={**os.environ, "DEVICETWIN_CYTHON_DEBUG": debug_env})
    assert proc.returncode == 0, proc.stderr
    resolved: dict[str, list[str]] = json.loads(proc.stdout.splitlines()[-1])
    return resolved


def test_the_switch_reads_the_environment(setup_py: ModuleType) -> None:
    assert setup_py.debug_requested({"DEVICETWIN_CYTHON_DEBUG": "1"})
    assert not setup_py.debug_requested({"DEVICETWIN_CYTHON_DEBUG": "0"})
    assert not setup_py.debug_requested({})


def test_debug_directives_turn_every_check_on(setup_py: ModuleType) -> None:
    debug = setup_py.directives(True)
    assert debug["boundscheck"] is debug["wraparound"] is debug["initializedcheck"] is True
    release = setup_py.directives(False)
    assert release["boundscheck"] is release["wraparound"] is False


def test_no_optimisation_reaches_any_extension_in_debug() -> None:
    resolved = _resolved("1")
    pyx = {".".join(p.relative_to(ROOT).with_suffix("").parts)
           for p in _cython_sources() if p.suffix == ".pyx"}
    assert set(resolved) == pyx
    for name, args in resolved.items():
        assert not [a for a in args if OPTIMISE.match(a)], (name, args)
        assert "-O0" in args and "-g" in args, (name, args)


def test_release_build_optimises_every_extension() -> None:
    resolved = _resolved("0")
    for name, args in resolved.items():
        assert [a for a in args if a.startswith("-O")] == ["-O3"], (name, args)
    assert "--param=vect-max-version-for-alias-checks=64" in resolved["devicetwin.heart._kernel"]


@pytest.mark.parametrize("path", _cython_sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_source_overrides_the_build_settings(path: Path) -> None:
    text = path.read_text()
    assert not HEADER.search(text), f"{path.name} sets build options in a header"
    assert not LOCAL_CHECK_OVERRIDE.search(text), f"{path.name} overrides a safety check"
