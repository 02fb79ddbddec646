"""Is a claimed expression equal to a derived one?  Symbolically, then numerically.

:func:`verify` compares a *claim* (a sympy expression, a string in sympy syntax or a
LaTeX string, parsed safely by :mod:`symrg.verify.parsing`) with a *derived* result (an
:class:`~symrg.model.EnergyModel`, or any sympy scalar, matrix or matrix expression):

1. **symbolic**: the difference is simplified with the model's reduction rules
   (``v**2 = v`` for Bernoulli units, ``s**2 = 1`` for spins) and the symbols' declared
   assumptions (positivity);
2. **numeric**: both sides are evaluated at seeded random points inside the valid
   region -- the recorded conditions (``I - U U^T`` positive definite) hold, unit
   states take values in their support, named intermediates (``C = (I - U U^T)^{-1}``)
   are computed from their definition.  Abstract matrix expressions are evaluated by
   substituting random explicit matrices of several sizes;
3. a :class:`Verdict`: ``"equal"`` (and how that was established), ``"not equal"``
   with a :class:`Counterexample` (the parameter values and both sides' values), or
   ``"undecided"`` with the reason.

Examples
--------
>>> from symrg.model.energy import seed_dbm
>>> from symrg.engine.marginalization import marginalize
>>> H = marginalize(seed_dbm(), "s", "h")
>>> claim = ("-a.T*v - (b + U*c + W.T*v).T*C*(b + U*c + W.T*v)/2 - c.T*c/2"
...          " - (n_h + n_s)/2*log(2*pi) + log(det(1 - U*U.T))/2")
>>> verify(claim, H).status
'equal'
>>> wrong = verify(claim.replace("- c.T*c/2", "+ c.T*c/2"), H)
>>> wrong.status, sorted(wrong.counterexample.values)[:3]
('not equal', ['C', 'U', 'W'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp
from sympy.matrices.expressions.diagonal import DiagonalOf
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr

from symrg.output import codegen as _codegen
from symrg.model.exprs import MatScalar, SumLogPartition
from symrg.verify.parsing import Namespace, match_names, parse_claim
from symrg.verify.sampling import random_matrix
from symrg.model.naming import entry_names
from symrg.errors import VerifyError

__all__ = ["verify", "verify_result", "resolve_result", "Verdict", "Counterexample", "VerifyError", "STATUSES"]

STATUSES = ("equal", "not equal", "undecided")

#: expressions with more operations than this skip the (slow) general simplification
SIMPLIFY_LIMIT = 400


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------


def _fmt(x: Any) -> str:
    a = np.asarray(x)
    if a.dtype.kind == "c" and np.all(np.abs(a.imag) <= 1e-12 * np.maximum(1.0, np.abs(a.real))):
        a = a.real
    if a.ndim == 0:
        return repr(a.item()) if a.dtype.kind in "iu" else f"{a.item():.12g}"
    return np.array2string(a, precision=6, suppress_small=True, max_line_width=100)


@dataclass(frozen=True)
class Counterexample:
    """Parameter values at which the claim and the derived result differ.

    ``values`` maps names (parameters, states, sizes, intermediates) to numbers or
    arrays; ``claimed`` and ``derived`` are both sides' values there (``claimed`` is
    None when the claim cannot be evaluated, see ``note``).
    """

    values: Mapping[str, Any]
    claimed: Any
    derived: Any
    difference: float
    note: str = ""

    def text(self) -> str:
        lines = ["counterexample:"]
        for k in sorted(self.values, key=lambda s: (np.ndim(self.values[s]) > 0, s)):
            v = _fmt(self.values[k]).replace("\n", "\n      ")
            lines.append(f"    {k} = {v}")
        lines.append(f"  claimed: {_fmt(self.claimed) if self.claimed is not None else '(undefined)'}")
        lines.append(f"  derived: {_fmt(self.derived)}")
        if self.note:
            lines.append(f"  note: {self.note}")
        else:
            lines.append(f"  difference: {self.difference:.3e}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`verify`.

    Attributes
    ----------
    status : str
        ``"equal"``, ``"not equal"`` or ``"undecided"``.
    method : str
        How the verdict was reached: ``"symbolic"``, ``"numeric"`` or ``""``.
    reason : str
        One sentence saying how equality was established, or why not.
    counterexample : Counterexample or None
        For ``"not equal"``.
    points : int
        Number of random points at which both sides were compared.
    max_difference : float or None
        Largest difference seen at those points.
    """

    status: str
    method: str
    reason: str
    counterexample: Counterexample | None = None
    points: int = 0
    max_difference: float | None = None
    claim: Any = field(default=None, repr=False)
    derived: Any = field(default=None, repr=False)

    @property
    def equal(self) -> bool:
        return self.status == "equal"

    def __bool__(self) -> bool:
        return self.equal

    def text(self) -> str:
        head = f"{self.status.upper()}" + (f" ({self.method})" if self.method else "") + f": {self.reason}"
        if self.counterexample is not None:
            return head + "\n" + self.counterexample.text()
        return head


# --------------------------------------------------------------------------------------
# context: what the symbols mean
# --------------------------------------------------------------------------------------


@dataclass
class _Context:
    states: dict = field(default_factory=dict)  # Symbol or MatrixSymbol -> support values (None: continuous)
    definitions: dict = field(default_factory=dict)  # MatrixSymbol -> (expr, is_inverse)
    conditions: list = field(default_factory=list)  # (matrix expr, reason)
    spd: set = field(default_factory=set)  # MatrixSymbols sampled symmetric positive definite
    symmetric: set = field(default_factory=set)
    values: dict = field(default_factory=dict)  # MatrixSymbol -> explicit matrix of scalars (non-auto params)
    reductions: list = field(default_factory=list)  # (kind, symbols)
    explicit: dict = field(default_factory=dict)  # MatrixSymbol -> explicit entries (explicit mode)

    def add_model(self, model: Any) -> None:
        for m in [model] + ([model.original] if model.original is not None else []):
            for lay in m.layers:
                support = tuple(lay.kind.values) if lay.kind.is_discrete else None
                self.states.setdefault(lay.symbol, support)
                if lay.explicit:
                    for s in lay.states:
                        self.states.setdefault(s, support)
                    if support is not None:
                        self.reductions.append((lay.kind, tuple(lay.states)))
            for lay in m.layers:
                if lay.explicit:
                    self.explicit.setdefault(lay.symbol, lay.states)
            for p in m.params.values():
                if p.value is not None:
                    self.explicit.setdefault(p.symbol, p.value)
                if p.value is not None and not p.auto:
                    self.values[p.symbol] = p.value
                if p.symbol in set(m.quadratic.values()):
                    self.spd.add(p.symbol)
            for c in m.conditions:
                if all(c.matrix != x for x, _ in self.conditions):
                    self.conditions.append((c.matrix, c.reason))
            for i in m.intermediates:
                self.definitions.setdefault(i.symbol, (i.inverse_of, True))


def _is_matrix(x: Any) -> bool:
    return isinstance(x, (MatrixExpr, sp.MatrixBase))


def _atoms(exprs: Sequence[Any]) -> tuple[set, set]:
    msyms: set = set()
    syms: set = set()
    todo = [e for e in exprs if isinstance(e, (sp.Basic, sp.MatrixBase))]
    seen: set = set()
    while todo:
        e = todo.pop()
        if isinstance(e, sp.MatrixBase):
            todo.extend(e)
            continue
        if e in seen:
            continue
        seen.add(e)
        for a in e.atoms(sp.MatrixSymbol):
            msyms.add(a)
            for d in a.shape:
                syms |= sp.sympify(d).free_symbols
        syms |= {s for s in e.free_symbols if isinstance(s, sp.Symbol)}
    return msyms, syms


def _entry_names(m: sp.MatrixSymbol, rows: int, cols: int) -> dict[str, tuple[int, int]]:
    """symrg's names of the explicit entries of ``m`` (``W_{12}``, ``W_{1,12}``, ``a_1``)."""
    return entry_names(m.name, rows, cols)


# --------------------------------------------------------------------------------------
# numeric evaluation of scalar and matrix expressions (complex numpy)
# --------------------------------------------------------------------------------------


class _Undefined(Exception):
    """An expression cannot be evaluated at a point (shape mismatch, singular matrix...)."""


class _Evaluator:
    """Evaluate claims and results in complex numpy through the one code generator."""

    def __init__(self, env: dict, sizes: dict) -> None:
        self.env = env
        self.sizes = sizes

    def __call__(self, e: Any) -> Any:
        try:
            return _codegen.evaluate(e, self.env, self.sizes, backend="complex")
        except _codegen.Unsupported as exc:
            raise _Undefined(str(exc)) from None
        except (IndexError, KeyError) as exc:
            raise _Undefined(f"entry out of range: {exc}") from None
        except np.linalg.LinAlgError as exc:
            raise _Undefined(f"singular or non-square matrix: {exc}") from None
class _Sampler:
    def __init__(self, exprs: Sequence[Any], ctx: _Context, rng: np.random.Generator, sizes: Sequence[int]) -> None:
        self.ctx = ctx
        self.rng = rng
        self.size_choices = tuple(sizes)
        msyms, syms = _atoms(list(exprs) + [c for c, _ in ctx.conditions] + [d for d, _ in ctx.definitions.values()]
                             + list(ctx.values.values()))
        # definitions may mention further symbols
        self.msyms = msyms
        self.size_syms = sorted({s for m in msyms for d in m.shape for s in sp.sympify(d).free_symbols}
                                | {s for s in syms if s.is_integer and s.is_positive and s.name.startswith("n_")}, key=str)
        self.syms = sorted(syms - set(self.size_syms), key=str)
        self.leaf_mats = sorted((m for m in msyms if m not in ctx.definitions and m not in ctx.values), key=str)

    def point(self, k: int) -> tuple[dict, dict, dict] | None:
        """One point: (environment for evaluation, sizes, values to report)."""
        rng = self.rng
        sizes: dict = {}
        if self.size_syms:
            if k % 3 == 0:  # equal sizes: shape-mismatched claims then still evaluate
                common = int(rng.choice([c for c in self.size_choices if c > 1] or self.size_choices))
                sizes = {s: sp.Integer(common) for s in self.size_syms}
            else:
                sizes = {s: sp.Integer(int(rng.choice(self.size_choices))) for s in self.size_syms}
        for attempt in range(8):
            scale = 0.6 / 2**attempt
            env: dict = {k: complex(int(v)) for k, v in sizes.items()}
            report: dict = {str(s): int(v) for s, v in sizes.items()}
            entry_of: dict = {}
            for m in self.leaf_mats:
                rows, cols = (int(sp.sympify(d).xreplace(sizes)) for d in m.shape)
                arr = self._matrix(m, rows, cols, scale)
                env[m] = arr.astype(complex)
                report[m.name] = arr if (rows, cols) != (1, 1) else arr
                for name, ij in _entry_names(m, rows, cols).items():
                    entry_of[name] = arr[ij]
            for s in self.syms:
                if s.name in entry_of:
                    env[s] = complex(entry_of[s.name])
                    continue
                val = self._scalar(s, scale)
                env[s] = complex(val)
                report[s.name] = val
            ev = _Evaluator(env, sizes)
            try:
                for m, value in self.ctx.values.items():
                    env[m] = ev(value)
                ok = True
                for cond, _ in self.ctx.conditions:
                    mat = ev(cond)
                    if not _positive_definite(mat):
                        ok = False
                        break
                if not ok:
                    continue
                for m, (d, is_inverse) in self._definitions_in_order():
                    val = ev(d)
                    if is_inverse:
                        if not _positive_definite(val):
                            raise _Undefined(f"{d} is not positive definite")
                        val = np.linalg.inv(val)
                    env[m] = val
                    report[m.name] = val.real
            except (_Undefined, ValueError, np.linalg.LinAlgError, TypeError):
                continue
            return env, sizes, report
        return None

    def _definitions_in_order(self) -> list:
        # an intermediate may be defined through an earlier one
        defs = list(self.ctx.definitions.items())
        done: list = []
        names = {m for m, _ in defs}
        while defs:
            for item in defs:
                deps = item[1][0].atoms(sp.MatrixSymbol) & names
                if all(d in [m for m, _ in done] for d in deps):
                    done.append(item)
                    defs.remove(item)
                    break
            else:
                done += defs
                break
        return done

    def _matrix(self, m: sp.MatrixSymbol, rows: int, cols: int, scale: float) -> np.ndarray:
        rng = self.rng
        support = self.ctx.states.get(m, "param")
        if support != "param":
            if support is None:
                return rng.normal(size=(rows, cols))
            return rng.choice(np.array([float(v) for v in support]), size=(rows, cols))
        # a vector (bias) is one whatever the sizes drawn; one sampler with crosscheck
        vector = m.shape[1] == 1 or m.shape[0] == 1
        role = "precision" if m in self.ctx.spd and rows == cols else "vector" if vector else "matrix"
        return random_matrix(rng, rows, cols, role, scale)

    def _scalar(self, s: sp.Symbol, scale: float) -> Any:
        rng = self.rng
        support = self.ctx.states.get(s, "param")
        if support != "param":
            return float(rng.choice([float(v) for v in support])) if support is not None else float(rng.normal())
        if s.is_integer:
            lo = 1 if s.is_positive else 0 if s.is_nonnegative else -3
            return int(rng.integers(lo, 5))
        if s.is_positive:
            return float(rng.uniform(0.2, 2.0))
        if s.is_nonnegative:
            return float(rng.uniform(0.0, 2.0))
        if s.is_negative:
            return float(-rng.uniform(0.2, 2.0))
        return float(rng.uniform(-1.5, 1.5))


def _positive_definite(m: Any) -> bool:
    m = np.asarray(m)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        return False
    if np.abs(m.imag).max(initial=0.0) > 1e-12:
        return False
    try:
        np.linalg.cholesky((m.real + m.real.T) / 2)
    except np.linalg.LinAlgError:
        return False
    return True


# --------------------------------------------------------------------------------------
# the symbolic attempt
# --------------------------------------------------------------------------------------


#: explicit-mode symbolic comparison writes at most this many matrix entries
EXPLICIT_LIMIT = 200


def _explicit_form(expr: sp.Expr, explicit: Mapping) -> sp.Expr:
    """``expr`` with parameter and state matrices replaced by their explicit entries."""
    e = expr.xreplace(dict(explicit))

    def entries(m: Any) -> sp.ImmutableMatrix:
        return sp.ImmutableMatrix(m) if isinstance(m, sp.MatrixBase) else sp.ImmutableMatrix(m.as_explicit())

    def rule(x: Any) -> Any:
        if isinstance(x, MatScalar):
            return entries(x.args[0])[0, 0]
        if isinstance(x, sp.Determinant):
            return sp.expand(entries(x.arg).det(method="berkowitz"))
        if isinstance(x, sp.Trace):
            return entries(x.arg).trace()
        return x

    e = e.replace(lambda x: isinstance(x, (MatScalar, sp.Determinant, sp.Trace)), rule)
    return sp.expand(e)


def _reduce_powers(expr: sp.Expr, kind: Any, units: Sequence[sp.Symbol]) -> sp.Expr:
    """Reduce powers of unit symbols wherever they occur (also inside logs and exps)."""
    units = set(units)
    if not units & expr.free_symbols:
        return expr

    def is_power(x: Any) -> bool:
        return isinstance(x, sp.Pow) and x.base in units and x.exp.is_Integer and x.exp > 1

    out = expr.replace(is_power, lambda x: kind.reduce_powers(x, [x.base]))
    return sp.expand(out) if out != expr else expr


def _symbolic_zero(diff: Any, ctx: _Context) -> str | None:
    """A short description of how ``diff`` was shown to vanish, or None."""
    if _is_matrix(diff):
        if isinstance(diff, sp.ZeroMatrix) or (isinstance(diff, sp.MatrixBase) and all(x == 0 for x in diff)):
            return "the difference is the zero matrix"
        if isinstance(diff, sp.MatrixBase):
            if all(sp.count_ops(x) < SIMPLIFY_LIMIT and sp.simplify(x) == 0 for x in diff):
                return "every entry of the difference simplifies to 0"
            return None
        try:
            d = sp.expand(diff.doit())
        except Exception:  # noqa: BLE001 - matrix canonicalization is best effort
            return None
        if isinstance(d, sp.ZeroMatrix) or d == 0:
            return "the difference expands to the zero matrix"
        return None
    if diff == 0:
        return "the two expressions are identical"
    try:
        d = sp.expand(diff)
    except Exception:  # noqa: BLE001
        return None
    if d == 0:
        return "the difference expands to 0"
    for kind, units in ctx.reductions:
        d = _reduce_powers(d, kind, units)
    if d == 0:
        return "the difference vanishes after the reduction rules of the units (v**2 = v, s**2 = 1)"
    if ctx.explicit and d.has(sp.MatrixSymbol) and sum(v.rows * v.cols for v in ctx.explicit.values()) <= EXPLICIT_LIMIT:
        # explicit mode: write matrix forms by their entries on both sides, then compare
        try:
            d = _explicit_form(d, ctx.explicit)
            for kind, units in ctx.reductions:
                d = _reduce_powers(d, kind, units)
        except Exception:  # noqa: BLE001 - best effort; the numeric test follows
            return None
        if d == 0:
            return ("the difference vanishes once matrices are written by their entries "
                    "(with the reduction rules of the units)")
    if not d.has(sp.MatrixSymbol) and sp.count_ops(d) < SIMPLIFY_LIMIT:
        try:
            if sp.simplify(d) == 0:
                return "the difference simplifies to 0 (with the declared assumptions)"
        except Exception:  # noqa: BLE001 - simplify may fail on exotic input
            return None
    return None


# --------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------


def _as_value(obj: Any) -> Any:
    if hasattr(obj, "rhs_latex") and hasattr(obj, "energy"):
        return obj.energy
    return obj


def _shape_of(x: Any) -> tuple | None:
    if isinstance(x, (MatrixExpr, sp.MatrixBase)):
        return tuple(x.shape)
    return None


def verify(
    claim: Any,
    derived: Any,
    *,
    model: Any = None,
    where: Mapping | None = None,
    conditions: Sequence[Any] = (),
    n_points: int = 24,
    seed: int = 0,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    sizes: Sequence[int] = (1, 2, 3, 4),
    symbolic: bool = True,
    syntax: str = "auto",
) -> Verdict:
    """Decide whether ``claim`` equals ``derived``.

    Parameters
    ----------
    claim
        A sympy expression, a string in sympy syntax or a LaTeX string (parsed safely;
        names resolve to the symbols of ``derived`` and ``model``, see
        :mod:`symrg.verify.parsing`), or an energy model.
    derived
        The reference: an :class:`~symrg.model.EnergyModel` (its energy, with its
        states, intermediates and conditions), or a sympy scalar, explicit matrix or
        matrix expression.  A string is parsed with an open namespace (any names).
    model
        A model giving the meaning of the symbols when ``derived`` is a bare
        expression (unit supports, intermediates, conditions).
    where
        Extra named intermediates ``{C: definition}`` (``C`` a MatrixSymbol or name).
    conditions
        Extra matrix expressions that must be positive definite at every point.
    n_points, seed
        Number of random points of the numeric test and the seed of their generator.
    rtol, atol
        Two values ``x, y`` agree when ``|x - y| <= atol + rtol * max(1, |x|, |y|)``.
    sizes
        The sizes tried for symbolic dimensions (abstract mode).
    symbolic
        Try the symbolic simplification first.
    syntax
        ``"auto"``, ``"sympy"`` or ``"latex"`` for string claims.

    Returns
    -------
    Verdict

    Raises
    ------
    symrg.verify.parsing.ClaimError
        The claim string is malformed, unsafe, or uses unknown names.

    Examples
    --------
    >>> import sympy as sp
    >>> K = sp.Symbol("K", positive=True)
    >>> verify("log(cosh(2*K))/2", sp.log(sp.cosh(2*K))/2).reason
    'the two expressions are identical'
    >>> v = verify("K**2", K**3, seed=1)
    >>> v.status, v.method
    ('not equal', 'numeric')
    """
    ctx = _Context()
    if hasattr(derived, "rhs_latex") and hasattr(derived, "energy"):
        ctx.add_model(derived)
        model = model if model is not None else derived
    if model is not None and model is not derived:
        ctx.add_model(model)
    ns = Namespace(strict=True)
    for src in (derived, model):
        if src is not None:
            ns.add_expression(src)
    if isinstance(derived, str):
        ns = Namespace(strict=False)
        derived = parse_claim(derived, ns, syntax)
    derived_value = _as_value(derived)
    if not isinstance(derived_value, str):
        ns.add_expression(derived_value)
    for k, v in dict(where or {}).items():
        sym = ns.names.get(k) if isinstance(k, str) else k
        if not isinstance(sym, sp.MatrixSymbol):
            raise VerifyError(f"where: {k!r} must name a matrix symbol of the result")
        ctx.definitions[sym] = (v.arg, True) if isinstance(v, sp.Inverse) else (v, False)
        ns.add(sym)
        ns.add_expression(v)
    for c in conditions:
        ctx.conditions.append((c, "given condition"))
    claim_value = parse_claim(_as_value(claim), ns, syntax) if isinstance(_as_value(claim), str) else match_names(_as_value(claim), ns)

    d_shape, c_shape = _shape_of(derived_value), _shape_of(claim_value)
    if d_shape is None and c_shape == (1, 1):
        claim_value = MatScalar(claim_value)
        c_shape = None
    if c_shape is None and d_shape == (1, 1):
        derived_value = MatScalar(derived_value)
        d_shape = None
    if (d_shape is None) != (c_shape is None):
        what = "a scalar" if d_shape is None else f"a {d_shape[0]} x {d_shape[1]} matrix"
        got = "a scalar" if c_shape is None else f"a {c_shape[0]} x {c_shape[1]} matrix"
        return Verdict("not equal", "symbolic", f"the derived result is {what} but the claim is {got}",
                       claim=claim_value, derived=derived_value)

    if symbolic:
        try:
            how = _symbolic_zero(claim_value - derived_value, ctx)
        except (TypeError, ValueError, sp.ShapeError):
            how = None
        if how is not None:
            return Verdict("equal", "symbolic", how, claim=claim_value, derived=derived_value)
    return _numeric(claim_value, derived_value, ctx, n_points, seed, rtol, atol, sizes)


def _numeric(claim: Any, derived: Any, ctx: _Context, n_points: int, seed: int, rtol: float, atol: float,
             sizes: Sequence[int]) -> Verdict:
    rng = np.random.default_rng(seed)
    sampler = _Sampler([claim, derived], ctx, rng, sizes)
    compared = 0
    skipped = 0
    worst = 0.0
    undefined: Counterexample | None = None
    with np.errstate(all="ignore"):
        for k in range(n_points):
            pt = sampler.point(k)
            if pt is None:
                skipped += 1
                continue
            env, szs, report = pt
            try:
                d = _Evaluator(env, szs)(derived)
            except (_Undefined, ValueError, ZeroDivisionError, OverflowError, TypeError) as e:
                if isinstance(e, _Undefined) and str(e).startswith("cannot evaluate"):
                    return Verdict("undecided", "", f"the derived result cannot be evaluated numerically: {e}",
                                   claim=claim, derived=derived)
                skipped += 1
                continue
            d = np.asarray(d)
            scale_d = max(1.0, float(np.max(np.abs(d), initial=0.0)))
            if not np.all(np.isfinite(d)) or np.max(np.abs(d.imag), initial=0.0) > 1e-9 * scale_d:
                skipped += 1  # outside the real domain of the derived result
                continue
            try:
                c = np.asarray(_Evaluator(env, szs)(claim))
            except (_Undefined, ValueError, ZeroDivisionError, OverflowError, TypeError) as e:
                if isinstance(e, _Undefined) and str(e).startswith("cannot evaluate") and "matri" not in str(e):
                    return Verdict("undecided", "", f"the claim cannot be evaluated numerically: {e}",
                                   claim=claim, derived=derived)
                if undefined is None:
                    undefined = Counterexample(report, None, d.real, float("inf"), f"the claim is undefined here: {e}")
                continue
            if c.shape != d.shape:
                ce = Counterexample(report, c, d.real, float("inf"),
                                    f"the claim has shape {c.shape}, the derived result {d.shape}")
                return Verdict("not equal", "numeric", "the two sides have different shapes", ce, compared, None,
                               claim, derived)
            diff = float(np.max(np.abs(c - d), initial=0.0))
            scale = max(1.0, float(np.max(np.abs(c), initial=0.0)), float(np.max(np.abs(d), initial=0.0)))
            compared += 1
            if not np.all(np.isfinite(c)) or diff > atol + rtol * scale:
                ce = Counterexample(report, c, d.real, diff if np.isfinite(diff) else float("inf"))
                return Verdict("not equal", "numeric",
                               f"the two sides differ at a random point inside the valid region (point {k + 1} of {n_points})",
                               ce, compared, diff, claim, derived)
            worst = max(worst, diff)
    if undefined is not None:
        return Verdict("not equal", "numeric", "the claim is undefined where the derived result is defined",
                       undefined, compared, worst, claim, derived)
    if compared < max(3, n_points // 4):
        why = "no point inside the valid region was found" if compared == 0 else f"only {compared} of {n_points} points were inside the valid region"
        return Verdict("undecided", "", f"{why} (conditions: {', '.join(str(c) for c, _ in ctx.conditions) or 'none'})",
                       None, compared, worst if compared else None, claim, derived)
    size_note = ""
    if sampler.size_syms:
        size_note = f", sizes drawn from {sorted(set(sizes))}"
    return Verdict(
        "equal", "numeric",
        f"no symbolic proof; the two sides agree at {compared} seeded random points inside the valid region"
        f"{size_note} (max difference {worst:.1e}, tolerance rtol={rtol:g})",
        None, compared, worst, claim, derived,
    )


# --------------------------------------------------------------------------------------
# named results of derivation documents
# --------------------------------------------------------------------------------------


def resolve_result(doc: Any, name: str) -> tuple[Any, dict]:
    """The object behind ``doc.results[name]`` and its ``where`` definitions.

    When the result was recorded from an energy model, the model itself is returned
    (so that states, intermediates and conditions are known); otherwise the recorded
    sympy object.
    """
    results = getattr(doc, "results", None)
    if results is None or name not in results:
        known = ", ".join(repr(k) for k in (results or {}))
        raise VerifyError(f"no result named {name!r} in the derivation {getattr(doc, 'title', '')!r}; results: {known or '(none)'}")
    value = results[name]
    for item in getattr(doc, "items", []):
        if item[0] != "equation":
            continue
        rhs, where = item[2], item[3]
        if hasattr(rhs, "rhs_latex") and hasattr(rhs, "energy"):
            if rhs.energy == value:
                return rhs, dict(where)
        elif rhs is value or (isinstance(rhs, sp.Basic) and rhs == value):
            return value, dict(where)
    return value, {}


def verify_result(doc: Any, name: str, claim: Any, **kwargs: Any) -> Verdict:
    """Verify ``claim`` against the named result ``name`` of a derivation document.

    >>> from symrg.examples import seed_derivation
    >>> doc = seed_derivation(n_v=2, n_h=2, n_s=2)
    >>> verify_result(doc, "W C W^T", "W*C*W.T").status
    'equal'
    """
    derived, where = resolve_result(doc, name)
    where = {k: v for k, v in where.items() if isinstance(k, sp.MatrixSymbol)}
    if hasattr(derived, "rhs_latex"):
        where = {k: v for k, v in where.items() if all(i.symbol != k for i in derived.intermediates)}
    else:
        # other results of the document may define the intermediates this one uses
        for k, v in getattr(doc, "results", {}).items():
            if isinstance(v, sp.Inverse) and isinstance(derived, sp.Basic):
                for m in derived.atoms(sp.MatrixSymbol):
                    if m.name == k and m not in where:
                        where[m] = v
    return verify(claim, derived, where=where or None, **kwargs)
