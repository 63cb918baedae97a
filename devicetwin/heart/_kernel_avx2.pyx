# The same kernel compiled for AVX2 + FMA (x86 with GCC; elsewhere it is a second portable build).
# The target pragma covers the whole module, so devicetwin.heart.tissue imports it only when
# the CPU reports both features (cpu_has_avx2_fma in _kernel).

cdef extern from *:
    """
    #if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
    #pragma GCC target("avx2,fma")
    #endif
    """

include "_tissue_body.pxi"
