"""The Makefile's set-up fails when a build fails, and the set-up script checks files, not names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_build_fails_when_the_cython_build_fails(tmp_path: Path) -> None:
    """A Python whose ``setup.py build_ext`` fails (everything else works) must fail the target."""
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\n[ "$1" = setup.py ] && exit 7\nexec {sys.executable} "$@"\n')
    fake.chmod(0o755)
    stamp = tmp_path / "installed"
    stamp.touch()
    later = max((ROOT / "pyproject.toml").stat().st_mtime, (ROOT / "setup.py").stat().st_mtime) + 1
    os.utime(stamp, (later, later))
    proc = subprocess.run(["make", "-C", str(ROOT), "build", f"PY={fake}", f"STAMP={stamp}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0, proc.stdout + proc.stderr


def test_install_script_lists_the_cortex_m_c_library() -> None:
    proc = subprocess.run(["bash", str(ROOT / "tools" / "install-system-deps.sh"), "--list"],
                          capture_output=True, text=True, check=True)
    packages = proc.stdout.split()
    for needed in ("gcc-arm-none-eabi", "libnewlib-arm-none-eabi", "qemu-system-arm",
                   "libclang-rt-14-dev"):
        assert needed in packages


def test_install_script_finds_a_missing_c_library_by_its_files(tmp_path: Path) -> None:
    """An arm-none-eabi-gcc that is on PATH but has no <string.h> (no newlib) is reported."""
    fake = tmp_path / "arm-none-eabi-gcc"
    fake.write_text('#!/bin/sh\ncase "$*" in *print-file-name*) echo libc.a ;; '
                    '*) echo "fatal error: string.h: No such file" >&2; exit 1 ;; esac\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    proc = subprocess.run(["bash", str(ROOT / "tools" / "install-system-deps.sh"), "--check"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 1
    assert "libnewlib-arm-none-eabi" in proc.stderr


def test_install_script_is_satisfied_on_this_machine() -> None:
    """`make setup` ran before the suite: every package's files must be there now."""
    proc = subprocess.run(["bash", str(ROOT / "tools" / "install-system-deps.sh"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
