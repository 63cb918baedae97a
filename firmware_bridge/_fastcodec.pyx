"""Compiled framing: thin wrappers over the C codec (``firmware_bridge/c/fb_protocol.c``).

The byte format is implemented once in C, in the codec the firmware links; this module only
validates arguments, calls the C functions without the GIL and turns their results into Python
objects (or a FrameError whose reason is the C status). ``framing.py`` and ``protocol.py`` hold
the readable pure-Python reference; the tests hold both to the golden vectors.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from libc.stdint cimport int16_t, uint8_t, uint16_t, uint32_t

from firmware_bridge.errors import FrameError

# FrameError.reason of each decoder status (the first word of ``expected``).
_REASONS = {FB_ERR_COBS: "cobs", FB_ERR_LENGTH: "length", FB_ERR_OVERSIZE: "oversize",
            FB_ERR_CRC: "crc", FB_ERR_VERSION: "version", FB_ERR_TYPE: "type",
            FB_ERR_PAYLOAD: "payload", FB_ERR_FLAGS: "flags"}
_SAMPLE_CODING = "payload: canonical sample coding (docs/protocol.md 3.8)"
_WINDOW_LAYOUT = ("payload: t0 (8), n (2) of 1..100, flags (bit 0 only), then three channels in "
                  "the canonical sample coding and nothing after (docs/protocol.md 3.8)")


cdef const uint8_t[::1] _bytes_view(object data):
    """A byte view of ``data`` (bytes, bytearray or any buffer, viewed as unsigned bytes)."""
    if isinstance(data, (bytes, bytearray)):
        return data
    return memoryview(data).cast("B")


cdef tuple _as_tuple(const int16_t* samples, Py_ssize_t n):
    cdef tuple out = PyTuple_New(n)
    cdef Py_ssize_t i
    cdef object v
    for i in range(n):
        v = samples[i]
        Py_INCREF(v)
        PyTuple_SET_ITEM(out, i, v)
    return out


cdef int _fill_samples(object values, int16_t* out, Py_ssize_t n) except -1:
    """Copy ``n`` int16 values into ``out`` (ValueError quoting a value outside int16)."""
    cdef Py_ssize_t i
    cdef long v
    for i in range(n):
        v = values[i]
        if v < -32768 or v > 32767:
            raise ValueError(f"sample {v} outside int16")
        out[i] = <int16_t>v
    return 0


def crc32c(data, unsigned int crc=0):
    """CRC-32C of ``data`` (bytes-like), continuing ``crc``."""
    cdef const uint8_t[::1] view = _bytes_view(data)
    cdef size_t n = view.shape[0]
    cdef uint32_t r = crc
    if n:
        with nogil:
            r = fb_crc32c_update(r, &view[0], n)
    return r


def cobs_encode(data):
    """COBS-encode ``data`` (no delimiter)."""
    cdef const uint8_t[::1] view = _bytes_view(data)
    cdef size_t n = view.shape[0], m
    cdef size_t cap = n + n // 254 + 1
    cdef bytes out = PyBytes_FromStringAndSize(NULL, cap)
    cdef uint8_t* op = <uint8_t*>PyBytes_AS_STRING(out)
    if n == 0:
        op[0] = 1
        return out
    with nogil:
        m = fb_cobs_encode(&view[0], n, op, cap)
    return out if m == cap else out[:m]


def cobs_decode(data):
    """Decode one COBS frame (no delimiter); FrameError("cobs") when malformed."""
    cdef const uint8_t[::1] view = _bytes_view(data)
    cdef size_t n = view.shape[0], m
    cdef bytes out
    cdef uint8_t* op
    if n == 0:
        return b""
    out = PyBytes_FromStringAndSize(NULL, n)
    op = <uint8_t*>PyBytes_AS_STRING(out)
    with nogil:
        m = fb_cobs_decode(&view[0], n, op)
    if m == <size_t>-1:
        raise FrameError(f"bad COBS frame of {n} bytes", received=bytes(view),
                         expected="cobs: a valid COBS frame")
    return out[:m]


def samples_encode(samples):
    """Encode one channel (0..100 int16 samples) in the canonical sample coding."""
    cdef int16_t buf[FB_MAX_WINDOW_SAMPLES]
    cdef uint8_t out[3 * FB_MAX_WINDOW_SAMPLES]
    cdef Py_ssize_t n = len(samples)
    cdef size_t m
    if n > FB_MAX_WINDOW_SAMPLES:
        raise ValueError(f"{n} samples, at most {FB_MAX_WINDOW_SAMPLES}")
    _fill_samples(samples, buf, n)
    with nogil:
        m = fb_samples_encode(buf, n, out, sizeof(out))
    return PyBytes_FromStringAndSize(<char*>out, m)


def samples_decode(data, Py_ssize_t pos, Py_ssize_t end, Py_ssize_t n):
    """Decode ``n`` samples from ``data[pos:end]``: (samples tuple, position after them)."""
    cdef const uint8_t[::1] view = _bytes_view(data)
    cdef int16_t buf[FB_MAX_WINDOW_SAMPLES]
    cdef size_t used
    if n < 0 or n > FB_MAX_WINDOW_SAMPLES or pos < 0 or pos > end or end > view.shape[0]:
        raise ValueError(f"bad arguments n={n} pos={pos} end={end} for {view.shape[0]} bytes")
    if n == 0:
        return (), pos
    if pos == end:
        used = 0
    else:
        with nogil:
            used = fb_samples_decode(&view[pos], end - pos, buf, n)
    if used == 0:
        raise FrameError(f"bad sample coding at payload offset {pos}", received=bytes(view),
                         expected=_SAMPLE_CODING)
    return _as_tuple(buf, n), pos + <Py_ssize_t>used


def samples_check(values):
    """``values`` as a tuple of ints, after checking each is an int16 (ValueError otherwise)."""
    cdef tuple t = values if type(values) is tuple else tuple(values)
    cdef object o
    cdef long v
    for o in t:
        if type(o) is not int:
            raise ValueError(f"sample {o!r} is not an int")
        v = o
        if v < -32768 or v > 32767:
            raise ValueError(f"sample {v} outside int16")
    return t


cdef tuple _window_result(const fb_window_t* w):
    cdef Py_ssize_t n = w.n_samples
    return (w.t0_us, bool(w.flags & FB_WINDOW_EARLY_STOP), _as_tuple(w.atrial_uv, n),
            _as_tuple(w.ventricular_uv, n), _as_tuple(w.activity_mg, n))


def window_decode(data, Py_ssize_t pos, Py_ssize_t end):
    """Decode a TICK/STREAM payload ``data[pos:end]`` exactly: (t0_us, early_stop, a, v, x).

    Raises FrameError("payload") on any defect, including trailing bytes.
    """
    cdef const uint8_t[::1] view = _bytes_view(data)
    cdef fb_window_t win
    cdef bint ok = False
    if pos < 0 or pos > end or end > view.shape[0]:
        raise ValueError(f"bad arguments pos={pos} end={end} for {view.shape[0]} bytes")
    if pos < end:
        with nogil:
            ok = fb_window_decode(&view[pos], end - pos, &win)
    if not ok:
        raise FrameError(f"bad TICK/STREAM payload of {end - pos} bytes at offset {pos}",
                         received=bytes(view), expected=_WINDOW_LAYOUT)
    return _window_result(&win)


def window_frame_encode(int type_code, unsigned int seq, unsigned long long t0_us,
                        bint early_stop, a, v, x):
    """Wire bytes (COBS + delimiter) of an unauthenticated TICK/STREAM frame.

    The samples are int16 sequences of equal length 1..100 (a Tick's).
    """
    cdef fb_message_t msg
    cdef fb_encoder_t enc
    cdef uint8_t wire[FB_MAX_WIRE]
    cdef size_t m = 0
    cdef fb_status_t st
    cdef Py_ssize_t n = len(a)
    if type_code != FB_T_TICK and type_code != FB_T_STREAM:
        raise ValueError(f"type {type_code:#04x} is not TICK or STREAM")
    if seq > 0xFFFF:
        raise ValueError(f"seq = {seq} outside 0..65535")
    if n < 1 or n > FB_MAX_WINDOW_SAMPLES or len(v) != n or len(x) != n:
        raise ValueError(f"window of {len(a)}/{len(v)}/{len(x)} samples")
    fb_message_init(&msg, <uint8_t>type_code, <uint16_t>seq)
    msg.body.window.t0_us = t0_us
    msg.body.window.n_samples = <uint16_t>n
    msg.body.window.flags = FB_WINDOW_EARLY_STOP if early_stop else 0
    _fill_samples(a, msg.body.window.atrial_uv, n)
    _fill_samples(v, msg.body.window.ventricular_uv, n)
    _fill_samples(x, msg.body.window.activity_mg, n)
    with nogil:
        st = fb_encode(&enc, &msg, NULL, wire, FB_MAX_WIRE, &m)
    if st != FB_OK:  # pragma: no cover - every validated window fits
        raise ValueError(f"the C codec refused the window (status {st})")
    return PyBytes_FromStringAndSize(<char*>wire, m)


cdef const uint8_t[::1] _frame_view(object raw, int type_a, int type_b):
    """The bytes of a raw frame of type ``type_a`` or ``type_b`` (ValueError for another)."""
    cdef const uint8_t[::1] view = _bytes_view(raw)
    cdef size_t n = view.shape[0]
    if n < FB_MIN_FRAME or n > FB_MAX_FRAME or (view[1] != type_a and view[1] != type_b):
        raise ValueError(f"{n} bytes are not a frame of type {type_a:#04x} or {type_b:#04x}")
    return view


cdef int _decode(const uint8_t[::1] view, fb_message_t* msg) except -1:
    """fb_decode_raw without a key; a rejection raises FrameError with the C status's reason."""
    cdef size_t n = view.shape[0]
    cdef fb_status_t st
    with nogil:
        st = fb_decode_raw(&view[0], n, NULL, msg)
    if st != FB_OK:
        reason = _REASONS.get(st, "payload")
        raise FrameError(f"frame of type {view[1]:#04x} and {n} bytes rejected ({reason})",
                         received=bytes(view), expected=f"{reason}: docs/protocol.md")
    return 0


def window_frame_decode(raw):
    """Check and decode a raw (COBS-removed) unauthenticated TICK/STREAM frame.

    Returns (seq, t0_us, early_stop, a, v, x); raises FrameError with the C decoder's reason
    (``crc``, ``version``, ``flags``, ``payload``). ``raw`` must be 9..1024 bytes of a TICK or
    STREAM header (ValueError otherwise: the caller routes other frames elsewhere).
    """
    cdef const uint8_t[::1] view = _frame_view(raw, FB_T_TICK, FB_T_STREAM)
    cdef fb_message_t msg
    _decode(view, &msg)
    return (msg.header.seq, *_window_result(&msg.body.window))


def events_frame_decode(raw):
    """Check and decode a raw (COBS-removed) EVENTS frame.

    Returns (seq, t0_us, consumed, flags, events), each event a tuple (t_us, chamber, kind,
    flags, amplitude_mv, width_us); FrameError and ValueError as ``window_frame_decode``.
    """
    cdef const uint8_t[::1] view = _frame_view(raw, FB_T_EVENTS, FB_T_EVENTS)
    cdef fb_message_t msg
    cdef const fb_events_t* e = &msg.body.events
    cdef const fb_event_t* v
    cdef tuple events
    cdef object item
    cdef Py_ssize_t i
    _decode(view, &msg)
    events = PyTuple_New(e.count)
    for i in range(e.count):
        v = &e.events[i]
        item = (v.t_us, v.chamber, v.kind, v.flags, v.amplitude_mv, v.width_us)
        Py_INCREF(item)
        PyTuple_SET_ITEM(events, i, item)
    return msg.header.seq, e.t0_us, e.consumed, e.flags, events
