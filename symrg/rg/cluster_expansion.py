"""The cumulant (cluster) expansion of the renormalized hamiltonian on the infinite lattice.

Convention (docs/conventions.md, "Block RG"; the same as :mod:`symrg.rg.block_exact`):
fine spins ``x`` with ``p(x) ∝ exp(-K(x))``, one coarse spin ``h_j`` per block drawn from a
rule ``p(h_j | x_j)``, ``exp(-K'(h)) = sum_x prod_j p(h_j | x_j) exp(-K(x))``, couplings
reported as the coefficients of the log-weight ``-K'(h) = sum_S g'_S prod_{j in S} h_j``.

:func:`cumulant_rg` splits ``K = K_0 + K_1`` (intra-block terms in ``K_0``; inter-block
terms and, by default, the fields in ``K_1``); with ``V = -K_1``

    -K'(h) = sum_j [log Z_0 + log p_0(h_j)] + sum_{n>=1} kappa_n(V | h) / n!,

which is docs/block_rg.md's ``-log Z_0 - sum_j log p_0(h_j) - sum_n (-1)^n C_n(h) / n!`` with
``C_n`` the cumulants of ``K_1 = -V`` under ``p_0(x | h) = prod_j p_0(x_j | h_j)``.
Because the blocks are independent under ``p_0``, ``kappa_n`` is a sum of joint
cumulants of connected clusters of ``n`` terms.  The steps, one function or small class
each:

1. :func:`_split_terms`: the terms touching block 0, into ``K_0`` and ``V``;
2. :class:`_BlockDistribution`: ``p_0(x_0 | h)`` and the closed forms of the block moments
   ``E[prod_{i in A} x_i | h] = alpha_A + beta_A h``;
3. :func:`_connected_clusters`: the connected clusters containing block 0, enumerated
   from the lattice geometry and kept by the *counting* (plain cumulant order ``n``, or
   weights per coupling: the Niemeijer-van Leeuwen counting ``{K: 1, h: 1, L: 2, M: 2}``
   at order 2);
4. :class:`_MomentTable`: each block moment as 0, an exact rational or a generator
   shared by equal closed forms;
5. :class:`_ClusterCumulants`: each cluster's joint cumulant, exactly, in the polynomial
   algebra of :mod:`symrg.rg.moment_polynomials` (translated clusters share it);
6. :func:`_collect`: the cumulants summed into the coarse couplings asked for;
7. :func:`_assemble`: back to sympy, block moments substituted at the end.

Examples
--------
>>> from symrg.rg.lattice import chain, ising_model, chain_blocks
>>> from symrg.rg.coarse import decimation
>>> model = ising_model(chain(), {"K": 1})
>>> res = cumulant_rg(model, chain_blocks(model.lattice, 2), decimation(), 1)
>>> K = model.couplings[0]
>>> res.images[K]
K*tanh(K)
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp

from symrg.model.display import Displayed
from symrg.model.frozen import freeze
from symrg.rg.block_exact import check_same_lattice
from symrg.rg.coarse import CoarseRule, coarse_rule
from symrg.rg.lattice import BlockPartition, Interaction, LatticeModel
from symrg.rg.moment_polynomials import MomentPolynomial, cluster_cumulant
from symrg.rg.recursion import RecursionMap

__all__ = ["CumulantRG", "cumulant_rg", "MAX_CLUSTERS"]

#: largest number of clusters the cumulant expansion will enumerate
MAX_CLUSTERS = 200_000

Block = tuple  # block coordinates in superlattice units, e.g. (0, 0)
#: one term of V: (coupling position, ((block, site mask within the block), ...))
Term = tuple
#: a multiset of terms, sorted
Cluster = tuple


@dataclass(frozen=True)
class CumulantRG(Displayed):
    """Result of :func:`cumulant_rg`.

    Attributes
    ----------
    model, blocks, rule, order
        The input.
    counting : tuple
        ``(coupling, weight)`` pairs: a cluster of terms is kept when the weights of its
        couplings add up to at most ``order`` (all weights 1: plain cumulant order).
    perturb_fields : bool
        Whether single-site fields are in the perturbation ``K_1`` (else in ``K_0``).
    block_moments : tuple
        ``(symbol, closed form)`` of the block moments ``alpha_A``, ``beta_A``
        (``E[prod_{i in A} x_i | h] = alpha_A + beta_A h``) left in ``raw``; moments that
        vanish identically are already set to zero, equal ones merged.
    raw : Mapping
        ``{coupling: image}`` in the couplings and the block-moment symbols (read-only).
    images : Mapping
        ``{coupling: image}`` with the block moments substituted (read-only).
    coefficients : Mapping
        ``{target blocks: coefficient of prod h_j in -K'(h)}`` in block-moment symbols,
        for every target computed (block coordinates in superlattice units).
    constant : Expr
        Constant per block of ``-K'(h)`` (block-moment symbols).
    num_clusters : int
        Connected clusters (multisets of terms containing block 0) enumerated.
    """

    model: LatticeModel
    blocks: BlockPartition
    rule: CoarseRule
    order: int
    counting: tuple
    perturb_fields: bool
    block_moments: tuple
    raw: Mapping
    images: Mapping
    coefficients: Mapping
    constant: sp.Expr
    num_clusters: int

    def __post_init__(self) -> None:
        for name in ("raw", "images", "coefficients"):
            object.__setattr__(self, name, freeze(getattr(self, name)))

    @property
    def couplings(self) -> tuple:
        return tuple(self.images)

    def text(self) -> str:
        """Summary: the counting and every coupling's image."""
        head = (f"cumulant RG at order {self.order} ({self.num_clusters} clusters, "
                f"b = {self.blocks.scale_factor}, {self.rule.name} rule):")
        return "\n".join([head] + [f"  {c}' = {sp.sstr(e)}" for c, e in self.images.items()])

    def latex(self) -> str:
        rows = [rf"{sp.latex(sp.Symbol(str(c) + chr(39)))} &= {sp.latex(e)}" for c, e in self.images.items()]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    @property
    def substitutions(self) -> dict:
        return dict(self.block_moments)

    def coefficient(self, target: Sequence[Sequence[int]], substitute: bool = True) -> sp.Expr:
        """Coefficient of ``prod_{j in target} h_j`` in ``-K'(h)`` (a computed target)."""
        key = _canonical_target(target)
        if key not in self.coefficients:
            raise KeyError(f"target {key} was not computed; pass it in cumulant_rg(..., targets=[...])")
        e = self.coefficients[key]
        return e.xreplace(self.substitutions) if substitute else e

    @property
    def recursion_map(self) -> RecursionMap:
        """The recursion map ``g -> g'`` of all couplings, scale factor ``b = size^(1/d)``.

        A property, as on :class:`~symrg.rg.chain.ChainDecimation`; for a subset of the
        couplings or the images in block-moment symbols use :meth:`projected_map`.
        """
        return self.projected_map()

    def projected_map(self, couplings: Sequence[Any] | None = None, substitute: bool = True, name: str | None = None) -> RecursionMap:
        """The recursion map of the ``couplings`` selected (the others are set to zero).

        ``substitute=False`` keeps the block moments as symbols (the ``raw`` images).
        """
        keep = self.couplings if couplings is None else tuple(self._sym(c) for c in couplings)
        drop = {c: 0 for c in self.couplings if c not in keep}
        src = self.images if substitute else self.raw
        images = tuple(sp.sympify(src[c]).xreplace(drop) if drop else src[c] for c in keep)
        return RecursionMap(keep, images, self.blocks.scale_factor, name=name or f"cumulant RG order {self.order}")

    def _sym(self, c: Any) -> sp.Symbol:
        for s in self.couplings:
            if s == c or str(s) == str(c):
                return s
        raise KeyError(f"unknown coupling {c!s}; valid names: {', '.join(map(str, self.couplings))}")


def _canonical_target(target: Sequence[Sequence[int]]) -> tuple:
    """Translate a set of block coordinates so that its smallest block is at the origin."""
    blocks = sorted(tuple(int(c) for c in t) for t in target)
    if not blocks:
        return ()
    o = blocks[0]
    return tuple(sorted(tuple(c - d for c, d in zip(t, o)) for t in blocks))


def _coarse_targets(model: LatticeModel, blocks: BlockPartition, projection: Mapping | None) -> dict:
    """``{coupling: [targets]}``: the coarse block sets each coupling is projected onto."""
    lat = model.lattice
    coarse = blocks.coarse_lattice()
    out: dict = {}
    for it in model.interactions:
        spec = None if projection is None else projection.get(it.coupling, projection.get(str(it.coupling)))
        if projection is not None and spec is None:
            continue
        if spec is None:
            if it.order == 1:
                spec = "field"
            elif it.order == 2:
                p = it.patterns[0]
                d2 = lat.distance2(tuple(b - a for a, b in zip(p[0], p[1])))
                shell = next((k for k in range(1, 13) if lat.shell_distance2(k) == d2), None)
                if shell is None:
                    raise ValueError(f"interaction {it.label}: no neighbour shell found; give a projection")
                spec = shell
            else:
                spec = it.patterns
        targets: list
        if spec == "field":
            targets = [((0,) * lat.dim,)]
        elif isinstance(spec, (int, np.integer)):
            zero = (0,) * lat.dim
            vs = coarse.shell_vectors(int(spec))
            targets = [(zero, tuple(v)) for v in vs]
        elif isinstance(spec, Interaction):
            targets = list(spec.patterns)
        else:
            targets = list(spec)
        out[it.coupling] = [_canonical_target(t) for t in targets]
    return out


def _random_point(symbols: Sequence[sp.Symbol], rng: random.Random) -> dict:
    return {s: sp.Rational(rng.randint(-700, 700), 1000) for s in symbols}


def _numeric_equal(e1: sp.Expr, e2: sp.Expr, symbols: Sequence[sp.Symbol], seed: int = 3) -> bool:
    """Equality of two closed forms at random rational points (40 digits)."""
    rng = random.Random(seed)
    for _ in range(3):
        pt = _random_point(symbols, rng)
        d = sp.N((e1 - e2).xreplace(pt), 40)
        if not d.is_number or abs(complex(d)) > 1e-30:
            return False
    return True


def cumulant_rg(
    model: LatticeModel,
    blocks: BlockPartition,
    rule: "CoarseRule | str",
    order: int,
    *,
    counting: "Mapping | str | None" = None,
    projection: Mapping | None = None,
    targets: Sequence[Sequence[Sequence[int]]] = (),
    perturb_fields: bool = True,
) -> CumulantRG:
    """Cumulant expansion of the renormalized hamiltonian on the infinite lattice.

    Parameters
    ----------
    model : LatticeModel on an infinite lattice (``shape=None``)
    blocks : BlockPartition of the same lattice
    rule : CoarseRule or rule name
    order : int >= 1
        Truncation order.
    counting : None, "cumulant" or mapping
        None/"cumulant": keep every cluster of at most ``order`` terms (every product of
        couplings in the first ``order`` cumulants).  A mapping ``{coupling: weight}``
        (positive integers, default 1) keeps the clusters whose weights sum to at most
        ``order``; ``{K: 1, h: 1, L: 2, M: 2}`` at order 2 is the Niemeijer-van Leeuwen
        counting in which further-neighbour couplings count as ``O(K^2)``.
    projection : mapping, optional
        ``{coupling: coarse spec}`` with spec a coarse shell number, ``"field"``, a coarse
        :class:`Interaction` or a list of block-coordinate tuples.  Default: the same kind
        on the coarse lattice (shell k -> coarse shell k, field -> field, other patterns
        unchanged).  The image is the average of the coefficients over the spec's
        patterns (the orthogonal projection onto the isotropic coupling).
    targets : sequence of block-coordinate sets
        Further coarse couplings to compute (found in ``coefficients``).
    perturb_fields : bool
        Put single-site fields in the perturbation (docs/block_rg.md, Niemeijer-van Leeuwen; default) or in
        the block hamiltonian ``K_0``.

    Raises
    ------
    ValueError
        Finite lattice, bad order or counting, or more than ``MAX_CLUSTERS`` clusters.

    Examples
    --------
    >>> import sympy as sp
    >>> from symrg.rg.lattice import triangular, ising_model, triangular_blocks
    >>> model = ising_model(triangular(), {"K": 1, "h": "field"})
    >>> res = cumulant_rg(model, triangular_blocks(model.lattice), "majority", 1)
    >>> K, h = model.couplings
    >>> res.raw[K], res.raw[h]
    (2*K*beta_0**2, 3*beta_0*h)
    >>> res.block_moments
    ((beta_0, (exp(4*K) + 1)/(exp(4*K) + 3)),)
    """
    check_same_lattice(model, blocks)
    if model.lattice.shape is not None:
        raise ValueError("cumulant_rg works on the infinite lattice (shape=None); use exact_renormalization for finite lattices")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order must be a positive integer, got {order!r}")
    rule = coarse_rule(rule)
    intra, inter = _split_terms(model, blocks, perturb_fields)
    plan = _Plan(model, blocks, rule, int(order), tuple(_weights(model, counting)), intra, inter)
    distribution = _BlockDistribution(plan)
    clusters = _connected_clusters(plan)
    table = _MomentTable(distribution, sorted(set(model.couplings) | set(rule.symbols), key=str))
    per_coupling = _coarse_targets(model, blocks, projection)
    wanted = {t for ts in per_coupling.values() for t in ts} | {_canonical_target(t) for t in targets}
    coefficients, constant = _collect(clusters, _ClusterCumulants(table), wanted, plan.zero)
    return _assemble(plan, perturb_fields, distribution, table, coefficients, constant, per_coupling, len(clusters))


# ----------------------------------------------------------------------------------
# the steps of cumulant_rg
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    """The input of the expansion, checked, with the terms touching block 0 split.

    ``intra`` holds the terms of ``K_0`` as ``(coupling position, site mask in block 0)``;
    ``inter`` the terms of ``V`` touching block 0 as ``(coupling position, ((block, site
    mask), ...))``, blocks sorted.
    """

    model: LatticeModel
    blocks: BlockPartition
    rule: CoarseRule
    order: int
    weights: tuple[int, ...]
    intra: tuple[tuple[int, int], ...]
    inter: tuple[Term, ...]

    @property
    def zero(self) -> Block:
        """Coordinates of block 0."""
        return (0,) * self.model.lattice.dim

    @property
    def size(self) -> int:
        """Sites per block."""
        return self.blocks.size

    def weight(self, term: Term) -> int:
        """What a term counts for against ``order``."""
        return self.weights[term[0]]

    def terms_at(self, origin: Block) -> list[Term]:
        """The terms of ``V`` touching block ``origin`` (those of block 0, translated)."""
        return [(a, tuple(sorted((_shift(blk, origin), mk) for blk, mk in bm))) for a, bm in self.inter]


def _shift(block: Block, by: Block) -> Block:
    return tuple(x + y for x, y in zip(block, by))


def _split_terms(model: LatticeModel, blocks: BlockPartition, perturb_fields: bool) -> tuple[tuple, tuple]:
    """The terms touching block 0: intra-block ones into ``K_0``, the others into ``V``.

    A single-site field stays in ``V`` when ``perturb_fields`` (the default).
    """
    zero = (0,) * model.lattice.dim
    intra: list = []
    inter: list = []
    for a, it in enumerate(model.interactions):
        for t in blocks.terms_touching(it, zero):
            masks: dict = {}
            for s in t:
                c, k = blocks.locate(s)
                masks[c] = masks.get(c, 0) | (1 << k)
            if len(masks) == 1 and (it.order > 1 or not perturb_fields):
                intra.append((a, masks[zero]))
            else:
                inter.append((a, tuple(sorted(masks.items()))))
    return tuple(intra), tuple(inter)


def _spin_product(config: tuple, mask: int) -> int:
    """``prod_{i in mask} x_i`` of a block configuration of spins."""
    out = 1
    for i, x in enumerate(config):
        if mask >> i & 1:
            out *= x
    return out


class _BlockDistribution:
    """``p_0(x_0 | h) ∝ p(h | x_0) exp(-K_0(x_0))`` of one block, in closed form.

    ``normalizer[h]`` is ``sum_x p(h | x) exp(-K_0(x)) = Z_0 p_0(h)``; :meth:`moment` gives
    ``(alpha_A, beta_A)`` with ``E[prod_{i in A} x_i | h] = alpha_A + beta_A h`` (cached).
    """

    def __init__(self, plan: _Plan) -> None:
        m = plan.size
        self.size = m
        self.table = plan.rule.table(m)
        self.configs = [tuple(2 * ((k >> i) & 1) - 1 for i in range(m)) for k in range(1 << m)]
        syms = plan.model.couplings
        self.weights = [sp.exp(sp.Add(*[syms[a] * _spin_product(c, mk) for a, mk in plan.intra])) for c in self.configs]
        self.normalizer = {hv: sp.Add(*[w * self._rule(p, hv) for w, p in zip(self.weights, self.table)]) for hv in (1, -1)}
        for hv in (1, -1):
            if self.normalizer[hv] == 0:
                raise ValueError(f"rule {plan.rule.name} never gives h = {hv:+d} on blocks of {m} sites; K'(h) is infinite there")
        self._moments: dict[int, tuple[sp.Expr, sp.Expr]] = {}

    @staticmethod
    def _rule(p: sp.Expr, hv: int) -> sp.Expr:
        return p if hv > 0 else 1 - p

    def moment(self, mask: int) -> tuple[sp.Expr, sp.Expr]:
        """``(alpha_A, beta_A)`` of the sites ``mask`` (half sum and half difference over h)."""
        if mask not in self._moments:
            mu = {}
            for hv in (1, -1):
                num = sp.Add(*[w * self._rule(p, hv) * _spin_product(c, mask) for w, p, c in zip(self.weights, self.table, self.configs)])
                mu[hv] = num / self.normalizer[hv]
            self._moments[mask] = (_tidy((mu[1] + mu[-1]) / 2), _tidy((mu[1] - mu[-1]) / 2))
        return self._moments[mask]


def _connected_clusters(plan: _Plan) -> set[Cluster]:
    """Multisets of terms of ``V``, connected through shared blocks and containing block 0,
    whose weights add up to at most ``plan.order`` (grown one term at a time)."""
    touching: dict = {}

    def terms_at(origin: Block) -> list[Term]:
        if origin not in touching:
            touching[origin] = plan.terms_at(origin)
        return touching[origin]

    order = plan.order
    level: set[Cluster] = {(t,) for t in terms_at(plan.zero) if plan.weight(t) <= order}
    clusters = set(level)
    while level:
        grown: set[Cluster] = set()
        for cl in level:
            total = sum(plan.weight(t) for t in cl)
            support = {blk for t in cl for blk, _ in t[1]}
            for origin in support:
                for t in terms_at(origin):
                    if total + plan.weight(t) <= order:
                        grown.add(tuple(sorted(cl + (t,))))
            if len(clusters) + len(grown) > MAX_CLUSTERS:
                raise ValueError(f"the cumulant expansion at order {order} needs more than {MAX_CLUSTERS} clusters (MAX_CLUSTERS)")
        level = grown - clusters
        clusters |= level
    return clusters


class _MomentTable:
    """Every block moment as 0, an exact ``Fraction`` or a generator key.

    Moments that vanish identically or are rational never enter the polynomial algebra;
    moments with equal closed forms (tested at random rational points) share the key of
    the first one met, and later one symbol (:meth:`symbol`), named after the smallest
    of their masks.  A callable ``resolve(kind, mask)`` for
    :mod:`symrg.rg.moment_polynomials`.
    """

    def __init__(self, distribution: _BlockDistribution, free_symbols: Sequence[sp.Symbol]) -> None:
        self.distribution = distribution
        self.free_symbols = free_symbols
        self.resolved: dict[tuple[str, int], Any] = {}
        self.closed_forms: dict[tuple[str, int], sp.Expr] = {}  # generator key -> closed form
        self._symbols: dict[tuple[str, int], sp.Symbol] = {}

    def __call__(self, kind: str, mask: int) -> Any:
        key = (kind, mask)
        if key not in self.resolved:
            self.resolved[key] = self._resolve(key)
        return self.resolved[key]

    def _resolve(self, key: tuple[str, int]) -> Any:
        kind, mask = key
        e = self.distribution.moment(mask)[0 if kind == "a" else 1]
        if e == 0 or _numeric_equal(e, sp.S.Zero, self.free_symbols):
            return Fraction(0)
        if e.is_Rational:
            return Fraction(int(e.p), int(e.q))
        twin = next((g for g, c in self.closed_forms.items() if _numeric_equal(e, c, self.free_symbols)), None)
        if twin is None:
            self.closed_forms[key] = e
            twin = key
        return twin

    def symbol(self, gen: tuple[str, int]) -> sp.Symbol:
        """``alpha_A`` / ``beta_A`` for a generator, ``A`` the smallest mask sharing it."""
        if gen not in self._symbols:
            same = [k for k, v in self.resolved.items() if v == gen]
            kind, mk = min(same, key=lambda k: (k[0], bin(k[1]).count("1"), k[1]))
            label = "".join(str(i) for i in range(self.distribution.size) if mk >> i & 1)
            self._symbols[gen] = sp.Symbol(("alpha_" if kind == "a" else "beta_") + label, real=True)
        return self._symbols[gen]

    def named(self) -> dict[sp.Symbol, sp.Expr]:
        """``{symbol: closed form}`` of the generators named so far."""
        return {self._symbols[k]: c for k, c in self.closed_forms.items() if k in self._symbols}


class _ClusterCumulants:
    """The joint cumulant of a cluster; clusters related by a translation share one
    computation, up to relabelled blocks."""

    def __init__(self, resolve: _MomentTable) -> None:
        self.resolve = resolve
        self._cache: dict[Cluster, MomentPolynomial] = {}

    def __call__(self, cluster: Cluster) -> MomentPolynomial:
        origin = min(blk for t in cluster for blk, _ in t[1])
        back = tuple(-x for x in origin)
        canon = tuple(sorted((a, tuple((_shift(blk, back), mk) for blk, mk in bm)) for a, bm in cluster))
        if canon not in self._cache:
            self._cache[canon] = cluster_cumulant([t[1] for t in canon], self.resolve)
        kappa = self._cache[canon]
        if not any(origin):
            return kappa
        return {(frozenset(_shift(blk, origin) for blk in hs), mono): c for (hs, mono), c in kappa.items()}


def _add(out: dict, key: Any, value: Any) -> None:
    out[key] = out.get(key, 0) + value


def _collect(clusters: set[Cluster], cumulant_of: _ClusterCumulants, wanted: set, zero: Block) -> tuple[dict, dict]:
    """Sum ``kappa / n!`` of every cluster into the wanted coarse couplings and the constant.

    Returns ``({target: {(coupling monomial, moment monomial): Fraction}}, {same: Fraction})``.
    A cluster of terms ``t_1^{k_1} t_2^{k_2} ...`` stands for ``n! / prod k_i!`` ordered
    tuples, so it enters ``kappa_n / n!`` with weight ``1 / prod k_i!``.  The constant is
    per block: a cluster spanning ``s`` blocks is met from each of them.
    """
    for t in wanted:
        if t and zero not in t:  # pragma: no cover - canonical targets contain the origin
            raise AssertionError(t)
    coefficients: dict = {t: {} for t in wanted}
    constant: dict = {}
    for cl in clusters:
        kappa = cumulant_of(cl)
        if not kappa:
            continue
        multiplicity = 1
        for _, same in itertools.groupby(cl):
            multiplicity *= math.factorial(len(list(same)))
        couplings = tuple(sorted(t[0] for t in cl))
        support = frozenset(blk for t in cl for blk, _ in t[1])
        for (hs, mono), c in kappa.items():
            if not hs:
                _add(constant, (couplings, mono), c / multiplicity / len(support))
            elif zero in hs:
                target = tuple(sorted(hs))
                if target in coefficients:
                    _add(coefficients[target], (couplings, mono), c / multiplicity)
    return coefficients, constant


def _to_expr(poly: dict, couplings: Sequence[sp.Symbol], table: _MomentTable) -> sp.Expr:
    """A collected polynomial as a sympy expression in the couplings and moment symbols."""
    terms = []
    for (gmono, mono), c in poly.items():
        e = sp.Rational(c.numerator, c.denominator)
        for a in gmono:
            e *= couplings[a]
        for gen, p in mono:
            e *= table.symbol(gen) ** p
        terms.append(e)
    return sp.Add(*terms)


def _assemble(
    plan: _Plan,
    perturb_fields: bool,
    distribution: _BlockDistribution,
    table: _MomentTable,
    collected: dict,
    collected_constant: dict,
    per_coupling: dict,
    num_clusters: int,
) -> CumulantRG:
    """The result: per-block terms ``log Z_0 + log p_0(h)`` added, images projected."""
    syms = plan.model.couplings
    coeffs = {t: _to_expr(collected[t], syms, table) for t in collected}
    constant = _to_expr(collected_constant, syms, table)
    log_plus, log_minus = sp.log(distribution.normalizer[1]), sp.log(distribution.normalizer[-1])
    field_key = (plan.zero,)
    if field_key in coeffs:
        coeffs[field_key] = coeffs[field_key] + sp.simplify((log_plus - log_minus) / 2)
    constant = constant + (log_plus + log_minus) / 2
    # the block moments that remain, with their closed forms
    used = {g for e in list(coeffs.values()) + [constant] for g in e.free_symbols}
    closed = table.named()
    moments = tuple((s, closed[s]) for s in sorted((s for s in closed if s in used), key=str))
    coeffs = {t: sp.expand(e) for t, e in coeffs.items()}
    raw = {c: sp.factor_terms(sp.expand(sp.Add(*[coeffs[t] for t in ts]) / len(ts))) for c, ts in per_coupling.items()}
    sub = dict(moments)
    return CumulantRG(
        model=plan.model,
        blocks=plan.blocks,
        rule=plan.rule,
        order=plan.order,
        counting=tuple((syms[a], plan.weights[a]) for a in range(len(syms))),
        perturb_fields=perturb_fields,
        block_moments=moments,
        raw=raw,
        images={c: e.xreplace(sub) for c, e in raw.items()},
        coefficients=coeffs,
        constant=constant,
        num_clusters=num_clusters,
    )


def _tidy(expr: sp.Expr) -> sp.Expr:
    """Shortest of a block moment and its simplification (presentation; value unchanged)."""
    e = sp.together(expr)
    cands = [e]
    if sp.count_ops(e) < 150:
        cands.append(sp.simplify(e))
    return min(cands, key=lambda c: (sp.count_ops(c), len(str(c))))


def _weights(model: LatticeModel, counting: Any) -> list[int]:
    if counting is None or counting == "cumulant":
        return [1] * len(model.couplings)
    if isinstance(counting, str) or not isinstance(counting, Mapping):
        raise ValueError(f"counting must be None, 'cumulant' or a mapping {{coupling: weight}}, got {counting!r}")
    names = {str(c): i for i, c in enumerate(model.couplings)}
    out = [1] * len(model.couplings)
    for k, v in counting.items():
        if str(k) not in names:
            raise ValueError(f"counting: unknown coupling {k!s}; valid names: {', '.join(names)}")
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"counting: the weight of {k} must be a positive integer, got {v!r}")
        out[names[str(k)]] = int(v)
    return out
