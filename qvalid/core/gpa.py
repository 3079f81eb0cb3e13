"""Gradient projection rotation (GPA): GPArotation's ``GPForth`` and ``GPFoblq`` and their criteria.

Jennrich (2001, 2002) and Bernaards & Jennrich (2005) rotate loadings A (n_sorts x k) by minimising a criterion
Q(L) over orthogonal (L = A T) or oblique (L = A T^-T, T with unit-length columns) rotations with a gradient
projection and a halving line search. This module transcribes the algorithms of the R package GPArotation
2022.10-2 (``R/GPArotation.R``: ``GPForth``, ``GPFoblq``, ``vgQ.*``; Debian ``r-cran-gparotation``) operation by
operation, so that the iterations, the step sizes, the stopping decisions and therefore the (deliberately not fully
converged, eps = 1e-5) result are R's. Two criteria come from psych 2.2.9 (``R/bifactor.R``: ``vgQ.bimin``,
``vgQ.varimin``), which ``psych::principal`` hands to GPArotation for ``rotate="bifactor"``, ``"biquartimin"`` and
``"varimin"``.

Every function takes loadings of shape (..., n_sorts, k): a stack (the bootstrap's (B, n, k)) is rotated at once,
each item with its own step size, line search and stopping rule (the loops run until every item has stopped and
update only the items still running).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GPARotation", "CRITERIA", "GPA_FUNCTIONS", "gpf_orth", "gpf_oblq", "gpa_rotate", "criterion"]


@dataclass(frozen=True)
class GPARotation:
    """The result of a GPA rotation.

    Attributes
    ----------
    loadings : ndarray of shape (..., n_sorts, k)
        Rotated loadings; for an oblique rotation the pattern matrix L = A T^-T.
    matrix : ndarray of shape (..., k, k)
        psych's ``rot.mat = t(solve(Th))``: ``loadings = unrotated @ matrix``.
    th : ndarray of shape (..., k, k)
        GPArotation's ``Th`` (orthogonal: the rotation itself; oblique: T with unit-length columns).
    phi : ndarray of shape (..., k, k) or None
        Factor correlations ``t(Th) %*% Th`` (oblique rotations); None for orthogonal ones.
    criterion : float or ndarray of shape (...)
        The criterion value at the result (GPArotation's last ``f``).
    n_iter : int or ndarray of int of shape (...)
        Updates made: GPArotation's last ``iter``, i.e. ``nrow(Table) - 1``.
    converged : bool or ndarray of bool of shape (...)
        The projected gradient's norm fell below ``eps`` (GPArotation's ``convergence``).
    orthogonal : bool
    """

    loadings: np.ndarray
    matrix: np.ndarray
    th: np.ndarray
    phi: object
    criterion: object
    n_iter: object
    converged: object
    orthogonal: bool


# ------------------------------------------------------------------------------------------------- criteria
# Each criterion takes L of shape (b, p, k) (and its arguments, already given per item where they are arrays) and
# returns (Gq, f): the gradient dQ/dL (b, p, k) and the value Q(L) (b,). The arithmetic follows the R source.
def _colsums_sq(x):
    """``sum(diag(crossprod(x)))`` per item: the sum of squares, column by column."""
    return (x * x).sum(axis=-2).sum(axis=-1)


def _vgq_varimax(L):
    """GPArotation ``vgQ.varimax``: QL = L^2 - colMeans(L^2); Gq = -L QL; f = -||QL||^2 / 4."""
    l2 = L * L
    ql = l2 - l2.mean(axis=-2, keepdims=True)
    return -L * ql, -np.sqrt(_colsums_sq(ql)) ** 2 / 4


def _vgq_varimin(L):
    """psych ``vgQ.varimin``: varimax with the opposite sign (Gq = L QL, f = ||QL||^2 / 4)."""
    l2 = L * L
    ql = l2 - l2.mean(axis=-2, keepdims=True)
    return L * ql, np.sqrt(_colsums_sq(ql)) ** 2 / 4


def _vgq_quartimax(L):
    """GPArotation ``vgQ.quartimax``: Gq = -L^3; f = -sum(L^4) / 4."""
    l2 = L * L
    return -L ** 3, -_colsums_sq(l2) / 4


def _offdiag_sum(x):
    """``x %*% (1 - I)``: each entry replaced by the sum of the other entries in its row."""
    return x.sum(axis=-1, keepdims=True) - x


def _vgq_oblimin(L, gam=0.0):
    """GPArotation ``vgQ.oblimin``: X = (I - gam/p 11') L^2 N with N = 11' - I; Gq = L X; f = sum(L^2 X) / 4.

    gam = 0 is quartimin, 0.5 biquartimin, 1 covarimin."""
    l2 = L * L
    x = _offdiag_sum(l2)
    if gam != 0:
        p = L.shape[-2]
        x = x - (gam / p) * x.sum(axis=-2, keepdims=True)
    return L * x, (l2 * x).sum(axis=(-2, -1)) / 4


def _vgq_quartimin(L):
    """GPArotation ``vgQ.quartimin`` (= oblimin with gam = 0)."""
    return _vgq_oblimin(L, 0.0)


def _vgq_target(L, Target=None):
    """GPArotation ``vgQ.target``: Gq = 2 (L - Target) (0 where Target is NA); f = sum((L - Target)^2, na.rm)."""
    if Target is None:
        raise ValueError("target rotation: Target must be given (a loadings matrix, NaN for unspecified entries)")
    d = L - Target
    gq = 2 * d
    missing = np.isnan(gq)
    gq[missing] = 0.0
    return gq, np.where(np.isnan(d), 0.0, d * d).sum(axis=(-2, -1))


def _vgq_pst(L, W=None, Target=None):
    """GPArotation ``vgQ.pst`` (partially specified target): B = W * Target; Gq = 2 (W L - B); f = ||W L - B||^2."""
    if W is None or Target is None:
        raise ValueError("partially specified target rotation: W and Target must both be given")
    d = W * L - W * Target
    return 2 * d, (d * d).sum(axis=(-2, -1))


def _vgq_oblimax(L):
    """GPArotation ``vgQ.oblimax``: f = -(log sum L^4 - 2 log sum L^2)."""
    s4 = (L ** 4).sum(axis=(-2, -1))[..., None, None]
    s2 = (L * L).sum(axis=(-2, -1))[..., None, None]
    return -(4 * L ** 3 / s4 - 4 * L / s2), -(np.log(s4) - 2 * np.log(s2))[..., 0, 0]


def _vgq_entropy(L):
    """GPArotation ``vgQ.entropy`` (minimum entropy): f = -sum(L^2 log L^2) / 2, with 0 log 0 = 0."""
    l2 = L * L
    lg = np.log(l2 + (l2 == 0))
    return -(L * lg + L), -(l2 * lg).sum(axis=(-2, -1)) / 2


def _vgq_simplimax(L, k=None):
    """GPArotation ``vgQ.simplimax``: the ``k`` smallest squared loadings (ties at the k-th included) are pulled to
    zero: I = [L^2 <= k-th smallest L^2]; Gq = 2 I L; f = sum(I L^2). GPArotation's default k = nrow(L)."""
    l2 = L * L
    p, m = L.shape[-2:]
    k = p if k is None else int(k)
    if not 1 <= k <= p * m:
        raise ValueError(f"simplimax: k = {k} must be between 1 and the number of loadings ({p * m})")
    flat = l2.reshape(l2.shape[:-2] + (p * m,))
    kth = np.partition(flat, k - 1, axis=-1)[..., k - 1]
    imat = (l2 <= kth[..., None, None]).astype(np.float64)
    return 2 * imat * L, (imat * l2).sum(axis=(-2, -1))


def _vgq_bentler(L):
    """GPArotation ``vgQ.bentler`` (Bentler's invariant pattern simplicity): M = (L^2)'L^2, D = diag(M);
    Gq = -L (L^2 (M^-1 - D^-1)); f = -(log det M - log det D) / 4."""
    l2 = L * L
    mm = np.swapaxes(l2, -1, -2) @ l2
    dd = np.diagonal(mm, axis1=-2, axis2=-1)
    minv = np.linalg.inv(mm)
    dinv = np.zeros_like(mm)
    idx = np.arange(mm.shape[-1])
    dinv[..., idx, idx] = 1.0 / dd
    sign, logdet = np.linalg.slogdet(mm)
    detm = sign * np.exp(logdet)  # R's det(): exp(modulus) * sign, then log() again below
    detd = np.prod(dd, axis=-1)
    return -L * (l2 @ (minv - dinv)), -(np.log(detm) - np.log(detd)) / 4


def _vgq_geomin(L, delta=0.01):
    """GPArotation ``vgQ.geomin``: L2 = L^2 + delta, pro_i = exp(mean_j log L2_ij) (row geometric means);
    Gq = (2/k) (L / L2) pro; f = sum(pro)."""
    k = L.shape[-1]
    l2 = L * L + delta
    pro = np.exp(np.log(l2).sum(axis=-1) / k)
    return (2 / k) * (L / l2) * pro[..., None], pro.sum(axis=-1)


def _vgq_cf(L, kappa=0.0):
    """GPArotation ``vgQ.cf`` (Crawford-Ferguson family): with N = 11' - I (k x k) and M = 11' - I (p x p),
    f = (1 - kappa) tr((L^2)' L^2 N) / 4 + kappa tr((L^2)' M L^2) / 4;
    Gq = (1 - kappa) L (L^2 N) + kappa L (M L^2). kappa = 0 is quartimax, 1/p varimax, k/(2p) equamax,
    (k - 1)/(p + k - 2) parsimax, 1 factor parsimony."""
    l2 = L * L
    l2n = _offdiag_sum(l2)
    ml2 = l2.sum(axis=-2, keepdims=True) - l2
    f1 = (1 - kappa) * (l2 * l2n).sum(axis=(-2, -1)) / 4
    f2 = kappa * (l2 * ml2).sum(axis=(-2, -1)) / 4
    return (1 - kappa) * L * l2n + kappa * L * ml2, f1 + f2


def _vgq_infomax(L):
    """GPArotation ``vgQ.infomax`` (McKeon's infomax): f = log k + Q0 - Q1 - Q2, entropies of the squared loadings
    (Q0), their row sums (Q1) and column sums (Q2), each divided by the total."""
    p, k = L.shape[-2:]
    S = L * L
    s = S.sum(axis=(-2, -1))[..., None, None]
    s1 = S.sum(axis=-1, keepdims=True)  # (b, p, 1)
    s2 = S.sum(axis=-2, keepdims=True)  # (b, 1, k)
    E, e1, e2 = S / s, s1 / s, s2 / s
    q0 = (-E * np.log(E)).sum(axis=(-2, -1))
    q1 = (-e1 * np.log(e1)).sum(axis=(-2, -1))
    q2 = (-e2 * np.log(e2)).sum(axis=(-2, -1))
    f = np.log(k) + q0 - q1 - q2
    H = -(np.log(E) + 1)
    alpha = (S * H).sum(axis=(-2, -1))[..., None, None] / s ** 2
    g0 = H / s - alpha
    h1 = -(np.log(e1) + 1)
    alpha1 = (s1 * h1).sum(axis=(-2, -1))[..., None, None] / s ** 2
    g1 = np.broadcast_to(h1, S.shape) / s - alpha1
    h2 = -(np.log(e2) + 1)
    alpha2 = (h2 * s2).sum(axis=(-2, -1))[..., None, None] / s ** 2
    g2 = np.broadcast_to(h2, S.shape) / s - alpha2
    return 2 * L * (g0 - g1 - g2), f


def _vgq_mccammon(L):
    """GPArotation ``vgQ.mccammon`` (McCammon's minimum entropy ratio): f = log Q1 - log Q2.

    The gradient is GPArotation 2022.10-2's, which is not the derivative of f (its G1 term; checked by finite
    differences in R as in tests/test_rotations.py). It is kept as R has it so that the iterations are R's."""
    S = L * L
    s2 = S.sum(axis=-2, keepdims=True)
    P = S / s2
    q1 = -(P * np.log(P)).sum(axis=(-2, -1))
    H = -(np.log(P) + 1)
    R = np.broadcast_to(s2, S.shape)  # M %*% S with M = 11': every row is the column sums
    g1 = H / R - (S * H / R ** 2).sum(axis=-2, keepdims=True)
    s = S.sum(axis=(-2, -1))[..., None, None]
    p2 = s2 / s
    q2 = -(p2 * np.log(p2)).sum(axis=(-2, -1))
    h = -(np.log(p2) + 1)
    alpha = (h * p2).sum(axis=(-2, -1))[..., None, None]
    g2 = np.broadcast_to(h, S.shape) / s - alpha
    gq = 2 * L * (g1 / q1[..., None, None] - g2 / q2[..., None, None])
    return gq, np.log(q1) - np.log(q2)


def _vgq_tandemI(L):
    """GPArotation ``vgQ.tandemI`` (Comrey's tandem criterion I)."""
    LL = L @ np.swapaxes(L, -1, -2)
    LL2 = LL * LL
    l2 = L * L
    gq1 = 4 * L * (LL2 @ l2)
    gq2 = 4 * (LL * (l2 @ np.swapaxes(l2, -1, -2))) @ L
    return -gq1 - gq2, -(l2 * (LL2 @ l2)).sum(axis=(-2, -1))


def _vgq_tandemII(L):
    """GPArotation ``vgQ.tandemII`` (Comrey's tandem criterion II)."""
    LL = L @ np.swapaxes(L, -1, -2)
    LL2 = LL * LL
    l2 = L * L
    f = (l2 * ((1 - LL2) @ l2)).sum(axis=(-2, -1))
    gq1 = 4 * L * ((1 - LL2) @ l2)
    gq2 = 4 * (LL * (l2 @ np.swapaxes(l2, -1, -2))) @ L
    return gq1 - gq2, f


def _vgq_bifactor(L):
    """GPArotation ``vgQ.bifactor`` and psych ``vgQ.bimin`` (Jennrich & Bentler's bi-quartimin): the quartimin-like
    sum(L2^2 * (L2^2 N)) over the group factors (all but the first), Gq = 4 L (L^2 N) there and 0 for the first."""
    g = L[..., 1:]
    l2 = g * g
    l2n = _offdiag_sum(l2)
    gq = np.zeros_like(L)
    gq[..., 1:] = 4 * g * l2n
    return gq, (l2 * l2n).sum(axis=(-2, -1))


#: criterion name (GPArotation's ``method``; ``bimin`` and ``varimin`` are psych's) -> (vgQ, argument names)
CRITERIA = {
    "varimax": (_vgq_varimax, ()),
    "varimin": (_vgq_varimin, ()),
    "quartimax": (_vgq_quartimax, ()),
    "oblimin": (_vgq_oblimin, ("gam",)),
    "quartimin": (_vgq_quartimin, ()),
    "target": (_vgq_target, ("Target",)),
    "pst": (_vgq_pst, ("W", "Target")),
    "oblimax": (_vgq_oblimax, ()),
    "entropy": (_vgq_entropy, ()),
    "simplimax": (_vgq_simplimax, ("k",)),
    "bentler": (_vgq_bentler, ()),
    "geomin": (_vgq_geomin, ("delta",)),
    "cf": (_vgq_cf, ("kappa",)),
    "infomax": (_vgq_infomax, ()),
    "mccammon": (_vgq_mccammon, ()),
    "tandemI": (_vgq_tandemI, ()),
    "tandemII": (_vgq_tandemII, ()),
    "bifactor": (_vgq_bifactor, ()),
    "bimin": (_vgq_bifactor, ()),
}

#: GPArotation's rotation functions (2022.10-2 ``R/GPArotation.R``): name -> (oblique?, criterion, default args).
#: Every one starts from ``Tmat = diag(k)`` with ``normalize = FALSE, eps = 1e-5, maxit = 1000``.
GPA_FUNCTIONS = {
    "Varimax": (False, "varimax", {}),
    "quartimax": (False, "quartimax", {}),
    "cfT": (False, "cf", {"kappa": 0.0}),
    "cfQ": (True, "cf", {"kappa": 0.0}),
    "oblimin": (True, "oblimin", {"gam": 0.0}),
    "quartimin": (True, "quartimin", {}),
    "targetT": (False, "target", {"Target": None}),
    "targetQ": (True, "target", {"Target": None}),
    "pstT": (False, "pst", {"W": None, "Target": None}),
    "pstQ": (True, "pst", {"W": None, "Target": None}),
    "oblimax": (True, "oblimax", {}),
    "entropy": (False, "entropy", {}),
    "simplimax": (True, "simplimax", {"k": None}),
    "bentlerT": (False, "bentler", {}),
    "bentlerQ": (True, "bentler", {}),
    "tandemI": (False, "tandemI", {}),
    "tandemII": (False, "tandemII", {}),
    "geominT": (False, "geomin", {"delta": 0.01}),
    "geominQ": (True, "geomin", {"delta": 0.01}),
    "infomaxT": (False, "infomax", {}),
    "infomaxQ": (True, "infomax", {}),
    "mccammon": (False, "mccammon", {}),
    "bifactorT": (False, "bifactor", {}),
    "bifactorQ": (True, "bifactor", {}),
}


def criterion(loadings, method: str, **args):
    """GPArotation's ``vgQ.<method>(L, ...)``: the criterion value and its gradient at ``loadings``.

    Returns ``(Gq, f)`` with ``Gq`` of the shape of ``loadings`` and ``f`` of shape ``loadings.shape[:-2]``.
    """
    L = np.asarray(loadings, dtype=np.float64)
    batch = L.shape[:-2]
    fn, names = _criterion(method, args)
    L3 = L.reshape((-1,) + L.shape[-2:])
    gq, f = fn(L3, **_per_item(args, names, L3.shape[0], L.shape, None))
    return gq.reshape(L.shape), (f.reshape(batch) if batch else float(f[0]))


def _criterion(method, args):
    if method not in CRITERIA:
        raise ValueError(f"unknown GPA criterion {method!r}; known: {', '.join(sorted(CRITERIA))}")
    fn, names = CRITERIA[method]
    extra = set(args) - set(names)
    if extra:
        raise ValueError(f"criterion {method!r} takes {', '.join(names) or 'no arguments'}, not {', '.join(sorted(extra))}")
    return fn, names


def _per_item(args, names, nb, shape, idx):
    """The criterion's arguments for the items ``idx`` of a flattened batch: (p, k) matrices broadcast per item."""
    out = {}
    for name in names:
        if args.get(name) is None:
            continue  # the criterion's own default
        v = args[name]
        if isinstance(v, np.ndarray) and v.ndim >= 2:
            v = np.broadcast_to(v, shape).reshape((nb,) + shape[-2:])
            v = v if idx is None else v[idx]
        out[name] = v
    return out


# ------------------------------------------------------------------------------------------------- algorithms
def gpf_orth(loadings, method: str = "varimax", *, tmat=None, normalize: bool = False, eps: float = 1e-5,
             max_iter: int = 1000, **method_args) -> GPARotation:
    """Orthogonal gradient projection rotation, GPArotation's ``GPForth`` (2022.10-2).

    With G = A' dQ/dL, each iteration projects the gradient onto the tangent space of the orthogonal group,
    Gp = G - T sym(T'G), stops when s = ||Gp||_F < ``eps``, otherwise doubles the step al and tries
    T~ = polar(T - al Gp) (U V' of the SVD), halving al until Q(A T~) < Q - s^2 al / 2 (at most 11 tries; after
    11 failures the last T~ is taken anyway). The loop runs for iter = 0..``max_iter``.

    Parameters
    ----------
    loadings : array-like of shape (..., n_sorts, k), k >= 2
    method : str
        A key of :data:`CRITERIA` (``vgQ.<method>``).
    tmat : array-like of shape (k, k) or (..., k, k), optional
        Start (GPArotation: ``Tmat = diag(k)``; psych never passes another one).
    normalize : bool
        Kaiser normalisation (rows divided by their length before, multiplied back after); GPArotation default
        FALSE, as psych::principal calls it.
    eps, max_iter : float, int
        GPArotation's ``eps`` (1e-5) and ``maxit`` (1000).
    **method_args
        The criterion's arguments (``gam``, ``delta``, ``kappa``, ``k``, ``Target``, ``W``).

    Returns
    -------
    GPARotation

    Notes
    -----
    Verified against: GPArotation 2022.10-2 (R 4.2.2) ``Varimax``, ``quartimax``, ``bentlerT``, ``geominT``,
    ``cfT``, ``targetT`` and the criteria's values and gradients (reference/golden/rotations, tests/test_rotations*.py).
    """
    return _gpf(loadings, method, method_args, tmat, normalize, eps, max_iter, oblique=False)


def gpf_oblq(loadings, method: str = "quartimin", *, tmat=None, normalize: bool = False, eps: float = 1e-5,
             max_iter: int = 1000, **method_args) -> GPARotation:
    """Oblique gradient projection rotation, GPArotation's ``GPFoblq`` (2022.10-2).

    L = A T^-T with the columns of T of unit length, G = -(L' dQ/dL T^-1)'; the projected gradient is
    Gp = G - T diag(1'(T * G)); stop when ||Gp||_F < ``eps``; otherwise double al and try
    T~ = (T - al Gp) with its columns scaled to unit length, halving al until the improvement Q - Q~ exceeds
    s^2 al / 2 (at most 11 tries). Phi = T'T.

    Parameters and the result are those of :func:`gpf_orth`; ``phi`` holds the factor correlations.

    Notes
    -----
    Verified against: GPArotation 2022.10-2 (R 4.2.2) ``oblimin``, ``quartimin``, ``simplimax``, ``geominQ``,
    ``bentlerQ``, ``targetQ`` (reference/golden/rotations, tests/test_rotations*.py).
    """
    return _gpf(loadings, method, method_args, tmat, normalize, eps, max_iter, oblique=True)


def gpa_rotate(loadings, name: str, **kwargs) -> GPARotation:
    """Call a GPArotation rotation function by its R name (``"Varimax"``, ``"oblimin"``, ``"geominQ"``, ...) with
    its defaults (:data:`GPA_FUNCTIONS`); ``kwargs`` override them (``gam``, ``delta``, ``eps``, ``normalize``...)."""
    if name not in GPA_FUNCTIONS:
        raise ValueError(f"unknown GPArotation function {name!r}; known: {', '.join(sorted(GPA_FUNCTIONS))}")
    oblique, method, defaults = GPA_FUNCTIONS[name]
    algo = {k: kwargs.pop(k) for k in ("tmat", "normalize", "eps", "max_iter") if k in kwargs}
    unknown = set(kwargs) - set(defaults)
    if unknown:
        raise ValueError(f"{name} takes {', '.join(defaults) or 'no criterion arguments'}, "
                         f"not {', '.join(sorted(unknown))}")
    args = {**{k: v for k, v in defaults.items() if v is not None}, **kwargs}
    return _gpf(loadings, method, args, algo.get("tmat"), algo.get("normalize", False), algo.get("eps", 1e-5),
                algo.get("max_iter", 1000), oblique=oblique)


def _t(x):
    return np.swapaxes(x, -1, -2)


def _polar(x):
    """U V' from the SVD of each matrix in a stack (R: ``UDV <- svd(X); UDV$u %*% t(UDV$v)``, LAPACK dgesdd)."""
    u, _, vt = np.linalg.svd(x)
    return u @ vt


def _gpf(loadings, method, args, tmat, normalize, eps, max_iter, *, oblique):
    a0 = np.asarray(loadings, dtype=np.float64)
    if a0.ndim < 2:
        raise ValueError("loadings must be a matrix (n_sorts, k) or a stack of them")
    batch, (p, k) = a0.shape[:-2], a0.shape[-2:]
    if k < 2:
        raise ValueError("rotation does not make sense for single factor models (GPArotation stops here too)")
    fn, names = _criterion(method, args)
    args = {n: (np.asarray(v, dtype=np.float64) if isinstance(v, (list, tuple, np.ndarray)) else v)
            for n, v in args.items()}
    a = a0.reshape((-1, p, k))
    nb = a.shape[0]
    w = None
    if normalize:
        w = np.sqrt((a * a).sum(axis=-1, keepdims=True))  # GPArotation NormalizingWeight: sqrt(rowSums(A^2))
        a = a / w
    t0 = np.eye(k) if tmat is None else np.asarray(tmat, dtype=np.float64)
    t = np.broadcast_to(t0, batch + (k, k)).reshape((nb, k, k)).copy()

    def vgq(L, idx):
        return fn(L, **_per_item(args, names, nb, a0.shape, idx))

    def grad(a_, L, gq, t_):
        if oblique:
            return -_t(_t(L) @ gq @ np.linalg.inv(t_))
        return _t(a_) @ gq

    def rotate(a_, t_):
        return a_ @ _t(np.linalg.inv(t_)) if oblique else a_ @ t_

    all_idx = np.arange(nb)
    L = rotate(a, t)
    gq, f = vgq(L, all_idx)
    G = grad(a, L, gq, t)
    al = np.ones(nb)

    out_t, out_L, out_f = t.copy(), L.copy(), f.copy()
    n_iter = np.full(nb, max_iter, dtype=np.int64)
    converged = np.zeros(nb, dtype=bool)
    act = all_idx  # items still iterating; t, L, f, G, al are kept compacted to them
    for it in range(max_iter + 1):
        if oblique:
            gp = G - t * (t * G).sum(axis=-2, keepdims=True)  # Tmat %*% diag(colSums(Tmat * G))
        else:
            m = _t(t) @ G
            gp = G - t @ ((m + _t(m)) / 2)
        s = np.sqrt(_colsums_sq(gp))
        stop = s < eps
        if stop.any():
            done = act[stop]
            out_t[done], out_L[done], out_f[done] = t[stop], L[stop], f[stop]
            n_iter[done], converged[done] = it, True
            keep = ~stop
            act, t, L, f, G, al, gp, s = act[keep], t[keep], L[keep], f[keep], G[keep], al[keep], gp[keep], s[keep]
            if act.size == 0:
                break
        al = 2 * al
        nt = act.size
        tt, Lt, gqt, ft = np.empty_like(t), np.empty_like(L), np.empty_like(L), np.empty(nt)
        searching = np.arange(nt)  # positions (in the compacted arrays) still halving their step
        for _ in range(11):
            x = t[searching] - al[searching, None, None] * gp[searching]
            if oblique:
                v = 1 / np.sqrt((x * x).sum(axis=-2, keepdims=True))
                tn = x * v
            else:
                tn = _polar(x)
            Ln = rotate(a[act[searching]], tn)
            gqn, fn_ = vgq(Ln, act[searching])
            tt[searching], Lt[searching], gqt[searching], ft[searching] = tn, Ln, gqn, fn_
            s_, al_, f_ = s[searching], al[searching], f[searching]
            if oblique:
                ok = (f_ - fn_) > 0.5 * s_ ** 2 * al_
            else:
                ok = fn_ < (f_ - 0.5 * s_ ** 2 * al_)
            al[searching[~ok]] = al_[~ok] / 2
            searching = searching[~ok]
            if searching.size == 0:
                break
        t, L, f = tt, Lt, ft
        G = grad(a[act], L, gqt, t)
    if act.size:  # never met the rule: GPArotation returns the state after its last update
        out_t[act], out_L[act], out_f[act] = t, L, f
    if w is not None:
        out_L = out_L * w
    matrix = _t(np.linalg.inv(out_t))  # psych: rot.mat <- t(solve(Th))
    phi = _t(out_t) @ out_t if oblique else None
    shape = batch + (k, k)
    res = dict(loadings=out_L.reshape(a0.shape), matrix=matrix.reshape(shape), th=out_t.reshape(shape),
               phi=None if phi is None else phi.reshape(shape), orthogonal=not oblique)
    if batch:
        return GPARotation(criterion=out_f.reshape(batch), n_iter=n_iter.reshape(batch),
                           converged=converged.reshape(batch), **res)
    return GPARotation(criterion=float(out_f[0]), n_iter=int(n_iter[0]), converged=bool(converged[0]), **res)
