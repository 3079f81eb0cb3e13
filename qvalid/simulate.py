"""Studies with known truth (planted factors), for benchmarks, bootstrap checks and tests. Seeded and deterministic."""

from __future__ import annotations

import numpy as np

from .study import QStudy

__all__ = ["quasi_normal_grid", "planted_study", "tie_statements"]


def quasi_normal_grid(n_statements: int, max_score: int | None = None) -> dict[int, int]:
    """A symmetric quasi-normal grid -m..+m with n_statements cells (fuller in the middle).

    Cells follow a discretised normal density (as qmethod's ``make.distribution``), adjusted in the centre so
    they add up to ``n_statements``.
    """
    m = max_score if max_score is not None else max(1, min(6, round(n_statements / 7)))
    scores = np.arange(-m, m + 1)
    dens = np.exp(-0.5 * (scores / (m / 2.0 + 0.5)) ** 2)
    cells = np.maximum(1, np.round(dens / dens.sum() * n_statements)).astype(int)
    cells[m] += n_statements - cells.sum()
    if cells[m] < 1:
        raise ValueError(f"cannot lay {n_statements} statements on a grid -{m}..+{m}")
    return dict(zip(scores.tolist(), cells.tolist()))


def planted_study(n_statements: int, n_sorts: int, nfactors: int, *, grid=None, noise: float = 0.6,
                  seed: int = 0) -> tuple[QStudy, np.ndarray]:
    """A forced study whose sorts are noisy copies of ``nfactors`` prototype sorts.

    Each sort j follows prototype ``j % nfactors`` (sign flipped for every fifth sort, to exercise reflection):
    its latent value per statement is ``+-prototype + noise * N(0, 1)``, ranked into the grid (ties cannot occur
    in continuous draws). Returns ``(study, membership)`` with ``membership`` the (n_sorts, nfactors) matrix of
    planted signed memberships (+1/-1/0).
    """
    rng = np.random.default_rng(seed)
    grid = quasi_normal_grid(n_statements) if grid is None else grid
    q = np.repeat(np.fromiter(grid.keys(), int), np.fromiter(grid.values(), int))
    if q.size != n_statements:
        raise ValueError(f"grid has {q.size} cells for {n_statements} statements")
    proto = rng.standard_normal((n_statements, nfactors))
    member = np.zeros((n_sorts, nfactors))
    which = np.arange(n_sorts) % nfactors
    sign = np.where(np.arange(n_sorts) % 5 == 4, -1.0, 1.0)
    member[np.arange(n_sorts), which] = sign
    latent = proto[:, which] * sign + noise * rng.standard_normal((n_statements, n_sorts))
    ranks = np.argsort(np.argsort(latent, axis=0, kind="stable"), axis=0, kind="stable")
    scores = q[ranks]
    return QStudy.from_array(scores, grid=grid, name=f"planted {n_statements}x{n_sorts} k={nfactors} seed={seed}"), member


def tie_statements(scores, pairs, rng) -> np.ndarray:
    """Make statement j score exactly like statement i in every sort, keeping every sort on its grid.

    For each pair (i, j) and each sort, a value that at least two of {i, j, unprotected statements} hold is chosen
    (i's own value when possible, else one drawn with ``rng``), and i and j swap scores with unprotected
    statements holding it. Their z-scores then tie exactly on every factor. A sort with no such value is left
    as it is. Used by the golden "ties" study and the differential test.
    """
    scores = np.array(scores, copy=True)
    protected: set = set()
    for i, j in pairs:
        protected |= {i, j}
        for c in range(scores.shape[1]):  # building test data, not a numerical hot path
            col = scores[:, c]
            free = [m for m in range(len(col)) if m not in protected]
            pool = free + [i, j]
            values = [v for v in np.unique(col) if sum(col[m] == v for m in pool) >= 2]
            if not values:
                continue
            v = col[i] if col[i] in values else values[rng.integers(len(values))]
            for x in (i, j):
                if col[x] != v:
                    m = next(m for m in rng.permutation(free) if col[m] == v)
                    col[x], col[m] = col[m], col[x]
    return scores
