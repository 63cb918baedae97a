"""Build and run the libFuzzer target of the C decoder (``c/fuzz/fb_fuzz.c``).

``python -m firmware_bridge.fuzz --seconds 120`` is the documented long run; the test suite runs
a bounded one. The seed corpus is the golden vectors. Needs clang with its libFuzzer runtime
(Debian: clang, libclang-rt-14-dev).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from firmware_bridge.cbuild import BUILD_DIR, C_DIR, CODEC_SOURCES, HEADERS, WARNINGS, BuildError

GOLDEN = Path(__file__).parent / "vectors" / "golden.json"
FUZZ_SOURCE = C_DIR / "fuzz" / "fb_fuzz.c"


@dataclass(frozen=True, slots=True)
class FuzzResult:
    """Outcome of one fuzzing run."""

    executions: int
    seconds: int
    crashed: bool
    returncode: int
    output_tail: str


def build_fuzzer() -> Path:
    """Compile the target with -fsanitize=fuzzer,address,undefined (cached)."""
    clang = shutil.which("clang")
    if clang is None:
        raise BuildError("clang not found", expected="Debian packages clang, libclang-rt-14-dev")
    out = BUILD_DIR / "fb_fuzz"
    inputs = [FUZZ_SOURCE, *CODEC_SOURCES, *HEADERS]
    if out.exists() and all(out.stat().st_mtime >= p.stat().st_mtime for p in inputs):
        return out
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"fb_fuzz.{os.getpid()}.tmp")
    cmd = [clang, *WARNINGS, "-O1", "-g", "-fsanitize=fuzzer,address,undefined",
           "-fno-sanitize-recover=all", f"-I{C_DIR}", str(FUZZ_SOURCE),
           *map(str, CODEC_SOURCES), "-o", str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"building the fuzzer failed:\n{proc.stderr[-3000:]}",
                         sent=" ".join(cmd), expected="clang with libFuzzer")
    tmp.replace(out)
    return out


def seed_corpus(directory: Path) -> None:
    """Write every golden vector's wire bytes as one seed file."""
    directory.mkdir(parents=True, exist_ok=True)
    for v in json.loads(GOLDEN.read_text())["vectors"]:
        (directory / v["name"]).write_bytes(bytes.fromhex(v["wire"]))


def run(seconds: int, corpus: Path | None = None, artifacts: Path | None = None) -> FuzzResult:
    """Fuzz for ``seconds``; return executions and whether a crash was found."""
    exe = build_fuzzer()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = corpus or Path(tmp) / "corpus"
        seed_corpus(corpus)
        artifacts = artifacts or Path(tmp) / "artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [str(exe), f"-max_total_time={seconds}", "-print_final_stats=1", "-max_len=2100",
             "-timeout=10", f"-artifact_prefix={artifacts}/", str(corpus)],
            capture_output=True, text=True, check=False)
        crashes = list(artifacts.iterdir())
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", proc.stderr)
    return FuzzResult(int(m.group(1)) if m else 0, seconds,
                      bool(crashes) or proc.returncode != 0, proc.returncode,
                      proc.stderr[-2000:])


def main() -> None:
    """Command line: run the fuzzer and print one JSON line."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=int, default=120)
    args = ap.parse_args()
    r = run(args.seconds)
    print(json.dumps({"executions": r.executions, "seconds": r.seconds, "crashed": r.crashed}))
    if r.crashed:
        print(r.output_tail)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
