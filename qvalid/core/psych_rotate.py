"""Rotations by name, as ``psych::principal(r, nfactors, rotate = <name>, ...)`` does them (psych 2.2.9,
``R/principal.R``), which is what R qmethod 1.8.4 runs for ``qmethod(..., extraction = "PCA", rotation = <name>)``.

psych::principal, after extracting the components and multiplying each column by the sign of its sum:

1. rotates (k > 1, ``rotate != "none"``) through a switch of names:

   ========================  ===========================================================================
   orthogonal                ``varimax`` (stats::varimax), ``Varimax``, ``quartimax``, ``bentlerT``, ``geominT``,
                             ``targetT``/``TargetT`` (GPArotation, start = identity), ``equamax`` (psych: GPArotation
                             ``cfT`` with kappa = k / (2 n_sorts)), ``varimin`` and ``bifactor`` (psych's criteria
                             through GPArotation ``GPForth``)
   oblique, Procrustean      ``promax`` (stats::promax; Phi = cov2cor(ui ui')), ``Promax`` (psych), ``cluster``
                             (stats::varimax, then psych ``target.rot``)
   oblique, GPA              ``oblimin``, ``quartimin``, ``simplimax``, ``geominQ``, ``bentlerQ``, ``targetQ``
                             (GPArotation ``GPFoblq``), ``biquartimin`` (psych's criterion through ``GPFoblq``)
   ========================  ===========================================================================

   Any other name makes psych print "Specified rotation not found, rotate='none' used" and go on unrotated; here it
   is an error (a misspelt name must not silently give unrotated factors). ``specialT``/``specialQ`` are psych's
   placeholders for user code (they fail in R) and are refused too.
2. sorts the columns by decreasing sum of squared (pattern) loadings (stable), permuting Phi alike;
3. multiplies each column by the sign of its sum (0 counts as +), and Phi by the same signs on both sides.

With ``tidy=False`` steps 2 and 3 are skipped (qmethod's centroid path has neither).

The varimax that ``varimax``, ``promax``, ``Promax`` and ``cluster`` start with is R's ``stats::varimax``
(:func:`qvalid.core.rotate.varimax`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .gpa import gpf_oblq, gpf_orth
from .promax import psych_promax, stats_promax, target_rot
from .rotate import varimax as stats_varimax

__all__ = ["PSYCH_ROTATIONS", "PrincipalRotation", "principal_rotate", "psych_order"]

#: name -> (oblique?, what psych calls, the keyword arguments it accepts through principal's ``...``).
#: ``max_iter`` is GPArotation's ``maxit``; ``target`` its ``Target``; ``k`` simplimax's number of near-zero loadings.
_GPA_ARGS = ("normalize", "eps", "max_iter")
PSYCH_ROTATIONS = {
    "varimax": (False, "stats::varimax", ("normalize", "eps")),
    "Varimax": (False, "GPArotation::Varimax", _GPA_ARGS),
    "quartimax": (False, "GPArotation::quartimax", _GPA_ARGS),
    "bentlerT": (False, "GPArotation::bentlerT", _GPA_ARGS),
    "geominT": (False, "GPArotation::geominT", _GPA_ARGS + ("delta",)),
    "targetT": (False, "GPArotation::targetT", _GPA_ARGS + ("target",)),
    "TargetT": (False, "GPArotation::targetT", _GPA_ARGS + ("target",)),
    "equamax": (False, "psych::equamax = GPArotation::cfT(kappa = k/(2p))", ("eps", "max_iter")),
    "varimin": (False, "psych::varimin (GPForth, psych's vgQ.varimin)", _GPA_ARGS),
    "bifactor": (False, "psych::bifactor (GPForth, psych's vgQ.bimin)", _GPA_ARGS),
    "promax": (True, "stats::promax", ("m",)),
    "Promax": (True, "psych::Promax", ("m",)),
    "cluster": (True, "stats::varimax, then psych::target.rot", ("normalize", "eps")),
    "biquartimin": (True, "psych::biquartimin (GPFoblq, psych's vgQ.bimin)", _GPA_ARGS),
    "oblimin": (True, "GPArotation::oblimin", _GPA_ARGS + ("gam",)),
    "quartimin": (True, "GPArotation::quartimin", _GPA_ARGS),
    "simplimax": (True, "GPArotation::simplimax", _GPA_ARGS + ("k",)),
    "geominQ": (True, "GPArotation::geominQ", _GPA_ARGS + ("delta",)),
    "bentlerQ": (True, "GPArotation::bentlerQ", _GPA_ARGS),
    "targetQ": (True, "GPArotation::targetQ", _GPA_ARGS + ("target",)),
}
_GPA = {  # name -> (oblique, GPArotation criterion)
    "Varimax": (False, "varimax"), "quartimax": (False, "quartimax"), "bentlerT": (False, "bentler"),
    "geominT": (False, "geomin"), "targetT": (False, "target"), "TargetT": (False, "target"),
    "varimin": (False, "varimin"), "bifactor": (False, "bimin"), "biquartimin": (True, "bimin"),
    "oblimin": (True, "oblimin"), "quartimin": (True, "quartimin"), "simplimax": (True, "simplimax"),
    "geominQ": (True, "geomin"), "bentlerQ": (True, "bentler"), "targetQ": (True, "target"),
}


@dataclass(frozen=True)
class PrincipalRotation:
    """The loadings psych::principal returns after a named rotation.

    Attributes
    ----------
    loadings : ndarray of shape (..., n_sorts, k)
        Rotated (for oblique rotations: pattern) loadings, sorted and signed as psych does when ``tidy``.
    matrix : ndarray of shape (..., k, k)
        T with ``loadings = unrotated @ T`` (the sort and the signs included).
    phi : ndarray of shape (..., k, k) or None
        Factor correlations of an oblique rotation (sorted and signed alike); None for orthogonal ones.
    n_iter : int or ndarray of shape (...)
        Iterations of the iterative part (varimax's for promax/Promax/cluster; 0 for none).
    converged : bool or ndarray of shape (...)
    order : ndarray of int of shape (..., k)
        The factor (before sorting) that became each column.
    signs : ndarray of shape (..., k)
        +1/-1 applied to each column after sorting.
    """

    loadings: np.ndarray
    matrix: np.ndarray
    phi: object
    n_iter: object
    converged: object
    order: np.ndarray
    signs: np.ndarray


def principal_rotate(unrotated, rotate: str, *, varimax: Callable | None = None, tidy: bool = True,
                     **kwargs) -> PrincipalRotation:
    """Rotate as ``psych::principal(..., rotate = rotate, ...)`` (see the module docstring).

    Parameters
    ----------
    unrotated : array-like of shape (..., n_sorts, k)
        psych's sign-normalised unrotated loadings (qvalid's :func:`~qvalid.extract.principal`), or any
        unrotated loadings (centroid: then ``tidy=False``).
    rotate : str
        A key of :data:`PSYCH_ROTATIONS` or ``"none"``.
    varimax : callable, optional
        The varimax that varimax, promax, Promax and cluster start with: ``varimax(x, normalize=, eps=)``
        returning an object with ``loadings``, ``matrix``, ``n_iter``, ``converged``; default R's stats::varimax
        (:func:`qvalid.core.rotate.varimax`), as psych.
    tidy : bool
        psych's sort by sum of squares and sign step (PCA in qmethod); False leaves order and signs alone.
    **kwargs
        What qmethod's ``...`` passes on through principal: ``normalize`` (Kaiser normalisation, GPArotation
        default False, stats::varimax default True), ``eps`` (1e-5), ``max_iter`` (GPArotation maxit, 1000),
        ``gam`` (oblimin, 0), ``delta`` (geomin, 0.01), ``k`` (simplimax, n_sorts), ``target`` (targetT/Q: a
        (n_sorts, k) matrix, NaN = unspecified), ``m`` (promax power, 4). An argument the R function would not
        accept is an error.

    Returns
    -------
    PrincipalRotation

    Notes
    -----
    Verified against: psych 2.2.9 ``principal(rotate=)`` through qmethod 1.8.4 and GPArotation 2022.10-2 on
    lipset and planted studies, k = 2..5 (reference/golden/rotations, tests/test_rotations*.py).
    """
    a = np.asarray(unrotated, dtype=np.float64)
    batch, (p, k) = a.shape[:-2], a.shape[-2:]
    if rotate != "none" and rotate not in PSYCH_ROTATIONS:
        raise ValueError(f"unknown rotation {rotate!r} (psych::principal would silently use rotate='none'); "
                         f"known: none, {', '.join(PSYCH_ROTATIONS)}")
    ones = np.ones(batch, dtype=bool)
    if rotate == "none" or k < 2:
        if rotate != "none":
            _check_kwargs(rotate, kwargs)
        loa, t, phi, n_iter, conv = a.copy(), np.broadcast_to(np.eye(k), batch + (k, k)).copy(), None, 0, True
    else:
        _check_kwargs(rotate, kwargs)
        loa, t, phi, n_iter, conv = _rotate(a, rotate, varimax, kwargs)
    if not batch:
        n_iter, conv = int(np.asarray(n_iter)), bool(np.asarray(conv))
    else:
        n_iter = np.broadcast_to(n_iter, batch).copy()
        conv = np.broadcast_to(conv, batch) & ones
    if not tidy or k < 2:
        order = np.broadcast_to(np.arange(k), batch + (k,)).copy()
        signs = np.ones(batch + (k,))
        if tidy:  # k == 1: principal flips a single component with a negative sum (already done by extraction)
            signs = np.where(loa.sum(axis=-2) < 0, -1.0, 1.0)
            loa, t = loa * signs[..., None, :], t * signs[..., None, :]
        return PrincipalRotation(loa, t, phi, n_iter, conv, order, signs)
    order = psych_order(loa)
    loa = np.take_along_axis(loa, order[..., None, :], axis=-1)
    t = np.take_along_axis(t, order[..., None, :], axis=-1)
    signs = np.sign(loa.sum(axis=-2))
    signs[signs == 0] = 1.0
    loa, t = loa * signs[..., None, :], t * signs[..., None, :]
    if phi is not None:
        phi = np.take_along_axis(np.take_along_axis(phi, order[..., None, :], axis=-1), order[..., :, None], axis=-2)
        phi = signs[..., :, None] * phi * signs[..., None, :]
    return PrincipalRotation(loa, t, phi, n_iter, conv, order, signs)


def psych_order(loadings) -> np.ndarray:
    """psych's ``order(diag(t(L) %*% L), decreasing = TRUE)``: columns by decreasing sum of squares, ties in
    their original order."""
    a = np.asarray(loadings, dtype=np.float64)
    return np.argsort(-(a * a).sum(axis=-2), axis=-1, kind="stable")


def _check_kwargs(rotate, kwargs):
    allowed = PSYCH_ROTATIONS[rotate][2]
    bad = sorted(set(kwargs) - set(allowed))
    if bad:
        raise ValueError(f"rotation {rotate!r} ({PSYCH_ROTATIONS[rotate][1]}) does not take "
                         f"{', '.join(bad)}; it takes {', '.join(allowed) or 'no arguments'}")


def _rotate(a, rotate, varimax, kw):
    """The switch of psych::principal: ``(loadings, T, Phi, n_iter, converged)`` before sorting."""
    p, k = a.shape[-2:]
    if rotate in ("varimax", "cluster"):
        vm = (varimax or stats_varimax)(a, **{n: kw[n] for n in ("normalize", "eps") if n in kw})
        if rotate == "varimax":
            return vm.loadings, vm.matrix, None, vm.n_iter, vm.converged
        ob = target_rot(vm.loadings, start_matrix=vm.matrix)
        return ob.loadings, ob.matrix, ob.phi, vm.n_iter, vm.converged
    if rotate in ("promax", "Promax"):
        vm = (varimax or stats_varimax)(a)  # stats::promax and psych::Promax call varimax(x) with its defaults
        fn = stats_promax if rotate == "promax" else psych_promax
        ob = fn(vm.loadings, vm.matrix, m=kw.get("m", 4))
        return ob.loadings, ob.matrix, ob.phi, vm.n_iter, vm.converged
    algo = {"normalize": kw.get("normalize", False), "eps": kw.get("eps", 1e-5), "max_iter": kw.get("max_iter", 1000)}
    if rotate == "equamax":
        res = gpf_orth(a, "cf", kappa=k / (2 * p), **algo)
    else:
        oblique, method = _GPA[rotate]
        args = {}
        if method == "target":
            if kw.get("target") is None:
                raise ValueError(f"rotation {rotate!r} needs a target loadings matrix (GPArotation: "
                                 "'argument Target must be specified')")
            args["Target"] = np.asarray(kw["target"], dtype=np.float64)
            if args["Target"].shape[-2:] != (p, k):
                raise ValueError(f"the target has shape {args['Target'].shape[-2:]}, the loadings ({p}, {k})")
        if method == "bimin" and k < 3:
            raise ValueError(f"rotation {rotate!r}: psych's bifactor criterion needs at least 3 factors "
                             "(psych 2.2.9 fails with 2: L[, -1] drops to a vector)")
        for name, arg in (("gam", "gam"), ("delta", "delta"), ("k", "k")):
            if name in kw:
                args[arg] = kw[name]
        res = (gpf_oblq if oblique else gpf_orth)(a, method, **algo, **args)
    return res.loadings, res.matrix, res.phi, res.n_iter, res.converged
