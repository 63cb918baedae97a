# The contract of the sensing front end's kernel (docs/assumptions.md A-16).
#
# Two channels (0 = atrium, 1 = ventricle) are filtered and detected in one pass. Each channel keeps
# the last WINDOW samples in a ring indexed by the global sample number modulo WINDOW, their running
# sum, its detection threshold (16 * sensitivity, in uV) and the samples left in its dead time.
# The kernel trusts its caller: the def wrappers in _frontend.pyx validate and size the outputs.

from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t

cdef enum:
    WINDOW = 16        # baseline window in samples; also the filter's gain on x[n]
    WINDOW_MASK = 15   # WINDOW - 1: ring index = global sample number & WINDOW_MASK
    N_CHANNELS = 2


cdef struct ChannelState:
    int16_t history_uv[WINDOW]   # ring of the previous WINDOW samples (0 before the stream start)
    int32_t window_sum_uv        # sum of history_uv, kept incrementally
    int32_t threshold16_uv       # WINDOW * sensitivity_uv
    int32_t dead_left_samples    # samples still inside the dead time (0: may detect)


cdef struct FrontEndState:
    ChannelState channel[N_CHANNELS]
    int64_t samples_seen         # global number of the next sample
    int32_t dead_time_samples    # dead time after a detection, in samples (>= 1)


cdef Py_ssize_t detect_two_channels(
    FrontEndState* state,
    const int16_t[::1] atrial_uv,
    const int16_t[::1] ventricular_uv,
    int64_t[::1] out_sample,
    uint8_t[::1] out_channel,
) noexcept nogil


cdef class FrontEndKernel:
    cdef FrontEndState state
