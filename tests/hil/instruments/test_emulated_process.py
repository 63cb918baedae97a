"""The emulated instruments in their own process (``python -m hil.instruments.emulated``)."""

from __future__ import annotations

import json
import subprocess
import sys

from hil.instruments.awg import ScpiAwg
from hil.instruments.scope import ScpiDigitizer


def test_served_from_a_process_and_stopped_by_closing_stdin() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "hil.instruments.emulated", "--seed", "3"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        res = json.loads(proc.stdout.readline())
        assert res["awg"].startswith("TCPIP::127.0.0.1::") and res["device"] is None
        with ScpiAwg(res["awg"]) as awg, ScpiDigitizer(res["scope"]) as scope:
            assert "EmulatedAWG" in awg.identify()
            assert "EmulatedScope" in scope.identify()
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        code = proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0
