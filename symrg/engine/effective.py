"""Effective couplings of a marginalized model: cumulant series and exact multi-body couplings.

Summing out a discrete layer ``L`` leaves ``- sum_j A(theta_j + t_j)`` with
``t_j = sum_i W_ij x_i`` (docs/cumulants.md, RBM series).  Expanding in ``t``,

    A(theta_j + t_j) = A(theta_j) + sum_{n>=1} kappa_n(theta_j) t_j^n / n!,

so the layer induces n-body couplings weighted by its n-th cumulant.  In index notation
``J^{(n)}_{i_1...i_n} = (1/n!) sum_j kappa_n(theta_j) W_{i_1 j} ... W_{i_n j}``; reducing
powers on the support (``v^2 = v``, ``s^2 = 1``) collects the multiplicities:
for Bernoulli survivors the coefficient of ``prod_{i in S} v_i`` at order n is
``sum_j kappa_n(theta_j)/n! sum_{m: S -> N_{>=1}, |m| = n} n!/prod m_i! prod W_ij^{m_i}``.

:func:`cumulant_series` returns these couplings order by order; :func:`effective_couplings`
the exact ones (Möbius / Walsh, :mod:`symrg.engine.multilinear`).  The series converges when
every ``|t_j|`` stays below the distance from ``theta_j`` to the nearest complex zero of
the partition function: ``sqrt(theta^2 + pi^2)`` (Bernoulli), ``sqrt(theta^2 + pi^2/4)``
(spin); each unit kind gives it (``UnitKind.convergence_radius``), and a kind whose radius
is unknown records no condition.

Examples
--------
>>> from symrg.model.energy import rbm
>>> from symrg.engine.marginalization import marginalize
>>> series = cumulant_series(marginalize(rbm(2, 1), "h"), order=3)
>>> v1, v2 = series.units
>>> series.coupling(2, v1, v2)   # the pair coupling at second order: -kappa_2 W_11 W_21
-W_{11}*W_{21}*(1/(1 + exp(-b_1)) - 1/(1 + exp(-b_1))**2)

Printed, the coefficients name the cumulants and the sigmoid (``κ_2(b_1)``,
``σ(x) = 1/(1 + e^{-x})``) instead of spelling them out in every term:

>>> print(series.text().splitlines()[4])
  c^(2)[v_1 v_2] = -W_{11}*W_{21}*κ_2(b_1)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import sympy as sp

from symrg.engine.canonical import collect_monomials, reduce_on_support
from symrg.engine.cumulants import cumulants
from symrg.engine.marginalization import fold_all
from symrg.engine.multilinear import exact_couplings as _numeric_exact
from symrg.engine.multilinear import symbolic_couplings
from symrg.model import services
from symrg.model.energy import EnergyModel, EnumeratedTerm, LogPartitionTerm, ModelError, MultispinTerm
from symrg.model.expressions import _explicit_argument, explicit_block
from symrg.model.frozen import freeze
from symrg.model.naming import check_latex, model_symbols
from symrg.model.terms import TransferMatrixTerm

__all__ = ["CumulantSeries", "cumulant_series", "effective_couplings", "convergence_ratio"]

#: survivors above this many units are refused (the series is expanded symbolically)
MAX_SERIES_UNITS = 16


@dataclass(frozen=True)
class CumulantSeries:
    """Energy coefficients of the survivors, order by order in the cumulant expansion.

    ``base`` maps subsets of units (tuples of unit symbols) to the coefficients of the
    polynomial part of the energy (fields, pair couplings from Gaussian layers...),
    ``orders[n]`` to the contribution of the n-th cumulants, and ``constant`` holds
    ``- sum_j A(theta_j)`` and the polynomial constant.  Coefficients multiply
    ``prod_{i in S} x_i`` in the *energy*.  ``radius_conditions`` are sufficient
    conditions for convergence; ``fluctuations`` the pairs ``(t_j, R_j)`` of each
    expanded argument and its radius of convergence.

    ``named[n]`` holds the same coefficients as ``orders[n]`` with the cumulants named,
    ``kappa_n(theta_j)`` (:func:`kappa`), and ``kappas`` their definitions
    ``(kappa_n(x), value)`` in a variable ``x`` (sigmoids named, :func:`named_sigmoids`);
    the printed forms use them.  Empty when the summed layers are of several kinds.
    ``symbols`` are the LaTeX symbols of the model's layers and parameters
    (:func:`symrg.model.naming.model_symbols`), used by :meth:`latex`.
    """

    units: tuple[sp.Symbol, ...]
    order: int
    base: Mapping[tuple, sp.Expr]
    orders: Mapping[int, Mapping[tuple, sp.Expr]]
    constant: sp.Expr
    radius_conditions: tuple[sp.Basic, ...]
    index_formula: str
    fluctuations: tuple[tuple[sp.Expr, sp.Expr], ...] = ()
    supports: tuple[tuple, ...] = ()
    named: Mapping[int, Mapping[tuple, sp.Expr]] = field(default_factory=dict)
    kappas: tuple[tuple[sp.Expr, sp.Expr], ...] = ()
    symbols: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", freeze(self.base))
        object.__setattr__(self, "orders", freeze(self.orders))
        object.__setattr__(self, "named", freeze(self.named))
        # symbols end up in documents: vetted here too (a saved result is read back through __init__)
        object.__setattr__(self, "symbols", freeze({str(k): check_latex(v, f"{k!r}") for k, v in self.symbols.items()}))

    def _definitions(self) -> list[tuple[sp.Expr, sp.Expr]]:
        """The named cumulants' definitions, then the sigmoid's when they use it."""
        out = list(self.kappas)
        sigma = sp.Function(r"\sigma")
        if any(v.has(sigma) for _, v in out):
            x = out[0][0].args[0]
            out.append((sigma(x), 1 / (1 + sp.exp(-x))))
        return out

    def printed(self, n: int, key: tuple) -> sp.Expr:
        """The coefficient of order ``n`` of ``key`` as printed: cumulants named when they
        can be (``named``), else the sigmoids named (:func:`named_sigmoids`)."""
        if n in self.named and key in self.named[n]:
            return self.named[n][key]
        return named_sigmoids(self.orders[n][key])

    def text(self) -> str:
        """Summary: the index formula, then every nonzero coefficient by order and subset."""
        text = services.get("text")
        lines = [f"cumulant series to order {self.order} in {len(self.units)} units: {_INDEX_TEXT}"]
        for n in range(1, self.order + 1):
            for key, c in self.orders[n].items():
                if c != 0:
                    lines.append(f"  c^({n})[{' '.join(map(str, key)) or '1'}] = {text(_in_text(self.printed(n, key)))}")
        if self.kappas:
            defs = [f"{text(_in_text(k))} = {text(_in_text(v))}" for k, v in self._definitions()]
            lines.append("  where " + "; ".join(defs))
        if self.radius_conditions:
            lines.append("  converges when " + "; ".join(text(c) for c in self.radius_conditions))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def coupling(self, n: int, *units: sp.Symbol) -> sp.Expr:
        """Contribution of the n-th cumulant to the coefficient of ``prod units``."""
        if n not in self.orders:
            raise ModelError(f"order {n} is not in this series (orders 1..{self.order})")
        return self.orders[n].get(self._key(units), sp.S.Zero)

    def total(self, *units: sp.Symbol, upto: int | None = None) -> sp.Expr:
        """The coefficient of ``prod units`` in the series truncated at order ``upto``."""
        key = self._key(units)
        upto = self.order if upto is None else upto
        return self.base.get(key, sp.S.Zero) + sp.Add(*[self.orders[n].get(key, 0) for n in range(1, upto + 1)])

    def subsets(self) -> list[tuple]:
        keys = set(self.base)
        for d in self.orders.values():
            keys |= set(d)
        return sorted(keys, key=lambda s: (len(s), [self.units.index(u) for u in s]))

    def _key(self, units) -> tuple:
        pos = {u: i for i, u in enumerate(self.units)}
        names = {str(u): u for u in self.units}
        syms = [names.get(str(u)) for u in units]
        if any(s is None for s in syms):
            raise ModelError(f"unknown units {[str(u) for u, s in zip(units, syms) if s is None]}; units are {list(map(str, self.units))}")
        return tuple(sorted(syms, key=pos.__getitem__))

    def latex(self) -> str:
        """The couplings entry by entry: one line per (order, subset)."""
        lines = []
        names = dict(self.symbols)

        def latex(e: sp.Basic) -> str:
            return services.get("latex")(e, names=names)

        for n in range(1, self.order + 1):
            for key, c in self.orders[n].items():
                if c != 0:
                    prod = " ".join(latex(u) for u in key) or "1"
                    lines.append(rf"c^{{({n})}}_{{{prod}}} &= {latex(self.printed(n, key))}")
        if self.kappas:
            defs = [f"{latex(k)} = {latex(v)}" for k, v in self._definitions()]
            lines.append(r"&\text{where } " + r", \; ".join(defs))
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$" + self.index_formula + "$"


#: the index formula of :attr:`CumulantSeries.index_formula`, in Unicode text
_INDEX_TEXT = ("H(x) ≈ H₀(x) - Σ_j A(θ_j) - Σ_n Σ_{i₁…iₙ} J⁽ⁿ⁾_{i₁…iₙ} x_{i₁}⋯x_{iₙ},  "
               "J⁽ⁿ⁾_{i₁…iₙ} = (1/n!) Σ_j κₙ(θ_j) W_{i₁j}⋯W_{iₙj}")


def kappa(n: int) -> sp.FunctionClass:
    """The named cumulant ``kappa_n`` (an undefined function; LaTeX ``\\kappa_{n}``)."""
    return sp.Function(f"kappa_{n}")


def _in_text(expr: sp.Expr) -> sp.Expr:
    """``expr`` with the named sigmoid and cumulants renamed for Unicode text (``σ``, ``κ_2``)."""
    sigma = sp.Function(r"\sigma")
    expr = expr.replace(lambda e: isinstance(e, sigma), lambda e: sp.Function("σ")(*e.args))
    return expr.replace(lambda e: isinstance(e, sp.core.function.AppliedUndef) and e.func.__name__.startswith("kappa_"),
                        lambda e: sp.Function("κ" + e.func.__name__[len("kappa"):])(*e.args))


def named_sigmoids(c: sp.Expr) -> sp.Expr:
    """``c`` with every ``1/(1 + exp(-x))`` written as the named sigmoid ``sigma(x)`` (for printing).

    Each ``exp(-x)`` becomes ``(1 - sigma)/sigma`` exactly, and the terms that share a
    sigmoid are factored, so a second cumulant reads ``W^2 sigma(b) (1 - sigma(b))``-like
    instead of spelling ``1/(1 + e^{-b})`` in every term.

    >>> b = sp.Symbol("b")
    >>> named_sigmoids(1 / (1 + sp.exp(-b)) - 1 / (1 + sp.exp(-b)) ** 2)
    -(\\sigma(b) - 1)*\\sigma(b)
    """
    exps = [e for e in c.atoms(sp.exp)]
    if not exps:
        return c
    sigma = sp.Function(r"\sigma")
    dummies = {e: sp.Dummy() for e in exps}
    ratio = c.xreplace({e: (1 - d) / d for e, d in dummies.items()})
    groups: dict = {}
    for t in sp.Add.make_args(sp.expand(ratio)):
        key = frozenset(d for d in dummies.values() if t.has(d))
        groups[key] = groups.get(key, 0) + sp.cancel(t)
    out = sp.Add(*[sp.factor(g) for g in groups.values()])
    return out.xreplace({d: sigma(-e.args[0]) for e, d in dummies.items()})


def _binary_kind_of(model: EnergyModel):
    kinds = {l.kind for l in model.layers}
    if len(kinds) != 1 or next(iter(kinds)).multilinear_basis is None:
        raise ModelError(
            "exact multilinear couplings need survivors that are all Bernoulli or all spins; "
            f"this model has {[f'{l.name}: {l.kind.name}' for l in model.layers]}"
        )
    return model.layers[0].kind


def _units(model: EnergyModel) -> list[sp.Symbol]:
    if not model.explicit:
        raise ModelError("cumulant series and exact couplings need explicit (integer) layer sizes")
    units = [u for l in model.layers for u in l.states]
    if len(units) > MAX_SERIES_UNITS:
        raise ModelError(f"{len(units)} surviving units, above the limit of {MAX_SERIES_UNITS} for symbolic couplings")
    for l in model.layers:
        if not l.kind.is_discrete:
            raise ModelError(f"layer {l.name!r} is {l.kind.name}; the multilinear form needs discrete survivors")
    return units


def _powers(tj: sp.Expr, model: EnergyModel, units: list[sp.Symbol], order: int):
    """The reduced multilinear forms of ``t_j^n``, ``n = 1..order``, as ``{units: coefficient}``.

    Binary survivors multiply monomials by hand (``v_i v_i = v_i``, ``s_i s_i = 1``), so
    no expansion of ``t^n`` ever happens; other discrete kinds go through polynomial
    reduction.
    """
    rule = {}
    for l in model.layers:
        for u in l.states:
            basis = l.kind.multilinear_basis
            rule[u] = {"mobius": "union", "walsh": "xor"}.get(basis) if basis is not None else None
    if any(r is None for r in rule.values()):
        power = sp.S.One
        for _ in range(order):
            power = reduce_on_support(sp.expand(power * tj), model)
            coeffs, c0 = collect_monomials(power, model, units)
            yield {**coeffs, (): c0}
        return
    pos = {u: i for i, u in enumerate(units)}
    lin = [(k, u, tj.coeff(u)) for k, u in enumerate(units) if tj.coeff(u) != 0]
    zero = (0,) * len(units)
    # each coefficient is kept as {multiplicities m: integer count}, i.e. sum count * prod w_u^m_u:
    # the multinomial factors of the reduction come out as exact integers
    cur: dict[tuple, dict[tuple, int]] = {(): {zero: 1}}
    for _ in range(order):
        new: dict[tuple, dict[tuple, int]] = {}
        for key, poly in cur.items():
            for k, u, _w in lin:
                if u in key:
                    k2 = key if rule[u] == "union" else tuple(x for x in key if x != u)
                else:
                    k2 = tuple(sorted(key + (u,), key=pos.__getitem__))
                target = new.setdefault(k2, {})
                for m, count in poly.items():
                    m2 = m[:k] + (m[k] + 1,) + m[k + 1:]
                    target[m2] = target.get(m2, 0) + count
        cur = new
        yield {
            key: sp.Add(*[c * sp.Mul(*[w ** m[k] for k, _, w in lin]) for m, c in poly.items()])
            for key, poly in cur.items()
        }


def _radius(kind, theta: sp.Expr) -> sp.Expr | None:
    # the kind knows it (closed form or nearest zero of its partition function); None: unknown
    r = kind.convergence_radius(theta)
    return None if r is None or r == sp.oo else r


def cumulant_series(model: EnergyModel, order: int) -> CumulantSeries:
    """Expand every summed-out discrete layer of ``model`` to cumulant order ``order``.

    Parameters
    ----------
    model
        An explicit effective model whose non-polynomial terms are closed-form
        log-partition terms (Gaussian terms are folded; enumerated ones are refused).
    order
        Highest cumulant order ``N`` kept.

    Returns
    -------
    CumulantSeries
        The couplings of every order in canonical multilinear form, the radius
        conditions and the index-notation formula.
    """
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be a positive integer, got {order!r}")
    units = _units(model)
    flat = fold_all(model)
    if any(isinstance(t, (EnumeratedTerm, TransferMatrixTerm)) for t in flat.terms):
        raise ModelError(
            "a layer was summed by enumeration (or a transfer matrix): its term has no cumulant series in closed form; "
            "use effective_couplings instead"
        )
    # multi-unit products (plaquettes) are polynomial: they stay with the base couplings
    poly_part = flat.with_(terms=tuple(t for t in flat.terms if isinstance(t, MultispinTerm)))
    base, const = collect_monomials(poly_part.energy, poly_part, units)
    orders: dict[int, dict[tuple, sp.Expr]] = {n: {} for n in range(1, order + 1)}
    named: dict[int, dict[tuple, sp.Expr]] = {n: {} for n in range(1, order + 1)}
    kinds = {t.kind for t in flat.terms if isinstance(t, LogPartitionTerm)}
    conds, flucts = [], []
    for t in flat.terms:
        if not isinstance(t, LogPartitionTerm):  # pragma: no cover - folded or refused above
            continue
        theta = [sp.S.Zero] * int(t.size) if t.theta is None else list(explicit_block(flat, t.theta))
        eta = _explicit_argument(flat, t)
        for j in range(int(t.size)):
            tj = sp.expand(eta[j] - theta[j])
            kap = cumulants(t.kind, order, field=theta[j])
            const -= t.kind.log_partition(theta[j])
            for n, coeffs in enumerate(_powers(tj, flat, units, order), start=1):
                for key, c in coeffs.items():
                    if key:
                        # the weight polynomial expanded (its multiplicities visible), times kappa_n / n!
                        orders[n][key] = orders[n].get(key, 0) - kap[n - 1] * c / sp.factorial(n)
                        named[n][key] = named[n].get(key, 0) - kappa(n)(theta[j]) * sp.factor_terms(c) / sp.factorial(n)
                    else:
                        const -= kap[n - 1] * c / sp.factorial(n)
            r = _radius(t.kind, theta[j])
            if r is not None:
                # sufficient: sum_i |W_ij| max|x_i| < R_j bounds |t_j| on every state
                bound = sp.Add(*[sp.Abs(tj.coeff(u)) * max(abs(v) for v in _values_of(flat, u)) for u in units])
                conds.append(sp.StrictLessThan(bound, r))
                flucts.append((tj, r))
    idx = _index_formula(flat, order)
    supports = tuple(_values_of(flat, u) for u in units)
    kappas: tuple = ()
    if len(kinds) == 1:  # one kind: kappa_n means one function
        x = sp.Symbol("x", real=True)
        kappas = tuple((kappa(n)(x), sp.factor(named_sigmoids(k))) for n, k in enumerate(cumulants(kinds.pop(), order, field=x), 1))
    else:
        named = {}
    return CumulantSeries(tuple(units), order, base, orders, const, tuple(conds), idx, tuple(flucts), supports, named, kappas,
                          model_symbols(model))


def _values_of(model, unit):
    for l in model.layers:
        if unit in l.states:
            return l.kind.values
    raise KeyError(unit)  # pragma: no cover


def _index_formula(model: EnergyModel, order: int) -> str:
    reductions = {
        "mobius": r"v_i^2 = v_i:\; c^{(n)}_S = \sum_j \frac{\kappa_n(\theta_j)}{n!} "
        r"\sum_{m:\,S\to\mathbb{N}_{\ge 1},\,|m| = n} \frac{n!}{\prod_{i\in S} m_i!} \prod_{i\in S} W_{ij}^{m_i}",
        "walsh": r"s_i^2 = 1:\; c^{(n)}_S = \sum_j \frac{\kappa_n(\theta_j)}{n!} "
        r"\sum_{m:\,|m| = n,\; m_i \text{ odd} \Leftrightarrow i\in S} \frac{n!}{\prod_i m_i!} \prod_i W_{ij}^{m_i}",
    }
    kinds = {t.kind.multilinear_basis for t in model.terms if isinstance(t, LogPartitionTerm)}
    red = [reductions[k] for k in kinds if k in reductions]
    head = (
        rf"H(x) \approx H_0(x) - \sum_j A(\theta_j) - \sum_{{n=1}}^{{{order}}} \sum_{{i_1 \ldots i_n}} J^{{(n)}}_{{i_1 \ldots i_n}} x_{{i_1}} \cdots x_{{i_n}},"
        r"\quad J^{(n)}_{i_1 \ldots i_n} = \frac{1}{n!} \sum_j \kappa_n(\theta_j) W_{i_1 j} \cdots W_{i_n j}"
    )
    return head + "".join(r",\quad " + r for r in red)


def effective_couplings(model: EnergyModel, values: dict | None = None):
    """Exact multilinear couplings of the survivors' energy.

    Without ``values``: a dict ``{subset of units: sympy coefficient}`` by the symbolic
    Möbius / Walsh transform.  With ``values`` (parameter arrays): a numpy array indexed
    by subset bitmask (unit ``i`` = bit ``i`` in the order of ``model``'s layers),
    computed by the fast numeric transform of the lambdified energy.
    """
    kind = _binary_kind_of(model)
    units = _units(model) if values is None else [u for l in model.layers for u in l.states]
    if values is None:
        out = symbolic_couplings(model.energy, units, kind)
        return {tuple(units[i] for i in key): c for key, c in out.items()}
    f = model.lambdify()
    sizes = [int(l.size) for l in model.layers]

    def energy(states):
        parts, k = {}, 0
        for l, n in zip(model.layers, sizes):
            parts[l.name] = states[:, k:k + n].astype(float)
            k += n
        return f(**parts, **values)

    return _numeric_exact(energy, kind, n=sum(sizes))


def convergence_ratio(series: CumulantSeries, values: Mapping[sp.Symbol, float]) -> float:
    """``max_j max_x |t_j(x)| / R_j`` at numeric parameter ``values`` (``< 1``: converges).

    ``values`` maps parameter entry symbols to numbers; the maximum runs over every
    configuration of the surviving units.
    """
    if not series.fluctuations:
        return 0.0
    units = list(series.units)
    supports = [sorted(float(v) for v in vals) for vals in series.supports]
    states = np.array(list(itertools.product(*supports)), dtype=float)
    worst = 0.0
    for tj, r in series.fluctuations:
        coeffs = np.array([float(tj.coeff(u).xreplace(values)) for u in units])
        offset = float(tj.xreplace({u: 0 for u in units}).xreplace(values))
        worst = max(worst, float(np.abs(states @ coeffs + offset).max()) / float(r.xreplace(values)))
    return worst
