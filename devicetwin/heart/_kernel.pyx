# The portable build of the tissue kernel (SSE2 baseline); see _tissue_body.pxi.
include "_tissue_body.pxi"
