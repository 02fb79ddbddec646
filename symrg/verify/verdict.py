"""Is a claimed expression equal to a derived one?  Symbolically, then numerically.

:func:`verify` compares a *claim* (a sympy expression, a string in sympy syntax or a
LaTeX string, parsed safely by :mod:`symrg.verify.parsing`) with a *derived* result (an
:class:`~symrg.model.EnergyModel`, or any sympy scalar, matrix or matrix expression):

1. **symbolic**: the difference is simplified with the model's reduction rules
   (``v**2 = v`` for Bernoulli units, ``s**2 = 1`` for spins) and the symbols' declared
   assumptions (positivity).  A difference that simplifies to 0 is a proof of
   equality; a difference that is a nonzero constant (``10**(-11)``), or that sympy's
   assumptions show is never 0, is a proof of inequality.  This step has a time
   budget (``symbolic_budget`` seconds, run in a separate process that is ended when
   the budget is spent), after which the numeric test decides;
2. **numeric**: both sides are evaluated at seeded random points inside the valid
   region -- the recorded conditions (``I - U U^T`` positive definite) hold, unit
   states take values in their support, named intermediates (``C = (I - U U^T)^{-1}``)
   are computed from their definition.  Abstract matrix expressions are evaluated by
   substituting random explicit matrices of several sizes, including sizes above 4
   and above every integer power in either side.  Points that agree in double
   precision are re-checked with mpmath at ``digits`` (default 50) significant digits,
   so a difference of ``1e-35`` (``tanh(40) = 1`` in double precision) is seen;
3. a :class:`Verdict` whose ``status`` is one of :data:`STATUSES`:

   ``"equal"``
       proved symbolically (``method == "symbolic"``, ``reason`` says how);
   ``"consistent"``
       no proof, but the two sides agree at every point tried, in double precision
       and at ``digits`` digits; ``reason`` names the precision, the tolerances, the
       number of points and the sizes tried (also in the fields ``digits``,
       ``rtol``, ``atol``, ``points`` and ``sizes``);
   ``"not equal"``
       a symbolic proof of a nonzero difference or a :class:`Counterexample` (the
       parameter values and both sides' values);
   ``"undecided"``
       no valid point was found, a side cannot be evaluated, or a budget ran out
       (``budget`` names it).

Examples
--------
>>> from symrg.model.energy import seed_dbm
>>> from symrg.engine.marginalization import marginalize
>>> H = marginalize(seed_dbm(), "s", "h")
>>> claim = ("-a.T*v - (b + U*c + W.T*v).T*C*(b + U*c + W.T*v)/2 - c.T*c/2"
...          " - (n_h + n_s)/2*log(2*pi) + log(det(1 - U*U.T))/2")
>>> verify(claim, H).status in ("equal", "consistent")
True
>>> wrong = verify(claim.replace("- c.T*c/2", "+ c.T*c/2"), H)
>>> wrong.status, sorted(wrong.counterexample.values)[:3]
('not equal', ['C', 'U', 'W'])
>>> verify("x + 10**(-11)", "x").reason
'the difference (claim - derived) is the nonzero constant 1/100000000000'
>>> verify("tanh(40*K**2 + 40)", "1").status   # 1 in double precision, not at 50 digits
'not equal'
"""

from __future__ import annotations

import os
import pickle
import re
import select
import signal
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

import mpmath
import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr

from symrg.errors import BudgetError, ClaimError, VerifyError
from symrg.model.budgets import check_expression
from symrg.model.exprs import MatScalar, SumLogPartition
from symrg.model.naming import entry_names
from symrg.output import codegen as _codegen
from symrg.verify.diagnosis import Diagnosis, diagnose
from symrg.verify.parsing import Namespace, parse_claim
from symrg.verify.sampling import Role, random_matrix

__all__ = ["verify", "verify_result", "resolve_result", "named_results", "Verdict", "Counterexample", "VerifyError",
           "STATUSES"]

#: the verdicts, from the strongest: proved equal, agreeing numerically, different, unknown
STATUSES = ("equal", "consistent", "not equal", "undecided")

#: expressions with more operations than this skip the (slow) general simplification
SIMPLIFY_LIMIT = 400
#: abstract sizes are drawn up to this bound (one above the largest power, if below it)
MAX_SIZE = 12


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------


def _real_if_close(x: Any) -> Any:
    a = np.asarray(x)
    if a.dtype.kind == "c" and np.all(np.abs(a.imag) <= 1e-12 * np.maximum(1.0, np.abs(a.real))):
        a = a.real
    return a


def _fmt(x: Any) -> str:
    a = _real_if_close(x)
    if a.ndim == 0:
        return repr(a.item()) if a.dtype.kind in "iu" else f"{a.item():.12g}"
    return np.array2string(a, precision=6, suppress_small=True, max_line_width=100)


def _plain(x: Any) -> Any:
    """A value for a report: a Python number for a scalar (real when the imaginary part is
    rounding), a real numpy array for a matrix."""
    if x is None:
        return None
    a = _real_if_close(x)
    return a.item() if a.ndim == 0 else a


def _brief_value(x: Any) -> str:
    """A value in a few characters: numbers with 6 digits, small matrices inline."""
    a = _real_if_close(x)
    if a.ndim == 0:
        v = a.item()
        return str(v) if isinstance(v, int) else f"{v:.6g}"
    if a.size <= 4:
        return np.array2string(a, precision=4, suppress_small=True, separator=", ").replace("\n", "")
    return f"({a.shape[0]}x{a.shape[1] if a.ndim > 1 else 1} matrix)"


def _short(x: Any, limit: int = 200) -> str:
    s = str(x)
    return s if len(s) <= limit else s[: limit - 3] + "..."


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
        if np.isfinite(self.difference):
            lines.append(f"  difference: {self.difference:.3e}")
        return "\n".join(lines)

    def brief(self, limit: int = 8) -> str:
        """One line: the point (scalars and small matrices) and both sides' values."""
        keys = sorted(self.values, key=lambda k: (np.ndim(self.values[k]) > 0, k))
        shown = [f"{k} = {_brief_value(self.values[k])}" for k in keys[:limit]]
        more = f", ... ({len(keys) - limit} more)" if len(keys) > limit else ""
        claimed = _brief_value(self.claimed) if self.claimed is not None else "undefined"
        diff = f" (difference {self.difference:.3g})" if np.isfinite(self.difference) else ""
        note = f"; {self.note}" if self.note else ""
        return f"at {', '.join(shown)}{more}: claimed {claimed}, derived {_brief_value(self.derived)}{diff}{note}"

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`verify`.

    Attributes
    ----------
    status : str
        One of :data:`STATUSES`: ``"equal"`` (proved), ``"consistent"`` (agreement at
        every point tried, no proof), ``"not equal"`` or ``"undecided"``.
    method : str
        How the verdict was reached: ``"symbolic"``, ``"numeric"`` or ``""``.
    reason : str
        One sentence saying how equality was established, or why not.
    counterexample : Counterexample or None
        For ``"not equal"`` (None when a symbolic proof needs none).
    points : int
        Number of random points at which both sides were compared in double precision.
    max_difference : float or None
        Largest difference seen at those points.
    digits : int
        Significant digits of the mpmath re-check (0 when there was none).
    hp_points : int
        Number of points re-checked at ``digits`` digits.
    rtol, atol : float or None
        Tolerances of the double-precision comparison.
    sizes : tuple of int
        The sizes given to symbolic dimensions at the points compared (abstract mode).
    budget : str
        The time budget that ran out, if any (``"symbolic simplification (10 s)"``).
    diagnosis : symrg.verify.diagnosis.Diagnosis or None
        For ``"not equal"``: what kind of difference it is (constant factor, offset, sign
        flip, transposed matrix, one missing term, part of the domain), when that can be
        established.
    """

    status: str
    method: str
    reason: str
    counterexample: Counterexample | None = None
    points: int = 0
    max_difference: float | None = None
    claim: Any = field(default=None, repr=False)
    derived: Any = field(default=None, repr=False)
    digits: int = 0
    hp_points: int = 0
    rtol: float | None = None
    atol: float | None = None
    sizes: tuple = ()
    budget: str = ""
    diagnosis: Diagnosis | None = None

    @property
    def equal(self) -> bool:
        """True only for a symbolic proof (``status == "equal"``)."""
        return self.status == "equal"

    @property
    def agrees(self) -> bool:
        """True for ``"equal"`` and ``"consistent"``: no difference was found."""
        return self.status in ("equal", "consistent")

    def __bool__(self) -> bool:
        return self.equal

    def _head(self) -> str:
        head = f"{self.status.upper()}" + (f" ({self.method})" if self.method else "") + f": {self.reason}"
        if self.diagnosis is not None:
            head += f"\n  diagnosis: {self.diagnosis.text()}"
        return head

    def text(self) -> str:
        """The verdict with the full counterexample (every value of the point), as the CLI prints it."""
        if self.counterexample is not None:
            return self._head() + "\n" + self.counterexample.text()
        return self._head()

    def __str__(self) -> str:
        """One or two lines: the verdict, how it was reached, and the counterexample in brief.

        >>> print(verify("K**2", "K**3", seed=1))
        NOT EQUAL (numeric): the two sides differ at a random point inside the valid region (point 1 of 24)
          at K = ...: claimed ..., derived ... (difference ...)
        """
        if self.counterexample is not None:
            return self._head() + "\n  " + self.counterexample.brief()
        return self._head()

    def _repr_latex_(self) -> str:
        """Both sides, related by =, \\approx, \\neq or ?=, and the status (Jupyter)."""
        rel = {"equal": "=", "consistent": r"\approx", "not equal": r"\neq"}.get(self.status, r"\overset{?}{=}")

        def side(x: Any) -> str:
            if x is None:
                return r"\text{(none)}"
            try:
                out = sp.latex(x)
            except Exception:  # noqa: BLE001 - display only
                out = r"\text{(not printable)}"
            return out if len(out) <= 3000 else r"\text{(" + str(len(out)) + r" characters of LaTeX)}"

        label = self.status + (f", {self.method}" if self.method else "")
        return (rf"$\displaystyle \underbrace{{{side(self.claim)}}}_{{\text{{claim}}}} \;{rel}\; "
                rf"\underbrace{{{side(self.derived)}}}_{{\text{{derived}}}} \qquad \text{{({label})}}$")


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
def _mp(x: Any) -> Any:
    """A double-precision value (number or array) as an exact mpmath value."""
    if isinstance(x, (mpmath.matrix, mpmath.mpc, mpmath.mpf)):
        return x
    a = np.asarray(x)
    if a.ndim == 0:
        v = complex(a.item())
        return mpmath.mpc(v.real, v.imag)
    a = np.atleast_2d(a).astype(complex)
    m = mpmath.matrix(a.shape[0], a.shape[1])
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            m[i, j] = mpmath.mpc(a[i, j].real, a[i, j].imag)
    return m


def _mp_to_np(x: Any) -> Any:
    """An mpmath value as a numpy value (complex; for reports)."""
    if isinstance(x, mpmath.matrix):
        return np.array([[complex(x[i, j]) for j in range(x.cols)] for i in range(x.rows)])
    return np.asarray(complex(x))


class _MpEvaluator:
    """Evaluate claims and results in mpmath (complex, at the caller's ``mpmath.workdps``)
    through the one code generator; matrices are ``mpmath.matrix``."""

    def __init__(self, env: dict, sizes: dict) -> None:
        self.env = env
        self.sizes = sizes

    def __call__(self, e: Any) -> Any:
        try:
            return _codegen.evaluate(e, self.env, self.sizes, backend="mpc")
        except _codegen.Unsupported as exc:
            raise _Undefined(str(exc)) from None
        except (IndexError, KeyError) as exc:
            raise _Undefined(f"entry out of range: {exc}") from None
        except ZeroDivisionError as exc:
            raise _Undefined(f"singular matrix: {exc}") from None


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

    def point(self, k: int) -> tuple[dict, dict, dict, dict] | None:
        """One point: (environment for evaluation, sizes, values to report, leaf values)."""
        rng = self.rng
        sizes: dict = {}
        if self.size_syms:
            if k % 3 == 0:
                # equal sizes (shape-mismatched claims then still evaluate), cycling through
                # every choice, the largest first, so that each size is tried
                big = sorted((c for c in self.size_choices if c > 1), reverse=True) or list(self.size_choices)
                common = int(big[(k // 3) % len(big)])
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
            leaves = dict(env)
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
            return env, sizes, report, leaves
        return None

    def mp_env(self, leaves: dict, sizes: dict) -> dict:
        """The environment of a point in mpmath arithmetic: the leaf values (exact
        conversions of the doubles drawn) and the intermediates recomputed from them."""
        env = {k: _mp(v) for k, v in leaves.items()}
        ev = _MpEvaluator(env, sizes)
        for m, value in self.ctx.values.items():
            env[m] = ev(value)
        for m, (d, is_inverse) in self._definitions_in_order():
            val = ev(d)
            if is_inverse:
                try:
                    val = mpmath.inverse(val)
                except ZeroDivisionError:
                    raise _Undefined(f"{_short(d)} is singular") from None
            env[m] = val
        return env

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
        role: Role = "precision" if m in self.ctx.spd and rows == cols else "vector" if vector else "matrix"
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
    unit_set = set(units)
    if not unit_set & expr.free_symbols:
        return expr

    def is_power(x: Any) -> bool:
        return isinstance(x, sp.Pow) and x.base in unit_set and x.exp.is_Integer and x.exp > 1

    out = expr.replace(is_power, lambda x: kind.reduce_powers(x, [x.base]))
    return sp.expand(out) if out != expr else expr


def _constant_value(d: Any) -> Any:
    """``d`` to 30 significant digits when it is a constant that is provably nonzero,
    else None (not a constant, or sympy cannot tell it apart from 0)."""
    if not isinstance(d, sp.Expr) or d.free_symbols or d.has(MatrixExpr, MatScalar, SumLogPartition):
        return None
    if d.is_zero is False and d.is_number and d.is_Number:
        return d
    try:
        v = sp.N(d, 30, strict=True)  # raises when the digits cannot be certified
    except Exception:  # noqa: BLE001 - PrecisionExhausted and friends: not decided here
        return None
    return v if v != 0 else None


def _nonzero(d: Any, proved_by: str) -> tuple[str, str] | None:
    """("nonzero", reason) when ``d`` is shown to be nonzero everywhere."""
    v = _constant_value(d)
    if v is not None:
        shown = _short(d, 80)
        if d.is_Number or shown == str(v):
            return "nonzero", f"the difference (claim - derived) is the nonzero constant {shown}"
        return "nonzero", f"the difference (claim - derived) is the nonzero constant {shown} = {sp.N(v, 6)}"
    if (isinstance(d, sp.Expr) and d.free_symbols and not d.has(MatrixExpr, MatScalar, SumLogPartition)
            and d.is_zero is False):
        return "nonzero", (f"the difference (claim - derived) {proved_by} {_short(d, 80)}, which the declared "
                           "assumptions show is never 0")
    return None


class _Unsupported(Exception):
    """A matrix expression outside the bilinear normal form (the numeric test decides)."""


class _Bilinear:
    """Normal form of abstract matrix expressions as sums of words of matrix atoms.

    A matrix expression is expanded into ``{word: coefficient}``, a word being a tuple of
    ``(atom, transposed)`` factors (``Identity`` is the empty word).  A 1x1 product is a
    scalar equal to its own transpose, so ``a^T W v`` and ``v^T W^T a`` are one word;
    atoms known to be symmetric (sampled symmetric, or the inverse of a symmetric
    expression such as ``C = (I - U U^T)^{-1}``) drop their transpose flag.  With this,
    ``(b + W^T v)^T C (b + W^T v)`` and its expansion have the same normal form, which
    proves abstract-mode claims without explicit matrices.
    """

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.symmetric: dict = {}
        self.placeholders: dict = {}

    # -- symmetry -------------------------------------------------------------------------
    def is_symmetric(self, atom: Any) -> bool:
        if atom in self.symmetric:
            return self.symmetric[atom]
        self.symmetric[atom] = False  # no infinite recursion through definitions
        out = False
        if atom in self.ctx.spd or atom in self.ctx.symmetric:
            out = True
        self.symmetric[atom] = out
        return out

    # -- expansion --------------------------------------------------------------------------
    def transpose_word(self, w: tuple) -> tuple:
        return tuple((a, False if self.is_symmetric(a) else not t) for a, t in reversed(w))

    def transpose(self, words: dict) -> dict:
        out: dict = {}
        for w, c in words.items():
            k = self.transpose_word(w)
            out[k] = out.get(k, 0) + c
        return out

    def expand(self, e: Any, depth: int = 0) -> dict:
        if depth > 40:
            raise _Unsupported("nesting")
        if isinstance(e, sp.MatrixSymbol):
            if e in self.ctx.definitions:  # an intermediate: its definition, C = D or C = D^{-1}
                d, is_inverse = self.ctx.definitions[e]
                return self.inverse(d, depth) if is_inverse else self.expand(d, depth + 1)
            return {((e, False),): sp.S.One}
        if isinstance(e, sp.Identity):
            return {(): sp.S.One}
        if isinstance(e, sp.ZeroMatrix):
            return {}
        if isinstance(e, sp.MatAdd):
            out: dict = {}
            for a in e.args:
                for w, c in self.expand(a, depth + 1).items():
                    out[w] = out.get(w, 0) + c
            return out
        if isinstance(e, sp.MatMul):
            acc: dict = {(): sp.S.One}
            for a in e.args:
                if isinstance(a, MatrixExpr):
                    part = self.expand(a, depth + 1)
                    acc = _collect({w1 + w2: c1 * c2 for w1, c1 in acc.items() for w2, c2 in part.items()})
                elif isinstance(a, sp.Expr) and not a.has(MatrixExpr):
                    acc = {w: c * a for w, c in acc.items()}
                else:
                    raise _Unsupported(type(a).__name__)
            return acc
        if isinstance(e, sp.Transpose):
            return self.transpose(self.expand(e.arg, depth + 1))
        if isinstance(e, sp.Inverse):
            return self.inverse(e.arg, depth)
        if isinstance(e, sp.MatPow) and isinstance(e.exp, sp.Integer):
            k = int(e.exp)
            if k == -1:
                return self.inverse(e.base, depth)
            if not 0 <= k <= 8:
                raise _Unsupported("a matrix power outside 0..8")
            base = self.expand(e.base, depth + 1)
            acc = {(): sp.S.One}
            for _ in range(k):
                acc = _collect({w1 + w2: c1 * c2 for w1, c1 in acc.items() for w2, c2 in base.items()})
            return acc
        raise _Unsupported(type(e).__name__)

    def inverse(self, m: Any, depth: int) -> dict:
        """``m^{-1}`` as one atom named by the normal form of ``m`` (``(X^T)^{-1} = (X^{-1})^T``)."""
        words = self.expand(m, depth + 1)
        k1, k2 = self._form_key(words), self._form_key(self.transpose(words))
        atom = ("inverse", repr(min(k1, k2)))
        self.symmetric[atom] = k1 == k2
        return {((atom, k1 > k2 and k1 != k2),): sp.S.One}

    # -- scalars ------------------------------------------------------------------------------
    def _key(self, w: tuple) -> tuple:
        return tuple((a.name if isinstance(a, sp.MatrixSymbol) else repr(a), t) for a, t in w)

    def scalar(self, m: Any) -> sp.Expr:
        """``MatScalar(m)`` as a linear combination of canonical placeholder symbols."""
        total = sp.S.Zero
        for w, c in self.expand(m).items():
            k = min(self._key(w), self._key(self.transpose_word(w)))
            sym = self.placeholders.get(k)
            if sym is None:
                sym = sp.Dummy(f"w{len(self.placeholders)}")
                self.placeholders[k] = sym
            total += c * sym
        return total

    def _form_key(self, words: dict) -> tuple:
        items = []
        for w, c in words.items():
            c = sp.expand(c)
            if c != 0:
                items.append((self._key(w), sp.srepr(c)))
        return tuple(sorted(items))

    def invariant(self, kind: str, m: Any) -> sp.Symbol:
        """``det(m)`` or ``tr(m)`` as a placeholder symbol shared by equal normal forms
        (``det(X^T) = det(X)``, ``tr(X^T) = tr(X)``)."""
        words = self.expand(m)
        k = (kind, min(self._form_key(words), self._form_key(self.transpose(words))))
        sym = self.placeholders.get(k)
        if sym is None:
            sym = sp.Dummy(f"{kind}{len(self.placeholders)}")
            self.placeholders[k] = sym
        return sym

    def normal(self, d: sp.Expr) -> sp.Expr:
        """A scalar expression with every MatScalar, determinant and trace replaced by
        its normal form, expanded."""
        out = d.replace(lambda x: isinstance(x, (sp.Determinant, sp.Trace)),
                        lambda x: self.invariant(type(x).__name__, x.arg))
        out = out.replace(lambda x: isinstance(x, MatScalar), lambda x: self.scalar(x.args[0]))
        return sp.expand(out)


def _collect(words: dict) -> dict:
    out: dict = {}
    for w, c in words.items():
        out[w] = out.get(w, 0) + c
    return out


def _same(a: dict, b: dict) -> bool:
    keys = set(a) | set(b)
    return all(sp.expand(a.get(k, 0) - b.get(k, 0)) == 0 for k in keys)


def _symmetric_entries(d: Any, ctx: _Context) -> Any:
    """``d`` with every entry ``C[j, i]`` (``i < j``) of a symmetric intermediate written ``C[i, j]``.

    An intermediate is symmetric when the normal form of its definition equals that of
    its transpose (``C = (I - U U^T)^{-1}``), the rule the abstract mode uses; index
    notation sums over both orders (``\\sum_{k,l} W_{ik} C_{kl} W_{jl}``).
    """
    rep: dict = {}
    bil = _Bilinear(ctx)
    for el in d.atoms(MatrixElement):
        m, i, j = el.args
        if not (isinstance(m, sp.MatrixSymbol) and m in ctx.definitions and i.is_Integer and j.is_Integer and i > j):
            continue
        try:
            words = bil.expand(m)
        except _Unsupported:
            continue
        if words == bil.transpose(words):
            rep[el] = m[j, i]
    return d.xreplace(rep) if rep else d


def _symbolic_step(diff: Any, ctx: _Context) -> tuple[str, str]:
    """("zero", how), ("nonzero", how) or ("unknown", "") for the difference of the two sides."""
    if not _is_matrix(diff) and ctx.definitions and diff.has(MatrixElement):
        diff = _symmetric_entries(diff, ctx)
    if _is_matrix(diff):
        if isinstance(diff, sp.ZeroMatrix) or (isinstance(diff, sp.MatrixBase) and all(x == 0 for x in diff)):
            return "zero", "the difference is the zero matrix"
        if isinstance(diff, sp.MatrixBase):
            entries = list(diff)
            for k, x in enumerate(entries):
                x = sp.expand(x)
                for kind, units in ctx.reductions:
                    x = _reduce_powers(x, kind, units)
                entries[k] = x
                if x != 0 and _constant_value(x) is not None:
                    i, j = divmod(k, diff.cols)
                    return "nonzero", f"entry ({i + 1}, {j + 1}) of the difference is the nonzero constant {_short(x, 80)}"
            if all(x == 0 or (sp.count_ops(x) < SIMPLIFY_LIMIT and sp.simplify(x) == 0) for x in entries):
                return "zero", "every entry of the difference simplifies to 0"
            return "unknown", ""
        try:
            words = _Bilinear(ctx).expand(diff)
        except _Unsupported:
            words = None
        if words is not None and all(sp.expand(c) == 0 for c in words.values()):
            return "zero", "the difference expands to the zero matrix"
        try:
            d = sp.expand(diff.doit())
        except Exception:  # noqa: BLE001 - matrix canonicalization is best effort
            return "unknown", ""
        if isinstance(d, sp.ZeroMatrix) or d == 0:
            return "zero", "the difference expands to the zero matrix"
        return "unknown", ""
    if diff == 0:
        return "zero", "the two expressions are identical"
    d = sp.expand(diff)
    if d == 0:
        return "zero", "the difference expands to 0"
    found = _nonzero(d, "expands to")
    if found:
        return found
    for kind, units in ctx.reductions:
        d = _reduce_powers(d, kind, units)
    if d == 0:
        return "zero", "the difference vanishes after the reduction rules of the units (v**2 = v, s**2 = 1)"
    if d.has(MatScalar, sp.Determinant, sp.Trace) and not ctx.explicit:
        try:
            n = _Bilinear(ctx).normal(d)
        except _Unsupported:
            n = None
        if n == 0:
            return "zero", ("the difference vanishes once the matrix products are expanded and each 1x1 product "
                            "is put in a canonical order (a^T B c = c^T B^T a, symmetric intermediates)")
    if ctx.explicit and d.has(sp.MatrixSymbol) and sum(v.rows * v.cols for v in ctx.explicit.values()) <= EXPLICIT_LIMIT:
        # explicit mode: write matrix forms by their entries on both sides, then compare
        try:
            d = _explicit_form(d, ctx.explicit)
            if ctx.definitions and d.has(MatrixElement):
                d = sp.expand(_symmetric_entries(d, ctx))
            for kind, units in ctx.reductions:
                d = _reduce_powers(d, kind, units)
        except (TypeError, ValueError, sp.ShapeError, AttributeError):  # best effort; the numeric test follows
            return "unknown", ""
        if d == 0:
            return "zero", ("the difference vanishes once matrices are written by their entries "
                            "(with the reduction rules of the units)")
        found = _nonzero(d, "written by entries is")
        if found and not ctx.reductions:
            return found
    if not d.has(sp.MatrixSymbol) and sp.count_ops(d) < SIMPLIFY_LIMIT:
        d = sp.simplify(d)
        if d == 0:
            return "zero", "the difference simplifies to 0 (with the declared assumptions)"
        if not any(set(units) & d.free_symbols for _, units in ctx.reductions):
            found = _nonzero(d, "simplifies to")
            if found:
                return found
    return "unknown", ""


# --------------------------------------------------------------------------------------
# bounded work: a step runs in a child process that is ended when its budget is spent
# --------------------------------------------------------------------------------------


class _OverBudget(Exception):
    """A step of :func:`verify` ran out of its time (or memory) budget."""


def _limit_memory(extra_bytes: int = 4 << 30) -> None:
    """Cap the address space of this (child) process at its current size plus ``extra_bytes``."""
    try:
        import resource

        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = size + extra_bytes
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        if soft == resource.RLIM_INFINITY or cap < soft:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, OSError, ValueError, AttributeError):  # not Linux: no memory cap
        pass


_SYMRG_ERRORS = {cls.__name__: cls for cls in (BudgetError, ClaimError, VerifyError)}


def _bounded(fn: Callable[[], Any], seconds: float | None, what: str) -> Any:
    """``fn()``, given at most ``seconds`` of wall-clock time (and 4 GB more memory).

    On POSIX the call runs in a forked child process, which is killed when the budget
    is spent, so even work that never returns to Python (a huge integer power, a
    runaway simplification) ends; the result comes back pickled (plain data only: the
    child is this very process, so nothing foreign is unpickled).  Raises
    :class:`_OverBudget` naming ``what``.  Without ``fork`` (or with ``seconds=None``)
    ``fn`` runs unbounded in this process.
    """
    if seconds is None or not hasattr(os, "fork"):
        return fn()
    r, w = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (Python >= 3.12)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child process (coverage does not follow it)
        code = 0
        try:
            os.close(r)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            _limit_memory()
            try:
                out: Any = ("ok", fn())
            except MemoryError:
                out = ("memory", "")
            except BaseException as e:  # noqa: BLE001 - reported to the parent
                out = ("error", type(e).__name__, _short(e, 2000))
            try:
                data = pickle.dumps(out)
            except Exception as e:  # noqa: BLE001
                data = pickle.dumps(("error", type(e).__name__, _short(e, 2000)))
            with os.fdopen(w, "wb") as f:
                f.write(data)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    deadline = time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _OverBudget(f"{what} ({seconds:g} s)")
            ready, _, _ = select.select([r], [], [], left)
            if ready:
                chunk = os.read(r, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(r)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:  # pragma: no cover
            pass
        os.waitpid(pid, 0)
    if not chunks:
        raise _OverBudget(f"{what} (the worker process ended without a result; memory budget?)")
    out = pickle.loads(b"".join(chunks))  # noqa: S301 - written by our own forked child
    if out[0] == "ok":
        return out[1]
    if out[0] == "memory":
        raise _OverBudget(f"{what} (memory: 4 GB)")
    name, msg = out[1], out[2]
    if name in _SYMRG_ERRORS:
        raise _SYMRG_ERRORS[name](msg)
    if name in ("RecursionError",):
        raise _OverBudget(f"{what} (recursion depth)")
    raise RuntimeError(f"internal error in {what}: {name}: {msg}")


# --------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------


def _as_value(obj: Any) -> Any:
    if hasattr(obj, "rhs_latex") and hasattr(obj, "energy"):
        return obj.energy
    return obj


def _prime(c: Any) -> str:
    return f"{c}'"


def named_results(obj: Any) -> dict[str, Any] | None:
    """The results a verifiable object holds, by name, or None for a plain expression.

    Recursion maps, chain decimations and lattice cumulant RG results hold one image per
    coupling, named with a prime (``K'``, ``h'``, and ``g'`` for the constant); a
    cumulant expansion holds its series (``log<exp(-X)>``); a cumulant series the
    coefficient of each subset of units (``c[v_1 v_2]``, summed to its order).

    >>> from symrg.rg.chain import decimate_chain
    >>> sorted(named_results(decimate_chain("spin", 2)))
    ["K'", "g'", "h'"]
    """
    if isinstance(obj, (sp.Basic, sp.MatrixBase, str)) or (hasattr(obj, "rhs_latex") and hasattr(obj, "energy")):
        return None
    out: dict[str, Any] = {}
    images = getattr(obj, "images", None)
    couplings = getattr(obj, "couplings", None)
    if isinstance(images, Mapping):
        out.update({_prime(c): e for c, e in images.items()})
    elif isinstance(images, tuple) and isinstance(couplings, tuple) and len(images) == len(couplings):
        out.update({_prime(c): e for c, e in zip(couplings, images)})
    if out:
        constant, image = getattr(obj, "constant", None), getattr(obj, "constant_image", None)
        if isinstance(constant, sp.Symbol) and isinstance(image, sp.Basic):
            out[_prime(constant)] = image
        return out
    if hasattr(obj, "cumulants") and isinstance(getattr(obj, "expr", None), sp.Basic):
        return {"log<exp(-X)>": obj.expr}
    if hasattr(obj, "orders") and hasattr(obj, "subsets") and hasattr(obj, "total"):
        return {f"c[{' '.join(map(str, key))}]": obj.total(*key) for key in obj.subsets()}
    return None


_LHS = re.compile(r"^\s*\$?\s*(\\?[A-Za-z][A-Za-z0-9_]*)\s*(?:'|\^\{\s*\\prime\s*\}|\^\\prime)\s*=(?!=)")


def _select_result(claim: Any, derived: Any, results: dict, result: str | None) -> tuple[Any, Any]:
    """(claim without its left side, the named result it is compared with)."""
    name = result
    if name is None and isinstance(claim, str):
        m = _LHS.match(claim)
        if m:
            name = m.group(1).lstrip("\\") + "'"
            claim = claim[m.end():]
    if name is None:
        if len(results) == 1:
            return claim, next(iter(results.values()))
        raise VerifyError(f"this {type(derived).__name__} holds several results ({', '.join(results)}); name one "
                          f"with result=..., or write the claim as \"{next(iter(results))} = ...\"")
    for key in (str(name), _prime(name)):
        if key in results:
            return claim, results[key]
    raise VerifyError(f"no result {name!r} in this {type(derived).__name__}; its results: {', '.join(results)}")


def _shape_of(x: Any) -> tuple | None:
    if isinstance(x, (MatrixExpr, sp.MatrixBase)):
        return tuple(x.shape)
    return None


def _max_power(exprs: Sequence[Any]) -> int:
    """The largest integer exponent (scalar or matrix power) in ``exprs`` (1 when none)."""
    best = 1
    for e in exprs:
        if isinstance(e, sp.MatrixBase):
            items = list(e)
        elif isinstance(e, sp.Basic):
            items = [e]
        else:
            continue
        for x in items:
            for p in x.atoms(sp.Pow, sp.MatPow):
                ex = p.args[1]
                if isinstance(ex, sp.Integer):
                    best = max(best, min(abs(int(ex)), 10**6))
    return best


def _size_choices(sizes: Sequence[int], exprs: Sequence[Any]) -> list[int]:
    try:
        choices = sorted({int(s) for s in sizes})
    except (TypeError, ValueError):
        raise VerifyError(f"sizes must be positive integers, got {sizes!r}") from None
    if not choices or choices[0] < 1 or choices[-1] > MAX_SIZE:
        raise VerifyError(f"sizes must be integers from 1 to {MAX_SIZE}, got {list(sizes)!r}")
    # a matrix identity can hold for every size up to its degree and fail above it
    # (Cayley-Hamilton): try one size above the largest power, within MAX_SIZE
    above = min(_max_power(exprs) + 1, MAX_SIZE)
    if above > choices[-1]:
        choices.append(above)
    return choices


def _check_options(n_points: Any, digits: Any, budgets: Mapping[str, Any], rtol: Any, atol: Any) -> None:
    if isinstance(n_points, bool) or not isinstance(n_points, int) or not 1 <= n_points <= 10_000:
        raise VerifyError(f"n_points must be an integer from 1 to 10000, got {n_points!r}")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 20 <= digits <= 1000:
        raise VerifyError(f"digits must be an integer from 20 to 1000, got {digits!r}")
    for name, v in budgets.items():
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1e7):
            raise VerifyError(f"{name} must be a positive number of seconds or None, got {v!r}")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
            raise VerifyError(f"{name} must be a number in [0, 1), got {v!r}")


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
    sizes: Sequence[int] = (1, 2, 3, 4, 5, 6),
    symbolic: bool = True,
    syntax: str = "auto",
    digits: int = 50,
    symbolic_budget: float | None = 10.0,
    numeric_budget: float | None = 60.0,
    result: str | None = None,
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
        A recursion map, chain decimation, lattice cumulant RG result, cumulant
        expansion or cumulant series holds several results (see
        :func:`named_results`): the claim is compared with the one named by ``result``
        or by its left side (``"K' = ..."``), and may use every coupling symbol.
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
        Two double-precision values ``x, y`` agree when
        ``|x - y| <= atol + rtol * max(1, |x|, |y|)``.
    sizes
        The sizes tried for symbolic dimensions (abstract mode), from 1 to
        :data:`MAX_SIZE`; one size above the largest integer power in either side is
        added (Cayley-Hamilton: a matrix identity can hold up to its degree only).
    symbolic
        Try the symbolic simplification first.
    syntax
        ``"auto"``, ``"sympy"`` or ``"latex"`` for string claims.
    digits
        Significant digits of the mpmath re-check of the points that agree in double
        precision; there two values agree when they differ by at most
        ``10**-(digits - 10)`` relative to ``max(1, |x|, |y|)`` (a larger difference is
        confirmed with 30 more digits before it counts).
    symbolic_budget, numeric_budget
        Seconds of wall-clock time for the symbolic attempt and for the numeric
        comparison (each runs in a child process that is ended when its budget is
        spent; ``None``: no limit).  A spent symbolic budget leaves the decision to the
        numeric test; a spent numeric budget gives ``"undecided"`` naming the budget.
    result
        Which result of a map or series to compare with (``"K'"`` or ``"K"``).

    Returns
    -------
    Verdict
        ``status`` is ``"equal"`` only with a symbolic proof; ``"consistent"`` when the
        two sides agree at every point tried without a proof.

    Raises
    ------
    symrg.errors.ClaimError
        The claim string is malformed, unsafe, or uses unknown names.
    symrg.errors.BudgetError
        A sympy expression given as claim or result exceeds a size budget of
        :mod:`symrg.model.budgets` (nodes, expanded size, depth, numbers).
    symrg.errors.VerifyError
        The derived result is of a kind that cannot be compared, or an option is invalid.

    Examples
    --------
    >>> import sympy as sp
    >>> K = sp.Symbol("K", positive=True)
    >>> verify("log(cosh(2*K))/2", sp.log(sp.cosh(2*K))/2).reason
    'the two expressions are identical'
    >>> v = verify("K**2", K**3, seed=1)
    >>> v.status, v.method
    ('not equal', 'numeric')
    >>> v = verify("exp(x**2 + 50)", "exp(x**2 + 50) + 1")
    >>> v.status, v.method, v.reason
    ('not equal', 'symbolic', 'the difference (claim - derived) is the nonzero constant -1')
    """
    _check_options(n_points, digits, {"symbolic_budget": symbolic_budget, "numeric_budget": numeric_budget},
                   rtol, atol)
    # sympy objects given directly are walked as graphs before anything traverses them as trees
    for what, x in (("the claim", claim), ("the derived result", derived), ("where", list(dict(where or {}).values())),
                    ("conditions", list(conditions))):
        if isinstance(x, (sp.Basic, sp.MatrixBase)) or (isinstance(x, list) and x):
            check_expression(x, what)
    ctx = _Context()
    if hasattr(derived, "rhs_latex") and hasattr(derived, "energy"):
        ctx.add_model(derived)
        model = model if model is not None else derived
    if model is not None and model is not derived:
        ctx.add_model(model)
    results = named_results(derived)
    if results is not None:
        # a map, decimation or series: its named results; every coupling symbol is a known name
        claim, picked = _select_result(claim, derived, results, result)
        ns = Namespace(strict=True)
        for e in results.values():
            ns.add_expression(e)
        for c in getattr(derived, "couplings", ()) or ():
            if isinstance(c, sp.Symbol):
                ns.add(c)
        derived = picked
    else:
        if result is not None:
            raise VerifyError(f"result={result!r}: a {type(derived).__name__} holds a single result")
        ns = Namespace(strict=True)
    for src in (derived, model):
        if src is not None:
            ns.add_expression(src)
    if isinstance(derived, str):
        ns = Namespace(strict=False)
        derived = parse_claim(derived, ns, syntax)
    elif isinstance(derived, (int, float)) and not isinstance(derived, bool):
        derived = parse_claim(derived, ns, syntax)
    derived_value = _as_value(derived)
    if not isinstance(derived_value, (sp.Basic, sp.MatrixBase)):
        raise VerifyError(f"cannot compare a claim with a {type(derived_value).__name__}; give an energy model, "
                          "a sympy expression or matrix, or a string")
    ns.add_expression(derived_value)
    for k, v in dict(where or {}).items():
        target = ns.names.get(k) if isinstance(k, str) else k
        if not isinstance(target, sp.MatrixSymbol) or not isinstance(v, (sp.Basic, sp.MatrixBase)):
            raise VerifyError(f"where: {k!r} must name a matrix symbol of the result and map to a sympy expression")
        ctx.definitions[target] = (v.arg, True) if isinstance(v, sp.Inverse) else (v, False)
        ns.add(target)
        ns.add_expression(v)
    for c in conditions:
        if not isinstance(c, (sp.Basic, sp.MatrixBase)):
            raise VerifyError(f"a condition must be a sympy matrix expression, got {type(c).__name__}")
        ctx.conditions.append((c, "given condition"))
    claim_value = parse_claim(_as_value(claim), ns, syntax)
    # explicit matrices as immutable (hashable) ones: both sides are used as dictionary keys
    if isinstance(claim_value, sp.MatrixBase):
        claim_value = sp.ImmutableMatrix(claim_value)
    if isinstance(derived_value, sp.MatrixBase):
        derived_value = sp.ImmutableMatrix(derived_value)

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

    choices = _size_choices(sizes, [claim_value, derived_value])
    sym: tuple[str, str] = ("unknown", "")
    spent = ""
    if symbolic:
        try:
            diff = claim_value - derived_value
        except (TypeError, ValueError, sp.ShapeError):
            diff = None
        if diff is not None:
            try:
                sym = _bounded(lambda: _safe_symbolic_step(diff, ctx), symbolic_budget, "symbolic simplification")
            except _OverBudget as e:
                spent = str(e)
    if sym[0] == "zero":
        return Verdict("equal", "symbolic", sym[1], claim=claim_value, derived=derived_value)
    try:
        num = _bounded(lambda: _compare(claim_value, derived_value, ctx, n_points, seed, rtol, atol, choices, digits),
                       numeric_budget, "numeric comparison")
    except _OverBudget as e:
        if sym[0] == "nonzero":
            return Verdict("not equal", "symbolic", sym[1], claim=claim_value, derived=derived_value)
        why = f"the time budget of the {e} was spent"
        if spent:
            why = f"the time budgets of the {spent} and of the {e} were spent"
        return Verdict("undecided", "", why, claim=claim_value, derived=derived_value, budget=str(e))
    num = replace(num, claim=claim_value, derived=derived_value)
    if sym[0] == "nonzero":
        ce = num.counterexample if num.status == "not equal" else None
        num = replace(num, status="not equal", method="symbolic", reason=sym[1], counterexample=ce)
    if spent and num.status in ("consistent", "undecided"):
        num = replace(num, reason=f"{num.reason}; the symbolic attempt stopped at its budget, {spent}", budget=spent)
    return _with_diagnosis(num, ctx, choices, seed, numeric_budget)


#: points at which a diagnosis looks for a simple relation between the two sides
DIAGNOSIS_POINTS = 12


def _with_diagnosis(v: Verdict, ctx: _Context, choices: Sequence[int], seed: int, budget: float | None) -> Verdict:
    """A "not equal" verdict with the kind of difference named (:mod:`symrg.verify.diagnosis`).

    The diagnosis evaluates both sides (and their terms) at fresh points of the valid
    region, in a child process with the numeric budget; a diagnosis that fails or runs
    out of time is simply left out.
    """
    if v.status != "not equal" or v.claim is None or v.derived is None:
        return v

    def evaluate(exprs: Sequence[Any]) -> list:
        sampler = _Sampler(list(exprs), ctx, np.random.default_rng(seed + 1), choices)
        out = []
        with np.errstate(all="ignore"):
            for k in range(DIAGNOSIS_POINTS):
                pt = sampler.point(k)
                if pt is None:
                    continue
                env, szs, report, _ = pt
                try:
                    vals = [np.asarray(_Evaluator(env, szs)(e)) for e in exprs]
                except (_Undefined, ValueError, ZeroDivisionError, OverflowError, TypeError):
                    continue
                if all(np.all(np.isfinite(x)) for x in vals):
                    out.append((report, vals))
        return out

    try:
        found = _bounded(lambda: diagnose(v.claim, v.derived, evaluate), budget, "diagnosis")
    except Exception:  # noqa: BLE001 - a diagnosis is a courtesy: never at the cost of the verdict
        return v
    return replace(v, diagnosis=found) if found is not None else v


def _safe_symbolic_step(diff: Any, ctx: _Context) -> tuple[str, str]:
    # the symbolic attempt is best effort: sympy may refuse exotic input in many ways
    try:
        return _symbolic_step(diff, ctx)
    except RecursionError:
        raise
    except Exception:  # noqa: BLE001 - any failure leaves the decision to the numeric test
        return "unknown", ""


def _mp_difference(c: Any, d: Any) -> tuple[Any, Any]:
    """(max |c - d|, max(1, |c|, |d|)) of two mpmath values (scalars or matrices)."""
    cm, dm = isinstance(c, mpmath.matrix), isinstance(d, mpmath.matrix)
    if cm and (c.rows, c.cols) == (1, 1) and not dm:
        c, cm = c[0, 0], False
    if dm and (d.rows, d.cols) == (1, 1) and not cm:
        d, dm = d[0, 0], False
    if cm != dm or (cm and (c.rows, c.cols) != (d.rows, d.cols)):
        return mpmath.inf, mpmath.mpf(1)
    if cm:
        cs = [c[i, j] for i in range(c.rows) for j in range(c.cols)]
        ds = [d[i, j] for i in range(d.rows) for j in range(d.cols)]
    else:
        cs, ds = [c], [d]
    diff = max((abs(x - y) for x, y in zip(cs, ds)), default=mpmath.mpf(0))
    scale = max([mpmath.mpf(1)] + [abs(x) for x in cs] + [abs(y) for y in ds])
    return diff, scale


def _hp_compare(claim: Any, derived: Any, sampler: _Sampler, leaves: dict, sizes: dict, digits: int) -> tuple | None:
    """Compare both sides at one point with mpmath.

    Returns None when a side cannot be evaluated there, else
    ``(differs, relative difference, claimed, derived, dps)``: a difference above
    ``10**-(digits - 10)`` counts only if it persists with 30 more digits (so that
    rounding in a cancelling expression is not taken for a difference).
    """

    def at(dps: int) -> tuple:
        with mpmath.workdps(dps):
            env = sampler.mp_env(leaves, sizes)
            ev = _MpEvaluator(env, sizes)
            d = ev(derived)
            c = ev(claim)
            diff, scale = _mp_difference(c, d)
            return diff / scale, c, d

    tol = mpmath.mpf(10) ** (10 - digits)
    try:
        rel, c, d = at(digits)
        if rel <= tol:
            return False, float(rel), c, d, digits
        rel, c, d = at(digits + 30)
    except (_Undefined, ValueError, ZeroDivisionError, TypeError, OverflowError, AttributeError):
        return None
    return bool(rel > tol), float(rel), c, d, digits + 30


def _mp_difference_text(c: Any, d: Any) -> str:
    if isinstance(c, mpmath.matrix) or isinstance(d, mpmath.matrix):
        diff, _ = _mp_difference(c, d)
        return f"a matrix with largest entry {mpmath.nstr(diff, 6)} in absolute value"
    return _mp_text(mpmath.mpc(c) - mpmath.mpc(d))


def _mp_text(x: Any) -> str:
    if isinstance(x, mpmath.matrix):
        return "(matrix)" if x.rows * x.cols > 1 else _mp_text(x[0, 0])
    x = mpmath.mpc(x)
    if abs(x.imag) <= abs(x.real) * mpmath.mpf(10) ** (-mpmath.mp.dps // 2):
        return mpmath.nstr(x.real, 8)
    return mpmath.nstr(x, 8)


def _compare(claim: Any, derived: Any, ctx: _Context, n_points: int, seed: int, rtol: float, atol: float,
             choices: Sequence[int], digits: int) -> Verdict:
    """The numeric comparison: double precision at every point, then mpmath re-checks."""
    rng = np.random.default_rng(seed)
    sampler = _Sampler([claim, derived], ctx, rng, choices)
    compared = 0
    worst = 0.0
    rounding = 0
    undefined: Counterexample | None = None
    agreeing: list = []
    with np.errstate(all="ignore"):
        for k in range(n_points):
            pt = sampler.point(k)
            if pt is None:
                continue
            env, szs, report, leaves = pt
            try:
                d = _Evaluator(env, szs)(derived)
            except (_Undefined, ValueError, ZeroDivisionError, OverflowError, TypeError) as e:
                if isinstance(e, _Undefined) and str(e).startswith("cannot evaluate"):
                    return Verdict("undecided", "", f"the derived result cannot be evaluated numerically: {e}")
                continue
            d = np.asarray(d)
            scale_d = max(1.0, float(np.max(np.abs(d), initial=0.0)))
            if not np.all(np.isfinite(d)) or np.max(np.abs(d.imag), initial=0.0) > 1e-9 * scale_d:
                continue  # outside the real domain of the derived result
            try:
                c = np.asarray(_Evaluator(env, szs)(claim))
            except (_Undefined, ValueError, ZeroDivisionError, OverflowError, TypeError) as e:
                if isinstance(e, _Undefined) and str(e).startswith("cannot evaluate") and "matri" not in str(e):
                    return Verdict("undecided", "", f"the claim cannot be evaluated numerically: {e}")
                if undefined is None:
                    undefined = Counterexample(report, None, _plain(d), float("inf"), f"the claim is undefined here: {e}")
                continue
            if c.shape != d.shape:
                ce = Counterexample(report, _plain(c), _plain(d), float("inf"),
                                    f"the claim has shape {c.shape}, the derived result {d.shape}")
                return Verdict("not equal", "numeric", "the two sides have different shapes", ce, compared, None)
            diff = float(np.max(np.abs(c - d), initial=0.0))
            scale = max(1.0, float(np.max(np.abs(c), initial=0.0)), float(np.max(np.abs(d), initial=0.0)))
            if not np.all(np.isfinite(c)) or diff > atol + rtol * scale:
                # confirm at high precision: double precision may have lost the digits
                hp = _hp_compare(claim, derived, sampler, leaves, szs, digits)
                if hp is None or hp[0]:
                    ce = Counterexample(report, _plain(c), _plain(d), diff if np.isfinite(diff) else float("inf"))
                    return Verdict(
                        "not equal", "numeric",
                        f"the two sides differ at a random point inside the valid region (point {k + 1} of {n_points})",
                        ce, compared + 1, diff, rtol=rtol, atol=atol)
                rounding += 1
            else:
                worst = max(worst, diff)
            compared += 1
            agreeing.append((report, leaves, szs))
    if undefined is not None:
        return Verdict("not equal", "numeric", "the claim is undefined where the derived result is defined",
                       undefined, compared, worst)
    if compared < max(3, n_points // 4):
        why = ("no point inside the valid region was found" if compared == 0
               else f"only {compared} of {n_points} points were inside the valid region")
        return Verdict("undecided", "", f"{why} (conditions: {', '.join(_short(c, 80) for c, _ in ctx.conditions) or 'none'})",
                       None, compared, worst if compared else None)
    # the re-check at `digits` digits: differences below double precision show here
    hp_worst = 0.0
    for report, leaves, szs in agreeing:
        hp = _hp_compare(claim, derived, sampler, leaves, szs, digits)
        if hp is None:
            return Verdict("undecided", "", f"the two sides agree at {compared} points in double precision, but "
                           f"cannot be evaluated with mpmath at {digits} digits for the re-check", None, compared, worst)
        differs, rel, c, d, dps = hp
        if differs:
            with mpmath.workdps(dps):
                note = f"at {dps} digits, claimed - derived = {_mp_difference_text(c, d)}"
                ce = Counterexample(report, _plain(_mp_to_np(c)), _plain(_mp_to_np(d)), rel, note)
            return Verdict(
                "not equal", "numeric",
                f"the two sides agree in double precision but differ at {digits} significant digits at a random "
                f"point inside the valid region (relative difference {rel:.1e})",
                ce, compared, worst, digits=digits, hp_points=len(agreeing), rtol=rtol, atol=atol)
        hp_worst = max(hp_worst, rel)
    tried = sorted({int(v) for _, _, szs in agreeing for v in szs.values()})
    size_note = f"; sizes tried {tried}" if tried else ""
    extra = f" ({rounding} of them only at {digits} digits, double precision lost the digits)" if rounding else ""
    return Verdict(
        "consistent", "numeric",
        f"no symbolic proof; the two sides agree at {compared} seeded random points inside the valid region in "
        f"double precision (rtol={rtol:g}, atol={atol:g}; max difference {worst:.1e}){extra} and at all {compared} "
        f"to {digits} significant digits with mpmath (max relative difference {hp_worst:.1e}){size_note}",
        None, compared, worst, digits=digits, hp_points=compared, rtol=rtol, atol=atol, sizes=tuple(tried),
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
