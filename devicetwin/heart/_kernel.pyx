# distutils: extra_compile_args = -O3 -fno-math-errno --param=vect-max-version-for-alias-checks=64
# The portable build of the tissue kernel (SSE2 baseline); see _tissue_body.pxi.
include "_tissue_body.pxi"
