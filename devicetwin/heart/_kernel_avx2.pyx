# distutils: extra_compile_args = -O3 -fno-math-errno -mavx2 -mfma --param=vect-max-version-for-alias-checks=64
# The same kernel compiled for AVX2 + FMA; devicetwin.heart.tissue loads it only when the CPU
# reports both features (see cpu_has_avx2_fma in _kernel).
include "_tissue_body.pxi"
