"""Hypothesis strategies for Q studies: grids, Q-sorts, studies, planted factor structures and bad input.

This is the only qvalid module that imports :mod:`hypothesis` (``import qvalid`` never does); import it as
``from qvalid import strategies as qst`` in a test suite that has hypothesis installed.

Every strategy takes keyword-only arguments, checks them when a value is drawn and raises
:class:`hypothesis.errors.InvalidArgument` naming the offending argument. Each docstring says what the strategy
shrinks towards: small studies, few distinct scores, flat grids and unpermuted sorts first, so that a failing
property is reported on the simplest study that still fails it.

Strategies that need many continuous numbers (planted studies, correlation matrices) draw one integer seed and
generate the numbers with :func:`numpy.random.default_rng`: such values shrink in their sizes and towards seed 0,
not number by number.
"""

from __future__ import annotations

import math
import string
from typing import Mapping, NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from .study import QStudy

__all__ = [
    "grids",
    "q_sorts",
    "q_studies",
    "non_forced_studies",
    "planted_studies",
    "correlation_matrices",
    "loading_matrices",
    "malformed_studies",
    "PlantedStudy",
    "MalformedStudy",
    "MALFORMED_KINDS",
]


# ---------------------------------------------------------------------------------------------- argument checks
def _check_int(name: str, value, *, min_value: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgument(f"{name}={value!r} must be an integer")
    if min_value is not None and value < min_value:
        raise InvalidArgument(f"{name}={value!r} must be at least {min_value}")
    return int(value)


def _order_check(name: str, low, high) -> None:
    if high is not None and low > high:
        raise InvalidArgument(f"min_{name}={low!r} is larger than max_{name}={high!r}")


def _check_grid(grid, *, name: str = "grid", min_distinct: int = 1) -> dict[int, int]:
    if not isinstance(grid, Mapping):
        raise InvalidArgument(f"{name}={grid!r} must be a mapping score -> number of cells")
    out = {}
    for score, cells in sorted(grid.items()):
        if isinstance(score, bool) or not isinstance(score, (int, np.integer)):
            raise InvalidArgument(f"{name}: score {score!r} is not an integer")
        if isinstance(cells, bool) or not isinstance(cells, (int, np.integer)) or cells < 0:
            raise InvalidArgument(f"{name}: score {score!r} has {cells!r} cells; need a whole number >= 0")
        if cells:
            out[int(score)] = int(cells)
    if len(out) < min_distinct:
        raise InvalidArgument(f"{name}={grid!r} has {len(out)} distinct score(s) with cells; "
                              f"at least {min_distinct} needed (a study needs sorts with non-zero variance)")
    return out


def _qscores(grid: Mapping[int, int]) -> np.ndarray:
    return np.repeat(np.fromiter(grid.keys(), np.int64), np.fromiter(grid.values(), np.int64))


# ---------------------------------------------------------------------------------------------- grids
def grids(*, min_statements: int = 2, max_statements: int = 40, min_score: int = -6, max_score: int = 6,
          symmetric: bool | None = None, min_width: int = 2, max_width: int | None = None):
    """Forced Q grids (distributions): dicts score -> number of cells, ascending by score.

    Every grid has at least two distinct scores (so a sort on it has non-zero variance), contiguous scores
    and at least one cell per score.

    Parameters
    ----------
    min_statements, max_statements : int
        Bounds on the total number of cells (= statements), ``2 <= min_statements <= max_statements``.
    min_score, max_score : int
        Bounds on the scores; the grid's range lies inside ``[min_score, max_score]``. A range that does not
        include 0 (e.g. ``min_score=1, max_score=9``, the 1..9 scales of some tools) is allowed.
    symmetric : bool, optional
        ``True``: ranges ``-h..+h`` with mirror-image counts and an odd number of scores (needs
        ``min_score <= -1``, ``max_score >= 1`` and at least 3 statements). ``False``: no symmetry constraint, any
        offset and skewed counts (a draw may still happen to be symmetric). ``None`` (default): either.
    min_width, max_width : int
        Bounds on the number of distinct scores (grid columns), ``min_width >= 2``. ``max_width=None`` means as
        many as the score range and the number of statements allow.

    Notes
    -----
    How values are generated: the number of statements, then the width, then the position of the range, then
    a flat (as even as possible) distribution of the cells, then a list of single-cell moves between columns
    that keep every column non-empty (symmetric grids move mirror pairs of cells).

    Shrinks towards few statements, two or three columns, ranges centred on 0, symmetric rather than skewed
    grids and flat distributions.

    Examples
    --------
    >>> from hypothesis import given
    >>> from qvalid import strategies as qst
    >>> @given(qst.grids(max_statements=20, symmetric=True))
    ... def test_grid_is_symmetric(grid):
    ...     assert all(grid[s] == grid[-s] for s in grid)
    >>> test_grid_is_symmetric()
    """
    return _grids(min_statements=min_statements, max_statements=max_statements, min_score=min_score,
                  max_score=max_score, symmetric=symmetric, min_width=min_width, max_width=max_width)


def _grid_plan(min_statements, max_statements, min_score, max_score, symmetric, min_width, max_width):
    """Check the arguments of :func:`grids`; return (symmetric options feasible, asymmetric feasible)."""
    min_statements = _check_int("min_statements", min_statements, min_value=2)
    max_statements = _check_int("max_statements", max_statements, min_value=2)
    _order_check("statements", min_statements, max_statements)
    min_score, max_score = _check_int("min_score", min_score), _check_int("max_score", max_score)
    if min_score >= max_score:
        raise InvalidArgument(f"min_score={min_score} must be smaller than max_score={max_score}: "
                              "a grid needs at least two distinct scores")
    min_width = _check_int("min_width", min_width, min_value=2)
    if max_width is not None:
        max_width = _check_int("max_width", max_width, min_value=2)
        _order_check("width", min_width, max_width)
    if symmetric not in (None, True, False):
        raise InvalidArgument(f"symmetric={symmetric!r} must be True, False or None")
    span = max_score - min_score + 1
    top_width = span if max_width is None else min(span, max_width)
    asym_ok = min_width <= top_width and min_width <= max_statements
    # symmetric: widths 2h+1, h in [h_lo, h_hi]; h needs at least 2h+1 statements
    h_lo = max(1, math.ceil((min_width - 1) / 2))
    h_hi = min(-min_score, max_score)
    if max_width is not None:
        h_hi = min(h_hi, (max_width - 1) // 2)
    sym_ok = h_lo <= h_hi and 2 * h_lo + 1 <= max_statements
    if symmetric is True and not sym_ok:
        raise InvalidArgument(
            f"no symmetric grid fits min_score={min_score}, max_score={max_score}, min_width={min_width}, "
            f"max_width={max_width}, max_statements={max_statements} (needs -h..+h with 2h+1 <= statements)")
    if symmetric is False and not asym_ok:
        raise InvalidArgument(f"no grid of width >= {min_width} fits scores {min_score}..{max_score} "
                              f"(max_width={max_width}) with at most {max_statements} statements")
    if symmetric is None and not (sym_ok or asym_ok):
        raise InvalidArgument(f"no grid of width >= {min_width} fits scores {min_score}..{max_score} "
                              f"with at most {max_statements} statements")
    return (min_statements, max_statements, min_score, max_score, min_width, max_width,
            sym_ok and symmetric is not False, asym_ok and symmetric is not True, h_lo, h_hi)


@st.composite
def _grids(draw, *, min_statements, max_statements, min_score, max_score, symmetric, min_width, max_width,
           need_repeat=False):
    """``need_repeat``: some score must have >= 2 cells (for planting tied statements)."""
    (min_st, max_st, lo_s, hi_s, min_w, max_w, sym_ok, asym_ok, h_lo, h_hi) = _grid_plan(
        min_statements, max_statements, min_score, max_score, symmetric, min_width, max_width)
    extra = 1 if need_repeat else 0
    sym_ok = sym_ok and 2 * h_lo + 1 + extra <= max_st
    asym_ok = asym_ok and min_w + extra <= max_st
    if not (sym_ok or asym_ok):
        raise InvalidArgument(f"max_statements={max_st} leaves no room for a score with two cells")
    if sym_ok and asym_ok:
        sym = not draw(st.booleans())  # shrinks towards symmetric
    else:
        sym = sym_ok
    if sym:
        n = draw(st.integers(max(min_st, 2 * h_lo + 1 + extra), max_st))
        h_n = (n - 1) // 2 if n % 2 else (n - 2) // 2  # centre column needs 1 cell (odd n) or 2 (even n)
        if need_repeat:
            h_n = min(h_n, (n - 2) // 2)
        h = draw(st.integers(h_lo, min(h_hi, h_n)))
        m = n // (2 * h + 1)
        half = [0] + [max(1, m)] * h  # half[0] is the centre column, half[i] the cells at -i and +i
        half[0] = n - 2 * sum(half[1:])
        centre_min = 1 if n % 2 else 2
        moves = draw(st.lists(st.tuples(st.integers(0, h), st.integers(0, h)), max_size=2 * n))
        for src, dst in moves:
            if src == dst:
                continue
            if src == 0:
                if half[0] - 2 >= centre_min:
                    half[0] -= 2
                    half[dst] += 1
            elif half[src] > 1:
                half[src] -= 1
                half[dst] += 2 if dst == 0 else 1
        grid = {s: half[abs(s)] for s in range(-h, h + 1)}
    else:
        n = draw(st.integers(max(min_st, min_w + extra), max_st))
        span = hi_s - lo_s + 1
        w_hi = min(span, n - extra, span if max_w is None else max_w)
        w = draw(st.integers(min_w, w_hi))
        first, last = lo_s, hi_s - w + 1  # admissible lowest scores
        centred = min(max(-((w - 1) // 2), first), last)
        low = centred + draw(st.integers(first - centred, last - centred))  # shrinks towards a centred range
        counts = [n // w] * w
        for i in range(n % w):  # remainder to the middle columns
            counts[(w - (n % w)) // 2 + i] += 1
        moves = draw(st.lists(st.tuples(st.integers(0, w - 1), st.integers(0, w - 1)), max_size=2 * n))
        for src, dst in moves:
            if src != dst and counts[src] > 1:
                counts[src] -= 1
                counts[dst] += 1
        grid = {low + i: c for i, c in enumerate(counts)}
    return grid


# ---------------------------------------------------------------------------------------------- sorts
def q_sorts(grid):
    """Q-sorts that fill ``grid`` exactly: permutations of the grid's multiset of scores.

    Parameters
    ----------
    grid : mapping score -> cells
        E.g. ``{-1: 1, 0: 2, 1: 1}``. Scores with 0 cells are ignored.

    Returns
    -------
    SearchStrategy of ndarray of int64, shape (n_statements,)
        Element i is the score given to statement i.

    Notes
    -----
    Shrinks towards the unpermuted order: the scores ascending by statement (``QStudy.qscores``).

    Examples
    --------
    >>> from hypothesis import given
    >>> import numpy as np
    >>> from qvalid import strategies as qst
    >>> grid = {-2: 1, -1: 2, 0: 3, 1: 2, 2: 1}
    >>> @given(qst.q_sorts(grid))
    ... def test_sort_fills_grid(sort):
    ...     assert sorted(sort.tolist()) == [-2, -1, -1, 0, 0, 0, 1, 1, 2]
    >>> test_sort_fills_grid()
    """
    grid = _check_grid(grid)
    return st.permutations(_qscores(grid).tolist()).map(lambda p: np.array(p, dtype=np.int64))


def _fill_grid_sort(grid: dict, n: int):
    """One non-forced sort: any scores of the grid's range, non-constant; shrinks towards the lowest score."""
    keys = sorted(grid)

    def fix(values):
        a = np.array(values, dtype=np.int64)
        if (a == a[0]).all():  # zero variance: move the last statement to a neighbouring score
            a[-1] = keys[1] if a[-1] == keys[0] else keys[0]
        return a

    return st.lists(st.sampled_from(keys), min_size=n, max_size=n).map(fix)


_ID_FIRST = string.ascii_letters
_ID_REST = string.ascii_letters + string.digits


def _ids(n: int):
    """n unique ids of 1-8 letters/digits starting with a letter (no spaces, commas or quotes)."""
    one = st.builds(lambda a, b: a + b, st.sampled_from(_ID_FIRST), st.text(_ID_REST, max_size=7))
    return st.lists(one, min_size=n, max_size=n, unique=True)


_ID_CHOICES = ("default", "sorts", "statements", "all")


def _tie_rows(sort: np.ndarray, i: int, j: int, forced: bool, grid: dict) -> np.ndarray:
    """Make statements i and j score the same in ``sort`` (forced: by swaps, keeping the grid)."""
    s = sort.copy()
    if not forced:
        s[j] = s[i]
        if (s == s[0]).all():  # keep variance, away from the tied pair
            p = next(p for p in range(len(s)) if p not in (i, j))
            keys = sorted(grid)
            s[p] = keys[1] if s[p] == keys[0] else keys[0]
        return s
    counts = dict(zip(*np.unique(s, return_counts=True)))
    v = s[i] if counts[s[i]] >= 2 else min(k for k, c in counts.items() if c >= 2)
    for pos in (i, j):
        if s[pos] != v:
            other = next(p for p in range(len(s)) if s[p] == v and p not in (i, j))
            s[pos], s[other] = s[other], s[pos]
    return s


def q_studies(*, grid=None, min_sorts: int = 2, max_sorts: int = 10, forced: bool = True, min_statements: int = 2,
              max_statements: int = 40, min_score: int = -6, max_score: int = 6, symmetric: bool | None = None,
              tied_statements: bool = False, ids: str = "default"):
    """Valid :class:`~qvalid.study.QStudy` values.

    Parameters
    ----------
    grid : mapping score -> cells, optional
        A fixed grid with at least 2 distinct scores. By default a grid is drawn with :func:`grids` using
        ``min_statements``, ``max_statements``, ``min_score``, ``max_score`` and ``symmetric``.
    min_sorts, max_sorts : int
        Bounds on the number of Q-sorts, ``2 <= min_sorts <= max_sorts``.
    forced : bool
        ``True``: every sort is a permutation of the grid (:func:`q_sorts`). ``False``: every score is any
        score of the grid, independently, and the grid is only the notional distribution (as qmethod's
        ``distribution``); sorts are never constant.
    min_statements, max_statements, min_score, max_score, symmetric
        Passed to :func:`grids` when ``grid`` is None.
    tied_statements : bool
        Plant a tie: two statements (a drawn pair) get identical rows in every sort, so their z-scores tie
        on every factor. Forced sorts keep the grid (the pair shares a score that has at least two cells; the
        drawn grid is then guaranteed to have one).
    ids : {"default", "sorts", "statements", "all"}
        ``"default"``: qmethod's ids ``sta_1..`` and ``s1..``. Otherwise random unique ids (1-8 letters and
        digits, starting with a letter) for the sorts, the statements or both.

    Notes
    -----
    Shrinks towards: the smallest grid, ``min_sorts`` sorts, unpermuted sorts (all sorts equal to the ascending
    grid, a study of perfectly correlated sorts) for forced studies and the lowest scores for non-forced ones,
    and the default ids.

    Examples
    --------
    >>> from hypothesis import given
    >>> import numpy as np
    >>> from qvalid import strategies as qst
    >>> @given(qst.q_studies(max_statements=12, max_sorts=5))
    ... def test_every_sort_fills_the_grid(study):
    ...     assert (np.sort(study.scores, axis=0) == study.qscores[:, None]).all()
    >>> test_every_sort_fills_the_grid()
    """
    min_sorts = _check_int("min_sorts", min_sorts, min_value=2)
    max_sorts = _check_int("max_sorts", max_sorts, min_value=2)
    _order_check("sorts", min_sorts, max_sorts)
    if forced not in (True, False):
        raise InvalidArgument(f"forced={forced!r} must be True or False")
    if tied_statements not in (True, False):
        raise InvalidArgument(f"tied_statements={tied_statements!r} must be True or False")
    if ids not in _ID_CHOICES:
        raise InvalidArgument(f"ids={ids!r} must be one of {', '.join(_ID_CHOICES)}")
    if grid is not None:
        grid = _check_grid(grid, min_distinct=2)
        n = sum(grid.values())
        if tied_statements and max(grid.values()) < 2 and forced:
            raise InvalidArgument(f"grid={grid!r} has no score with two cells: a forced study cannot tie two "
                                  "statements on it")
        if tied_statements and n < 3:
            raise InvalidArgument("tied_statements=True needs at least 3 statements")
        grid_strategy = st.just(grid)
    else:
        grid_strategy = _grids(min_statements=max(min_statements, 3) if tied_statements else min_statements,
                               max_statements=max_statements, min_score=min_score, max_score=max_score,
                               symmetric=symmetric, min_width=2, max_width=None, need_repeat=tied_statements)
    return _q_studies(grid_strategy, min_sorts, max_sorts, forced, tied_statements, ids)


@st.composite
def _q_studies(draw, grid_strategy, min_sorts, max_sorts, forced, tied_statements, ids):
    grid = draw(grid_strategy)
    n = sum(grid.values())
    sort_strategy = q_sorts(grid) if forced else _fill_grid_sort(grid, n)
    sorts = draw(st.lists(sort_strategy, min_size=min_sorts, max_size=max_sorts))
    if tied_statements:
        i = draw(st.integers(0, n - 2))
        j = draw(st.integers(i + 1, n - 1))
        sorts = [_tie_rows(s, i, j, forced, grid) for s in sorts]
    scores = np.column_stack(sorts)
    statement_ids = draw(_ids(n)) if ids in ("statements", "all") else None
    sort_ids = draw(_ids(len(sorts))) if ids in ("sorts", "all") else None
    return QStudy.from_array(scores, statement_ids, sort_ids, grid=grid, forced=forced)


def non_forced_studies(*, grid=None, min_sorts: int = 2, max_sorts: int = 10, min_statements: int = 2,
                       max_statements: int = 40, min_score: int = -6, max_score: int = 6,
                       symmetric: bool | None = None, ids: str = "default"):
    """Non-forced studies: :func:`q_studies` with ``forced=False``.

    Each score is any score of the grid, drawn independently; the grid is the notional distribution used for
    factor arrays. No sort is constant. Shrinks towards sorts that give every statement the lowest score
    except the last one.

    Examples
    --------
    >>> from hypothesis import given
    >>> from qvalid import strategies as qst
    >>> @given(qst.non_forced_studies(grid={-1: 2, 0: 2, 1: 2}))
    ... def test_scores_in_range(study):
    ...     assert study.scores.min() >= -1 and study.scores.max() <= 1
    >>> test_scores_in_range()
    """
    return q_studies(grid=grid, min_sorts=min_sorts, max_sorts=max_sorts, forced=False,
                     min_statements=min_statements, max_statements=max_statements, min_score=min_score,
                     max_score=max_score, symmetric=symmetric, ids=ids)


# ---------------------------------------------------------------------------------------------- planted factors
class PlantedStudy(NamedTuple):
    """A study generated from a known factor structure (unpacks as ``study, true_loadings``)."""

    study: QStudy
    true_loadings: np.ndarray  # (n_sorts, nfactors): the loading of each sort in the generating model


def planted_studies(*, nfactors: int = 2, noise: float = 0.5, grid=None, min_sorts_per_factor: int = 2,
                    max_sorts_per_factor: int = 5, min_statements: int = 12, max_statements: int = 40,
                    min_score: int = -6, max_score: int = 6, symmetric: bool | None = None,
                    bipolar: bool = False):
    """Forced studies with a planted factor structure, as ``PlantedStudy(study, true_loadings)``.

    ``nfactors`` prototype sorts are drawn as mutually orthogonal standardised vectors over the statements. Each
    Q-sort belongs to one prototype p and is ``±p + noise * e`` (e standard normal), re-ranked into the grid:
    the statement with the lowest value gets the lowest grid score, and so on. In this continuous model
    the sort's loading on its factor is ``±1/sqrt(1 + noise**2)`` and 0 on the others; ``true_loadings``
    holds these model values (sampling and the rounding into the grid move the observed loadings a little).

    Parameters
    ----------
    nfactors : int
        Number of prototypes (factors), >= 1.
    noise : float
        Standard deviation of the noise relative to the unit-SD prototype, >= 0. 0.5 gives loadings of about
        0.89; 1.0 about 0.71; 0 makes the sorts of a factor identical.
    grid : mapping score -> cells, optional
        Fixed grid; by default drawn by :func:`grids` from ``min_statements`` .. ``max_score``, ``symmetric``.
        It needs more than ``nfactors + 1`` statements.
    min_sorts_per_factor, max_sorts_per_factor : int
        Bounds on the number of sorts generated from each prototype (>= 1).
    bipolar : bool
        If True, each sort is drawn as ``+p`` or ``-p`` (negative true loading).

    Notes
    -----
    The sorts are shuffled, so a factor's sorts are not adjacent. The noise comes from a drawn integer seed
    (numpy ``default_rng``). Shrinks towards the smallest grid, ``min_sorts_per_factor`` sorts per factor,
    seed 0 and positive loadings.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from qvalid import analyze, strategies as qst
    >>> @settings(max_examples=5)
    ... @given(qst.planted_studies(nfactors=2, noise=0.3))
    ... def test_two_factors_found(planted):
    ...     study, true = planted
    ...     assert analyze(study, 2).flags.any(axis=0).all()
    >>> test_two_factors_found()
    """
    nfactors = _check_int("nfactors", nfactors, min_value=1)
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.floating)) or not math.isfinite(noise) \
            or noise < 0:
        raise InvalidArgument(f"noise={noise!r} must be a finite number >= 0")
    lo_per = _check_int("min_sorts_per_factor", min_sorts_per_factor, min_value=1)
    hi_per = _check_int("max_sorts_per_factor", max_sorts_per_factor, min_value=1)
    _order_check("sorts_per_factor", lo_per, hi_per)
    if nfactors * hi_per < 2:
        raise InvalidArgument("a study needs at least 2 sorts: raise max_sorts_per_factor or nfactors")
    if bipolar not in (True, False):
        raise InvalidArgument(f"bipolar={bipolar!r} must be True or False")
    if grid is not None:
        grid = _check_grid(grid, min_distinct=2)
        if sum(grid.values()) < nfactors + 2:
            raise InvalidArgument(f"grid has {sum(grid.values())} cells; {nfactors} orthogonal prototypes need "
                                  f"at least {nfactors + 2} statements")
        grid_strategy = st.just(grid)
    else:
        grid_strategy = grids(min_statements=max(_check_int("min_statements", min_statements), nfactors + 2),
                              max_statements=max_statements, min_score=min_score, max_score=max_score,
                              symmetric=symmetric)
    return _planted(grid_strategy, nfactors, float(noise), lo_per, hi_per, bipolar)


@st.composite
def _planted(draw, grid_strategy, k, noise, lo_per, hi_per, bipolar):
    grid = draw(grid_strategy)
    qs = _qscores(grid)
    n = qs.size
    sizes = draw(st.lists(st.integers(lo_per, hi_per), min_size=k, max_size=k)
                 .filter(lambda s: sum(s) >= 2))
    signs = [draw(st.sampled_from([1.0, -1.0])) if bipolar else 1.0 for _ in range(sum(sizes))]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    raw = rng.standard_normal((n, k))
    raw -= raw.mean(axis=0)
    proto, _ = np.linalg.qr(raw)  # orthonormal, centred columns (the centring is kept by the QR)
    proto *= np.sqrt(n - 1)  # unit sample SD
    a = 1.0 / math.sqrt(1.0 + noise * noise)
    owner = np.repeat(np.arange(k), sizes)
    perm = rng.permutation(owner.size)
    owner, sign = owner[perm], np.asarray(signs)
    x = sign * proto[:, owner] + noise * rng.standard_normal((n, owner.size))
    scores = np.empty(x.shape, dtype=np.int64)
    order = np.argsort(x, axis=0, kind="stable")
    np.put_along_axis(scores, order, np.broadcast_to(qs[:, None], x.shape), axis=0)
    true = np.zeros((owner.size, k))
    true[np.arange(owner.size), owner] = sign * a
    return PlantedStudy(QStudy.from_array(scores, grid=grid), true)


# ---------------------------------------------------------------------------------------------- matrices
def correlation_matrices(*, min_size: int = 2, max_size: int = 10, full_rank: bool = True):
    """Valid correlation matrices: symmetric, unit diagonal, entries in [-1, 1], positive semi-definite.

    Each matrix is ``numpy.corrcoef`` of random data with a random factor structure (0 to 3 common factors
    with random loadings plus unique noise), symmetrised exactly and with the diagonal set to exactly 1.

    Parameters
    ----------
    min_size, max_size : int
        Bounds on the order of the matrix (number of Q-sorts), ``min_size >= 2``.
    full_rank : bool
        ``True`` (default): more observations than variables, so the matrix is positive definite.
        ``False``: the number of observations may be smaller (3 at least), giving singular matrices, as in
        Q studies with more sorts than statements.

    Notes
    -----
    PSD up to rounding: the smallest eigenvalue is >= -1e-14 or so. Generated from a drawn seed; shrinks
    towards ``min_size``, few observations and seed 0.

    Examples
    --------
    >>> from hypothesis import given
    >>> import numpy as np
    >>> from qvalid import strategies as qst
    >>> @given(qst.correlation_matrices(max_size=6))
    ... def test_unit_diagonal(r):
    ...     assert (np.diag(r) == 1).all() and (r == r.T).all()
    >>> test_unit_diagonal()
    """
    min_size = _check_int("min_size", min_size, min_value=2)
    max_size = _check_int("max_size", max_size, min_value=2)
    _order_check("size", min_size, max_size)
    if full_rank not in (True, False):
        raise InvalidArgument(f"full_rank={full_rank!r} must be True or False")
    return _correlation_matrices(min_size, max_size, full_rank)


@st.composite
def _correlation_matrices(draw, min_size, max_size, full_rank):
    p = draw(st.integers(min_size, max_size))
    n_obs = draw(st.integers(p + 1 if full_rank else 3, 3 * p + 3))
    n_latent = draw(st.integers(0, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    data = rng.standard_normal((n_obs, n_latent)) @ rng.uniform(-1, 1, (n_latent, p)) * 2 \
        + rng.standard_normal((n_obs, p))
    r = np.corrcoef(data, rowvar=False)
    r = (r + r.T) / 2
    np.clip(r, -1.0, 1.0, out=r)
    np.fill_diagonal(r, 1.0)
    return r


def loading_matrices(*, n_sorts: int | None = None, nfactors: int | None = None, min_norm: float = 0.0,
                     max_norm: float = 0.95):
    """Loading matrices of shape (n_sorts, nfactors) whose rows have Euclidean norm < 1.

    Parameters
    ----------
    n_sorts : int, optional
        Number of rows; by default drawn from 2..12.
    nfactors : int, optional
        Number of columns; by default drawn from 1..4.
    min_norm, max_norm : float
        Bounds on the row norms, ``0 <= min_norm <= max_norm < 1``: longer rows are scaled down to ``max_norm``
        (every communality is below ``max_norm**2``), shorter rows scaled up to ``min_norm`` (an all-zero row
        becomes ``(min_norm, 0, ..., 0)``). ``min_norm > 0`` keeps rows away from zero, which Kaiser-normalised
        varimax cannot rotate.

    Notes
    -----
    Elements are drawn one by one as floats in [-1, 1] (including -0.0, tiny and subnormal values), so these
    matrices shrink element-wise towards the zero matrix (or rows ``(min_norm, 0, ..)``) and towards small
    shapes.

    Examples
    --------
    >>> from hypothesis import given
    >>> import numpy as np
    >>> from qvalid import strategies as qst
    >>> @given(qst.loading_matrices(nfactors=3))
    ... def test_rows_below_one(a):
    ...     assert a.shape[1] == 3 and (np.linalg.norm(a, axis=1) < 1).all()
    >>> test_rows_below_one()
    """
    if n_sorts is not None:
        n_sorts = _check_int("n_sorts", n_sorts, min_value=1)
    if nfactors is not None:
        nfactors = _check_int("nfactors", nfactors, min_value=1)
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float, np.floating)) or not 0 < max_norm < 1:
        raise InvalidArgument(f"max_norm={max_norm!r} must lie strictly between 0 and 1")
    if isinstance(min_norm, bool) or not isinstance(min_norm, (int, float, np.floating)) or not min_norm >= 0:
        raise InvalidArgument(f"min_norm={min_norm!r} must be a number >= 0")
    _order_check("norm", min_norm, max_norm)
    return _loading_matrices(n_sorts, nfactors, float(min_norm), float(max_norm))


@st.composite
def _loading_matrices(draw, n_sorts, nfactors, min_norm, max_norm):
    p = draw(st.integers(2, 12)) if n_sorts is None else n_sorts
    k = draw(st.integers(1, 4)) if nfactors is None else nfactors
    element = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)
    a = np.array(draw(st.lists(element, min_size=p * k, max_size=p * k)), dtype=np.float64).reshape(p, k)
    norm = np.sqrt((a * a).sum(axis=1))
    long = norm >= max_norm
    a[long] *= (max_norm / norm[long])[:, None]
    if min_norm > 0:
        short = norm < min_norm
        tiny = norm < 1e-150  # too small to scale without overflow: replace the row
        a[short & ~tiny] *= (min_norm / norm[short & ~tiny])[:, None]
        a[short & tiny] = 0.0
        a[short & tiny, 0] = min_norm
    return a


# ---------------------------------------------------------------------------------------------- bad input
#: The kinds of defect :func:`malformed_studies` plants, in shrink order.
MALFORMED_KINDS = ("off_grid", "overfilled", "zero_variance", "missing", "non_integer", "bad_text",
                   "duplicate_sort_id", "duplicate_statement_id")


class MalformedStudy(NamedTuple):
    """One planted defect: the raw input for :class:`~qvalid.study.QStudy` and what the error must name.

    ``QStudy(scores, statement_ids, sort_ids, grid=grid, forced=forced)`` must raise
    :class:`~qvalid.errors.QInputError` whose message contains every string of ``names``.
    """

    scores: np.ndarray  # int64, float64 (NaN / fractional cell) or object (text cell)
    grid: dict
    kind: str
    forced: bool
    statement_ids: tuple
    sort_ids: tuple
    names: tuple  # substrings the error message must contain, e.g. ("sort s2", "statement sta_3")


def malformed_studies(*, kinds=MALFORMED_KINDS, min_statements: int = 3, max_statements: int = 20,
                      max_sorts: int = 6):
    """Raw study input with exactly one defect, as :class:`MalformedStudy`, for validation-rejection properties.

    A valid study is drawn with :func:`q_studies` and one defect of a drawn kind is planted:

    - ``off_grid``: one score outside the grid's range (names the sort and the statement);
    - ``overfilled``: forced study, one score changed to another grid score, so one column of that sort is
      over-filled and another under-filled (names the sort);
    - ``zero_variance``: non-forced study, one sort gives every statement the same score (names the sort);
    - ``missing``: one NaN cell in a float matrix (names the sort and the statement);
    - ``non_integer``: one score plus 0.5 (names the sort and the statement);
    - ``bad_text``: one cell is a text such as ``"x"``, ``"NA"`` or ``""`` in an object matrix (names both);
    - ``duplicate_sort_id`` / ``duplicate_statement_id``: one id repeated (names the id).

    Parameters
    ----------
    kinds : sequence of str
        The defects to draw from (a subset of :data:`MALFORMED_KINDS`).
    min_statements, max_statements : int
        Bounds on the number of statements (``min_statements >= 3``).
    max_sorts : int
        Most Q-sorts (>= 2).

    Notes
    -----
    Shrinks towards the first kind in ``kinds``, small studies and a defect in the first sort and statement.

    Examples
    --------
    >>> from hypothesis import given
    >>> import pytest
    >>> from qvalid import QInputError, QStudy, strategies as qst
    >>> @given(qst.malformed_studies())
    ... def test_rejected(bad):
    ...     with pytest.raises(QInputError) as err:
    ...         QStudy(bad.scores, bad.statement_ids, bad.sort_ids, grid=bad.grid, forced=bad.forced)
    ...     assert all(name in str(err.value) for name in bad.names)
    >>> test_rejected()
    """
    kinds = tuple(kinds)
    if not kinds:
        raise InvalidArgument("kinds must not be empty")
    unknown = [k for k in kinds if k not in MALFORMED_KINDS]
    if unknown:
        raise InvalidArgument(f"unknown kind(s) {unknown!r}; choose from {', '.join(MALFORMED_KINDS)}")
    min_statements = _check_int("min_statements", min_statements, min_value=3)
    max_statements = _check_int("max_statements", max_statements, min_value=3)
    _order_check("statements", min_statements, max_statements)
    max_sorts = _check_int("max_sorts", max_sorts, min_value=2)
    return _malformed(kinds, min_statements, max_statements, max_sorts)


@st.composite
def _malformed(draw, kinds, min_statements, max_statements, max_sorts):
    kind = draw(st.sampled_from(kinds))
    forced = {"overfilled": True, "zero_variance": False}.get(kind)
    if forced is None:
        forced = not draw(st.booleans())
    study = draw(q_studies(min_sorts=2, max_sorts=max_sorts, forced=forced, min_statements=min_statements,
                           max_statements=max_statements))
    grid = dict(study.grid)
    keys = sorted(grid)
    scores = np.array(study.scores)
    n, m = scores.shape
    st_ids, so_ids = list(study.statement_ids), list(study.sort_ids)
    i = draw(st.integers(0, n - 1))
    j = draw(st.integers(0, m - 1))
    here = (f"sort {so_ids[j]}", f"statement {st_ids[i]}")
    if kind == "off_grid":
        step = draw(st.integers(1, 3))
        scores[i, j] = keys[-1] + step if draw(st.booleans()) else keys[0] - step
        names = here
    elif kind == "overfilled":
        scores[i, j] = draw(st.sampled_from([k for k in keys if k != scores[i, j]]))
        names = here[:1]
    elif kind == "zero_variance":
        scores[:, j] = draw(st.sampled_from(keys))
        names = here[:1]
    elif kind == "missing":
        scores = scores.astype(np.float64)
        scores[i, j] = np.nan
        names = here
    elif kind == "non_integer":
        scores = scores.astype(np.float64)
        scores[i, j] += 0.5
        names = here
    elif kind == "bad_text":
        scores = scores.astype(object)
        scores[i, j] = draw(st.sampled_from(["x", "NA", "", " ", "1.5", "+-1", "nan"]))
        names = here
    else:
        ids = so_ids if kind == "duplicate_sort_id" else st_ids
        src = draw(st.integers(0, len(ids) - 2))
        dst = draw(st.integers(src + 1, len(ids) - 1))
        ids[dst] = ids[src]
        what = "sort" if kind == "duplicate_sort_id" else "statement"
        names = (f"duplicate {what} id {ids[src]!r}",)
    return MalformedStudy(scores, grid, kind, forced, tuple(st_ids), tuple(so_ids), names)
