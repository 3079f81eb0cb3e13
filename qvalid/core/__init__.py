"""The numerical kernels: correlation, extraction, rotation, flagging, scores, characteristics, congruence, R's long
double sums and KADE's rounding.

Each module holds pure functions over numpy arrays, most with a leading batch dimension (..., n, k) so that the
pipeline and the batched analyses share them. Core imports numpy and scipy only, never the rest of qvalid
(docs/architecture.md); it knows no flavour names, only the names of methods.
"""
