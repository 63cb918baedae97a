# The contract of the AVX2/FMA build of the tissue kernel (same declarations as _kernel.pxd).
include "_tissue_decl.pxi"
