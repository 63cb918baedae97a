# Declarations of the tissue kernel: two phenomenological ionic models on a graph whose
# Laplacian is split into two fixed-offset diagonals (offsets 1 and `width`, vectorisable)
# and a short CSR remainder for the edges that fit no diagonal.

cdef class Tissue:
    cdef readonly Py_ssize_t n
    cdef readonly Py_ssize_t pad
    cdef readonly Py_ssize_t width
    cdef readonly int model
    cdef readonly double dt_ms
    cdef readonly long long step
    cdef int _cur
    cdef double[::1] _va
    cdef double[::1] _vb
    cdef double[::1] _h
    cdef const double[::1] _gr
    cdef const double[::1] _gd
    cdef const Py_ssize_t[::1] _seg_start
    cdef const double[:, ::1] _seg_par
    cdef const Py_ssize_t[::1] _rem_rows
    cdef const Py_ssize_t[::1] _rem_ptr
    cdef const Py_ssize_t[::1] _rem_idx
    cdef const double[::1] _rem_w
    cdef double[::1] _rem_cur
    cdef Py_ssize_t[::1] _stim_ptr
    cdef Py_ssize_t[::1] _stim_cells
    cdef long long[::1] _stim_on
    cdef long long[::1] _stim_off
    cdef double[::1] _stim_cur
    cdef Py_ssize_t _n_stim
    cdef const Py_ssize_t[::1] _sent_cells
    cdef readonly Py_ssize_t n_crossings
    cdef Py_ssize_t[::1] _cross_sent
    cdef long long[::1] _cross_step
    cdef const double[:, ::1] _lead
    cdef double threshold
    cdef bint _stop

    cdef Py_ssize_t _run(self, long long n_steps, double[:, ::1] out, long long out_step0,
                         long long steps_per_sample) noexcept nogil


cdef extern from "structmember.h":
    ctypedef struct PyMemberDef:
        pass


cdef class FastWindow:
    cdef Tissue tissue
    cdef object output_type
    cdef object resume
    cdef object owner_ref
    cdef object on_crossings
    cdef tuple egm_names
    cdef tuple ecg_names
    cdef long long dt_us
    cdef long long sample_us
    cdef long long sps
    cdef Py_ssize_t capacity
    cdef object arena
    cdef double[:, ::1] _arena
    cdef Py_ssize_t cursor
    cdef long long until_step
    cdef object act_block
    cdef long long act_first
    cdef long long act_n
    cdef PyMemberDef* _field[6]

    cdef object _view(self, object base, void* data, Py_ssize_t n, int typenum, bint writeable)
    cdef object _advance(self, object duration_us)
    cdef void _run_kernel(self, long long n_steps, long long out_step0)
    cdef object _owner(self)
    cdef object _record(self, long long step0, Py_ssize_t col0, Py_ssize_t n, object activity,
                        object events)
