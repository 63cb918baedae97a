"""The reference firmware linked into this process: its device (``fw_device.c``) and timing core
(``fw_pacing.c``) built from the same C sources as the host and QEMU targets, with the in-process
HAL (``hil/firmware/hal/inprocess``).

Control requests travel as protocol frames (``rx`` in, ``take_output`` out), so programming,
states, interrogation and telemetry run the firmware's own protocol code. Lock-step windows skip
the wire: ``tick`` runs the device's samples through ``fw_pacer_sample`` exactly as the
firmware's TICK handler does (early stop at a pace, a stop when the event buffer is nearly full)
but for any number of samples and without encoding a frame, with the GIL released.
"""

from libc.stdint cimport int16_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memset

# the codec's event record and its limits: one declaration, the codec's (fb_protocol.h)
from firmware_bridge._fastcodec cimport (
    FB_EVENTS_STOPPED_AT_PACE,
    FB_MAX_EVENTS,
    fb_event_t,
    fb_events_t,
)

import numpy as np


cdef extern from "fw_pacing.h":
    ctypedef struct fw_pacer_t:
        int64_t t_ms
        int64_t a_due
        int64_t v_due
    int64_t FW_T_NONE
    bint fw_pacer_sample(fw_pacer_t *pc, int16_t a_uv, int16_t v_uv,
                         int16_t activity_mg) noexcept nogil




cdef extern from "fw_device.h":
    ctypedef struct fw_device_t:
        fw_pacer_t pc
        fb_events_t *collect
        bint streaming
    enum:
        FW_EVENT_HEADROOM
    void fw_device_init(fw_device_t *d) noexcept
    void fw_device_rx(fw_device_t *d, const uint8_t *data, uint32_t length) noexcept


cdef extern from "hal_inprocess.h":
    size_t hal_inprocess_take(uint8_t *buf, size_t cap) noexcept
    size_t hal_inprocess_pending() noexcept
    uint64_t hal_inprocess_overflowed() noexcept
    void hal_inprocess_set_corrupt_store(int corrupt) noexcept
    const char *hal_inprocess_console() noexcept
    int hal_inprocess_exit_status() noexcept


#: Events one ``tick`` call can return (the firmware's EVENTS capacity); a window stops early,
#: with fewer samples consumed, when fewer than ``FW_EVENT_HEADROOM`` slots remain.
MAX_EVENTS = FB_MAX_EVENTS
EVENT_HEADROOM = FW_EVENT_HEADROOM

TICK_OK = 0
TICK_WRONG_TIME = 1
TICK_STREAMING = 2


cdef Py_ssize_t _run_window(fw_device_t *d, fb_events_t *ev, const int16_t *a,
                            const int16_t *v, const int16_t *act, Py_ssize_t n,
                            bint early_stop) noexcept nogil:
    """The TICK handler's loop (fw_device.c ``on_tick``) over ``n`` samples; returns how many
    were consumed."""
    cdef Py_ssize_t k = 0
    cdef bint paced
    d.collect = ev
    while k < n:
        paced = fw_pacer_sample(&d.pc, a[k], v[k], act[k])
        k += 1
        if paced and early_stop:
            ev.flags |= FB_EVENTS_STOPPED_AT_PACE
            break
        if ev.count + FW_EVENT_HEADROOM > FB_MAX_EVENTS:
            break
    d.collect = NULL
    ev.consumed = <uint16_t>(k if k < 65535 else 65535)
    return k


cdef class FirmwareCore:
    """One emulated device in this process (the firmware's ``fw_device_t``).

    ``corrupt_store`` damages the emulated non-volatile parameter store before boot (the
    firmware then reports it and runs its power-on-reset settings, A-15).
    """

    cdef fw_device_t dev
    cdef fb_events_t ev

    def __init__(self, bint corrupt_store=False):
        hal_inprocess_set_corrupt_store(1 if corrupt_store else 0)
        fw_device_init(&self.dev)
        hal_inprocess_set_corrupt_store(0)

    @property
    def time_us(self):
        """The device's lock-step time: the time of the next sample it expects (us)."""
        return <int64_t>self.dev.pc.t_ms * 1000

    @property
    def next_pace_due_us(self):
        """When the firmware's next pace is due if nothing is sensed before it (us, the time of
        the sample at which it paces), or None when no pace is pending."""
        cdef int64_t a = self.dev.pc.a_due
        cdef int64_t v = self.dev.pc.v_due
        cdef int64_t due
        if a == FW_T_NONE and v == FW_T_NONE:
            return None
        if a == FW_T_NONE:
            due = v
        elif v == FW_T_NONE:
            due = a
        else:
            due = a if a < v else v
        if due < self.dev.pc.t_ms:
            due = self.dev.pc.t_ms  # overdue: it paces at the next sample
        return due * 1000

    @property
    def streaming(self):
        """True once a STREAM window arrived (real-time sessions are not run in-process)."""
        return bool(self.dev.streaming)

    def rx(self, const uint8_t[::1] data):
        """Feed link bytes to the firmware; its answers wait in the HAL's output buffer."""
        if data.shape[0] > 0:
            fw_device_rx(&self.dev, &data[0], <uint32_t>data.shape[0])

    def tick(self, int64_t t0_us, const int16_t[::1] atrial_uv,
             const int16_t[::1] ventricular_uv, const int16_t[::1] activity_milli_g,
             bint early_stop=True):
        """Run one lock-step window; returns ``(status, consumed, events)``.

        ``status`` is ``TICK_OK``, ``TICK_WRONG_TIME`` (``t0_us`` is not the device's time) or
        ``TICK_STREAMING``; ``events`` are ``(t_us, chamber, kind, flags, amplitude_mv,
        width_us)`` tuples in the wire's codes.
        """
        cdef Py_ssize_t n = atrial_uv.shape[0]
        cdef Py_ssize_t consumed = 0
        cdef int i
        cdef fb_event_t *e
        if ventricular_uv.shape[0] != n or activity_milli_g.shape[0] != n:
            raise ValueError(
                f"channel lengths {n}, {ventricular_uv.shape[0]}, {activity_milli_g.shape[0]}: "
                "expected three channels of one length")
        if self.dev.streaming:
            return TICK_STREAMING, 0, []
        if t0_us != <int64_t>self.dev.pc.t_ms * 1000:
            return TICK_WRONG_TIME, 0, []
        memset(&self.ev, 0, sizeof(fb_events_t))
        self.ev.t0_us = <uint64_t>t0_us
        if n > 0:
            with nogil:
                consumed = _run_window(&self.dev, &self.ev, &atrial_uv[0], &ventricular_uv[0],
                                       &activity_milli_g[0], n, early_stop)
        events = []
        for i in range(self.ev.count):
            e = &self.ev.events[i]
            events.append((e.t_us, e.chamber, e.kind, e.flags, e.amplitude_mv, e.width_us))
        return TICK_OK, consumed, events


def take_output():
    """Every byte the firmware wrote to its UART since the last call."""
    cdef Py_ssize_t n = hal_inprocess_pending()
    buf = np.empty(n, dtype=np.uint8)
    cdef uint8_t[::1] view = buf
    if n > 0:
        hal_inprocess_take(&view[0], n)
    return buf.tobytes()


def output_overflowed():
    """UART bytes lost because the output buffer was full (0 in a correct bench)."""
    return hal_inprocess_overflowed()


def console_output():
    """What the firmware printed on its console."""
    return (<bytes>hal_inprocess_console()).decode("utf-8", "replace")


def exit_status():
    """The status the firmware passed to ``hal_exit``, or -1."""
    return hal_inprocess_exit_status()
