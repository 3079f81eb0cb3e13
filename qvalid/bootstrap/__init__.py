"""Bootstrap stability of a k-factor Q solution: :func:`bootstrap` -> :class:`BootstrapResult`.

Modules: :mod:`~qvalid.bootstrap.resample` (balanced/plain index matrices, qmboots' ``$resamples``),
:mod:`~qvalid.bootstrap.engine` (batched replicates), :mod:`~qvalid.bootstrap.align` (Hungarian, Procrustes,
qmethod's ``qindtest``), :mod:`~qvalid.bootstrap.result` (tables, JSON, text, CSV, figures).
User documentation: docs/bootstrap.md.
"""

from .align import hungarian, procrustes_rotation, qindtest
from .core import ALIGN, RESAMPLE, bootstrap
from .resample import balanced_indices, from_qmboots, plain_indices
from .result import JSON_KEYS, BootstrapResult

__all__ = ["bootstrap", "BootstrapResult", "JSON_KEYS", "RESAMPLE", "ALIGN", "hungarian", "qindtest",
           "procrustes_rotation", "balanced_indices", "plain_indices", "from_qmboots"]
