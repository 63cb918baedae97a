# Contract of the compiled framing kernels (firmware_bridge/_fastcodec.pyx).
from libc.stdint cimport int16_t, int32_t, uint8_t, uint32_t

cdef uint32_t crc32c_kernel(const uint8_t* data, Py_ssize_t n, uint32_t crc) noexcept nogil
cdef Py_ssize_t cobs_encode_kernel(const uint8_t* src, Py_ssize_t n, uint8_t* out) noexcept nogil
cdef Py_ssize_t cobs_decode_kernel(const uint8_t* src, Py_ssize_t n, uint8_t* out) noexcept nogil
cdef Py_ssize_t samples_encode_kernel(const int32_t* s, Py_ssize_t n, uint8_t* out) noexcept nogil
cdef Py_ssize_t samples_decode_kernel(const uint8_t* src, Py_ssize_t pos, Py_ssize_t end,
                                      int32_t* out, Py_ssize_t n) noexcept nogil
