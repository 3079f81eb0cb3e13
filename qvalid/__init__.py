"""qvalid: Q-methodology analysis whose numbers can be trusted.

The parts (docs/architecture.md): :mod:`qvalid.core` (numerical kernels), the model (:mod:`~qvalid.study`,
:mod:`~qvalid.options`, :mod:`~qvalid.results`, :mod:`~qvalid.errors`, :mod:`~qvalid.diagnostics`), the
:mod:`~qvalid.pipeline`, :mod:`qvalid.io`, the R side :mod:`qvalid.r`, :mod:`qvalid.checks`, the analyses
(:mod:`qvalid.stability`, :mod:`qvalid.factors`, :mod:`~qvalid.simulate`), :mod:`qvalid.report` and
:mod:`qvalid.cli`.

Importing qvalid never starts R and never imports hypothesis.
"""

from ._version import __version__
from .checks.crosscheck import crosscheck
from .core.judgmental import PairStep
from .errors import QInputError
from .factors import FactorsResult, number_of_factors
from .io.rotations import read_rotation_steps
from .options import FLAVORS, Options
from .pipeline import analyze
from .results import QResult
from .stability import BootstrapResult, bootstrap
from .study import QStudy

__all__ = ["__version__", "analyze", "bootstrap", "BootstrapResult", "number_of_factors", "FactorsResult",
           "crosscheck", "QResult", "QInputError", "QStudy", "Options", "FLAVORS", "PairStep", "read_rotation_steps"]
