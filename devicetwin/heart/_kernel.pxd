# The contract of the portable tissue kernel (declarations shared with _kernel_avx2.pxd).
include "_tissue_decl.pxi"
