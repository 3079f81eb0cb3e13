"""Bootstrap stability of a k-factor Q solution: :func:`bootstrap` -> :class:`BootstrapResult`.

Modules: :mod:`~qvalid.bootstrap.resample` (balanced/plain index matrices, qmboots' ``$resamples``),
:mod:`~qvalid.bootstrap.engine` (batched replicates), :mod:`~qvalid.bootstrap.align` (Hungarian, Procrustes,
qmethod's ``qindtest``), :mod:`~qvalid.bootstrap.result` (tables, JSON, text, CSV, figures).
User documentation: docs/bootstrap.md.

The module itself is callable: ``qvalid.bootstrap(study, k, ...)`` is :func:`bootstrap` (so that
``qvalid.bootstrap`` can be both the function of the API and this package, e.g. ``qvalid.bootstrap.engine``).
"""

import sys as _sys
import types as _types

from .align import hungarian, procrustes_rotation, qindtest
from .core import ALIGN, RESAMPLE, bootstrap
from .resample import balanced_indices, from_qmboots, plain_indices
from .result import JSON_KEYS, BootstrapResult

__all__ = ["bootstrap", "BootstrapResult", "JSON_KEYS", "RESAMPLE", "ALIGN", "hungarian", "qindtest",
           "procrustes_rotation", "balanced_indices", "plain_indices", "from_qmboots"]


class _CallableModule(_types.ModuleType):
    def __call__(self, *args, **kwargs) -> BootstrapResult:
        return bootstrap(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
