"""A bounded libFuzzer run of the C decoder (the long run is documented in docs/protocol.md)."""

from __future__ import annotations

import shutil

import pytest

from firmware_bridge import fuzz
from firmware_bridge.cbuild import BuildError


@pytest.mark.slow
def test_c_decoder_survives_bounded_fuzzing(record_property: object) -> None:
    if shutil.which("clang") is None:
        pytest.skip("clang not installed (Debian packages clang, libclang-rt-14-dev)")
    try:
        fuzz.build_fuzzer()
    except BuildError as exc:
        pytest.skip(f"libFuzzer runtime missing: {exc.message[:200]}")
    result = fuzz.run(seconds=20)
    print(f"libFuzzer: {result.executions} executions in {result.seconds} s, "
          f"crashed={result.crashed}")
    record_property("fuzz_executions", result.executions)  # type: ignore[operator]
    assert not result.crashed, result.output_tail
    assert result.executions > 0
