"""The sensing front end's inner loop (docs/assumptions.md A-16), both channels in one pass.

Per channel and sample ``n`` (integer microvolts)::

    y16[n] = 16 * x[n] - sum(x[n-16 .. n-1])      (samples before the stream start count as 0)
    detect  when |y16[n]| >= 16 * sensitivity_uv and the channel is not in its dead time;
    a detection at n starts a dead time: no detection at n+1 .. n+dead_time_samples-1.

The window sum is kept incrementally (one add, one subtract per sample), the dead-time logic and
the output append are branch-free. ``devicetwin.pacemaker.sensing`` is the public face; this module
trusts its caller for the values (sensitivities, dead time) and checks only what would corrupt memory.
"""

from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t
from libc.string cimport memset

import numpy as np


cdef Py_ssize_t detect_two_channels(
    FrontEndState* state,
    const int16_t[::1] atrial_uv,
    const int16_t[::1] ventricular_uv,
    int64_t[::1] out_sample,
    uint8_t[::1] out_channel,
) noexcept nogil:
    """Filter and detect ``len(atrial_uv)`` samples of both channels; return the detection count.

    Detection ``k`` is at local sample ``out_sample[k]`` on channel ``out_channel[k]`` (atrium
    before ventricle on one sample). The outputs need room for every detection plus one: the append
    writes unconditionally and advances only on a hit.
    """
    cdef Py_ssize_t n_samples = atrial_uv.shape[0]
    cdef Py_ssize_t i
    cdef Py_ssize_t count = 0
    cdef int64_t first = state.samples_seen
    cdef int16_t* hist_a = &state.channel[0].history_uv[0]
    cdef int16_t* hist_v = &state.channel[1].history_uv[0]
    cdef int32_t sum_a = state.channel[0].window_sum_uv
    cdef int32_t sum_v = state.channel[1].window_sum_uv
    cdef int32_t thr_a = state.channel[0].threshold16_uv
    cdef int32_t thr_v = state.channel[1].threshold16_uv
    cdef int32_t dead_a = state.channel[0].dead_left_samples
    cdef int32_t dead_v = state.channel[1].dead_left_samples
    cdef int32_t dead_restart = state.dead_time_samples - 1
    cdef int32_t x, y, ready, hit
    cdef Py_ssize_t slot

    for i in range(n_samples):
        slot = <Py_ssize_t>((first + i) & WINDOW_MASK)

        x = atrial_uv[i]
        y = WINDOW * x - sum_a
        sum_a += x - hist_a[slot]
        hist_a[slot] = <int16_t>x
        y = y if y >= 0 else -y
        ready = dead_a == 0
        hit = ready & (y >= thr_a)
        dead_a = hit * dead_restart + (1 - hit) * (dead_a - (1 - ready))
        out_sample[count] = i
        out_channel[count] = 0
        count += hit

        x = ventricular_uv[i]
        y = WINDOW * x - sum_v
        sum_v += x - hist_v[slot]
        hist_v[slot] = <int16_t>x
        y = y if y >= 0 else -y
        ready = dead_v == 0
        hit = ready & (y >= thr_v)
        dead_v = hit * dead_restart + (1 - hit) * (dead_v - (1 - ready))
        out_sample[count] = i
        out_channel[count] = 1
        count += hit

    state.channel[0].window_sum_uv = sum_a
    state.channel[1].window_sum_uv = sum_v
    state.channel[0].dead_left_samples = dead_a
    state.channel[1].dead_left_samples = dead_v
    state.samples_seen = first + n_samples
    return count


cdef class FrontEndKernel:
    """The streaming state of both channels and the def wrappers around the kernel.

    Parameters
    ----------
    atrial_threshold16_uv, ventricular_threshold16_uv:
        16 times the channel's sensitivity, in microvolts.
    dead_time_samples:
        Samples from a detection to the next possible one on that channel (>= 1).
    """

    def __cinit__(self, int atrial_threshold16_uv, int ventricular_threshold16_uv,
                  int dead_time_samples):
        if dead_time_samples < 1:
            raise ValueError(f"dead_time_samples {dead_time_samples!r}: expected >= 1")
        memset(&self.state, 0, sizeof(FrontEndState))
        self.state.channel[0].threshold16_uv = atrial_threshold16_uv
        self.state.channel[1].threshold16_uv = ventricular_threshold16_uv
        self.state.dead_time_samples = dead_time_samples

    @property
    def samples_seen(self):
        """Global number of the next sample (samples processed since the start or reset)."""
        return self.state.samples_seen

    def set_threshold16(self, int channel, int threshold16_uv):
        """Reprogram one channel's threshold (16 * sensitivity, uV); history is kept."""
        if channel != 0 and channel != 1:
            raise ValueError(f"channel {channel!r}: expected 0 (atrium) or 1 (ventricle)")
        self.state.channel[channel].threshold16_uv = threshold16_uv

    def reset(self):
        """Forget the history and the dead times: the next sample starts a new stream."""
        cdef int c
        for c in range(N_CHANNELS):
            memset(&self.state.channel[c].history_uv[0], 0, sizeof(int16_t) * WINDOW)
            self.state.channel[c].window_sum_uv = 0
            self.state.channel[c].dead_left_samples = 0
        self.state.samples_seen = 0

    def get_state(self):
        """Return ``(samples_seen, atrial_history, ventricular_history, dead_left_a, dead_left_v)``.

        Histories are tuples of the last 16 samples in uV, oldest first.
        """
        cdef int c, k
        cdef int64_t first = self.state.samples_seen
        histories = []
        for c in range(N_CHANNELS):
            histories.append(tuple(
                int(self.state.channel[c].history_uv[(first + k) & WINDOW_MASK])
                for k in range(WINDOW)
            ))
        return (
            int(first),
            histories[0],
            histories[1],
            int(self.state.channel[0].dead_left_samples),
            int(self.state.channel[1].dead_left_samples),
        )

    def set_state(self, long long samples_seen, atrial_history, ventricular_history,
                  int dead_left_a, int dead_left_v):
        """Restore what :meth:`get_state` returned (the caller has validated the values)."""
        cdef int c, k
        cdef int32_t total
        if samples_seen < 0:
            raise ValueError(f"samples_seen {samples_seen!r}: expected >= 0")
        histories = (tuple(atrial_history), tuple(ventricular_history))
        for c in range(N_CHANNELS):
            if len(histories[c]) != WINDOW:
                raise ValueError(f"history {histories[c]!r}: expected {WINDOW} samples")
        for c in range(N_CHANNELS):
            total = 0
            for k in range(WINDOW):
                self.state.channel[c].history_uv[(samples_seen + k) & WINDOW_MASK] = (
                    <int16_t>histories[c][k]
                )
                total += <int32_t>histories[c][k]
            self.state.channel[c].window_sum_uv = total
        self.state.channel[0].dead_left_samples = dead_left_a
        self.state.channel[1].dead_left_samples = dead_left_v
        self.state.samples_seen = samples_seen

    def process(self, const int16_t[::1] atrial_uv, const int16_t[::1] ventricular_uv):
        """Run both channels over equal-length int16 blocks; return (local samples, channels).

        Returns ``(sample, channel)``: int64 sample numbers counted from the block's first sample
        and uint8 channels (0 atrium, 1 ventricle), in time order, atrium first on one sample.
        """
        cdef Py_ssize_t n_samples = atrial_uv.shape[0]
        if ventricular_uv.shape[0] != n_samples:
            raise ValueError(
                f"ventricular block of {ventricular_uv.shape[0]} samples: expected {n_samples}"
            )
        cdef Py_ssize_t dead = self.state.dead_time_samples
        # A channel detects at most once per dead time: ceil(n / dead) each, plus one spare slot.
        cdef Py_ssize_t capacity = 2 * ((n_samples + dead - 1) // dead) + 1
        sample = np.empty(capacity, dtype=np.int64)
        channel = np.empty(capacity, dtype=np.uint8)
        cdef int64_t[::1] sample_view = sample
        cdef uint8_t[::1] channel_view = channel
        cdef Py_ssize_t count
        with nogil:
            count = detect_two_channels(
                &self.state, atrial_uv, ventricular_uv, sample_view, channel_view
            )
        return sample[:count], channel[:count]
