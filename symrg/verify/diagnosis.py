"""How is a wrong claim wrong?  Factor, offset, sign, transposition, one term, part of the domain.

:func:`diagnose` compares a claim with the derived result it failed to equal and names
the kind of difference where that can be established:

``"factor"``
    the claim is a constant times the derived result (``1/2`` written for ``1/4``);
``"offset"``
    the claim differs by a constant (a forgotten ``\\ln 2``);
``"sign"``
    the claim is minus the derived result;
``"transpose"``
    the claim is the transpose of the derived matrix;
``"transposed symbol"``
    the two sides agree once one matrix of the claim is transposed (``W v`` for ``W^T v``);
``"missing term"`` / ``"extra term"``
    the difference is one term of the derived result (of the claim);
``"term sign"`` / ``"term coefficient"``
    one term of the claim has the wrong sign (coefficient);
``"term"``
    the difference is a single simple term, shown;
``"domain"``
    the two sides agree on part of the domain only (``|h|`` for ``h``).

Each finding says how it was established: ``"symbolic"`` (the ratio or difference
simplifies to a constant, or the claim is identically the transposed or the term-shifted
derived result) or ``"numeric"`` (the relation holds at every sampled point, to a
relative tolerance of ``1e-9``).  Symbolic findings are also checked at the sampled points.

Points come from ``evaluate`` (a callable given by :func:`symrg.verify.verdict.verify`
that draws points inside the valid region of the result and evaluates expressions
there); without it, scalar expressions are evaluated by sympy at seeded random values of
their symbols (positive symbols in ``(0.2, 2)``, others in ``(-1.5, 1.5)``).

Examples
--------
>>> import sympy as sp
>>> K, h = sp.symbols("K h", real=True)
>>> d = sp.log(sp.cosh(2*K))/4
>>> print(diagnose(sp.log(sp.cosh(2*K))/2, d))
constant factor: the claim is 2 times the derived result (proved symbolically)
>>> print(diagnose(d + sp.log(2), d))
constant offset: the claim is the derived result plus log(2) (proved symbolically)
>>> print(diagnose(sp.Abs(h), h))
part of the domain: the two sides agree where h > 0 and differ where h < 0 (proved symbolically)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

__all__ = ["KINDS", "Diagnosis", "diagnose"]

#: the kinds of difference :func:`diagnose` can name
KINDS = ("factor", "offset", "sign", "transpose", "transposed symbol", "missing term", "extra term", "term sign",
         "term coefficient", "term", "domain")
_TITLES = {
    "factor": "constant factor", "offset": "constant offset", "sign": "sign flip", "transpose": "transposed matrix",
    "transposed symbol": "transposed matrix", "missing term": "missing term", "extra term": "extra term",
    "term sign": "sign of one term", "term coefficient": "coefficient of one term", "term": "one term",
    "domain": "part of the domain",
}

#: expressions with more operations than this skip sympy's general simplification
SIMPLIFY_LIMIT = 150
#: relative tolerance of the numeric checks
RTOL = 1e-9

Evaluate = Callable[[Sequence[Any]], list]


@dataclass(frozen=True)
class Diagnosis:
    """What kind of difference separates a claim from the derived result.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    value : object
        The factor, the offset, the term, the transposed symbol (sympy), or None.
    detail : str
        One sentence for a person.
    established : str
        ``"symbolic"`` or ``"numeric"``.
    points : int
        Number of sampled points at which the finding was checked.
    """

    kind: str
    value: Any
    detail: str
    established: str
    points: int = 0

    def text(self) -> str:
        how = "proved symbolically" if self.established == "symbolic" else f"seen numerically at {self.points} points"
        return f"{_TITLES[self.kind]}: {self.detail} ({how})"

    def __str__(self) -> str:
        return self.text()


# --------------------------------------------------------------------------------------
# symbolic helpers
# --------------------------------------------------------------------------------------


def _is_matrix(x: Any) -> bool:
    return isinstance(x, (MatrixExpr, sp.MatrixBase))


def _zero(e: Any) -> bool:
    """Does ``e`` vanish identically?  Expansion (logs expanded where the assumptions
    allow), then sympy's simplify for small expressions."""
    if e is None:
        return False
    if isinstance(e, sp.MatrixBase):
        return all(_zero(x) for x in e)
    if _is_matrix(e):
        return False
    try:
        x = sp.expand(sp.expand_log(sp.expand(e)))
        if x == 0:
            return True
        return sp.count_ops(x) <= SIMPLIFY_LIMIT and sp.simplify(x) == 0
    except (TypeError, ValueError, AttributeError, NotImplementedError, RecursionError):
        return False


def _constant(e: Any) -> bool:
    return isinstance(e, sp.Expr) and not e.free_symbols and e.is_number and not e.has(sp.nan, sp.zoo, sp.oo, -sp.oo)


def _terms(e: Any, limit: int = 16) -> list:
    """The terms of ``e`` as written and once products inside logs are split (at most ``limit`` each)."""
    try:
        written = list(dict.fromkeys(sp.Add.make_args(e) + sp.Add.make_args(sp.expand(e, log=False))))
        split = list(sp.Add.make_args(sp.expand(sp.expand_log(sp.expand(e), force=True))))
    except (TypeError, ValueError, AttributeError, NotImplementedError):
        return []
    out = list(dict.fromkeys((written if len(written) <= limit else []) + (split if len(split) <= limit else [])))
    return out


# --------------------------------------------------------------------------------------
# numeric helpers
# --------------------------------------------------------------------------------------


def sympy_points(exprs: Sequence[Any], n: int = 12, seed: int = 0) -> list:
    """Evaluate ``exprs`` by sympy at ``n`` seeded random points of their symbols.

    Scalar symbols get values in ``(0.2, 2)`` (positive ones) or ``(-1.5, 1.5)``.  Returns
    ``[(values of the symbols, [value of each expression]), ...]``, skipping points where
    a value is not finite.  Expressions with matrix symbols are left to the caller's
    evaluator (sympy is too slow there): the result is then ``[]``.  Only sympy's own
    arithmetic runs (no code generation).
    """
    if any(isinstance(e, sp.Basic) and e.has(sp.MatrixSymbol) for e in exprs):
        return []
    syms: set = set()
    for e in exprs:
        if isinstance(e, (sp.Basic, sp.MatrixBase)):
            syms |= {s for s in e.free_symbols if isinstance(s, sp.Symbol)}
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        vals: dict = {}
        rep: dict = {}
        for s in sorted(syms, key=str):
            if s.is_integer:
                v = float(rng.integers(1 if s.is_positive else -3, 5))
            elif s.is_positive:
                v = float(rng.uniform(0.2, 2.0))
            elif s.is_negative:
                v = float(-rng.uniform(0.2, 2.0))
            else:
                v = float(rng.uniform(-1.5, 1.5))
            vals[s.name] = v
            rep[s] = sp.Float(v, 30)
        try:
            res = [_value(e, rep) for e in exprs]
        except (TypeError, ValueError, ZeroDivisionError, AttributeError):
            continue
        if all(np.all(np.isfinite(r)) for r in res):
            out.append((vals, res))
    return out


def _value(e: Any, rep: dict) -> np.ndarray:
    if isinstance(e, sp.MatrixBase):
        return np.array([[complex(sp.N(x.xreplace(rep), 30)) for x in row] for row in e.tolist()], dtype=complex)
    return np.asarray(complex(sp.N(e.xreplace(rep), 30)))


def _close(a: Any, b: Any) -> bool:
    a, b = np.asarray(a, dtype=complex), np.asarray(b, dtype=complex)
    if a.shape != b.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    return bool(np.max(np.abs(a - b), initial=0.0) <= RTOL * scale)


def _holds(points: list, relation: Callable[[Any, Any], bool]) -> bool:
    return bool(points) and all(relation(v[0], v[1]) for _, v in points)


def _rational(x: complex) -> sp.Expr:
    x = complex(x)
    if abs(x.imag) > 1e-9 * max(1.0, abs(x)):
        return sp.nsimplify(sp.Float(x.real, 15) + sp.I * sp.Float(x.imag, 15), rational=True)
    r = sp.nsimplify(sp.Float(x.real, 15), [sp.pi, sp.log(2)], tolerance=1e-10)
    return r if r.is_number else sp.Float(x.real, 12)


def _screen(points: list) -> tuple[str, Any] | None:
    """Which simple relation between the claim (values[0]) and derived (values[1]) holds at every point."""
    c0, d0 = points[0][1][0], points[0][1][1]
    if _holds(points, lambda c, d: _close(c, -np.asarray(d))):
        return "sign", sp.Integer(-1)
    if np.ndim(d0) == 2 and np.shape(c0) == np.shape(np.transpose(d0)) and _holds(points, lambda c, d: _close(c, np.transpose(d))):
        return "transpose", None
    if np.ndim(d0) == 0 and np.ndim(c0) == 0:
        off = complex(c0) - complex(d0)
        # agreement in double precision is no finding (the sides may differ below it)
        if not _close(off, 0) and _holds(points, lambda c, d: _close(complex(c) - complex(d), off)):
            return "offset", _rational(off)
    flat_d = np.ravel(np.asarray(d0, dtype=complex))
    k = int(np.argmax(np.abs(flat_d))) if flat_d.size else 0
    if flat_d.size and abs(flat_d[k]) > 1e-12 and np.shape(c0) == np.shape(d0):
        r = complex(np.ravel(np.asarray(c0, dtype=complex))[k] / flat_d[k])
        if not _close(r, 1) and _holds(points, lambda c, d: _close(c, r * np.asarray(d))):
            return "factor", _rational(r)
    return None


def _term_screen(points: list, terms: list, offset: int) -> tuple[str, Any, Any] | None:
    """A derived term t with claim - derived = k t at every point: (kind, t, k)."""
    for n, t in enumerate(terms):
        def ratio(vals: list, n: int = n) -> complex | None:
            tv = complex(vals[offset + n])
            return None if abs(tv) < 1e-12 else (complex(vals[0]) - complex(vals[1])) / tv

        r0 = ratio(points[0][1])
        if r0 is None:
            continue
        if all((r := ratio(v)) is not None and abs(r - r0) <= 1e-9 * max(1.0, abs(r0)) for _, v in points):
            return "term", t, _rational(r0)
    return None


def _numeric_domain(points: list) -> tuple[str, Any, str] | None:
    agree = [_close(v[0], v[1]) for _, v in points]
    if not any(agree) or all(agree):
        return None
    names = sorted(set().union(*(p[0].keys() for p in points)))
    for name in names:
        vals = [p[0].get(name) for p in points]
        if any(np.ndim(v) != 0 or v is None for v in vals):
            continue
        pos = [float(np.real(v)) > 0 for v in vals]
        if pos == agree or [not p for p in pos] == agree:
            rel = ">" if pos == agree else "<"
            other = "<" if rel == ">" else ">"
            return "domain", sp.Symbol(name), f"the two sides agree where {name} {rel} 0 and differ where {name} {other} 0"
    k = sum(agree)
    return "domain", None, f"the two sides agree at {k} of {len(agree)} sampled points and differ at the others"


# --------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------


def diagnose(claim: Any, derived: Any, evaluate: Evaluate | None = None, n_points: int = 12,
             seed: int = 0) -> Diagnosis | None:
    """Name the kind of difference between ``claim`` and ``derived`` (sympy objects), or None.

    A numeric screen at sampled points finds the candidate relation (one sign, factor,
    offset, transposition, or one term for all points); sympy then tries to prove it
    (``established == "symbolic"``), else it is reported as seen numerically.

    Parameters
    ----------
    claim, derived
        The two sides, already parsed (scalars, explicit matrices or matrix expressions).
    evaluate
        ``evaluate(exprs)`` returns ``[(values of the symbols, [value of each expr]), ...]`` at
        points of the valid region, all expressions at the same points; when omitted,
        expressions without matrix symbols are evaluated by :func:`sympy_points`.
    n_points, seed
        Points of the fallback evaluation.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b", real=True)
    >>> M = sp.ImmutableMatrix([[a, b], [0, a]])
    >>> diagnose(M.T, M).kind
    'transpose'
    >>> print(diagnose(a + b, a + b + sp.cosh(b)))
    missing term: the claim misses the term cosh(b) of the derived result (proved symbolically)
    """
    scalar = isinstance(claim, sp.Expr) and isinstance(derived, sp.Expr) and not _is_matrix(claim) and not _is_matrix(derived)
    if evaluate is None:
        def evaluate(exprs: Sequence[Any]) -> list:
            return sympy_points(exprs, n_points, seed)

    if scalar and not (claim.free_symbols | derived.free_symbols) and derived != 0:
        # two numbers: a simple ratio is the likelier slip (1/2 for 1/4), else the difference
        try:
            r = sp.nsimplify(sp.simplify(claim / derived))
        except (TypeError, ValueError, ZeroDivisionError):
            r = None
        if r is not None and r.is_Rational and r != 1:
            if r == -1:
                return Diagnosis("sign", r, "the claim is minus the derived result", "symbolic", 0)
            return Diagnosis("factor", r, f"the claim is {sp.sstr(r)} times the derived result", "symbolic", 0)
        diff = sp.simplify(claim - derived)
        if diff != 0:
            return Diagnosis("offset", diff, f"the claim is the derived result plus {sp.sstr(diff)}", "symbolic", 0)
        return None
    d_terms = c_terms = []
    if scalar:
        d_terms = [t for t in _terms(derived) if not _constant(t)]
        c_terms = [t for t in _terms(claim) if not _constant(t) and t not in d_terms]
        d_terms = [t for t in d_terms if t not in _terms(claim)]
    try:
        pts = evaluate([claim, derived, *d_terms, *c_terms])
    except Exception:  # noqa: BLE001 - a diagnosis is a courtesy; it never hides the verdict
        pts = []
    n = len(pts)

    def found(kind: str, value: Any, detail: str, proof: Any = None) -> Diagnosis:
        how = "symbolic" if proof is not None and _zero(proof) else "numeric"
        return Diagnosis(kind, value, detail, how, n)

    if n >= 3 and _holds(pts, lambda c, d: _close(c, d)):
        return None  # the sides agree in double precision: nothing to tell at these points
    if n >= 3:
        screened = _screen(pts)
        if screened is not None:
            kind, v = screened
            if kind == "sign":
                return found(kind, v, "the claim is minus the derived result", _sum(claim, derived, 1))
            if kind == "transpose":
                return found(kind, None, "the claim is the transpose of the derived matrix", _sum(claim, _t(derived), -1))
            if kind == "offset":
                return found(kind, v, f"the claim is the derived result plus {sp.sstr(v)}", claim - derived - v)
            return found(kind, v, f"the claim is {sp.sstr(v)} times the derived result", _sum(claim, _scale(v, derived), -1))
        if scalar:
            t = _term_screen(pts, d_terms, 2)
            if t is not None:
                _, term, k = t
                proof = claim - derived - k * term
                if k == -1:
                    return found("missing term", term, f"the claim misses the term {sp.sstr(term)} of the derived result", proof)
                if k == -2:
                    return found("term sign", term, f"the term {sp.sstr(term)} of the derived result has the wrong sign "
                                 "in the claim", proof)
                return found("term coefficient", term, f"the term {sp.sstr(term)} of the derived result is "
                             f"{sp.sstr((1 + k) * term)} in the claim", proof)
            t = _term_screen(pts, c_terms, 2 + len(d_terms))
            if t is not None:
                _, term, k = t
                proof = claim - derived - k * term
                if k == 1:
                    return found("extra term", term, f"the claim has the extra term {sp.sstr(term)}", proof)
                if k == 2:
                    return found("term sign", -term, f"the term {sp.sstr(-term)} of the derived result has the wrong sign "
                                 "in the claim", proof)
                return found("term coefficient", (1 - k) * term, f"the term {sp.sstr((1 - k) * term)} of the derived result "
                             f"is {sp.sstr(term)} in the claim", proof)
        if isinstance(claim, sp.Basic):
            for m in sorted(claim.atoms(sp.MatrixSymbol), key=str):
                swapped = claim.xreplace({m: sp.Transpose(m)})
                try:
                    sw = evaluate([swapped, derived])
                except Exception:  # noqa: BLE001, S112 - a swap that does not fit the shapes is no finding
                    continue
                if len(sw) >= 3 and _holds(sw, _close):
                    return Diagnosis("transposed symbol", m, f"the two sides agree once {m} in the claim is replaced by "
                                     f"its transpose {m}^T", "numeric", len(sw))
        dom = _numeric_domain(pts)
        if dom is not None:
            kind, sym, detail = dom
            proof = None
            if isinstance(sym, sp.Symbol) and scalar:
                real = next((s for s in (claim - derived).free_symbols if s.name == sym.name), None)
                if real is not None:
                    sign = 1 if " > 0 and" in detail else -1
                    proof = (claim - derived).xreplace({real: sign * sp.Symbol(sym.name, positive=True)})
            return found(kind, sym, detail, proof)
    if isinstance(claim, sp.MatrixBase) and isinstance(derived, sp.MatrixBase) and claim.shape == derived.shape:
        bad = [(i, j) for i in range(claim.rows) for j in range(claim.cols) if not _zero(claim[i, j] - derived[i, j])]
        if len(bad) == 1:
            i, j = bad[0]
            inner = diagnose(claim[i, j], derived[i, j], None, n_points, seed)
            extra = f"; there {inner.detail}" if inner is not None else ""
            return Diagnosis("term", (i + 1, j + 1), f"only the entry ({i + 1}, {j + 1}) differs{extra}", "symbolic", n)
    if scalar:
        try:
            diff = sp.expand(sp.expand_log(claim - derived))
        except (TypeError, ValueError, AttributeError, NotImplementedError):
            return None
        if diff != 0 and not isinstance(diff, sp.Add) and sp.count_ops(diff) <= 40:
            return Diagnosis("term", diff, f"the claim minus the derived result is the single term {sp.sstr(diff)}",
                             "symbolic", n)
    return None


def _t(x: Any) -> Any:
    return x.T if _is_matrix(x) else x


def _scale(v: Any, x: Any) -> Any:
    return v * x


def _sum(a: Any, b: Any, sign: int) -> Any:
    """a + sign*b for scalars and explicit matrices; None for matrix expressions (no proof tried)."""
    if any(isinstance(x, MatrixExpr) and not isinstance(x, sp.MatrixBase) for x in (a, b)):
        return None
    return a + sign * b
