"""The one numeric code generator: Python source from a model's structure or a sympy expression.

Every numeric route of symrg runs code written here:

* :func:`symrg.output.numeric.lambdify` (numpy and mpmath back-ends) compiles the
  program of :func:`energy_program` against a runtime (:func:`namespace`);
* :mod:`symrg.output.export` writes the same program, after the numpy runtime's source,
  into a standalone module that needs numpy only;
* recursion maps (``RecursionMap.numeric``, ``iterate``) compile :func:`scalar_program`
  (installed as the ``compile_scalars`` service, since ``symrg.rg`` sits below output);
* ``verify`` samples claims with :func:`evaluate` (a complex numpy runtime).

The generated code uses stable forms everywhere: ``log(1 + e^x)`` is ``logaddexp(0, x)``,
``log(2 cosh x)`` is ``|x| + log1p(e^{-2|x|})``, ``log cosh x`` the same minus ``log 2``,
a logarithm of a sum of exponentials is a log-sum-exp shifted by its maximum, and
``log det`` is computed from a Cholesky factor.  Positive-definiteness conditions are
checked with a tolerance relative to the matrix scale (``16 n eps ||M||_2``), and fail on
NaN entries.

Safety: the only text from a model or a file that reaches generated source is (a) string
literals written with :func:`repr` (or :func:`doc_literal` for docstrings), and (b)
argument names that pass :func:`identifier` (``str.isidentifier()``, not a keyword, no
leading underscore; anything else is replaced by a mangled safe name).  Every other
name in generated code is made up here and starts with an underscore.

Input validation (one layer, in the runtime, documented on every callable):

* a layer state is an array of shape ``(n,)`` (one state) or ``(N, n)`` (a batch);
  batches of different layers must have the same ``N``; a single state (or a batch of
  one) is broadcast against the others; the result is a scalar only when every layer
  was given as a single state, otherwise an array of ``N`` energies (never truncated);
* values must be real and finite: NaN/inf raise :class:`~symrg.errors.ConditionError`
  naming the argument, complex values are refused (ConditionError), wrong shapes raise
  :class:`~symrg.errors.ModelError`;
* discrete layers' states must lie in the unit's support (a spin layer given 0/1 is an
  error); scalar symbols declared positive (nonnegative, negative) are checked.

Examples
--------
>>> import sympy as sp
>>> K = sp.Symbol("K")
>>> f = compile_scalars((K,), (sp.log(sp.cosh(K)),), "numpy")
>>> f(1000.0)
(999.3068528194401,)
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagonalOf
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr

from symrg.errors import BudgetError, ConditionError, ExportError, ModelError
from symrg.model.exprs import MatScalar, SumLogPartition

__all__ = [
    "BACKENDS",
    "Unsupported",
    "identifier",
    "doc_literal",
    "Printer",
    "namespace",
    "runtime_source",
    "energy_program",
    "scalar_program",
    "compile_scalars",
    "evaluate",
    "EnergyProgram",
]

BACKENDS = ("numpy", "mpmath")

#: integers with more digits than this are refused in generated code (no silent hang)
MAX_DIGITS = 5000
#: constant exponents larger than this are refused (10**(10**4000) would never finish in mpmath)
MAX_EXPONENT = 10**6


class Unsupported(ExportError):
    """An expression has a part the code generator cannot write as numeric code."""


# --------------------------------------------------------------------------------------
# runtimes: the helper functions generated code calls (names start with "_")
# --------------------------------------------------------------------------------------

_ERRORS_SOURCE = '''
class ConditionError(ValueError):
    """A numeric input violates a condition of the result or a unit's support (NaN, complex, sign)."""


class ModelError(ValueError):
    """An argument has the wrong shape or size."""
'''

_COMMON_SOURCE = r'''
_EPS = 2.220446049250313e-16


def _array(x, what):
    """``x`` as a float array, refused unless real and finite."""
    if isinstance(x, (str, bytes)):
        raise ModelError(f"{what}: expected numbers, got a string")
    try:
        a = _np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ModelError(f"{what}: cannot read it as an array ({exc})") from None
    if a.dtype == object:
        if any(isinstance(v, complex) or type(v).__name__ == "mpc" for v in a.ravel().tolist()):
            raise ConditionError(f"{what}: complex values are not accepted")
        try:
            a = a.astype(float)
        except (TypeError, ValueError):
            raise ModelError(f"{what}: expected real numbers") from None
    if _np.iscomplexobj(a):
        raise ConditionError(f"{what}: complex values are not accepted (got dtype {a.dtype})")
    if a.dtype.kind not in "biuf":
        raise ModelError(f"{what}: expected real numbers, got dtype {a.dtype}")
    a = a.astype(float, copy=False)
    if not _np.isfinite(a).all():
        raise ConditionError(f"{what}: NaN or infinite values are not accepted")
    return a


def _bind(sizes, key, n, what):
    if key in sizes and sizes[key] != n:
        raise ModelError(f"{what}: size {key} is {sizes[key]} elsewhere, got {n}")
    sizes[key] = n
    return n


def _expect(n, expected, what):
    if n != expected:
        raise ModelError(f"{what}: expected size {expected}, got {n}")


def _size(sizes, key):
    if key not in sizes:
        raise ModelError(f"size {key} is not determined by the arguments given")
    return sizes[key]


def _state(x, what, n, sizes, values):
    """A layer's states: ``(n,)`` or ``(N, n)``, in the unit's support ``values``."""
    a = _array(x, what)
    single = a.ndim == 1
    if single:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ModelError(f"{what}: states must have shape (n,) or (N, n), got {a.shape}")
    if isinstance(n, int):
        _expect(a.shape[1], n, what)
    else:
        _bind(sizes, n, a.shape[1], what)
    if values is not None and a.size:
        vals = _np.asarray(values, dtype=float)
        ok = a == vals[0]
        for v in vals[1:]:
            ok |= a == v
        if not ok.all():  # values like sqrt(2) may come rounded: allow 1e-12
            ok[~ok] = _np.isclose(a[~ok][:, None], vals, rtol=1e-12, atol=1e-12).any(axis=-1)
        if not ok.all():
            bad = float(a[~ok][0])
            raise ConditionError(f"{what}: value {bad!r} is outside the support {tuple(float(v) for v in vals)} of its units")
    return _lift(x, a), single, what


def _batch(states):
    """Broadcast the layers' states to a common batch size ``N``; ``single`` when every one was ``(n,)``."""
    sizes = {}
    for a, single, what in states:
        if not single and a.shape[0] != 1:
            sizes.setdefault(a.shape[0], what)
    if len(sizes) > 1:
        desc = ", ".join(f"{w} has {k}" for k, w in sizes.items())
        raise ModelError(f"layer batches of different sizes cannot be combined: {desc} states")
    n = next(iter(sizes), 1)
    single = all(s for _, s, _ in states)
    return n, single, [_np.broadcast_to(a, (n, a.shape[1])) for a, _, _ in states]


def _param(x, what, rows, cols, sizes):
    """A matrix parameter of shape ``(rows, cols)``; a column may be given 1-D."""
    a = _array(x, what)
    if a.ndim == 1 and cols == 1:
        a = a.reshape(-1, 1)
    elif a.ndim == 0 and rows == 1 and cols == 1:
        a = a.reshape(1, 1)
    if a.ndim != 2:
        raise ModelError(f"{what}: expected a 2-D array, got shape {a.shape}")
    for k, d in enumerate((rows, cols)):
        part = f"{what} {'rows' if k == 0 else 'columns'}"
        if isinstance(d, int):
            _expect(a.shape[k], d, part)
        else:
            _bind(sizes, d, a.shape[k], part)
    return _lift(x, a)


def _scalar(x, what, sign):
    """A scalar symbol's value (a number or an array), checked against its declared sign."""
    a = _array(x, what)
    if sign == "positive" and not _np.all(a > 0):
        raise ConditionError(f"{what}: declared positive, got {a.min()!r}")
    if sign == "nonnegative" and not _np.all(a >= 0):
        raise ConditionError(f"{what}: declared nonnegative, got {a.min()!r}")
    if sign == "negative" and not _np.all(a < 0):
        raise ConditionError(f"{what}: declared negative, got {a.max()!r}")
    return _lift(x, a)


def _madd(*ms):
    shapes = {_np.shape(m) for m in ms}
    if len(shapes) > 1:
        raise ValueError(f"cannot add matrices of shapes {sorted(shapes)}")
    out = ms[0]
    for m in ms[1:]:
        out = out + m
    return out


def _rowdot(a, b):
    return (a * b).sum(axis=1)


def _T(a):
    return _np.asarray(a).T


def _entry(m):
    m = _np.asarray(m)
    return m[0, 0] if m.ndim == 2 else m


def _diag(m):
    return _np.asarray(m).diagonal().reshape(-1, 1)


def _trace(m):
    return _np.asarray(m).trace()


def _ix(x):
    return int(round(float(_np.real(x))))


def _pd_check(m, what):
    """Refuse unless the symmetric part of ``m`` is positive definite with a margin relative to its scale.

    The test is a Cholesky factorization of ``S - tol I`` with ``tol = 16 n eps ||S||_inf``
    (it succeeds exactly when the smallest eigenvalue exceeds ``tol``); eigenvalues are
    computed only to explain a refusal.
    """
    f = _np.asarray(m, dtype=float) if not _np.iscomplexobj(m) else None
    if f is None or f.ndim != 2 or f.shape[0] != f.shape[1]:
        raise ConditionError(f"condition violated: {what} is not a real square matrix")
    if not _np.all(_np.isfinite(f)):
        raise ConditionError(f"condition violated: {what} has NaN or infinite entries")
    s = (f + f.T) / 2
    n = s.shape[0]
    scale = float(_np.abs(s).sum(axis=1).max()) if n else 0.0
    tol = 16 * n * _EPS * scale
    try:
        if n == 0 or scale == 0.0:
            raise _np.linalg.LinAlgError
        _np.linalg.cholesky(s - tol * _np.eye(n))
    except _np.linalg.LinAlgError:
        lo = float(_np.linalg.eigvalsh(s).min()) if n else 0.0
        raise ConditionError(
            f"condition violated: {what} is not positive definite "
            f"(smallest eigenvalue {lo:.3g}, tolerance {tol:.3g} relative to its scale {scale:.3g})"
        ) from None
'''

_NUMPY_SOURCE = r'''
_LOG2 = 0.6931471805599453


def _lift(x, a):
    return a


def _R(p, q):
    try:
        return p / q
    except OverflowError:
        raise ConditionError(f"the number {p}/{q} is beyond double precision; use the mpmath back-end") from None


def _F(s):
    return float(s)


def _PI():
    return _np.pi


def _EXP1():
    return _np.e


def _I():
    raise ConditionError("the expression has complex values; the real back-ends refuse it")


_exp, _log, _sqrt, _abs, _sign = _np.exp, _np.log, _np.sqrt, _np.abs, _np.sign
_sin, _cos, _tan, _sinh, _cosh, _tanh = _np.sin, _np.cos, _np.tan, _np.sinh, _np.cosh, _np.tanh
_asin, _acos, _atan, _asinh, _acosh, _atanh = _np.arcsin, _np.arccos, _np.arctan, _np.arcsinh, _np.arccosh, _np.arctanh
_re, _im = _np.real, _np.imag


def _sech(x):
    return 1 / _np.cosh(x)


def _csch(x):
    return 1 / _np.sinh(x)


def _coth(x):
    return 1 / _np.tanh(x)


def _softplus(x):
    return _np.logaddexp(0.0, x)


def _logcosh2(x):
    a = _np.abs(x)  # log(2 cosh x) = |x| + log(1 + exp(-2|x|)), finite for any x
    return a + _np.log1p(_np.exp(-2.0 * a))


def _logcosh(x):
    return _logcosh2(x) - _LOG2


def _lse(*xs):
    z = _np.stack(_np.broadcast_arrays(*[_np.asarray(x, dtype=float) for x in xs]))
    m = z.max(axis=0)
    m = _np.where(_np.isfinite(m), m, 0.0)
    return m + _np.log(_np.exp(z - m).sum(axis=0))


def _lse_values(eta, values):
    z = _np.multiply.outer(eta, _np.asarray(values, dtype=float))
    m = z.max(axis=-1)
    return m + _np.log(_np.exp(z - m[..., None]).sum(axis=-1))


def _lse_rows(z):
    m = z.max(axis=1)
    m = _np.where(_np.isfinite(m), m, 0.0)
    return m + _np.log(_np.exp(z - m[:, None]).sum(axis=1))


def _configs(values, n):
    """Every configuration of n units (itertools.product order: last unit fastest)."""
    vals = _np.asarray(values, dtype=float)
    idx = _np.indices((len(vals),) * n).reshape(n, -1).T
    return vals[idx]


def _log_transfer(eta, q, order, ring, values):
    """log tr prod_k T_k per row, T_k[a, b] = exp(eta_k a - q_kk a^2 / 2 - q_k,k+1 a b) along ``order``.

    Each matrix is scaled by its largest entry, and the running product by its own after
    each step, the scales kept as logarithms (no overflow for any chain length).
    """
    v = _np.asarray(values, dtype=float)
    q = _np.asarray(q, dtype=float)
    o = list(order)
    nxt = o[1:] + o[:1]
    bond = (q[o, nxt] + q[nxt, o]) / 2
    if not ring:
        bond[-1] = 0.0
    logs = (_np.asarray(eta, dtype=float)[:, o, None, None] * v[None, None, :, None]
            - (q[o, o][:, None, None] * (v * v)[None, :, None] / 2)[None]
            - (bond[:, None, None] * _np.outer(v, v)[None])[None])
    top = logs.max(axis=(2, 3))
    mats = _np.exp(logs - top[:, :, None, None])
    out = top.sum(axis=1)
    m = mats[:, 0]
    for k in range(1, len(o)):
        m = m @ mats[:, k]
        s = m.max(axis=(1, 2))
        m = m / s[:, None, None]
        out = out + _np.log(s)
    return out + _np.log(_np.trace(m, axis1=1, axis2=2))


def _slp(eta, kind):
    eta = _np.asarray(eta, dtype=float)
    return {"softplus": _softplus, "logcosh": _logcosh2}[kind](eta).sum()


def _zeros(r, c):
    return _np.zeros((r, c))


def _ones(r, c):
    return _np.ones((r, c))


def _eye(n):
    return _np.eye(n)


def _energies(n):
    return _np.zeros(n)


def _mat(rows):
    return _np.array(rows, dtype=float)


def _chol(m, what):
    _pd_check(m, what)
    m = _np.asarray(m, dtype=float)
    return _np.linalg.cholesky((m + m.T) / 2)


def _inv_pd(m, what):
    L_inv = _np.linalg.inv(_chol(m, what))
    return L_inv.T @ L_inv


def _logdet_pd(m, what):
    return _logdet_chol(_chol(m, what))


def _inv_chol(L):
    L_inv = _np.linalg.inv(L)
    return L_inv.T @ L_inv


def _logdet_chol(L):
    return 2.0 * float(_np.log(_np.diag(L)).sum())


def _det(m):
    return _np.linalg.det(m)


def _matpow(m, k):
    return _np.linalg.matrix_power(m, k)


def _finish(e, single):
    return float(e[0]) if single else e


def _out(x):
    return float(x) if _np.ndim(x) == 0 else x
'''

_MPMATH_SOURCE = r'''


def _mpf(v):
    return v if isinstance(v, (_mp.mpf, _mp.mpc)) else _mp.mpf(v)


_to_mp = _np.frompyfunc(_mpf, 1, 1)


def _lift(x, a):
    return _to_mp(_np.asarray(x, dtype=object).reshape(a.shape))


def _R(p, q):
    return _mp.mpf(p) / q


def _F(s):
    return _mp.mpf(s)


def _PI():
    return +_mp.pi


def _EXP1():
    return +_mp.e


def _I():
    raise ConditionError("the expression has complex values; the real back-ends refuse it")


def _ew(f):
    return _np.frompyfunc(f, 1, 1)


def _sp1(x):
    if isinstance(x, _mp.mpc):
        return _mp.log(1 + _mp.exp(x))
    return x + _mp.log1p(_mp.exp(-x)) if x > 0 else _mp.log1p(_mp.exp(x))


def _lc2(x):
    if isinstance(x, _mp.mpc):
        return _mp.log(2 * _mp.cosh(x))
    a = abs(x)
    return a + _mp.log1p(_mp.exp(-2 * a))


_exp, _log, _sqrt, _abs, _sign = _ew(_mp.exp), _ew(_mp.log), _ew(_mp.sqrt), _ew(abs), _ew(_mp.sign)
_sin, _cos, _tan, _sinh, _cosh, _tanh = (_ew(f) for f in (_mp.sin, _mp.cos, _mp.tan, _mp.sinh, _mp.cosh, _mp.tanh))
_asin, _acos, _atan, _asinh, _acosh, _atanh = (_ew(f) for f in (_mp.asin, _mp.acos, _mp.atan, _mp.asinh, _mp.acosh, _mp.atanh))
_sech, _csch, _coth = _ew(_mp.sech), _ew(_mp.csch), _ew(_mp.coth)
_re, _im = _ew(_mp.re), _ew(_mp.im)
_softplus, _logcosh2 = _ew(_sp1), _ew(_lc2)
_logcosh = _ew(lambda x: _lc2(x) - _mp.ln2)  # ln2 at the caller's working precision


def _lse1(*xs):
    m = max(xs)
    return m + _mp.log(_mp.fsum(_mp.exp(x - m) for x in xs))


def _lse(*xs):
    arrs = _np.broadcast_arrays(*[_np.asarray(x, dtype=object) for x in xs])
    if not arrs[0].shape:
        return _lse1(*[a.item() for a in arrs])
    out = _np.empty(arrs[0].shape, dtype=object)
    for idx in _np.ndindex(out.shape):
        out[idx] = _lse1(*[a[idx] for a in arrs])
    return out


def _lse_values(eta, values):
    vals = [_mpf(v) for v in values]
    return _ew(lambda e: _lse1(*[e * v for v in vals]))(eta)


def _lse_rows(z):
    return _np.array([_lse1(*row) for row in z], dtype=object)


def _configs(values, n):
    vals = _np.array([_mpf(v) for v in values], dtype=object)
    idx = _np.indices((len(vals),) * n).reshape(n, -1).T
    return vals[idx]


def _log_transfer(eta, q, order, ring, values):
    v = [_mpf(x) for x in values]
    q = _np.asarray(q, dtype=object)
    o = list(order)
    nxt = o[1:] + o[:1]
    bond = [(q[i, j] + q[j, i]) / 2 if (ring or k < len(o) - 1) else 0 for k, (i, j) in enumerate(zip(o, nxt))]
    out = []
    for row in _np.asarray(eta, dtype=object):
        m = _mp.eye(len(v))
        for k, i in enumerate(o):
            m = m * _mp.matrix([[_mp.exp(row[i] * a - q[i, i] * a * a / 2 - bond[k] * a * b) for b in v] for a in v])
        out.append(_mp.log(_mp.fsum(m[a, a] for a in range(len(v)))))
    return _np.array(out, dtype=object)


def _slp(eta, kind):
    f = {"softplus": _sp1, "logcosh": _lc2}[kind]
    return _mp.fsum(f(v) for v in _np.ravel(eta))


def _zeros(r, c):
    return _to_mp(_np.zeros((r, c), dtype=object))


def _ones(r, c):
    return _to_mp(_np.ones((r, c), dtype=object))


def _eye(n):
    return _to_mp(_np.eye(n, dtype=int).astype(object))


def _energies(n):
    return _zeros(1, n)[0]


def _mat(rows):
    return _to_mp(_np.array(rows, dtype=object))


def _mpmatrix(m):
    m = _np.asarray(m, dtype=object)
    return _mp.matrix([[_mpf(v) for v in row] for row in m.tolist()])


def _chol(m, what):
    _pd_check(m, what)
    m = _np.asarray(m, dtype=object)
    return _mp.cholesky(_mpmatrix((m + m.T) / 2))


def _inv_pd(m, what):
    L = _chol(m, what)
    Li = _mp.inverse(L)
    out = Li.T * Li
    return _np.array([[out[i, j] for j in range(out.cols)] for i in range(out.rows)], dtype=object)


def _logdet_pd(m, what):
    return _logdet_chol(_chol(m, what))


def _inv_chol(L):
    Li = _mp.inverse(L)
    out = Li.T * Li
    return _np.array([[out[i, j] for j in range(out.cols)] for i in range(out.rows)], dtype=object)


def _logdet_chol(L):
    return 2 * _mp.fsum(_mp.log(L[i, i]) for i in range(L.rows))


def _det(m):
    return _mp.det(_mpmatrix(m))


def _matpow(m, k):
    out = _mpmatrix(m) ** k
    return _np.array([[out[i, j] for j in range(out.cols)] for i in range(out.rows)], dtype=object)


def _finish(e, single):
    return e[0] if single else list(e)


def _out(x):
    return x.item() if isinstance(x, _np.ndarray) and x.ndim == 0 else x
'''

_COMPLEX_SOURCE = r'''
def _lift(x, a):
    return a


def _R(p, q):
    return p / q


def _F(s):
    return float(s)


def _PI():
    return _np.pi


def _EXP1():
    return _np.e


def _I():
    return 1j


def _c(f):
    return lambda x: f(_np.asarray(x, dtype=complex) if not _np.iscomplexobj(x) else x)


_exp, _log, _sqrt = _c(_np.exp), _c(_np.log), _c(_np.sqrt)
_abs, _sign, _re, _im = _np.abs, _np.sign, _np.real, _np.imag
_sin, _cos, _tan, _sinh, _cosh, _tanh = (_c(f) for f in (_np.sin, _np.cos, _np.tan, _np.sinh, _np.cosh, _np.tanh))
_asin, _acos, _atan, _asinh, _acosh, _atanh = (_c(f) for f in (_np.arcsin, _np.arccos, _np.arctan, _np.arcsinh, _np.arccosh, _np.arctanh))


def _sech(x):
    return 1 / _cosh(x)


def _csch(x):
    return 1 / _sinh(x)


def _coth(x):
    return 1 / _tanh(x)


def _softplus(x):
    x = _np.asarray(x, dtype=complex)
    if not _np.any(x.imag):
        return _np.logaddexp(0.0, x.real).astype(complex)
    return _np.log(1 + _np.exp(x))


def _logcosh2(x):
    x = _np.asarray(x, dtype=complex)
    if not _np.any(x.imag):
        a = _np.abs(x.real)
        return (a + _np.log1p(_np.exp(-2.0 * a))).astype(complex)
    return _np.log(2 * _np.cosh(x))


def _logcosh(x):
    return _logcosh2(x) - _np.log(2.0)


def _lse(*xs):
    z = _np.stack(_np.broadcast_arrays(*[_np.asarray(x, dtype=complex) for x in xs]))
    m = z.real.max(axis=0)
    m = _np.where(_np.isfinite(m), m, 0.0)
    return m + _np.log(_np.exp(z - m).sum(axis=0))


def _slp(eta, kind):
    return complex(_np.sum({"softplus": _softplus, "logcosh": _logcosh2}[kind](_np.ravel(eta))))


def _zeros(r, c):
    return _np.zeros((r, c), dtype=complex)


def _ones(r, c):
    return _np.ones((r, c), dtype=complex)


def _eye(n):
    return _np.eye(n, dtype=complex)


def _mat(rows):
    return _np.array(rows, dtype=complex)


def _square(m):
    if _np.ndim(m) != 2 or _np.shape(m)[0] != _np.shape(m)[1]:
        raise ValueError(f"needs a square matrix, got shape {_np.shape(m)}")


def _inv_pd(m, what):
    _square(m)
    return _np.linalg.inv(m)


def _logdet_pd(m, what):
    _square(m)
    return _np.log(complex(_np.linalg.det(m)))


def _det(m):
    _square(m)
    return complex(_np.linalg.det(m))


def _matpow(m, k):
    _square(m)
    return _np.linalg.matrix_power(m, k)


def _out(x):
    return complex(x) if _np.ndim(x) == 0 else x
'''

_MPC_SOURCE = _MPMATH_SOURCE + r'''

def _I():
    return _mp.mpc(0, 1)


def _inv_pd(m, what):
    out = _mp.inverse(_mpmatrix(m))  # a general inverse: verify samples any claim
    return _np.array(out.tolist(), dtype=object)


def _logdet_pd(m, what):
    return _mp.log(_mp.det(_mpmatrix(m)))


def _lse1(*xs):
    if any(isinstance(x, _mp.mpc) for x in xs):
        return _mp.log(_mp.fsum(_mp.exp(x) for x in xs))
    m = max(xs)
    return m + _mp.log(_mp.fsum(_mp.exp(x - m) for x in xs))


def _out(x):
    if isinstance(x, _np.ndarray):
        if x.ndim == 0:
            return _mp.mpc(x.item())
        return _mp.matrix(x.tolist())
    return _mp.mpc(x)
'''

_SOURCES = {"numpy": _NUMPY_SOURCE, "mpmath": _MPMATH_SOURCE, "complex": _COMPLEX_SOURCE, "mpc": _MPC_SOURCE}
_NAMESPACES: dict[str, dict] = {}


def runtime_source(backend: str = "numpy") -> str:
    """The runtime helpers' source as embedded in exported modules (after ``import numpy as _np``)."""
    return _ERRORS_SOURCE + _COMMON_SOURCE + _SOURCES[backend]


def namespace(backend: str) -> dict:
    """A fresh copy of the compiled runtime of ``backend`` (``numpy``, ``mpmath`` or ``complex``).

    symrg's own :class:`~symrg.errors.ConditionError` and :class:`~symrg.errors.ModelError`
    are the error classes the runtime raises here.
    """
    if backend not in _NAMESPACES:
        import mpmath
        import numpy

        ns: dict = {"_np": numpy, "_mp": mpmath, "ConditionError": ConditionError, "ModelError": ModelError,
                    "__name__": f"symrg_runtime_{backend}"}
        exec(compile(_COMMON_SOURCE + _SOURCES[backend], f"<symrg runtime {backend}>", "exec"), ns)  # noqa: S102 - our own source
        _NAMESPACES[backend] = ns
    return dict(_NAMESPACES[backend])


# --------------------------------------------------------------------------------------
# names and literals
# --------------------------------------------------------------------------------------

_RESERVED = {"numpy", "mpmath", "np"}


def identifier(name: Any, used: set) -> str:
    """A public Python identifier for ``name`` (validated, else mangled), unique within ``used``.

    >>> identifier("W_{12}", set()), identifier("class", set()), identifier('x"); import os', set())
    ('W_12', 'class_2', 'x_import_os')
    """
    name = str(name)
    s = name if (name.isidentifier() and name.isascii() and not name.startswith("_")) else ""
    if not s:
        s = re.sub(r"[^0-9A-Za-z_]", "_", name.replace("{", "").replace("}", "").replace(",", "_"))
        s = re.sub(r"_+", "_", s).strip("_") or "x"
        if s[0].isdigit():
            s = "x_" + s
    base, k = s, 2
    while s in used or keyword.iskeyword(s) or s in _RESERVED:
        s = f"{base}_{k}"
        k += 1
    if not (s.isidentifier() and not keyword.iskeyword(s) and not s.startswith("_")):  # pragma: no cover
        raise ExportError(f"cannot make a safe identifier from {name!r}")
    used.add(s)
    return s


def doc_literal(text: str, indent: str = "") -> str:
    """A triple-quoted string literal of ``text`` that no content can close early.

    >>> src = doc_literal('x' + '"' * 3 + '; import os')
    >>> eval(src) == 'x' + '"' * 3 + '; import os'  # one literal: nothing in it runs
    True
    """
    s = str(text).replace("\\", "\\\\").replace('"', '\\"')
    s = "".join(c if (c == "\n" or c.isprintable()) else c.encode("unicode_escape").decode("ascii") for c in s)
    if indent:
        s = s.replace("\n", "\n" + indent)
    return '"""' + s + '"""'


def _lit(s: Any) -> str:
    """A safe Python literal of a string (``repr`` of a real ``str``, never of a subclass)."""
    return repr(str(s))


# --------------------------------------------------------------------------------------
# the printer: sympy scalar and matrix expressions -> code over the runtime
# --------------------------------------------------------------------------------------

_FUNCTIONS = {
    "exp": "_exp", "log": "_log", "sin": "_sin", "cos": "_cos", "tan": "_tan", "sinh": "_sinh",
    "cosh": "_cosh", "tanh": "_tanh", "asin": "_asin", "acos": "_acos", "atan": "_atan",
    "asinh": "_asinh", "acosh": "_acosh", "atanh": "_atanh", "Abs": "_abs", "sign": "_sign",
    "re": "_re", "im": "_im", "sech": "_sech", "csch": "_csch", "coth": "_coth",
}


def _describe(expr: Any) -> str:
    s = sp.sstr(expr)
    return s if len(s) <= 200 else s[:197] + "..."


class Printer:
    """Code of sympy expressions over the runtime; ``names`` maps sympy objects to code.

    Any node in ``names`` (a symbol, a matrix symbol, or a whole sub-expression) prints
    as its code; everything else is built from numbers, the runtime's functions and
    operators.  Logarithms are written in their stable forms.
    """

    def __init__(self, names: Mapping[Any, str], factors: Mapping[Any, str] | None = None) -> None:
        self.names = dict(names)
        # matrices whose Cholesky factor is already a variable (inverse and log det reuse it)
        self.factors = factors if factors is not None else {}

    # -- entry point -------------------------------------------------------------------
    def __call__(self, e: Any) -> str:
        try:
            return self.code(e)
        except RecursionError:
            raise BudgetError("expression too deep to write as numeric code") from None

    def code(self, e: Any) -> str:
        if e in self.names:
            return self.names[e]
        if isinstance(e, (int, float)) and not isinstance(e, bool):
            e = sp.sympify(e)
        if isinstance(e, sp.MatrixBase):
            rows = ", ".join("[" + ", ".join(self.code(e[i, j]) for j in range(e.cols)) + "]" for i in range(e.rows))
            return f"_mat([{rows}])"
        if isinstance(e, MatrixExpr):
            return self.matrix(e)
        if not isinstance(e, sp.Basic):
            raise Unsupported(f"cannot evaluate {type(e).__name__} numerically")
        return self.scalar(e)

    # -- scalars -----------------------------------------------------------------------
    def number(self, e: sp.Expr) -> str:
        if e.is_Integer:
            p = int(e)
            if len(str(abs(p))) > MAX_DIGITS:
                raise BudgetError(f"an integer with more than {MAX_DIGITS} digits cannot be written as numeric code")
            return f"({p})" if abs(p) < 2**53 else f"_R({p}, 1)"
        if e.is_Rational:
            if max(len(str(abs(e.p))), len(str(e.q))) > MAX_DIGITS:
                raise BudgetError(f"a rational with more than {MAX_DIGITS} digits cannot be written as numeric code")
            return f"_R({int(e.p)}, {int(e.q)})"
        if e.is_Float:
            if not e.is_finite:
                raise Unsupported(f"cannot evaluate the non-finite number {e} numerically")
            import mpmath

            digits = mpmath.libmp.prec_to_dps(e._prec) + 3
            return f"_F({_lit(mpmath.libmp.to_str(e._mpf_, digits))})"
        raise Unsupported(f"cannot evaluate the number {e} numerically")

    def scalar(self, e: sp.Expr) -> str:
        c = self.code
        if e.is_Number:
            if e in (sp.oo, -sp.oo, sp.zoo, sp.nan):
                raise Unsupported(f"cannot evaluate the non-finite number {e} numerically")
            return self.number(e)
        if e is sp.pi:
            return "_PI()"
        if e is sp.E:
            return "_EXP1()"
        if e is sp.I:
            return "_I()"
        if isinstance(e, sp.NumberSymbol):
            return f"_F({_lit(sp.N(e, 60))})"
        if isinstance(e, (sp.Symbol, sp.MatrixSymbol)):
            raise Unsupported(f"no value for {e}")
        if isinstance(e, sp.Add):
            return "(" + " + ".join(c(a) for a in e.args) + ")"
        if isinstance(e, sp.Mul):
            return "(" + " * ".join(c(a) for a in e.args) + ")"
        if isinstance(e, sp.Pow):
            if e.exp.is_Number and abs(e.exp) > MAX_EXPONENT and not (e.base.is_Number and abs(e.base) <= 1):
                raise BudgetError(f"the power {_describe(e)} has an exponent above {MAX_EXPONENT}; refusing to evaluate it")
            if e.exp == sp.S.Half:
                return f"_sqrt({c(e.base)})"
            if e.exp == -sp.S.Half:
                return f"(1 / _sqrt({c(e.base)}))"
            if e.base is sp.E:
                return f"_exp({c(e.exp)})"
            return f"({c(e.base)} ** {c(e.exp)})"
        if isinstance(e, MatScalar):
            return f"_entry({c(e.args[0])})"
        if isinstance(e, sp.Trace):
            return f"_trace({c(e.arg)})"
        if isinstance(e, sp.Determinant):
            return f"_det({c(e.arg)})"
        if isinstance(e, MatrixElement):
            return f"({c(e.parent)})[_ix({c(e.i)}), _ix({c(e.j)})]"
        if isinstance(e, SumLogPartition):
            kind = str(e.args[1])
            if kind not in ("softplus", "logcosh"):
                raise Unsupported(f"cannot evaluate the log-partition {kind!r} of an abstract layer numerically")
            return f"_slp({c(e.args[0])}, {_lit(kind)})"
        if isinstance(e, sp.log):
            return self.log(e.args[0])
        if isinstance(e, sp.Function):
            fn = _FUNCTIONS.get(type(e).__name__)
            if fn is None or len(e.args) != 1:
                raise Unsupported(f"cannot evaluate the function {type(e).__name__} numerically")
            return f"{fn}({c(e.args[0])})"
        raise Unsupported(f"cannot evaluate {type(e).__name__} numerically")

    # -- stable logarithms -------------------------------------------------------------
    def log(self, arg: sp.Expr) -> str:
        c = self.code
        if isinstance(arg, sp.Determinant):  # log det by Cholesky, never det then log
            if arg.arg in self.factors:
                return f"_logdet_chol({self.factors[arg.arg]})"
            return f"_logdet_pd({c(arg.arg)}, {_lit(_describe(arg.arg))})"
        if arg in self.names:
            return f"_log({self.names[arg]})"
        terms = _exp_terms(arg)
        if terms is not None and len(terms) >= 2:
            if len(terms) == 2 and sp.S.Zero in [t[1] for t in terms] and all(t[0] == 0 for t in terms):
                w = terms[0][1] if terms[1][1] == 0 else terms[1][1]
                return f"_softplus({c(w)})"
            parts = [c(u) if lc == 0 else (f"_log({self.number(lc)})" if u == 0 else f"({c(u)} + _log({self.number(lc)}))")
                     for lc, u in terms]
            return f"_lse({', '.join(parts)})"
        factors = _positive_factors(arg)
        if factors is not None and any(k != "number" for k, _, _ in factors):
            coshes = [f for f in factors if f[0] == "cosh"]
            numbers = [f for f in factors if f[0] == "number"]
            out = []
            if len(coshes) == 1 and coshes[0][2] == 1 and len(numbers) == 1 and numbers[0][1] == 2:
                out.append(f"_logcosh2({c(coshes[0][1])})")
                factors = [f for f in factors if f is not coshes[0] and f is not numbers[0]]
            for kind, x, k in factors:
                mult = "" if k == 1 else f"{self.number(k)} * "
                if kind == "number":
                    out.append(f"{mult}_log({self.number(x)})")
                elif kind == "cosh":
                    out.append(f"{mult}_logcosh({c(x)})")
                elif kind == "exp":
                    out.append(f"{mult}({c(x)})")
                else:  # a sum of exponentials
                    out.append(f"{mult}{self.log(x)}")
            return "(" + " + ".join(out) + ")"
        return f"_log({c(arg)})"

    # -- matrices ----------------------------------------------------------------------
    def dim(self, d: Any) -> str:
        d = sp.sympify(d)
        if d.is_Integer:
            return str(int(d))
        return f"_ix({self.code(d)})"

    def matrix(self, e: MatrixExpr) -> str:
        c = self.code
        if e in self.names:
            return self.names[e]
        if isinstance(e, sp.MatrixSymbol):
            raise Unsupported(f"no value for the matrix {e.name}")
        if isinstance(e, sp.Identity):
            return f"_eye({self.dim(e.rows)})"
        if isinstance(e, sp.ZeroMatrix):
            return f"_zeros({self.dim(e.rows)}, {self.dim(e.cols)})"
        if isinstance(e, sp.OneMatrix):
            return f"_ones({self.dim(e.rows)}, {self.dim(e.cols)})"
        if isinstance(e, sp.MatAdd):
            return f"_madd({', '.join(c(a) for a in e.args)})"
        if isinstance(e, sp.MatMul):
            scalars = [a for a in e.args if not isinstance(a, (MatrixExpr, sp.MatrixBase))]
            mats = [a for a in e.args if isinstance(a, (MatrixExpr, sp.MatrixBase))]
            prod = " @ ".join(f"({c(m)})" for m in mats)
            if not scalars:
                return f"({prod})"
            return f"({' * '.join(c(s) for s in scalars)} * ({prod}))"
        if isinstance(e, sp.Transpose):
            return f"_T({c(e.arg)})"
        if isinstance(e, sp.Inverse):
            if e.arg in self.factors:
                return f"_inv_chol({self.factors[e.arg]})"
            return f"_inv_pd({c(e.arg)}, {_lit(_describe(e.arg))})"
        if isinstance(e, sp.MatPow):
            if not (e.exp.is_Integer and e.exp >= 0):
                if e.exp == -1:
                    return f"_inv_pd({c(e.base)}, {_lit(_describe(e.base))})"
                raise Unsupported(f"cannot evaluate the matrix power {e} numerically")
            return f"_matpow({c(e.base)}, {int(e.exp)})"
        if isinstance(e, DiagonalOf):
            return f"_diag({c(e.arg)})"
        if isinstance(e, sp.HadamardProduct):
            return "(" + " * ".join(c(a) for a in e.args) + ")"
        raise Unsupported(f"cannot evaluate the matrix expression {type(e).__name__} numerically")


def _exp_terms(arg: sp.Expr) -> list | None:
    """``arg`` as ``sum_k c_k exp(u_k)`` with numbers ``c_k > 0``: ``[(c_k, u_k)]`` (``c = 0`` meaning 1)."""
    if not isinstance(arg, sp.Add):
        return None
    out = []
    for t in arg.args:
        coeff, rest = t.as_coeff_Mul()
        if not (coeff.is_Number and coeff > 0):
            return None
        if rest == 1:
            out.append((sp.S.Zero if coeff == 1 else coeff, sp.S.Zero))
            continue
        if isinstance(rest, sp.exp):
            out.append((sp.S.Zero if coeff == 1 else coeff, rest.args[0]))
            continue
        if isinstance(rest, sp.Pow) and rest.base is sp.E:
            out.append((sp.S.Zero if coeff == 1 else coeff, rest.exp))
            continue
        return None
    return out


def _positive_factors(arg: sp.Expr) -> list | None:
    """``arg`` as a product of positive numbers, ``cosh(x)**k``, ``exp(u)**k`` and sums of exponentials."""
    factors = arg.args if isinstance(arg, sp.Mul) else (arg,)
    out = []
    for f in factors:
        base, k = (f.base, f.exp) if isinstance(f, sp.Pow) and f.base is not sp.E else (f, sp.S.One)
        if not k.is_Number:
            return None
        if base.is_Number and base > 0:
            out.append(("number", base, k))
        elif isinstance(base, sp.cosh):
            out.append(("cosh", base.args[0], k))
        elif isinstance(base, sp.exp):
            out.append(("exp", base.args[0], k))
        elif isinstance(base, sp.Pow) and base.base is sp.E:
            out.append(("exp", base.exp, k))
        elif len(_exp_terms(base) or ()) >= 2:
            out.append(("lse", base, k))
        else:
            return None
    return out


# --------------------------------------------------------------------------------------
# scalar programs: recursion maps, exported expressions, compiled scalars
# --------------------------------------------------------------------------------------


def _sign(s: sp.Symbol) -> str:
    if s.is_positive:
        return "positive"
    if s.is_nonnegative:
        return "nonnegative"
    if s.is_negative:
        return "negative"
    return ""


def scalar_program(symbols: Sequence[sp.Symbol], functions: Sequence[tuple[str, Sequence[Any], bool]],
                   used: set | None = None, checked: bool = True) -> tuple[str, list[str]]:
    """Source of functions of the scalar ``symbols`` (same argument list for each).

    ``functions`` holds ``(name, expressions, as_tuple)``: each function returns its
    expressions as a tuple (``as_tuple``) or its single expression.  Arguments are
    validated (real, finite, declared sign) unless ``checked`` is false (internal loops
    that feed a map its own images).  Returns ``(source, argument names)``.
    """
    used = set() if used is None else used
    args = [identifier(s.name, used) for s in symbols]
    pr = Printer({s: f"_a{k}" for k, s in enumerate(symbols)})
    lines = []
    for name, exprs, as_tuple in functions:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ExportError(f"function name {name!r} must be a Python identifier")
        lines += ["", "", f"def {name}({', '.join(args)}):"]
        for k, (s, a) in enumerate(zip(symbols, args)):
            if checked:
                lines.append(f"    _a{k} = _scalar({a}, {_lit('argument ' + repr(str(s)))}, {_lit(_sign(s))})")
            else:
                lines.append(f"    _a{k} = {a}")
        body = [pr(e) for e in exprs]
        lines.append("    return (" + "".join(f"_out({b}), " for b in body) + ")" if as_tuple else f"    return _out({body[0]})")
    return "\n".join(lines) + "\n", args


def compile_scalars(symbols: Sequence[sp.Symbol], exprs: Sequence[Any], backend: str = "numpy",
                    checked: bool = True) -> Callable[..., tuple]:
    """A callable ``f(*values) -> tuple`` of ``exprs`` in ``symbols`` (stable forms, validated inputs).

    ``backend`` is ``"numpy"`` or ``"mpmath"`` (working precision: the caller's
    ``mpmath.mp.dps``), or the complex ``"complex"`` / ``"mpc"`` (unchecked).  Values may be numbers or arrays; NaN/inf/complex values and
    values violating a symbol's declared sign raise :class:`~symrg.errors.ConditionError`
    naming the argument (``checked=False`` skips this, for internal iteration).

    This is the ``compile_scalars`` service the recursion maps of :mod:`symrg.rg` use.

    >>> K, h = sp.symbols("K h")
    >>> f = compile_scalars((K, h), (h - sp.log(sp.cosh(2*K - h))/2 + sp.log(sp.cosh(2*K + h))/2,))
    >>> round(f(400.0, 0.3)[0], 12)
    0.6
    """
    if backend not in _SOURCES:
        raise ValueError(f"unknown backend {backend!r}; valid back-ends: {', '.join(_SOURCES)}")
    # complex back-ends ("complex", "mpc": verify's sampling) take complex values: no real-input checks
    checked = checked and backend in BACKENDS
    src, _ = scalar_program(tuple(symbols), [("_f", list(exprs), True)], checked=checked)
    ns = namespace(backend)
    exec(compile(src, "<symrg generated>", "exec"), ns)  # noqa: S102 - generated from validated names only
    return ns["_f"]


# --------------------------------------------------------------------------------------
# evaluation at an environment (verify's sampling)
# --------------------------------------------------------------------------------------

_EVAL_CACHE: dict = {}


def evaluate(expr: Any, env: Mapping[Any, Any], sizes: Mapping[Any, Any] | None = None, backend: str = "complex") -> Any:
    """Evaluate ``expr`` with the values in ``env`` (symbols, matrix symbols or sub-expressions).

    ``sizes`` maps size symbols to integers.  ``backend`` is ``"complex"`` (numpy complex
    arrays, what ``verify`` samples with), ``"mpc"`` (mpmath at the caller's working
    precision, complex; values may be ``mpmath.matrix``, results are ``mpc`` or
    ``mpmath.matrix``), ``"numpy"`` or ``"mpmath"``.  Raises
    :class:`Unsupported` (message ``cannot evaluate ...`` or ``no value for ...``) when a
    part has no numeric form or no value.

    >>> x = sp.Symbol("x")
    >>> evaluate(sp.log(1 + sp.exp(x)), {x: 800.0})
    (800+0j)
    """
    keys = dict(env)
    for s, v in (sizes or {}).items():
        keys.setdefault(s, int(v))
    atoms = _free_atoms(expr)
    needed = [k for k in keys if k in atoms or (not isinstance(k, (sp.Symbol, sp.MatrixSymbol)) and _contains(expr, k))]
    needed.sort(key=lambda k: (sp.srepr(k) if not isinstance(k, (sp.Symbol, sp.MatrixSymbol)) else k.name))
    cache_key = (backend, expr, tuple(needed))
    fn = _EVAL_CACHE.get(cache_key)
    if fn is None:
        names = {k: f"_e{i}" for i, k in enumerate(needed)}
        code = Printer(names)(expr)
        src = f"def _f({', '.join(names.values())}):\n    return _out({code})\n"
        ns = namespace(backend)
        exec(compile(src, "<symrg generated>", "exec"), ns)  # noqa: S102 - generated from our own names
        fn = ns["_f"]
        if len(_EVAL_CACHE) > 512:
            _EVAL_CACHE.clear()
        _EVAL_CACHE[cache_key] = fn
    values = [keys[k] for k in needed]
    if backend == "mpc":
        values = [_to_object_array(v) for v in values]
    return fn(*values)


def _to_object_array(v: Any) -> Any:
    import mpmath
    import numpy as np

    if isinstance(v, mpmath.matrix):
        return np.array(v.tolist(), dtype=object)
    if isinstance(v, np.ndarray):
        out = np.empty(v.shape, dtype=object)
        for idx in np.ndindex(v.shape):
            out[idx] = mpmath.mpc(complex(v[idx])) if np.iscomplexobj(v) else mpmath.mpf(float(v[idx]))
        return out
    return v


def _free_atoms(expr: Any) -> set:
    if isinstance(expr, sp.MatrixBase):
        out: set = set()
        for v in expr:
            out |= _free_atoms(v)
        return out
    if not isinstance(expr, sp.Basic):
        return set()
    return set(expr.atoms(sp.Symbol, sp.MatrixSymbol)) | set(expr.free_symbols)


def _contains(expr: Any, sub: Any) -> bool:
    try:
        return bool(expr.has(sub))
    except (AttributeError, TypeError):
        return False


# --------------------------------------------------------------------------------------
# energy programs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnergyProgram:
    """Generated source of an energy model's ``<name>(...)`` and ``parameters(...)``.

    ``arguments`` are the Python argument names in order; ``symbols`` maps each to the
    model's name; ``conditions`` are the checked conditions as text.
    """

    source: str
    arguments: tuple[str, ...]
    symbols: tuple[tuple[str, str], ...]
    conditions: tuple[str, ...]
    name: str


def model_arguments(model: Any) -> tuple[list[str], tuple[sp.Symbol, ...]]:
    """The argument names of a model's numeric callable (layers, matrix parameters, scalars)."""
    scalars = _scalar_symbols(model)
    args = [str(n) for n in model.layer_names]
    args += [str(p.name) for p in model.params.values() if p.auto]
    args += [s.name for s in scalars]
    return args, scalars


def _scalar_symbols(model: Any) -> tuple[sp.Symbol, ...]:
    """Free scalar symbols the numeric callable needs as arguments."""
    skip: set = set()
    for p in model.params.values():
        if p.auto and p.value is not None:
            skip |= set(p.value)
    for l in model.layers:
        if l.explicit:
            skip |= set(l.states)
        else:
            skip.add(l.size)
    found: set = set()
    for p in model.params.values():
        if not p.auto and p.value is not None:
            found |= p.value.free_symbols
        skip |= set(p.symbol.shape) - {1}
    for e in model.expressions():
        for s in sp.sympify(e).free_symbols:
            if isinstance(s, sp.Symbol) and not isinstance(s, sp.Dummy):
                found.add(s)
    sizes = {d for l in model.layers for d in [l.size] if not isinstance(d, int)}
    return tuple(sorted((s for s in found - skip - sizes if not isinstance(s, sp.MatrixSymbol)), key=str))


def _kind_values(kind: Any) -> tuple | None:
    return tuple(kind.values) if getattr(kind, "is_discrete", False) else None


def energy_program(model: Any, name: str = "energy") -> EnergyProgram:
    """Source of ``<name>(...)`` (the energy) and ``parameters(...)`` (the evaluated blocks) of ``model``.

    The source runs against a runtime (:func:`namespace`, or the numpy runtime's source
    in an exported module).  Argument names are validated identifiers; all other names
    are internal (leading underscore).
    """
    from symrg.model.terms import EnumeratedTerm, GaussianTerm, LogPartitionTerm, MultispinTerm, TransferMatrixTerm

    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ExportError(f"function name {name!r} must be a public Python identifier")
    order, scalars = model_arguments(model)
    used: set = {name, "parameters", "ARGUMENTS", "SYMBOLS", "CONDITIONS", "ConditionError", "ModelError"}
    py = {a: identifier(a, used) for a in order}
    names: dict = {}
    # internal variables: layers _x<k>, parameters _p<k>, scalars _s<k>, sizes _n<k>, intermediates _c<k>
    for k, lay in enumerate(model.layers):
        names[lay.symbol] = f"_x{k}"
        if lay.explicit:
            for j, s in enumerate(lay.states):
                names[s] = f"_x{k}[:, {j}]"
    auto = [p for p in model.params.values() if p.auto]
    for k, p in enumerate(auto):
        names[p.symbol] = f"_p{k}"
        if p.value is not None:
            for i in range(p.value.rows):
                for j in range(p.value.cols):
                    if isinstance(p.value[i, j], sp.Symbol):
                        names[p.value[i, j]] = f"_p{k}[{i}, {j}]"
    for k, s in enumerate(scalars):
        names[s] = f"_s{k}"
    size_syms: list = []
    for lay in model.layers:
        if not lay.explicit and lay.size not in size_syms:
            size_syms.append(lay.size)
    for p in model.params.values():
        for d in p.symbol.shape:
            for s in sorted(sp.sympify(d).free_symbols, key=str):
                if s not in size_syms:
                    size_syms.append(s)
    for k, s in enumerate(size_syms):
        names[s] = f"_n{k}"
    fixed = [p for p in model.params.values() if p.value is not None and not p.auto]
    for k, p in enumerate(fixed):
        names[p.symbol] = f"_v{k}"
    for k, i in enumerate(model.intermediates):
        names[i.symbol] = f"_c{k}"
    factors: dict = {}  # one check and one Cholesky factor per distinct matrix
    pr = Printer(names, factors)

    def code(e: Any) -> str:
        try:
            return pr(e)
        except (ExportError, BudgetError):
            raise
        except Exception as exc:  # noqa: BLE001 - report what could not be written
            raise ExportError(f"cannot write {_describe(e)} as numeric code: {exc}") from None

    def dimlit(d: Any) -> str:
        d = sp.sympify(d)
        return str(int(d)) if d.is_Integer else _lit(d)

    # -- arguments: states
    st: list[str] = ["    _sizes = {}"]
    for k, lay in enumerate(model.layers):
        what = f"layer {str(lay.name)!r}"
        st.append(f"    _x{k} = _state({py[str(lay.name)]}, {_lit(what)}, {dimlit(lay.size)}, _sizes, "
                  f"{_values_code(pr, _kind_values(lay.kind))})")
    nl = len(model.layers)
    st.append(f"    _N, _single, _xs = _batch([{', '.join(f'_x{k}' for k in range(nl))}])")
    if nl:
        st.append(f"    {', '.join(f'_x{k}' for k in range(nl))}, = _xs")
    # -- parameters, scalars, sizes, fixed values, conditions, intermediates (both functions)
    pre: list[str] = []
    for k, p in enumerate(auto):
        r, c_ = p.symbol.shape
        pre.append(f"    _p{k} = _param({py[str(p.name)]}, {_lit('parameter ' + repr(str(p.name)))}, "
                   f"{dimlit(r)}, {dimlit(c_)}, _sizes)")
    for k, s in enumerate(scalars):
        pre.append(f"    _s{k} = _scalar({py[s.name]}, {_lit('argument ' + repr(s.name))}, {_lit(_sign(s))})")
    for k, s in enumerate(size_syms):
        pre.append(f"    _n{k} = _size(_sizes, {_lit(s)})")
    for k, p in enumerate(fixed):
        pre.append(f"    _v{k} = {code(sp.ImmutableMatrix(p.value))}")
    defined: set = set()
    pending = list(model.conditions)
    inter_syms = {i.symbol for i in model.intermediates}
    cond_text = []

    def factor(m: Any, what: str) -> str:
        if m not in factors:
            var = f"_L{len(factors)}"
            pre.append(f"    {var} = _chol({code(m)}, {_lit(what)})")
            factors[m] = var
        return factors[m]

    def emit_ready() -> None:
        for cnd in list(pending):
            needs = cnd.matrix.atoms(sp.MatrixSymbol) & inter_syms
            if needs <= defined:
                factor(cnd.matrix, f"{_describe(cnd.matrix)} ({cnd.reason})")
                pending.remove(cnd)

    emit_ready()
    for k, i in enumerate(model.intermediates):
        L = factor(i.inverse_of, f"{_describe(i.inverse_of)} (defining {i.symbol.name})")
        pre.append(f"    _c{k} = _inv_chol({L})")
        defined.add(i.symbol)
        emit_ready()
    if pending:  # pragma: no cover - conditions only mention the model's intermediates
        raise ExportError(f"condition {_describe(pending[0].matrix)} refers to an unknown intermediate")
    cond_text = [f"{_describe(c.matrix)} positive definite ({c.reason})" for c in model.conditions]

    # -- the energy
    body: list[str] = ["    _E = _energies(_N)"]
    X = {str(lay.name): f"_x{k}" for k, lay in enumerate(model.layers)}
    for lname, th in model.biases.items():
        body.append(f"    _E = _E - ({X[lname]} @ {code(th)})[:, 0]")
    for lname, q in model.quadratic.items():
        body.append(f"    _E = _E + _rowdot({X[lname]} @ _T({code(q)}), {X[lname]}) / 2")
    for (a, b), w in model.couplings.items():
        body.append(f"    _E = _E - _rowdot({X[a]} @ {code(w)}, {X[b]})")
    counter = iter(range(10**9))

    def term_energy(t: Any, X: dict, N: str) -> str:
        """Emit the energy contribution of term ``t`` (one value per row); return its variable."""
        k = next(counter)
        out = f"_t{k}"
        if isinstance(t, (LogPartitionTerm, GaussianTerm)):
            n = str(t.size) if isinstance(t.size, int) else names[t.size]
            parts = [] if t.theta is None else [f"_np.broadcast_to(_T({code(t.theta)}), ({N}, {n}))"]
            parts += [f"{X[m]} @ {code(w)}" for m, w in t.weights]
            body.append(f"    _eta{k} = {' + '.join(parts) if parts else f'_zeros({N}, {n})'}")
            if isinstance(t, GaussianTerm):
                body.append(f"    {out} = -_rowdot(_eta{k} @ {code(t.covariance)}, _eta{k}) / 2 + {code(t.log_normalizer())}")
            else:
                vals = _kind_values(t.kind)
                if vals == (0, 1):
                    body.append(f"    {out} = -_softplus(_eta{k}).sum(axis=1)")
                elif vals == (-1, 1):
                    body.append(f"    {out} = -_logcosh2(_eta{k}).sum(axis=1)")
                else:
                    body.append(f"    {out} = -_lse_values(_eta{k}, {_values_code(pr, vals)}).sum(axis=1)")
            return out
        if isinstance(t, EnumeratedTerm):
            # exponents as an (N, K) array: the parts that depend on the configuration only
            # are computed once per configuration (K rows), couplings to the remaining layers
            # as (X_M W_ML) C^T, and only absorbed terms that mix both on N K rows
            K = t.count
            L = str(t.layer)
            cfg = f"_cfg{k}"
            body.append(f"    {cfg} = _configs({_values_code(pr, t.kind.values)}, {int(t.size)})")
            zc = f"_zc{k}"
            body.append(f"    {zc} = _energies({K})")
            if t.theta is not None:
                body.append(f"    {zc} = {zc} + ({cfg} @ {code(t.theta)})[:, 0]")
            if t.quadratic is not None:
                body.append(f"    {zc} = {zc} - _rowdot({cfg} @ _T({code(t.quadratic)}), {cfg}) / 2")
            local = [a for a in t.absorbed if set(map(str, a.layers)) <= {L}]
            mixed = [a for a in t.absorbed if a not in local]
            for a in local:
                body.append(f"    {zc} = {zc} - {term_energy(a, {L: cfg}, str(K))}")
            z = f"_z{k}"
            body.append(f"    {z} = _np.tile({zc}, ({N}, 1))")
            for m, w in t.weights:
                body.append(f"    {z} = {z} + ({X[str(m)]} @ {code(w)}) @ _T({cfg})")
            if mixed:
                inner = {m: f"_r{k}_{j}" for j, m in enumerate(X)}
                for m, v in inner.items():
                    body.append(f"    {v} = _np.repeat({X[m]}, {K}, axis=0)")
                inner[L] = f"_r{k}_L"
                body.append(f"    {inner[L]} = _np.tile({cfg}, ({N}, 1))")
                NK = f"({N} * {K})"
                for a in mixed:
                    body.append(f"    {z} = {z} - _np.reshape({term_energy(a, inner, NK)}, ({N}, {K}))")
            body.append(f"    {out} = -_lse_rows({z})")
            return out
        if isinstance(t, TransferMatrixTerm):  # - log tr prod_k T_k along the chain or ring
            n = str(int(t.size))
            parts = [] if t.theta is None else [f"_np.broadcast_to(_T({code(t.theta)}), ({N}, {n}))"]
            parts += [f"{X[str(m)]} @ {code(w)}" for m, w in t.weights]
            body.append(f"    _eta{k} = {' + '.join(parts) if parts else f'_zeros({N}, {n})'}")
            order = "(" + "".join(f"{int(i)}, " for i in t.order) + ")"
            body.append(f"    {out} = -_log_transfer(_eta{k}, {code(t.quadratic)}, {order}, {bool(t.ring)}, "
                        f"{_values_code(pr, t.kind.values)})")
            return out
        if isinstance(t, MultispinTerm):  # - sum_k c_k prod_{i in S_k} x_i, products grouped by coefficient
            x = X[str(t.layer)]
            body.append(f"    {out} = _energies({N})")
            groups: dict = {}
            for units, c in t.monomials:
                groups.setdefault(c, []).append(" * ".join(f"{x}[:, {int(i)}]" for i in units))
            for c, prods in groups.items():
                body.append(f"    {out} = {out} - {code(c)} * ({' + '.join(prods)})")
            return out
        raise ExportError(f"cannot write the term {t!r} as numeric code")  # pragma: no cover

    X = {str(lay.name): f"_x{k}" for k, lay in enumerate(model.layers)}
    for t in model.terms:
        body.append(f"    _E = _E + {term_energy(t, X, '_N')}")
    body.append(f"    _E = _E + {code(model.constant)}")
    body.append("    return _finish(_E, _single)")

    blocks = [(f"theta_{k}", v) for k, v in model.biases.items()]
    blocks += [(f"Q_{k}", v) for k, v in model.quadratic.items()]
    blocks += [(f"W_{a}{b}", v) for (a, b), v in model.couplings.items()]
    args = [py[a] for a in order]
    state_args = [py[str(l.name)] for l in model.layers]
    param_args = [a for a in args if a not in state_args]
    sig = ", ".join(args)
    out = [
        "",
        "",
        f"def {name}({sig}):",
        "    " + doc_literal(f"Energy at ({sig}); layer states have shape (n,) or (N, n).", "    "),
        *st,
        *pre,
        *body,
        "",
        "",
        f"def parameters({', '.join(param_args)}):",
        '    """The evaluated blocks: fields theta_L, self blocks Q_L and couplings W_LM."""',
        "    _sizes = {}",
        *pre,
        "    return {",
        *[f"        {_lit(k)}: {code(v)}," for k, v in blocks],
        "    }",
        "",
    ]
    src = "\n".join(out)
    compile(src, "<symrg generated>", "exec")  # generated code must at least be valid Python
    return EnergyProgram(src, tuple(args), tuple((py[a], a) for a in order), tuple(cond_text), name)


def _values_code(pr: Printer, values: Iterable | None) -> str:
    if values is None:
        return "None"
    return "(" + "".join(pr(sp.sympify(v)) + ", " for v in values) + ")"
