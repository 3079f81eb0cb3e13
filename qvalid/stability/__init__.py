"""Bootstrap stability of a k-factor Q solution: :func:`bootstrap` -> :class:`BootstrapResult`.

Modules: :mod:`~qvalid.stability.resample` (balanced/plain index matrices, qmboots' ``$resamples``),
:mod:`~qvalid.stability.engine` (batched replicates through the pipeline's stages), :mod:`~qvalid.stability.align`
(Hungarian, Procrustes, qmethod's ``qindtest``), :mod:`~qvalid.stability.parametric` (new participants simulated
from the fitted solution), :mod:`~qvalid.stability.intervals` (the Neyman belt of z-scores, loading pivots),
:mod:`~qvalid.stability.verdict` (calibrated recovery probabilities and words), :mod:`~qvalid.stability.summaries`
(tables, JSON, text, CSV, figures), :mod:`~qvalid.stability.run` (:func:`bootstrap` itself),
:mod:`~qvalid.stability.calibration` (the calibration study). User documentation: docs/bootstrap.md,
docs/calibration.md.
"""

from .align import hungarian, procrustes_rotation, qindtest
from .resample import balanced_indices, from_qmboots, plain_indices
from .run import ALIGN, RESAMPLE, bootstrap
from .summaries import JSON_KEYS, BootstrapResult

__all__ = ["bootstrap", "BootstrapResult", "JSON_KEYS", "RESAMPLE", "ALIGN", "hungarian", "qindtest",
           "procrustes_rotation", "balanced_indices", "plain_indices", "from_qmboots"]
