"""An imported session on disk: ``session.json`` (the de-identified session) and, when the
source had waveforms, ``signals.npz`` (samples x signals in physical units, and ``fs_hz``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt

from devicetwin.twin import RecordedSession, TwinError
from hil.errors import ConfigError
from hil.twin.wfdb_import import ImportedSession

SESSION_FILE = "session.json"
SIGNALS_FILE = "signals.npz"


def write_session(out_dir: Path | str, imported: ImportedSession) -> list[Path]:
    """Write ``imported`` into ``out_dir`` (created); returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / SESSION_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(imported.session.to_dict(), indent=1, allow_nan=False) + "\n",
                   encoding="utf-8")
    tmp.replace(path)
    written = [path]
    if imported.signals is not None:
        sig = out / SIGNALS_FILE
        fs = imported.session.fs_hz if imported.session.fs_hz is not None else float("nan")
        np.savez_compressed(sig, signals=imported.signals.astype(np.float32),
                            fs_hz=np.float64(fs))
        written.append(sig)
    return written


def session_path(path: Path | str) -> Path:
    """``path`` itself when it is a file, else ``path/session.json``."""
    p = Path(path)
    return p / SESSION_FILE if p.is_dir() else p


def load_session(path: Path | str) -> tuple[RecordedSession, npt.NDArray[np.float64] | None]:
    """A session written by :func:`write_session` (its folder or its ``session.json``), with
    its waveforms when ``signals.npz`` is beside it."""
    p = session_path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read the session: {err.strerror}", name="session",
                          value=str(p), expected="a session.json written by 'twin import'",
                          source=str(p)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"not a JSON session file ({err})", name="session", value=str(p),
                          expected="a session.json written by 'twin import'",
                          source=str(p)) from None
    if not isinstance(data, dict):
        raise ConfigError("a session file holds a JSON object", name="session", value=str(p),
                          expected="a JSON object", source=str(p))
    try:
        session = RecordedSession.from_dict(data, str(p))
    except TwinError as err:
        raise ConfigError(str(err), name=err.name, value=err.value,
                          expected=err.expected) from None
    sig = p.with_name(SIGNALS_FILE)
    signals = None
    if sig.is_file():
        with np.load(sig) as npz:
            signals = np.asarray(npz["signals"], dtype=np.float64)
    return session, signals
