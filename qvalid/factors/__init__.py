"""How many factors? :func:`number_of_factors` puts the criteria Q researchers cite side by side for k = 1..K:
Kaiser, Humphrey, significant loadings, defining sorts, Horst's residual rule, Horn's parallel analysis on the
study's own grid (:mod:`~qvalid.factors.nulls`), revised parallel analysis, Velicer's MAP, and how the solution
changes from k to k + 1 (:mod:`~qvalid.factors.sensitivity`); :class:`~qvalid.factors.result.FactorsResult`
holds the tables. User documentation: docs/factors.md.
"""

from .criteria import number_of_factors, velicer_map
from .nulls import CHUNK, NullSample, grid_template, null_eigenvalues, population_sorts, principal_axis, random_sorts
from .result import FactorsResult
from .sensitivity import Transition

__all__ = ["number_of_factors", "FactorsResult", "NullSample", "null_eigenvalues", "random_sorts", "population_sorts",
           "principal_axis", "grid_template", "velicer_map", "Transition", "CHUNK"]
