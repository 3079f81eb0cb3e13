"""R's side of the benchmarks: qmethod() timed inside R (``proc.time``), apart from the bridge's conversions.

Uses the R session of :mod:`qvalid.r.qmethod` (one per process). Only the benchmarks import this module.
"""

from __future__ import annotations

import numpy as np

_R_TIMER = r"""
function(values, nrow, ncol, nfactors, extraction, reps) {
  d <- as.data.frame(matrix(as.integer(values), nrow = nrow, ncol = ncol))
  out <- numeric(reps)
  for (i in seq_len(reps)) {
    t0 <- proc.time()[["elapsed"]]
    invisible(capture.output(suppressWarnings(
      qmethod::qmethod(d, nfactors, extraction = extraction, silent = TRUE))))
    out[i] <- proc.time()[["elapsed"]] - t0
  }
  out
}
"""


def qmethod_seconds(study, nfactors: int, extraction: str, reps: int) -> np.ndarray:
    """Elapsed seconds of ``reps`` warm ``qmethod()`` calls on ``study`` (PCA or centroid + varimax), inside R."""
    from qvalid.r.session import require_r as _require_r

    r = _require_r()
    timer = r.ro.r(_R_TIMER)
    ext = "PCA" if extraction == "pca" else "centroid"
    vals = r.ro.IntVector(study.scores.ravel(order="F").tolist())
    return np.array(timer(vals, study.n_statements, study.n_sorts, nfactors, ext, reps), dtype=float)
