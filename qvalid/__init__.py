"""qvalid: Q-methodology analysis whose numbers can be trusted.

Importing qvalid never starts R and never imports hypothesis.
"""

from ._version import __version__
from .errors import QInputError
from .options import FLAVORS, Options
from .pipeline import analyze
from . import bootstrap  # a callable module: qvalid.bootstrap(study, k, ...) runs qvalid.bootstrap.bootstrap
from .bootstrap import BootstrapResult
from .results import QResult
from .study import QStudy

__all__ = ["__version__", "analyze", "bootstrap", "BootstrapResult", "QResult", "QInputError", "QStudy", "Options", "FLAVORS"]
