"""How a solution changes with the number of factors: the k -> k + 1 :class:`Transition` (factor matching, splits,
sorts changing their defining factor, factor arrays that move) and the bootstrap view per k."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.congruence import align_factors, tucker_congruence
from ..stability import bootstrap

__all__ = ["Transition", "transition", "defining_factor", "bootstrap_view"]


# ---------------------------------------------------------------------------------------------- sensitivity
@dataclass(frozen=True)
class Transition:
    """How the k solution becomes the k + 1 solution.

    ``permutation[j]``/``signs[j]``/``congruence[j]``: the k + 1 factor matched to factor j of k (Hungarian on
    |Tucker congruence| of the rotated loadings, :func:`qvalid.core.congruence.align_factors`); ``new`` the unmatched
    factor of k + 1 and ``new_source`` the k factor it is most congruent with (``new_phi``): a split when that
    factor's own match weakens. ``moved``: (sort id, defining factor at k, at k + 1) for every sort whose defining
    factor changes (``none``: not defining; factors named in their own solution). ``array_changes[j]``: statements whose
    factor-array value differs between factor j of k and its match.
    """

    k: int
    permutation: tuple
    signs: tuple
    congruence: tuple
    new: int
    new_source: int
    new_phi: float
    moved: tuple
    array_changes: tuple
    array_max_change: tuple

    def describe(self) -> str:
        """What happens from k to k + 1 in words. A factor of k *splits* when its own best match in k + 1 is no
        longer the same factor (|congruence| < 0.95, Lorenzo-Seva & ten Berge 2006) and the new factor takes a
        large part of it (|congruence| >= 0.5); read from k + 1 to k, the two factors merge."""
        src, new = self.new_source, self.new
        if abs(self.new_phi) >= 0.5 and abs(self.congruence[src]) < 0.95:
            text = f"f{src + 1} splits into f{self.permutation[src] + 1}' and f{new + 1}'"
        elif abs(self.new_phi) < 0.3:
            text = f"f{new + 1}' is new (no factor of k within |phi| 0.3)"
        else:
            text = f"f{new + 1}' is new, partly from f{src + 1} ({self.new_phi:+.2f})"
        changed = [f"f{j + 1}" for j, c in enumerate(self.congruence) if abs(c) < 0.85 and j != src]
        return text + (f"; {', '.join(changed)} change (|phi| < 0.85)" if changed else "")

    def row(self) -> dict:
        k = self.k
        return {
            "step": f"{k}->{k + 1}",
            "change": self.describe(),
            "matches": ", ".join(f"f{j + 1}={'-' if s < 0 else ''}f{p + 1}' ({abs(c):.2f})" for j, (p, s, c) in
                                 enumerate(zip(self.permutation, self.signs, self.congruence))),
            "new_factor": f"f{self.new + 1}' (closest f{self.new_source + 1} of k={k}, {self.new_phi:+.2f})",
            "weakest_match": float(min(abs(c) for c in self.congruence)),
            "sorts_moved": len(self.moved),
            "moved": ", ".join(f"{s}: {a}->{b}" for s, a, b in self.moved),
            "array_changes": "/".join(str(n) for n in self.array_changes),
            "array_max_change": "/".join("-" if m != m else str(int(m)) for m in self.array_max_change),
        }


def defining_factor(res) -> np.ndarray:
    """Defining factor per sort: the factor it is flagged on if exactly one, else -1."""
    f = np.asarray(res.flags, bool)
    return np.where(f.sum(axis=1) == 1, f.argmax(axis=1), -1)


def transition(a, b) -> Transition:
    """The :class:`Transition` from solution ``a`` (k factors) to solution ``b`` (k + 1 factors)."""
    k = a.nfactors
    perm, signs, cong = align_factors(a.loadings, b.loadings)
    new = next(j for j in range(b.nfactors) if j not in perm)
    phi = tucker_congruence(a.loadings, b.loadings)[:, new]
    src = int(np.argmax(np.abs(phi)))
    da, db = defining_factor(a), defining_factor(b)
    expect = np.where(da >= 0, np.asarray(perm)[np.maximum(da, 0)], -1)
    name = lambda j, new=-2, prime="": "none" if j < 0 else f"f{j + 1}{prime}" + (" (new)" if j == new else "")
    moved = tuple((a.sort_ids[i], name(da[i]), name(db[i], new, "'")) for i in np.flatnonzero(expect != db))
    fa = np.asarray(a.factor_arrays, float)
    fb = np.asarray(b.factor_arrays, float)[:, list(perm)] * np.array(signs, float)
    with np.errstate(invalid="ignore"):
        diff = np.abs(fa - fb)
    changes = tuple(int((d > 0).sum()) for d in diff.T)
    maxc = tuple(float(np.nanmax(d)) if not np.isnan(d).all() else float("nan") for d in diff.T)
    return Transition(k, perm, signs, cong, new, src, float(phi[src]), moved, changes, maxc)


# ---------------------------------------------------------------------------------------------- bootstrap view
def bootstrap_view(study, results, max_k, n_resamples, seed_seq, executor, flavor, progress, options):
    """Per k and factor: recovery shares at congruence >= .85/.95 and how many defining sorts keep their factor."""
    import pandas as pd

    rows = []
    for k, child in zip(range(1, max_k + 1), seed_seq.spawn(max_k)):
        if k not in results:
            continue
        seed = int(child.generate_state(1)[0])
        b = bootstrap(study, k, n_resamples, seed=seed, executor=executor, progress=progress, flavor=flavor,
                      parametric=False, **options)
        fac = b.factors
        loa = b.loadings
        d = defining_factor(results[k])
        for j in range(k):
            keep = _kept(loa, results[k], d, j)
            rows.append({"k": k, "factor": f"f{j + 1}", "share_085": float(fac["share_085"].iloc[j]),
                         "share_095": float(fac["share_095"].iloc[j]), "defining": int((d == j).sum()),
                         "defining_kept": keep})
    return pd.DataFrame(rows).set_index(["k", "factor"])


def _kept(loa, res, d, j) -> int:
    """Defining sorts of factor j flagged on j in at least half of the resamples (``resample_flag_freq`` >= 0.5)."""
    freq = np.asarray(loa["resample_flag_freq"].to_numpy(float)).reshape(res.study.n_sorts, res.nfactors)
    return int(((d == j) & (freq[:, j] >= 0.5)).sum())
