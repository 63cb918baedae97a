"""Framing primitives of protocol v1: COBS, CRC-32C and the compact sample coding.

The functions here are the pure-Python reference. ``firmware_bridge._fastcodec`` (Cython) holds
the same functions compiled; ``cobs_encode`` & co. at module level resolve to the compiled ones
when the extension is built, and ``py_*`` always name the reference (tests compare the two).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from firmware_bridge.errors import FrameError

_CRC32C_POLY = 0x82F63B78


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (_CRC32C_POLY if crc & 1 else 0)
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _make_table()


def py_crc32c(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-32C (Castagnoli, reflected, init and final XOR 0xFFFFFFFF); ``crc`` continues one."""
    crc ^= 0xFFFFFFFF
    table = _CRC_TABLE
    for b in bytes(data):
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


def py_cobs_encode(data: bytes | bytearray | memoryview) -> bytes:
    """COBS-encode ``data`` (no delimiter appended; no trailing empty block after 254 bytes)."""
    src = bytes(data)
    out = bytearray()
    block = bytearray()
    n = len(src)
    for i, b in enumerate(src):
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(b)
            if len(block) == 254 and i + 1 < n:
                out.append(255)
                out += block
                block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def py_cobs_decode(data: bytes | bytearray | memoryview) -> bytes:
    """Decode one COBS frame (without its delimiter); raise FrameError("cobs") when malformed."""
    src = bytes(data)
    out = bytearray()
    i = 0
    n = len(src)
    while i < n:
        code = src[i]
        if code == 0 or code - 1 > n - i - 1:
            raise FrameError(f"bad COBS code {code:#04x} at offset {i} of {n}",
                             received=src, expected="cobs: a valid COBS frame")
        block = src[i + 1 : i + code]
        if 0 in block:
            raise FrameError(f"zero byte inside a COBS block at offset {i}", received=src,
                             expected="cobs: no zero byte inside a frame")
        out += block
        i += code
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def _varint(u: int, out: bytearray) -> None:
    while u >= 0x80:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    out.append(u)


def py_samples_encode(samples: Sequence[int]) -> bytes:
    """Encode one channel in the canonical zigzag-delta/zero-run varint coding (section 3.8)."""
    out = bytearray()
    prev = 0
    i = 0
    n = len(samples)
    while i < n:
        s = samples[i]
        if s == prev:
            j = i
            while j < n and samples[j] == prev:
                j += 1
            _varint(((j - i - 1) << 1) | 1, out)
            i = j
        else:
            d = s - prev
            zz = d << 1 if d >= 0 else ((-d - 1) << 1) | 1
            _varint(zz << 1, out)
            prev = s
            i += 1
    return bytes(out)


def py_samples_decode(data: bytes, pos: int, end: int, n: int) -> tuple[tuple[int, ...], int]:
    """Decode ``n`` samples from ``data[pos:end]``; return them and the position after them.

    Raises FrameError("payload") on a truncated, non-minimal, non-canonical or out-of-range stream.
    """
    out: list[int] = []
    prev = 0
    last_run = False
    while len(out) < n:
        u = 0
        k = 0
        while True:
            if pos >= end or k == 3:
                raise _bad_samples(data, pos, "truncated or over-long varint")
            b = data[pos]
            pos += 1
            u |= (b & 0x7F) << (7 * k)
            k += 1
            if not b & 0x80:
                if k > 1 and b == 0:
                    raise _bad_samples(data, pos, "non-minimal varint")
                break
        if u == 0:
            raise _bad_samples(data, pos, "zero-delta token (runs must be used)")
        if u & 1:
            run = (u >> 1) + 1
            if last_run or run > n - len(out):
                raise _bad_samples(data, pos, f"run of {run} not canonical or past {n} samples")
            out.extend([prev] * run)
            last_run = True
        else:
            zz = u >> 1
            d = -(zz >> 1) - 1 if zz & 1 else zz >> 1
            v = prev + d
            if not -32768 <= v <= 32767:
                raise _bad_samples(data, pos, f"sample {v} outside int16")
            out.append(v)
            prev = v
            last_run = False
    return tuple(out), pos


def py_samples_check(values: object) -> tuple[int, ...]:
    """``values`` as a tuple of ints after checking each is an int16 (ValueError otherwise)."""
    t = values if type(values) is tuple else tuple(values)  # type: ignore[arg-type]
    for v in t:
        if type(v) is not int:
            raise ValueError(f"sample {v!r} is not an int")
        if not -32768 <= v <= 32767:
            raise ValueError(f"sample {v} outside int16")
    return t


def py_window_decode(data: bytes, pos: int, end: int
                     ) -> tuple[int, bool, tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Decode a TICK/STREAM payload ``data[pos:end]`` exactly: (t0_us, early_stop, a, v, x)."""
    if end - pos < 11:
        raise _bad_samples(data, pos, "window payload truncated")
    t0 = int.from_bytes(data[pos : pos + 8], "little")
    n = data[pos + 8] | data[pos + 9] << 8
    flags = data[pos + 10]
    if not 1 <= n <= 100 or flags & 0xFE:
        raise _bad_samples(data, pos, f"window of {n} samples with flags {flags:#x}")
    a, r = py_samples_decode(data, pos + 11, end, n)
    v, r = py_samples_decode(data, r, end, n)
    x, r = py_samples_decode(data, r, end, n)
    if r != end:
        raise _bad_samples(data, r, f"{end - r} trailing bytes after the samples")
    return t0, bool(flags & 1), a, v, x


def _bad_samples(data: bytes, pos: int, why: str) -> FrameError:
    return FrameError(f"bad sample coding at payload offset {pos}: {why}", received=bytes(data),
                      expected="payload: canonical sample coding (docs/protocol.md 3.8)")


crc32c: Callable[..., int] = py_crc32c
cobs_encode: Callable[[bytes], bytes] = py_cobs_encode
cobs_decode: Callable[[bytes], bytes] = py_cobs_decode
samples_encode: Callable[[Sequence[int]], bytes] = py_samples_encode
samples_decode: Callable[[bytes, int, int, int], tuple[tuple[int, ...], int]] = py_samples_decode
samples_check: Callable[[object], tuple[int, ...]] = py_samples_check
window_decode: Callable[
    [bytes, int, int], tuple[int, bool, tuple[int, ...], tuple[int, ...], tuple[int, ...]]
] = py_window_decode
HAVE_FAST = False

try:  # the compiled kernels, when `make build` has built them
    from firmware_bridge import _fastcodec as _fast
except ImportError:  # pragma: no cover - pure-Python fallback
    pass
else:
    crc32c = _fast.crc32c
    cobs_encode = _fast.cobs_encode
    cobs_decode = _fast.cobs_decode
    samples_encode = _fast.samples_encode
    samples_decode = _fast.samples_decode
    samples_check = _fast.samples_check
    window_decode = _fast.window_decode
    HAVE_FAST = True
