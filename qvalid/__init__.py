"""qvalid: Q-methodology analysis whose numbers can be trusted.

Importing qvalid never starts R and never imports hypothesis.
"""

from ._version import __version__
from .errors import QInputError
from .options import FLAVORS, Options
from .study import QStudy

__all__ = ["__version__", "QInputError", "QStudy", "Options", "FLAVORS"]
