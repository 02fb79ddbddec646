"""The optimal coarse-graining rule of the Ising chain and the measures of its hamiltonian.

Lenggenhager et al. (PRX 10, 011037, 2020) argue that the rule keeping the most
information ``I(H:E)`` about the environment gives the renormalized hamiltonian with the
shortest range and the fewest many-body terms (docs/block_rg.md, "Mutual information of a
coarse-graining").  This module supplies both sides of that statement, exactly:

* :func:`hamiltonian_measures`, :func:`renormalized_measures` -- the range and the
  many-body-ness of the exact renormalized hamiltonian of a ring
  (:func:`symrg.rg.block_exact.exact_renormalization`);
* :func:`rbm_information` -- ``I(H:E)`` of the RBM ansatz ``p(h | x) ∝ exp(h Lambda . x)``
  and its analytic gradient in ``Lambda`` (the engine's table gradient
  :func:`symrg.rg.information.information_gradient` by the chain rule);
* :func:`optimal_rule` -- the supremum of ``I(H:E)`` over ``Lambda`` by BFGS ascent with
  that gradient from several starts, with the limit of infinite scale handled explicitly.

Examples
--------
>>> best = optimal_rule(0.8, block=2, buffer=0, starts=3)
>>> best.rule_name.startswith("decimation"), abs(best.supremum - coarse_graining_information(0.8, "decimation", 2).I_HE) < 1e-8
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import sympy as sp

from symrg.errors import ModelError
from symrg.model.display import Displayed
from symrg.rg.block_exact import ExactRenormalization, exact_renormalization
from symrg.rg.coarse import CoarseRule, custom, decimation, smooth
from symrg.rg.information import (
    MAX_INFO_BLOCK,
    CoarseGrainingInformation,
    chain_joint,
    coarse_graining_information,
    information_gradient,
)
from symrg.rg.lattice import chain, chain_blocks, ising_model

__all__ = [
    "HamiltonianMeasures",
    "OptimalRule",
    "hamiltonian_measures",
    "renormalized_measures",
    "rbm_table",
    "rbm_information",
    "threshold_table",
    "optimal_rule",
]


# ----------------------------------------------------------------------------------
# measures of a renormalized hamiltonian
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class HamiltonianMeasures(Displayed):
    """Range and many-body-ness of a renormalized hamiltonian on a ring of coarse spins.

    Attributes
    ----------
    distances : tuple of int
        ``r = 1 .. floor((n - 1) / 2)`` for a ring of ``n`` blocks (the antipode of an even
        ring, reached both ways round, is left out).
    pair_couplings : tuple of float
        ``g'_{0, r}``, the two-body coupling of coarse spins at distance ``r``.
    range_ratio : float
        ``|g'_{0,2}| / |g'_{0,1}|``, a coupling below ``tol`` counting as 0 (so 0 for a
        nearest-neighbour hamiltonian; nan when ``|g'_{0,1}| <= tol``).
    decay_length : float
        ``xi`` of the least-squares fit ``log|g'_{0,r}| = a - r / xi`` over the distances
        whose coupling exceeds ``tol`` (``fit_distances``); 0 when only the nearest
        neighbour does (no range beyond it), ``inf`` when the couplings do not decrease.
    fit_distances : tuple of int
    many_body_ratio : float
        ``max |four-body coupling| / max |two-body coupling|`` over every subset of coarse
        spins of the ring (0 when no four-body coupling exceeds ``tol``).
    max_two_body, max_four_body : float
    blocks : int
        Number of coarse spins of the ring.
    tol : float
    """

    distances: tuple
    pair_couplings: tuple
    range_ratio: float
    decay_length: float
    fit_distances: tuple
    many_body_ratio: float
    max_two_body: float
    max_four_body: float
    blocks: int
    tol: float

    def text(self) -> str:
        pairs = ", ".join(f"g'(r={r}) = {g:.6g}" for r, g in zip(self.distances, self.pair_couplings))
        return (f"range: |g'_2/g'_1| = {self.range_ratio:.6g}, decay length {self.decay_length:.6g} "
                f"(fit over r = {list(self.fit_distances)}); many-body: max|4-body|/max|2-body| = {self.many_body_ratio:.6g} "
                f"({self.blocks} coarse spins; {pairs})")

    def latex(self) -> str:
        xi = sp.latex(sp.Float(self.decay_length, 6)) if math.isfinite(self.decay_length) else r"\infty"
        rows = [rf"\left|g'_2 / g'_1\right| &= {sp.latex(sp.Float(self.range_ratio, 6))}",
                rf"\xi &= {xi}",
                rf"\max|g'_4| / \max|g'_2| &= {sp.latex(sp.Float(self.many_body_ratio, 6))}"]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def hamiltonian_measures(ex: ExactRenormalization, tol: float = 1e-12) -> HamiltonianMeasures:
    """Range and many-body-ness of an exact renormalization of a ring (see :class:`HamiltonianMeasures`).

    Raises
    ------
    ModelError
        When the lattice is not a ring of at least 3 blocks.

    Examples
    --------
    >>> from symrg.rg.block_exact import exact_renormalization
    >>> m = ising_model(chain(16), {"K": 1})
    >>> ex = exact_renormalization(m, chain_blocks(m.lattice, 2), "decimation", {"K": 0.5})
    >>> mes = hamiltonian_measures(ex)
    >>> mes.range_ratio < 1e-12, mes.decay_length, mes.many_body_ratio < 1e-12
    (True, 0.0, True)
    """
    lat = ex.model.lattice
    if lat.dim != 1 or not lat.periodic or lat.shape is None:
        raise ModelError(f"hamiltonian_measures needs the exact renormalization of a ring (periodic chain), got {lat!r}")
    n = ex.num_blocks
    if n < 5:
        raise ModelError(f"hamiltonian_measures needs a ring of at least 5 blocks (distances 1 and 2), got {n}")
    rs = tuple(range(1, (n - 1) // 2 + 1))
    g = tuple(ex.coupling((0, r)) for r in rs)
    table = ex.table(tol)
    two = max((abs(v) for v in table.get(2, {}).values()), default=0.0)
    four = max((abs(v) for v in table.get(4, {}).values()), default=0.0)
    g1 = abs(g[0])
    # couplings below tol count as zero, as in the many-body ratio (table(tol))
    range_ratio = (abs(g[1]) if abs(g[1]) > tol else 0.0) / g1 if g1 > tol else math.nan
    fit = tuple(r for r, c in zip(rs, g) if abs(c) > tol)
    if len(fit) < 2:
        xi = 0.0
    else:
        slope = np.polyfit(np.array(fit, dtype=float), np.log([abs(g[r - 1]) for r in fit]), 1)[0]
        xi = -1.0 / slope if slope < 0 else math.inf
    return HamiltonianMeasures(rs, g, range_ratio, xi, fit, four / two if two > tol else math.nan, two, four, n, tol)


def renormalized_measures(K: float, rule: Any, block: int = 2, h: float = 0.0, blocks: int = 12,
                          values: Mapping | None = None, tol: float = 1e-12) -> HamiltonianMeasures:
    """:func:`hamiltonian_measures` of the Ising ring ``exp(sum K x x' + h x)`` of ``block * blocks``
    sites coarse-grained by ``rule`` (exact, transfer matrices).

    The couplings of a ring of ``blocks`` coarse spins differ from those of the infinite
    chain by wrap-around terms, which decay like the couplings themselves.

    Examples
    --------
    >>> lam2 = math.atanh(math.tanh(0.8) / math.tanh(2.0))     # tanh L_1 tanh L_2 = tanh K
    >>> m = renormalized_measures(0.8, smooth([2.0, lam2]), 2)
    >>> m.range_ratio < 1e-12, m.many_body_ratio < 1e-12
    (True, True)
    >>> m = renormalized_measures(0.8, smooth([2.0, 0.2]), 2)
    >>> m.range_ratio > 1e-3, m.many_body_ratio > 1e-6
    (True, True)
    """
    spec: dict = {"K": 1}
    vals: dict = {"K": K}
    if h != 0:
        spec["h"] = "field"
        vals["h"] = h
    m = ising_model(chain(block * blocks), spec)
    vals.update(dict(values or {}))
    ex = exact_renormalization(m, chain_blocks(m.lattice, block), rule, vals, "transfer")
    return hamiltonian_measures(ex, tol)


# ----------------------------------------------------------------------------------
# the RBM ansatz and its gradient
# ----------------------------------------------------------------------------------
def _spins(n: int) -> np.ndarray:
    k = np.arange(1 << n)
    return (2 * ((k[:, None] >> np.arange(n)) & 1) - 1).astype(float)


def rbm_table(Lambda: Any) -> np.ndarray:
    """``Q[v, h] = exp(h Lambda . v) / (2 cosh Lambda . v)`` (columns ``h = -1, +1``), the
    table of :func:`symrg.rg.coarse.smooth`.

    >>> rbm_table([0.0, 0.0]).tolist()[0]
    [0.5, 0.5]
    """
    lam = np.asarray(Lambda, dtype=float)
    m = np.tanh(_spins(lam.size) @ lam)
    return np.stack([(1 - m) / 2, (1 + m) / 2], axis=1)


def rbm_information(joint: np.ndarray, Lambda: Any) -> tuple[float, np.ndarray]:
    """``I(H:E)`` of the RBM rule with weights ``Lambda`` and its gradient ``dI/dLambda``.

    With ``m_v = tanh(Lambda . v)``, ``dQ(v, h)/dLambda_i = h v_i (1 - m_v^2) / 2``, so

        dI/dLambda_i = sum_v [G(v, +) - G(v, -)] (1 - m_v^2) / 2 v_i

    with ``G = dI/dQ`` from :func:`symrg.rg.information.information_gradient`.

    Examples
    --------
    >>> P = chain_joint(0.8, 2, 0)
    >>> I, g = rbm_information(P, [1.0, 0.5])
    >>> eps = 1e-6
    >>> fd = (rbm_information(P, [1.0 + eps, 0.5])[0] - rbm_information(P, [1.0 - eps, 0.5])[0]) / (2 * eps)
    >>> bool(abs(fd - g[0]) < 1e-9)
    True
    """
    lam = np.asarray(Lambda, dtype=float)
    V = _spins(lam.size)
    if V.shape[0] != np.shape(joint)[0]:
        raise ModelError(f"Lambda has {lam.size} weights but the joint table has {np.shape(joint)[0]} block configurations")
    m = np.tanh(V @ lam)
    Q = np.stack([(1 - m) / 2, (1 + m) / 2], axis=1)
    I, G = information_gradient(joint, Q)
    return I, V.T @ ((G[:, 1] - G[:, 0]) * (1 - m * m) / 2)


def threshold_table(direction: Any, tie_tol: float = 1e-9) -> np.ndarray:
    """The rule ``Lambda = s u`` tends to as ``s -> infinity``: ``h = sign(u . v)``, ``h = ±1``
    with probability 1/2 where ``|u . v| <= tie_tol |u|``.

    >>> threshold_table([1.0, 0.1])[:, 1].tolist()      # decimation of site 0
    [0.0, 1.0, 0.0, 1.0]
    """
    u = np.asarray(direction, dtype=float)
    a = _spins(u.size) @ u
    s = np.where(np.abs(a) <= tie_tol * np.linalg.norm(u), 0.0, np.sign(a))
    return np.stack([(1 - s) / 2, (1 + s) / 2], axis=1)


def _table_rule(table: np.ndarray, name: str) -> tuple[CoarseRule, str]:
    """A rule for a binary table and its name (decimation, decimation with h -> -h, or ``name``)."""
    col = [float(x) for x in table[:, 1]]
    n = int(table.shape[0]).bit_length() - 1
    for site in range(n):
        keep = [float((k >> site) & 1) for k in range(1 << n)]
        if col == keep:
            return decimation(site), f"decimation(site={site})"
        if col == [1.0 - c for c in keep]:
            name = f"decimation(site={site}) with h -> -h"
            break

    def prob(x: tuple) -> float:
        return col[sum(((s + 1) // 2) << i for i, s in enumerate(x))]

    return custom(prob, name), name


# ----------------------------------------------------------------------------------
# the search
# ----------------------------------------------------------------------------------
def _bfgs_ascent(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray, gtol: float,
                 max_iter: int, max_scale: float) -> tuple[np.ndarray, float, int, str]:
    """Maximize ``fun`` (value, gradient) by BFGS with backtracking, inside the ball ``|x| <= max_scale``."""
    x = np.array(x0, dtype=float)
    f, g = fun(x)
    H = np.eye(x.size)
    for it in range(1, max_iter + 1):
        if np.linalg.norm(g) < gtol:
            return x, f, it, "gradient below gtol"
        d = H @ g
        if d @ g <= 0:                       # lost the ascent direction: restart from steepest ascent
            H, d = np.eye(x.size), g
        step = 1.0
        while True:
            xn = x + step * d
            nrm = np.linalg.norm(xn)
            if nrm > max_scale:
                xn *= max_scale / nrm
            fn, gn = fun(xn)
            if fn >= f + 1e-4 * step * (d @ g) or step < 1e-12:
                break
            step *= 0.5
        if fn < f:                           # no increase along the projected path: a local maximum on the ball
            return x, f, it, "no ascent step"
        s, y = xn - x, g - gn                # y: change of the gradient of -fun
        sy = s @ y
        if sy > 1e-300:
            rho = 1.0 / sy
            A = np.eye(x.size) - rho * np.outer(s, y)
            H = A @ H @ A.T + rho * np.outer(s, s)
        x, f, g = xn, fn, gn
        if np.linalg.norm(x) >= max_scale * (1 - 1e-12):
            return x, f, it, "reached max_scale (the supremum lies at infinite scale)"
        if np.linalg.norm(s) < 1e-15:
            return x, f, it, "step below 1e-15"
    return x, f, max_iter, "max_iter reached"


@dataclass(frozen=True)
class OptimalRule(Displayed):
    """The supremum of ``I(H:E)`` over the RBM rules ``p(h | x) ∝ exp(h Lambda . x)``.

    The supremum is often not attained: for two-spin blocks of the chain it is
    decimation, the limit ``|Lambda| -> infinity`` along one site.  The search therefore
    reports the best finite ``Lambda`` it reached *and* the rule at the end of its ray,
    ``h = sign(u . x)`` with ``u = Lambda / |Lambda|`` (:func:`threshold_table`), and calls the
    larger of the two informations the supremum.

    Attributes
    ----------
    Lambda : tuple of float
        The best weights found (``|Lambda| <= max_scale``).
    I_HE : float
        ``I(H:E)`` of the RBM rule at ``Lambda`` (float64 engine).
    limit_I_HE : float
        ``I(H:E)`` of the threshold rule of the direction of ``Lambda``.
    supremum : float
        ``max(I_HE, limit_I_HE)``.
    rule : CoarseRule
        The rule attaining ``supremum`` (``decimation(site)`` when the threshold rule is a
        decimation, else a smooth or custom rule).
    rule_name : str
    information : CoarseGrainingInformation
        ``I(V:E)``, ``I(H:E)``, ``I(V:E|H)`` of ``rule`` (mpmath route).
    measures : HamiltonianMeasures or None
        Range and many-body-ness of ``rule``'s renormalized hamiltonian on a ring of
        ``measure_blocks`` coarse spins (None when not requested).
    reasons : tuple of str
        Why each start stopped.
    """

    Lambda: tuple
    I_HE: float
    limit_I_HE: float
    supremum: float
    rule: CoarseRule
    rule_name: str
    information: CoarseGrainingInformation
    measures: HamiltonianMeasures | None
    reasons: tuple

    @property
    def scale(self) -> float:
        return float(np.linalg.norm(self.Lambda))

    @property
    def direction(self) -> tuple:
        s = self.scale
        return tuple(float(x) / s for x in self.Lambda) if s > 0 else tuple(0.0 for _ in self.Lambda)

    def text(self) -> str:
        lam = ", ".join(f"{x:.6g}" for x in self.Lambda)
        out = (f"optimal rule: sup I(H:E) = {self.supremum:.12g} nats, attained by {self.rule_name}; "
               f"best finite Lambda = ({lam}) with I(H:E) = {self.I_HE:.12g}, ray limit {self.limit_I_HE:.12g}\n"
               f"{self.information.text()}")
        return out + ("\n" + self.measures.text() if self.measures is not None else "")

    def latex(self) -> str:
        lam = ", ".join(sp.latex(sp.Float(x, 6)) for x in self.Lambda)
        rows = [rf"\sup_\Lambda I(H:E) &= {sp.latex(sp.Float(self.supremum, 12))}",
                rf"\Lambda^* &= ({lam})", rf"I(H:E)|_{{\Lambda^*}} &= {sp.latex(sp.Float(self.I_HE, 12))}"]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def optimal_rule(
    K: float,
    block: int = 2,
    buffer: int = 0,
    h: float = 0.0,
    N: int | None = None,
    periodic: bool = False,
    starts: int = 6,
    seed: int = 0,
    max_scale: float = 40.0,
    gtol: float = 1e-12,
    max_iter: int = 500,
    measure_blocks: int | None = 12,
) -> OptimalRule:
    """Maximize ``I(H:E)`` over the RBM rules ``p(h | x) ∝ exp(h Lambda . x)`` of a chain block.

    The joint law of the block and its environment is computed once
    (:func:`symrg.rg.information.chain_joint`); BFGS ascent with the analytic gradient
    (:func:`rbm_information`) runs from ``starts`` seeded normal starts inside the ball
    ``|Lambda| <= max_scale``.  The answer compares the best finite ``Lambda`` with the
    limit of its ray (see :class:`OptimalRule`): what is compared with, for example,
    decimation is the supremum of ``I(H:E)`` over the family, which for decimation-like
    optima is approached, not attained, at finite ``Lambda`` (the gap closes like
    ``exp(-2 |Lambda|)``).  Local maxima other than the best found are not excluded.

    Parameters
    ----------
    K, h, block, buffer, N, periodic
        As in :func:`symrg.rg.information.coarse_graining_information`.
    starts, seed
        Number of random starts and the seed of their generator.
    max_scale, gtol, max_iter
        The ball, the gradient tolerance and the iteration limit of each ascent.
    measure_blocks : int or None
        Ring size (in coarse spins) for :func:`renormalized_measures` of the optimum; None
        skips the measures.

    Examples
    --------
    >>> best = optimal_rule(1.0, block=2, buffer=1, starts=2, measure_blocks=8)
    >>> best.rule_name                  # relabelling h -> -h changes no information
    'decimation(site=1) with h -> -h'
    >>> best.measures.range_ratio < 1e-12, best.measures.many_body_ratio < 1e-12
    (True, True)
    """
    if isinstance(starts, bool) or not isinstance(starts, int) or starts < 1:
        raise ModelError(f"starts must be a positive integer, got {starts!r}")
    if not (max_scale > 0 and math.isfinite(max_scale)):
        raise ModelError(f"max_scale must be a positive finite number, got {max_scale!r}")
    if isinstance(block, int) and block > MAX_INFO_BLOCK:
        raise ModelError(f"block of {block} sites above the limit of {MAX_INFO_BLOCK} sites (MAX_INFO_BLOCK)")
    P = chain_joint(K, block, buffer, h, N, periodic)
    rng = np.random.default_rng(seed)
    # the ascent runs on I(H:E) / I(V:E) in [0, 1], so that gtol means the same at every K and buffer
    I_VE = coarse_graining_information(K, np.eye(1 << block), block, buffer, h, N=N, periodic=periodic).I_VE
    norm = I_VE if I_VE > 0 else 1.0

    def fun(lam: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = rbm_information(P, lam)
        return f / norm, g / norm

    def on_sphere(u: np.ndarray) -> tuple[float, np.ndarray]:
        # Lambda = max_scale u / |u|: the chain rule through the projection on the sphere
        nu = np.linalg.norm(u)
        uh = u / nu
        f, g = fun(max_scale * uh)
        return f, max_scale / nu * (g - (g @ uh) * uh)

    best: tuple | None = None
    reasons = []
    for _ in range(starts):
        x, f, _it, why = _bfgs_ascent(fun, rng.normal(0.0, 1.0, block), gtol, max_iter, max_scale)
        if why.startswith("reached max_scale"):
            # on the ball's surface the ascent continues over the direction of Lambda
            u, f, _it, why2 = _bfgs_ascent(on_sphere, x / np.linalg.norm(x), gtol, max_iter, math.inf)
            x = max_scale * u / np.linalg.norm(u)
            why = f"{why}; then over the direction at |Lambda| = {max_scale:g}: {why2}"
        reasons.append(why)
        f *= norm
        lim = information_gradient(P, threshold_table(x))[0] if np.linalg.norm(x) > 0 else f
        cand = (max(f, lim), f, lim, x)
        if best is None or cand[0] > best[0] + 1e-15:
            best = cand
    assert best is not None  # starts >= 1
    sup, f, lim, x = best
    if lim >= f:
        u = x / np.linalg.norm(x)
        rule, name = _table_rule(threshold_table(x), "threshold rule sign(" + " + ".join(f"{c:.3g} x_{i}" for i, c in enumerate(u)) + ")")
    else:
        rule = smooth([float(c) for c in x])
        name = "smooth(Lambda = (" + ", ".join(f"{c:.6g}" for c in x) + "))"
    info = coarse_graining_information(K, rule, block, buffer, h, N=N, periodic=periodic)
    measures = None if measure_blocks is None else renormalized_measures(K, rule, block, h, measure_blocks)
    return OptimalRule(tuple(float(c) for c in x), float(f), float(lim), float(sup), rule, name, info, measures, tuple(reasons))
