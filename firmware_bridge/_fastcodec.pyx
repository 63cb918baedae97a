"""Compiled framing kernels: CRC-32C, COBS and the sample coding (same results as framing.py).

Each def wrapper validates its input, allocates the output (bytes or a small stack buffer) and
calls a ``noexcept nogil`` kernel; errors are raised in the wrapper as FrameError.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport int16_t, int32_t, uint8_t, uint32_t

from firmware_bridge.errors import FrameError

cdef uint32_t CRC_TABLE[256]
cdef int _i, _k
cdef uint32_t _c
for _i in range(256):
    _c = _i
    for _k in range(8):
        _c = (_c >> 1) ^ (<uint32_t>0x82F63B78U if (_c & 1) else <uint32_t>0)
    CRC_TABLE[_i] = _c

cdef enum:
    MAX_SAMPLES = 100


cdef uint32_t crc32c_kernel(const uint8_t* data, Py_ssize_t n, uint32_t crc) noexcept nogil:
    cdef Py_ssize_t i
    crc = crc ^ <uint32_t>0xFFFFFFFFU
    for i in range(n):
        crc = (crc >> 8) ^ CRC_TABLE[(crc ^ data[i]) & 0xFF]
    return crc ^ <uint32_t>0xFFFFFFFFU


cdef Py_ssize_t cobs_encode_kernel(const uint8_t* src, Py_ssize_t n, uint8_t* out) noexcept nogil:
    # out must hold n + n // 254 + 1 bytes
    cdef Py_ssize_t o = 1, code_pos = 0, i
    cdef uint8_t code = 1
    for i in range(n):
        if src[i] == 0:
            out[code_pos] = code
            code = 1
            code_pos = o
            o += 1
        else:
            out[o] = src[i]
            o += 1
            code += 1
            if code == 0xFF and i + 1 < n:
                out[code_pos] = code
                code = 1
                code_pos = o
                o += 1
    out[code_pos] = code
    return o


cdef Py_ssize_t cobs_decode_kernel(const uint8_t* src, Py_ssize_t n, uint8_t* out) noexcept nogil:
    # returns the decoded length or -1; out must hold n bytes
    cdef Py_ssize_t i = 0, o = 0, k
    cdef uint8_t code
    while i < n:
        code = src[i]
        if code == 0 or code - 1 > n - i - 1:
            return -1
        i += 1
        for k in range(1, code):
            if src[i] == 0:
                return -1
            out[o] = src[i]
            o += 1
            i += 1
        if code != 0xFF and i < n:
            out[o] = 0
            o += 1
    return o


cdef inline Py_ssize_t put_varint(uint32_t u, uint8_t* out) noexcept nogil:
    cdef Py_ssize_t k = 0
    while u >= 0x80:
        out[k] = <uint8_t>((u & 0x7F) | 0x80)
        u >>= 7
        k += 1
    out[k] = <uint8_t>u
    return k + 1


cdef Py_ssize_t samples_encode_kernel(const int32_t* s, Py_ssize_t n, uint8_t* out) noexcept nogil:
    # out must hold 3 * n bytes
    cdef Py_ssize_t i = 0, j, o = 0
    cdef int32_t prev = 0, d
    cdef uint32_t zz
    while i < n:
        if s[i] == prev:
            j = i
            while j < n and s[j] == prev:
                j += 1
            o += put_varint(<uint32_t>(((j - i - 1) << 1) | 1), out + o)
            i = j
        else:
            d = s[i] - prev
            if d >= 0:
                zz = (<uint32_t>d) << 1
            else:
                zz = ((<uint32_t>(-(d + 1))) << 1) | 1
            o += put_varint(zz << 1, out + o)
            prev = s[i]
            i += 1
    return o


cdef Py_ssize_t samples_decode_kernel(const uint8_t* src, Py_ssize_t pos, Py_ssize_t end,
                                      int32_t* out, Py_ssize_t n) noexcept nogil:
    # returns the position after the samples, or -1 on a bad stream
    cdef Py_ssize_t i = 0, j, run
    cdef int32_t prev = 0, d, v
    cdef uint32_t u, zz
    cdef int k
    cdef uint8_t b
    cdef bint last_run = False
    while i < n:
        u = 0
        k = 0
        while True:
            if pos >= end or k == 3:
                return -1
            b = src[pos]
            pos += 1
            u |= (<uint32_t>(b & 0x7F)) << (7 * k)
            k += 1
            if not (b & 0x80):
                if k > 1 and b == 0:
                    return -1
                break
        if u == 0:
            return -1
        if u & 1:
            run = (u >> 1) + 1
            if last_run or run > n - i:
                return -1
            for j in range(run):
                out[i] = prev
                i += 1
            last_run = True
        else:
            zz = u >> 1
            if zz & 1:
                d = -(<int32_t>(zz >> 1)) - 1
            else:
                d = <int32_t>(zz >> 1)
            v = prev + d
            if v < -32768 or v > 32767:
                return -1
            out[i] = v
            i += 1
            prev = v
            last_run = False
    return pos


def crc32c(data, unsigned int crc=0):
    """CRC-32C of ``data`` (bytes-like), continuing ``crc``."""
    cdef const uint8_t[::1] view = memoryview(data).cast("B") if not isinstance(data, bytes) else data
    cdef uint32_t r
    if view.shape[0] == 0:
        return crc
    with nogil:
        r = crc32c_kernel(&view[0], view.shape[0], crc)
    return r


def cobs_encode(data):
    """COBS-encode ``data`` (no delimiter)."""
    cdef bytes src = bytes(data)
    cdef Py_ssize_t n = len(src)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, n + n // 254 + 1)
    cdef Py_ssize_t m
    cdef const uint8_t* sp = <const uint8_t*>PyBytes_AS_STRING(src)
    cdef uint8_t* op = <uint8_t*>PyBytes_AS_STRING(out)
    with nogil:
        m = cobs_encode_kernel(sp, n, op)
    return out[:m]


def cobs_decode(data):
    """Decode one COBS frame (no delimiter); FrameError("cobs") when malformed."""
    cdef bytes src = bytes(data)
    cdef Py_ssize_t n = len(src)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, n)
    cdef Py_ssize_t m
    cdef const uint8_t* sp = <const uint8_t*>PyBytes_AS_STRING(src)
    cdef uint8_t* op = <uint8_t*>PyBytes_AS_STRING(out)
    with nogil:
        m = cobs_decode_kernel(sp, n, op)
    if m < 0:
        raise FrameError(f"bad COBS frame of {n} bytes", received=src,
                         expected="cobs: a valid COBS frame")
    return out[:m]


def samples_encode(samples):
    """Encode one channel (1..100 int16 samples) in the canonical sample coding."""
    cdef int32_t buf[MAX_SAMPLES]
    cdef uint8_t out[3 * MAX_SAMPLES]
    cdef Py_ssize_t n = len(samples), i, m
    cdef long v
    if n > MAX_SAMPLES:
        raise ValueError(f"{n} samples, at most {MAX_SAMPLES}")
    for i in range(n):
        v = samples[i]
        if v < -32768 or v > 32767:
            raise ValueError(f"sample {v} outside int16")
        buf[i] = <int32_t>v
    with nogil:
        m = samples_encode_kernel(buf, n, out)
    return PyBytes_FromStringAndSize(<char*>out, m)


def samples_decode(bytes data, Py_ssize_t pos, Py_ssize_t end, Py_ssize_t n):
    """Decode ``n`` samples from ``data[pos:end]``: (samples tuple, position after them)."""
    cdef int32_t buf[MAX_SAMPLES]
    cdef Py_ssize_t r, i
    cdef const uint8_t* sp = <const uint8_t*>PyBytes_AS_STRING(data)
    if n < 0 or n > MAX_SAMPLES or pos < 0 or end > len(data) or pos > end:
        raise ValueError(f"bad arguments n={n} pos={pos} end={end}")
    with nogil:
        r = samples_decode_kernel(sp, pos, end, buf, n)
    if r < 0:
        raise FrameError(f"bad sample coding at payload offset {pos}", received=data,
                         expected="payload: canonical sample coding (docs/protocol.md 3.8)")
    return tuple([buf[i] for i in range(n)]), r


def samples_check(values):
    """``values`` as a tuple of ints, after checking each is an int16 (ValueError otherwise)."""
    cdef tuple t = values if type(values) is tuple else tuple(values)
    cdef Py_ssize_t i, n = len(t)
    cdef object o
    cdef long v
    for i in range(n):
        o = t[i]
        if type(o) is not int:
            raise ValueError(f"sample {o!r} is not an int")
        v = o
        if v < -32768 or v > 32767:
            raise ValueError(f"sample {v} outside int16")
    return t


def window_decode(bytes data, Py_ssize_t pos, Py_ssize_t end):
    """Decode a TICK/STREAM payload ``data[pos:end]`` exactly: (t0_us, early_stop, a, v, x).

    Raises FrameError("payload") on any defect, including trailing bytes.
    """
    cdef int32_t buf[MAX_SAMPLES]
    cdef const uint8_t* sp = <const uint8_t*>PyBytes_AS_STRING(data)
    cdef unsigned long long t0 = 0
    cdef Py_ssize_t n, i, k, r
    cdef uint8_t flags
    cdef list chans = []
    if pos < 0 or end > len(data) or end - pos < 11:
        raise FrameError("window payload truncated", received=data,
                         expected="payload: t0 (8), n (2), flags (1), samples")
    for i in range(8):
        t0 |= (<unsigned long long>sp[pos + i]) << (8 * i)
    n = sp[pos + 8] | (sp[pos + 9] << 8)
    flags = sp[pos + 10]
    if n < 1 or n > MAX_SAMPLES or (flags & 0xFE):
        raise FrameError(f"window of {n} samples with flags {flags:#x}", received=data,
                         expected="payload: 1..100 samples, flags bit 0 only")
    r = pos + 11
    for k in range(3):
        with nogil:
            r = samples_decode_kernel(sp, r, end, buf, n)
        if r < 0:
            raise FrameError("bad sample coding", received=data,
                             expected="payload: canonical sample coding (docs/protocol.md 3.8)")
        chans.append(tuple([buf[i] for i in range(n)]))
    if r != end:
        raise FrameError(f"{end - r} trailing payload bytes in a window", received=data,
                         expected="payload: nothing after the three channels")
    return t0, bool(flags & 1), chans[0], chans[1], chans[2]


def window_frame_encode(int type_code, int seq, unsigned long long t0_us, bint early_stop,
                        a, v, x):
    """Wire bytes (COBS + delimiter) of an unauthenticated TICK/STREAM frame.

    The samples must already be validated int16 tuples of equal length 1..100 (a Tick's).
    """
    cdef int32_t buf[MAX_SAMPLES]
    cdef uint8_t raw[1024]
    cdef uint8_t wire[1040]
    cdef Py_ssize_t n = len(a), i, k, o = 0, m
    cdef uint32_t crc
    cdef object chan
    if n < 1 or n > MAX_SAMPLES or len(v) != n or len(x) != n:
        raise ValueError(f"window of {len(a)}/{len(v)}/{len(x)} samples")
    raw[0] = 1
    raw[1] = <uint8_t>type_code
    raw[2] = 0
    raw[3] = <uint8_t>(seq & 0xFF)
    raw[4] = <uint8_t>((seq >> 8) & 0xFF)
    for i in range(8):
        raw[5 + i] = <uint8_t>((t0_us >> (8 * i)) & 0xFF)
    raw[13] = <uint8_t>(n & 0xFF)
    raw[14] = <uint8_t>(n >> 8)
    raw[15] = 1 if early_stop else 0
    o = 16
    for chan in (a, v, x):
        for i in range(n):
            buf[i] = <int32_t>(<long>chan[i])
        with nogil:
            o += samples_encode_kernel(buf, n, raw + o)
    with nogil:
        crc = crc32c_kernel(raw, o, 0)
        for k in range(4):
            raw[o + k] = <uint8_t>((crc >> (8 * k)) & 0xFF)
        o += 4
        m = cobs_encode_kernel(raw, o, wire)
        wire[m] = 0
    return PyBytes_FromStringAndSize(<char*>wire, m + 1)


def window_frame_decode(bytes raw):
    """Check and decode a raw (COBS-removed) unauthenticated TICK/STREAM frame of version 1.

    Returns (seq, t0_us, early_stop, a, v, x); raises FrameError("crc") or FrameError("payload").
    The caller has checked the length (9..1024), version 1, flags 0 and the type.
    """
    cdef const uint8_t* sp = <const uint8_t*>PyBytes_AS_STRING(raw)
    cdef Py_ssize_t n = len(raw)
    cdef uint32_t crc, got
    with nogil:
        crc = crc32c_kernel(sp, n - 4, 0)
    got = (<uint32_t>sp[n - 4]) | (<uint32_t>sp[n - 3] << 8) | (<uint32_t>sp[n - 2] << 16) | (
        <uint32_t>sp[n - 1] << 24)
    if crc != got:
        raise FrameError(f"CRC {got:#010x} does not match the frame", received=raw,
                         expected="crc: docs/protocol.md")
    t0, early, a, v, x = window_decode(raw, 5, n - 4)
    return sp[3] | (sp[4] << 8), t0, early, a, v, x
