"""Decimation of one-dimensional chains, derived by summing the removed units.

The chain has the weight ``exp(sum over bonds [g + K s s' + (h/2)(s + s')])`` (docs/recursions.md,
"Decimation of the Ising chain"): a constant ``g`` per bond, the field split over the two bonds of each site.
The bond weight is the transfer matrix ``T_{s s'} = exp(g + K s s' + h/2 (s + s'))``.

:func:`decimate_chain` keeps one unit in ``b`` and sums the ``b - 1`` units between two
kept ones explicitly (for an integer ``b``), or, for a symbolic ``b``, raises the
diagonalized transfer matrix to the power ``b``.  The renormalized bond log-weight
``phi'(s, s') = log (T^b)_{s s'}`` is then written in the unique polynomial basis
``s^p s'^q`` (``p, q < number of unit values``) that interpolates it on the support;
the coefficients of ``1``, ``s + s'`` and ``s s'`` are ``g'``, ``h'/2`` and ``K'``.  Every
other coefficient (or a coupling the user chose not to project onto) is reported in
``ChainDecimation.dropped``, never silently discarded.

Examples
--------
>>> import sympy as sp
>>> from symrg.rg.chain import decimate_chain
>>> dec = decimate_chain("spin", 2, couplings=("K",))
>>> K, = dec.couplings
>>> dec.images[K]
log(cosh(2*K))/2
>>> dec.exact
True
>>> dec.recursion_map.change_variables(["u"], [sp.tanh(K)], [sp.atanh(sp.Symbol("u"))]).images
(u**2,)
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import mpmath
import sympy as sp

from symrg.model import services
from symrg.model.display import Displayed
from symrg.model.frozen import freeze
from symrg.model.units import UnitKind, unit_kind
from symrg.rg.recursion import RecursionMap

__all__ = [
    "ChainDecimation",
    "DroppedTerm",
    "decimate_chain",
    "chain_symbols",
    "transfer_matrix_log_z",
    "COUPLING_NAMES",
]

#: couplings a chain can carry besides the constant g
COUPLING_NAMES = ("K", "h")


def chain_symbols() -> dict[str, sp.Symbol]:
    """The (real) symbols used by :func:`decimate_chain`: ``K``, ``h``, ``g``, ``s``, ``s'``.

    >>> sorted(chain_symbols())
    ['K', 'g', 'h', 's', "s'"]
    """
    return {
        "K": sp.Symbol("K", real=True),
        "h": sp.Symbol("h", real=True),
        "g": sp.Symbol("g", real=True),
        "s": sp.Symbol("s", real=True),
        "s'": sp.Symbol("s'", real=True),
    }


@dataclass(frozen=True)
class DroppedTerm(Displayed):
    """A term of the renormalized bond that lies outside the projected coupling space.

    ``coefficient * basis`` is what the exact renormalized bond log-weight contains
    and the recursion map leaves out; ``basis`` is a function of ``s, s'``.
    """

    name: str
    basis: sp.Expr
    coefficient: sp.Expr

    def text(self) -> str:
        return f"{self.name}: ({sp.sstr(self.coefficient)}) * ({sp.sstr(self.basis)})"

    def latex(self) -> str:
        return rf"\text{{{self.name}}}: \left({sp.latex(self.coefficient)}\right) {sp.latex(self.basis)}"


@dataclass(frozen=True)
class ChainDecimation:
    """Result of :func:`decimate_chain`.

    Attributes
    ----------
    units : UnitKind
        Unit kind of the chain.
    b : Expr
        Scale factor (Integer or Symbol).
    couplings : tuple of Symbol
        The couplings of the recursion map (the projected ones).
    constant : Symbol
        ``g``, the constant per bond.
    parameters : tuple of Symbol
        Couplings of the input chain that were not projected onto; they stay fixed
        parameters of the map, and their generated values are listed in ``dropped``.
    transfer : ImmutableMatrix
        ``T`` (rows/columns ordered as ``units.values``).
    renormalized : ImmutableMatrix
        ``T^b`` without the factor ``exp(b g)``: the summed bond weight.
    log_weight : ImmutableMatrix
        ``phi'(x_i, x_j) = b g + log (T^b)_{ij}`` (exact renormalized bond).
    images : Mapping
        ``{coupling: image}`` for the projected couplings (read-only).
    constant_image : Expr
        ``g'``.
    dropped : tuple of DroppedTerm
        Generated terms outside the projected space (empty when exact).
    residual : Expr
        ``phi'(s, s') - projected(s, s')`` as a function of ``s, s'``: the sum of the
        dropped terms (zero when exact).
    """

    units: UnitKind
    b: sp.Expr
    couplings: tuple
    constant: sp.Symbol
    parameters: tuple
    transfer: sp.ImmutableMatrix
    renormalized: sp.ImmutableMatrix
    log_weight: sp.ImmutableMatrix
    images: Mapping
    constant_image: sp.Expr
    dropped: tuple
    residual: sp.Expr

    def __post_init__(self) -> None:
        object.__setattr__(self, "images", freeze(self.images))

    @property
    def exact(self) -> bool:
        """True when the projection dropped nothing."""
        return not self.dropped

    @property
    def recursion_map(self) -> RecursionMap:
        """The map ``(K, h) -> (K', h')`` with the constant ``g -> g'``."""
        return RecursionMap(
            self.couplings,
            tuple(self.images[c] for c in self.couplings),
            self.b,
            self.constant,
            self.constant_image,
            name=f"decimation b={self.b}",
        )

    def text(self) -> str:
        lines = [f"{c}' = {sp.sstr(self.images[c])}" for c in self.couplings]
        lines.append(f"{self.constant}' = {sp.sstr(self.constant_image)}")
        for d in self.dropped:
            lines.append("dropped " + d.text())
        return "\n".join(lines)

    def __str__(self) -> str:
        return f"decimation of a {self.units.name.lower()} chain, b = {self.b}{'' if self.exact else ' (projected)'}:\n" + self.text()

    def latex(self) -> str:
        """The recursion map, one aligned row per coupling, then any dropped term."""
        rows = [rf"{sp.latex(sp.Symbol(f'{c}' + chr(39)))} &= {sp.latex(self.images[c])}" for c in self.couplings]
        rows.append(rf"{sp.latex(sp.Symbol(f'{self.constant}' + chr(39)))} &= {sp.latex(self.constant_image)}")
        rows += [rf"&\text{{dropped}}\ {d.latex()}" for d in self.dropped]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$" + self.latex() + "$"


# ----------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------
def _validate_b(b: Any) -> sp.Expr:
    if isinstance(b, sp.Symbol):
        return b
    if isinstance(b, str):
        return sp.Symbol(b, positive=True)
    bb = sp.sympify(b)
    if not bb.is_number or not bb.is_integer:
        raise ValueError(f"b must be an integer >= 2 (or a sympy Symbol for the general-b map), got b = {b!r}")
    if bb < 2:
        raise ValueError(f"b must be an integer >= 2, got b = {b!r}")
    return bb


def _validate_names(names: Sequence[str], what: str, valid: Sequence[str]) -> tuple[str, ...]:
    if isinstance(names, str):
        names = (names,)
    out = []
    for n in names:
        n = str(n)
        if n not in valid:
            raise ValueError(f"unknown coupling {n!r} in {what}; valid names: {', '.join(valid)}")
        if n not in out:
            out.append(n)
    return tuple(out)


def _split_exp(term: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """``c * exp(e)`` -> ``(c, e)``; None when ``term`` is not of that form."""
    term = sp.powsimp(term)
    coeff, rest = term.as_independent(sp.exp)
    if rest == 1:
        return coeff, sp.S.Zero
    if isinstance(rest, sp.exp):
        return coeff, sp.expand(rest.args[0])
    return None


def _hyperbolic_form(expr: sp.Expr) -> sp.Expr:
    """Write a sum of exponentials as ``exp(A) * sum(c cosh(d) | c sinh(d) | c exp(d))``.

    The centre ``A`` is chosen among midpoints of pairs of exponents to pair up as
    many terms as possible; this is presentation only (the value is unchanged).
    """
    expr = sp.expand(expr)
    parts = [_split_exp(t) for t in sp.Add.make_args(expr)]
    split = [p for p in parts if p is not None]
    if len(split) < len(parts) or len(split) < 2:
        return expr
    exps = [e for _, e in split]
    centres = {sp.expand((exps[i] + exps[j]) / 2) for i in range(len(exps)) for j in range(i, len(exps))}
    best = None
    for A in centres:
        coeffs: dict = {}
        for c, e in split:
            d = sp.expand(e - A)
            coeffs[d] = coeffs.get(d, 0) + c
        out = sp.S.Zero
        used: set = set()
        pairs = 0
        for d, c in coeffs.items():
            if d in used:
                continue
            used.add(d)
            if d == 0:
                out += c
                continue
            m = sp.expand(-d)
            if m in coeffs and m not in used:
                used.add(m)
                c2 = coeffs[m]
                # orient d so that the hyperbolic argument is canonical
                if sp.simplify(c - c2) == 0:
                    out += 2 * c * sp.cosh(d)
                    pairs += 1
                    continue
                if sp.simplify(c + c2) == 0:
                    out += 2 * c * sp.sinh(d)
                    pairs += 1
                    continue
                out += c * sp.exp(d) + c2 * sp.exp(m)
            else:
                out += c * sp.exp(d)
        cand = sp.exp(A) * out
        key = (-pairs, sp.count_ops(cand))
        if best is None or key < best[0]:
            best = (key, cand)
    return best[1] if best is not None and best[0][0] < 0 else expr


def _log_of(expr: sp.Expr) -> sp.Expr:
    """``log(expr)`` split over the factors of a positive product."""
    return sp.expand_log(sp.log(expr), force=True)


def _is_zero(expr: sp.Expr, symbols: Sequence[sp.Symbol], seed: int = 1) -> bool:
    """Zero test: structural first, then at random points with 40 digits."""
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    if sp.count_ops(expr) < 60 and sp.simplify(expr) == 0:
        return True
    rng = random.Random(seed)
    syms = sorted(expr.free_symbols, key=str)
    f = services.get("compile_scalars")(tuple(syms), [expr], "mpmath", checked=False)
    with mpmath.workdps(40):
        for _ in range(6):
            vals = [mpmath.mpf(rng.uniform(-1.3, 1.3)) for _ in syms]
            if abs(f(*vals)[0]) > mpmath.mpf(10) ** -30:
                return False
    return True


def _vandermonde_inverse(values: Sequence[sp.Expr]) -> sp.Matrix:
    n = len(values)
    return sp.Matrix(n, n, lambda k, p: values[k] ** p).inv()


# ----------------------------------------------------------------------------------
# the engine
# ----------------------------------------------------------------------------------
def decimate_chain(
    units: Any = "spin",
    b: Any = 2,
    couplings: Sequence[str] = ("K", "h"),
    project_onto: Sequence[str] | None = None,
) -> ChainDecimation:
    """Decimate a chain with scale factor ``b`` by summing the removed units.

    Parameters
    ----------
    units : unit kind, name or sequence of values
        Any finite discrete kind (``"spin"``, ``Discrete((-1, 0, 1))``, ...).
    b : int >= 2 or Symbol
        Keep one unit in ``b``.  A Symbol gives the general-``b`` map, computed from the
        spectral decomposition ``T^b = sum_i lambda_i^b P_i`` (two-valued units only).
    couplings : sequence of {"K", "h"}
        Couplings present in the chain (``K`` is required; leave out ``h`` for zero field).
    project_onto : sequence of {"K", "h"}, optional
        Couplings to keep after the step (default: ``couplings``); the constant ``g`` is
        always kept.  Couplings outside it become fixed parameters of the map.

    Returns
    -------
    ChainDecimation

    Examples
    --------
    >>> dec = decimate_chain("spin", 2)
    >>> K, h = dec.couplings
    >>> dec.images[h]
    h - log(cosh(2*K - h))/2 + log(cosh(2*K + h))/2
    >>> g = dec.constant
    >>> dec.constant_image
    2*g + log(cosh(h))/2 + log(cosh(2*K - h))/4 + log(cosh(2*K + h))/4 + log(2)
    >>> d3 = decimate_chain((-1, 0, 1), 2, couplings=("K",))
    >>> [t.name for t in d3.dropped]
    ['c_20', 'c_22']
    >>> decimate_chain("spin", 2, project_onto=("K",)).dropped[0].name
    'h'
    """
    kind = unit_kind(units)
    if not kind.is_discrete:
        raise ValueError(f"units must be a finite discrete kind (e.g. 'spin' or Discrete(values)), got {kind!r}")
    b = _validate_b(b)
    present = _validate_names(couplings, "couplings", COUPLING_NAMES)
    if "K" not in present:
        raise ValueError(f"couplings must include 'K' (the bond coupling), got {tuple(couplings)!r}")
    keep = present if project_onto is None else _validate_names(project_onto, "project_onto", COUPLING_NAMES)
    extra = [c for c in keep if c not in present]
    if extra:
        raise ValueError(f"project_onto names coupling(s) {', '.join(extra)} absent from couplings {present}")
    sym = chain_symbols()
    K, h, g, s, t = sym["K"], sym["h"], sym["g"], sym["s"], sym["s'"]
    field_ = h if "h" in present else sp.S.Zero
    xs = list(kind.values)
    n = len(xs)

    def bond(x: sp.Expr, y: sp.Expr) -> sp.Expr:
        return K * x * y + field_ * (x + y) / 2

    T = sp.ImmutableMatrix(n, n, lambda i, j: sp.exp(g + bond(xs[i], xs[j])))

    if isinstance(b, sp.Symbol):
        if n != 2:
            raise ValueError(f"a symbolic b needs two-valued units (T is diagonalized), got {n} values")
        T0 = sp.Matrix(n, n, lambda i, j: sp.exp(bond(xs[i], xs[j])))
        entries = sp.zeros(n, n)
        for lam, _mult, vecs in T0.eigenvects():
            lam = _hyperbolic_form(sp.expand(lam))
            for v in vecs:
                v = sp.Matrix(v)
                P = (v * v.T) / (v.T * v)[0, 0]
                entries += lam**b * P.applyfunc(sp.simplify)
        Tb = sp.ImmutableMatrix(entries.applyfunc(sp.factor_terms))
    else:
        # sum over the b - 1 interior units of exp(sum of the b bond energies)
        bi = int(b)
        Tb_rows = []
        for i in range(n):
            row = []
            for j in range(n):
                total = sp.S.Zero
                for mids in itertools.product(xs, repeat=bi - 1):
                    path = (xs[i],) + mids + (xs[j],)
                    total += sp.exp(sp.expand(sum(bond(path[k], path[k + 1]) for k in range(bi))))
                row.append(_hyperbolic_form(total))
            Tb_rows.append(row)
        Tb = sp.ImmutableMatrix(Tb_rows)

    phi = sp.Matrix(n, n, lambda i, j: b * g + _log_of(Tb[i, j]))
    Minv = _vandermonde_inverse(xs)
    C = Minv * phi * Minv.T
    C = C.applyfunc(lambda e: sp.expand(e))

    coeff = {"g": C[0, 0], "K": C[1, 1], "h": 2 * C[1, 0]}
    images = {sym[c]: sp.expand(coeff[c]) for c in keep}
    constant_image = sp.expand(coeff["g"])

    dropped: list[DroppedTerm] = []
    check_syms = [K, h]
    for c in present:
        if c not in keep:
            dropped.append(DroppedTerm(c, {"K": s * t, "h": (s + t) / 2}[c], sp.expand(coeff[c])))
    for c in COUPLING_NAMES:
        if c not in present and c in ("h",) and not _is_zero(coeff[c], check_syms):
            dropped.append(DroppedTerm(c, (s + t) / 2, sp.expand(coeff[c])))
    for p in range(n):
        for q in range(p + 1):
            if (p, q) in ((0, 0), (1, 0), (1, 1)):
                continue
            cpq = C[p, q]
            if _is_zero(cpq, check_syms):
                continue
            basis = s**p * t**q if p == q else s**p * t**q + s**q * t**p
            dropped.append(DroppedTerm(f"c_{p}{q}", basis, cpq))
    residual = sp.Add(*[d.coefficient * d.basis for d in dropped])
    params = tuple(sym[c] for c in present if c not in keep)
    return ChainDecimation(
        units=kind,
        b=b,
        couplings=tuple(sym[c] for c in keep),
        constant=g,
        parameters=params,
        transfer=T,
        renormalized=Tb,
        log_weight=sp.ImmutableMatrix(phi),
        images=images,
        constant_image=constant_image,
        dropped=tuple(dropped),
        residual=residual,
    )


def transfer_matrix_log_z(units: Any, K: float, h: float = 0.0, dps: int = 30) -> mpmath.mpf:
    """``lim (1/N) log Z`` of the infinite chain: log of the largest eigenvalue of ``T``.

    Computed numerically (mpmath) from ``T_{ij} = exp(K x_i x_j + h/2 (x_i + x_j))``,
    independently of any recursion.

    >>> float(transfer_matrix_log_z("spin", 0.5))  # log(2 cosh 0.5)
    0.81326168751822...
    """
    kind = unit_kind(units)
    if not kind.is_discrete:
        raise ValueError(f"units must be a finite discrete kind, got {kind!r}")
    with mpmath.workdps(dps + 10):
        xs = [mpmath.mpf(sp.N(v, dps + 10)) for v in kind.values]
        Km, hm = mpmath.mpf(K), mpmath.mpf(h)
        T = mpmath.matrix([[mpmath.exp(Km * x * y + hm * (x + y) / 2) for y in xs] for x in xs])
        E = mpmath.eigsy(T, eigvals_only=True)
        lam = max(E[i] for i in range(len(xs)))
        out = mpmath.log(lam)
    with mpmath.workdps(dps):
        return +out
