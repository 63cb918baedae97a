# Contract of the compiled codec: the parts of the C codec (firmware_bridge/c/fb_protocol.h, the
# code the firmware links) that firmware_bridge/_fastcodec.pyx wraps. Nothing here re-implements
# the byte format; setup.py compiles fb_protocol.c into the extension.
from libc.stdint cimport int16_t, uint8_t, uint16_t, uint32_t, uint64_t


cdef extern from "fb_protocol.h" nogil:
    enum:
        FB_MIN_FRAME
        FB_MAX_FRAME
        FB_MAX_WIRE
        FB_MAX_WINDOW_SAMPLES
        FB_WINDOW_EARLY_STOP
        FB_T_TICK
        FB_T_EVENTS
        FB_T_STREAM

    ctypedef enum fb_status_t:
        FB_OK
        FB_ERR_COBS
        FB_ERR_LENGTH
        FB_ERR_OVERSIZE
        FB_ERR_CRC
        FB_ERR_VERSION
        FB_ERR_TYPE
        FB_ERR_PAYLOAD
        FB_ERR_FLAGS
        FB_ERR_ARG

    ctypedef struct fb_header_t:
        uint8_t version
        uint8_t type
        uint8_t flags
        uint16_t seq

    ctypedef struct fb_window_t:
        uint64_t t0_us
        uint16_t n_samples
        uint8_t flags
        int16_t atrial_uv[100]
        int16_t ventricular_uv[100]
        int16_t activity_mg[100]

    ctypedef struct fb_event_t:
        uint64_t t_us
        uint8_t chamber
        uint8_t kind
        uint8_t flags
        uint16_t amplitude_mv
        uint16_t width_us

    ctypedef struct fb_events_t:
        uint64_t t0_us
        uint16_t consumed
        uint8_t flags
        uint8_t count
        fb_event_t events[48]

    enum:
        FB_MAX_EVENTS
        FB_EVENTS_STOPPED_AT_PACE

    # Only the members used here; `body` is the C union of all message bodies.
    cdef union fb_body_t:
        fb_window_t window
        fb_events_t events

    ctypedef struct fb_message_t:
        fb_header_t header
        fb_body_t body

    ctypedef struct fb_encoder_t:
        pass

    uint32_t fb_crc32c_update(uint32_t crc, const uint8_t* data, size_t length)
    size_t fb_cobs_encode(const uint8_t* src, size_t length, uint8_t* out, size_t cap)
    size_t fb_cobs_decode(const uint8_t* src, size_t length, uint8_t* out)
    size_t fb_samples_encode(const int16_t* samples, size_t n, uint8_t* out, size_t cap)
    size_t fb_samples_decode(const uint8_t* src, size_t length, int16_t* samples, size_t n)
    bint fb_window_decode(const uint8_t* payload, size_t length, fb_window_t* win)
    void fb_message_init(fb_message_t* m, uint8_t type, uint16_t seq)
    fb_status_t fb_encode(fb_encoder_t* e, const fb_message_t* msg, const uint8_t* key,
                          uint8_t* out, size_t out_cap, size_t* out_len)
    fb_status_t fb_decode_raw(const uint8_t* raw, size_t length, const uint8_t* key,
                              fb_message_t* out)
