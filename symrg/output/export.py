"""Standalone numeric modules: a Python file that needs numpy only (no sympy, no symrg).

:func:`export_energy` writes the energy of an :class:`~symrg.model.EnergyModel` as numpy
code generated from the model's *structure*, mirroring :mod:`symrg.output.numeric`: biases,
quadratic blocks and couplings as matrix products, summed-out layers as stable
log-partition functions, integrated Gaussian layers as quadratic forms, enumerated
layers as a log-sum-exp over configurations, named intermediates by a Cholesky
factorization that checks the recorded positive-definiteness conditions.  The module
also has ``parameters(...)`` (the evaluated blocks: fields ``theta_L``, self blocks
``Q_L`` and couplings ``W_LM``).

:func:`export_recursion` writes a :class:`~symrg.rg.recursion.RecursionMap` as
``images(...)`` (and ``constant_image(...)`` and ``step(...)`` when the map carries a
constant).

The argument order is fixed, listed in ``ARGUMENTS`` and in every docstring.  Symbol
names that are not Python identifiers are renamed (``SYMBOLS`` maps the Python names
back to the symbols).

Examples
--------
>>> import numpy as np
>>> from symrg.model.energy import rbm
>>> from symrg.engine.marginalization import marginalize
>>> H = marginalize(rbm(3, 2), "h")
>>> source = export_energy(H)
>>> ns = {}
>>> exec(compile(source, "h.py", "exec"), ns)  # what importing the written file does
>>> ns["ARGUMENTS"]
('v', 'a', 'b', 'W')
>>> W = np.array([[1.0, -1.0], [0.5, 0.0], [0.0, 2.0]])
>>> args = dict(v=np.array([1.0, 0.0, 1.0]), a=np.zeros(3), b=np.zeros(2), W=W)
>>> abs(ns["energy"](**args) - H.lambdify()(**args)) < 1e-12
True
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from typing import Any

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from symrg.model.energy import EnergyModel, EnumeratedTerm, GaussianTerm, LogPartitionTerm
from symrg.output.printing import text
from symrg.model.units import Bernoulli, Spin
from symrg.errors import ExportError

__all__ = ["export_energy", "export_recursion", "export_expression", "write_module", "ExportError"]


# --------------------------------------------------------------------------------------
# names and the printer
# --------------------------------------------------------------------------------------


def _identifier(name: str, used: set) -> str:
    s = re.sub(r"\W", "_", name.replace("{", "").replace("}", "").replace(",", "_"))
    s = re.sub(r"_+", "_", s).strip("_") or "x"
    if s[0].isdigit():
        s = "x_" + s
    if s.startswith("_"):
        s = "x" + s
    base, k = s, 2
    while s in used or keyword.iskeyword(s) or s in ("numpy", "np"):
        s = f"{base}_{k}"
        k += 1
    used.add(s)
    return s


class _Printer(NumPyPrinter):
    """numpy code of scalar and matrix expressions, with symrg's structured pieces."""

    def __init__(self, names: dict, checks: dict) -> None:
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False})
        self.names = names  # sympy object -> code
        self.checks = checks  # matrix expr -> description (for PD checks of inverses / log dets)

    def _print_Symbol(self, expr):
        if expr in self.names:
            return self.names[expr]
        raise ExportError(f"symbol {expr} has no value in the exported module")

    _print_Dummy = _print_Symbol

    def _print_MatrixSymbol(self, expr):
        if expr in self.names:
            return self.names[expr]
        raise ExportError(f"matrix {expr} has no value in the exported module")

    def _print_MatrixElement(self, expr):
        return f"{self._print(expr.parent)}[{self._print(expr.i)}, {self._print(expr.j)}]"

    def _print_MatScalar(self, expr):
        return f"({self._print(expr.args[0])})[0, 0]"

    def _print_Identity(self, expr):
        return f"numpy.eye({self._print(expr.rows)})"

    def _print_ZeroMatrix(self, expr):
        return f"numpy.zeros(({self._print(expr.rows)}, {self._print(expr.cols)}))"

    def _print_MatAdd(self, expr):
        return "(" + " + ".join(self._print(a) for a in expr.args) + ")"

    def _print_MatMul(self, expr):
        coeff, mats = expr.as_coeff_matrices()
        prod = " @ ".join(f"({self._print(m)})" for m in mats)
        return f"({prod})" if coeff == 1 else f"({self._print(coeff)} * ({prod}))"

    def _print_Transpose(self, expr):
        return f"({self._print(expr.arg)}).T"

    def _print_Inverse(self, expr):
        return f"_inverse_pd({self._print(expr.arg)}, {text(expr.arg)!r})"

    def _print_MatPow(self, expr):
        return f"numpy.linalg.matrix_power({self._print(expr.base)}, {int(expr.exp)})"

    def _print_DiagonalOf(self, expr):
        return f"numpy.diag({self._print(expr.arg)}).reshape(-1, 1)"

    def _print_Determinant(self, expr):
        return f"numpy.exp(_logdet_pd({self._print(expr.arg)}, {text(expr.arg)!r}))"

    def _print_Trace(self, expr):
        return f"numpy.trace({self._print(expr.arg)})"

    def _print_log(self, expr):
        if isinstance(expr.args[0], sp.Determinant):  # log det by Cholesky, never det then log
            arg = expr.args[0].arg
            return f"_logdet_pd({self._print(arg)}, {text(arg)!r})"
        return super()._print_log(expr)

    def _print_ImmutableDenseMatrix(self, expr):
        rows = ", ".join("[" + ", ".join(self._print(expr[i, j]) for j in range(expr.cols)) + "]" for i in range(expr.rows))
        return f"numpy.array([{rows}], dtype=float)"

    _print_MutableDenseMatrix = _print_ImmutableDenseMatrix
    _print_ImmutableMatrix = _print_ImmutableDenseMatrix


_HELPERS = '''

class ConditionError(ValueError):
    """A recorded condition of the result does not hold at the given parameters."""


def _cholesky(m, what):
    m = (m + m.T) / 2
    try:
        return numpy.linalg.cholesky(m)
    except numpy.linalg.LinAlgError:
        lo = float(numpy.linalg.eigvalsh(m).min())
        raise ConditionError(
            f"condition violated: {what} is not positive definite (smallest eigenvalue {lo:.3g})"
        ) from None


def _inverse_pd(m, what):
    L_inv = numpy.linalg.inv(_cholesky(m, what))
    return L_inv.T @ L_inv


def _logdet_pd(m, what):
    return 2.0 * float(numpy.log(numpy.diag(_cholesky(m, what))).sum())


def _array(x, name, column):
    a = numpy.asarray(x, dtype=float)
    if a.ndim == 1 and column:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array, got shape {a.shape}")
    return a


def _bind(sizes, name, n, what):
    if name in sizes and sizes[name] != n:
        raise ValueError(f"{what}: size {name} is {sizes[name]} elsewhere, got {n}")
    sizes[name] = n
    return n


def _expect(n, expected, what):
    if n != expected:
        raise ValueError(f"{what}: expected size {expected}, got {n}")


def _rowdot(a, b):
    return numpy.einsum("ij,ij->i", a, b)


def _logcosh2(x):
    a = numpy.abs(x)  # log(2 cosh x) = |x| + log(1 + exp(-2|x|)), finite for any x
    return a + numpy.log1p(numpy.exp(-2.0 * a))


def _logsumexp_values(eta, values):
    z = numpy.multiply.outer(eta, numpy.asarray(values, dtype=float))
    m = z.max(axis=-1)
    return m + numpy.log(numpy.exp(z - m[..., None]).sum(axis=-1))


def _logsumexp_rows(z):
    m = z.max(axis=0)
    return m + numpy.log(numpy.exp(z - m).sum(axis=0))
'''


# --------------------------------------------------------------------------------------
# energies
# --------------------------------------------------------------------------------------


def _entries(p) -> list:
    v = p.value
    return [(v[i, j], i, j) for i in range(v.rows) for j in range(v.cols)]


def export_energy(model: EnergyModel, name: str = "energy", title: str | None = None) -> str:
    """The source of a standalone numpy module computing ``model``'s energy.

    Parameters
    ----------
    model
        An energy model (original or effective).
    name
        Name of the energy function in the module.
    title
        First line of the module docstring.

    Returns
    -------
    str
        Python source.  The module defines ``ARGUMENTS`` (the argument order, the same
        as ``model.lambdify().arguments`` with symbol names made identifiers),
        ``SYMBOLS``, ``CONDITIONS``, ``ConditionError``, ``<name>(...)`` and
        ``parameters(...)``.
    """
    from symrg.output.numeric import lambdify

    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ExportError(f"function name {name!r} must be a public Python identifier")
    order = lambdify(model).arguments
    used: set = {name, "parameters", "ARGUMENTS", "SYMBOLS", "CONDITIONS", "ConditionError"}
    names: dict = {}
    pyname: dict = {}
    for lay in model.layers:
        pyname[lay.name] = _identifier(lay.name, used)
    for p in model.params.values():
        if p.auto:
            pyname[p.name] = _identifier(p.name, used)
            names[p.symbol] = pyname[p.name]
            if p.value is not None:
                for sym, i, j in _entries(p):
                    if isinstance(sym, sp.Symbol):
                        names[sym] = f"{pyname[p.name]}[{i}, {j}]"
    scalar_syms: dict = {}
    free: set = set()
    for e in model.expressions():
        free |= {s for s in sp.sympify(e).free_symbols if isinstance(s, sp.Symbol)} if not isinstance(e, sp.MatrixBase) else e.free_symbols
    for p in model.params.values():
        if p.value is not None and not p.auto:
            free |= p.value.free_symbols
    by_name = {s.name: s for s in free if isinstance(s, sp.Symbol)}
    for a in order:
        if a not in pyname:
            sym = by_name.get(a, sp.Symbol(a))
            pyname[a] = _identifier(a, used)
            scalar_syms[sym] = pyname[a]
            names[sym] = pyname[a]
    sizes: dict = {}
    for lay in model.layers:
        if not lay.explicit:
            sizes[lay.size] = _identifier(lay.size.name, used)
    for p in model.params.values():
        for d in p.symbol.shape:
            for s in sp.sympify(d).free_symbols:
                if s not in sizes:
                    sizes[s] = _identifier(s.name, used)
    names.update(sizes)
    for p in model.params.values():
        if p.value is not None and not p.auto:
            names[p.symbol] = f"_value_{pyname.setdefault(p.name, _identifier(p.name, used))}"
    for i in model.intermediates:
        names[i.symbol] = _identifier(i.symbol.name, used)
    for lay in model.layers:
        if lay.explicit:
            for k, s in enumerate(lay.states):
                names[s] = f"{pyname[lay.name]}[:, {k}]"
    pr = _Printer(names, {})

    def code(e) -> str:
        try:
            return pr.doprint(e)
        except ExportError:
            raise
        except Exception as exc:  # noqa: BLE001 - report what could not be printed
            raise ExportError(f"cannot write {e} as numpy code: {exc}") from None

    args = [pyname[a] for a in order]
    state_args = [pyname[l.name] for l in model.layers]
    param_args = [a for a in args if a not in state_args]
    # -- layer states (energy only)
    states: list[str] = []
    emit = states.append
    emit("    _sizes = {}")
    emit("    _single = False")
    for lay in model.layers:
        v = pyname[lay.name]
        emit(f"    {v} = numpy.asarray({v}, dtype=float)")
        emit(f"    _single = _single or {v}.ndim == 1")
        emit(f"    {v} = numpy.atleast_2d({v})")
        if lay.explicit:
            emit(f"    _expect({v}.shape[1], {lay.size}, {('layer ' + repr(lay.name))!r})")
        else:
            emit(f"    _bind(_sizes, {lay.size.name!r}, {v}.shape[1], {('layer ' + repr(lay.name))!r})")
    emit("    _N = max([1" + "".join(f", {pyname[l.name]}.shape[0]" for l in model.layers) + "])")
    for lay in model.layers:
        v = pyname[lay.name]
        emit(f"    {v} = numpy.broadcast_to({v}, (_N, {v}.shape[1]))")
    # -- parameters, sizes, conditions, intermediates (energy and parameters)
    lines: list[str] = []
    emit = lines.append
    for p in model.params.values():
        if not p.auto:
            continue
        v = pyname[p.name]
        r, c = p.symbol.shape
        emit(f"    {v} = _array({v}, {p.name!r}, {c == 1})")
        for k, d in enumerate((r, c)):
            what = f"parameter {p.name!r} " + ("rows" if k == 0 else "columns")
            if isinstance(d, (int, sp.Integer)):
                emit(f"    _expect({v}.shape[{k}], {int(d)}, {what!r})")
            else:
                emit(f"    _bind(_sizes, {d.name!r}, {v}.shape[{k}], {what!r})")
    for s_, var in sizes.items():
        emit(f"    if {s_.name!r} not in _sizes:")
        emit(f"        raise ValueError('size {s_.name} is not determined by the arguments given')")
        emit(f"    {var} = _sizes[{s_.name!r}]")
    for p in model.params.values():
        if p.value is not None and not p.auto:
            emit(f"    {names[p.symbol]} = {code(sp.ImmutableMatrix(p.value))}")
    for c in model.conditions:
        emit(f"    _cholesky({code(c.matrix)}, {(text(c.matrix) + ' (' + c.reason + ')')!r})")
    for i in model.intermediates:
        emit(f"    {names[i.symbol]} = _inverse_pd({code(i.inverse_of)}, {(text(i.inverse_of) + ' (defining ' + i.symbol.name + ')')!r})")
    prelude = list(lines)
    returned = ", ".join(param_args + [names[i.symbol] for i in model.intermediates]
                         + [names[p.symbol] for p in model.params.values() if p.value is not None and not p.auto]
                         + list(sizes.values()))
    psig = ", ".join(["_sizes"] + param_args)

    # -- the energy
    lines = []
    emit = lines.append
    emit("    _E = numpy.zeros(_N)")
    X = {l.name: pyname[l.name] for l in model.layers}
    for lname, th in model.biases.items():
        emit(f"    _E -= ({X[lname]} @ {code(th)})[:, 0]")
    for lname, q in model.quadratic.items():
        emit(f"    _E += _rowdot({X[lname]} @ ({code(q)}).T, {X[lname]}) / 2")
    for (a, b), w in model.couplings.items():
        emit(f"    _E -= _rowdot({X[a]} @ {code(w)}, {X[b]})")
    for t in model.terms:
        if isinstance(t, (LogPartitionTerm, GaussianTerm)):
            n = t.size if isinstance(t.size, int) else names[t.size]
            parts = [] if t.theta is None else [f"numpy.broadcast_to(({code(t.theta)}).T, (_N, {n}))"]
            parts += [f"{X[m]} @ {code(w)}" for m, w in t.weights]
            emit(f"    _eta = {' + '.join(parts) if parts else f'numpy.zeros((_N, {n}))'}")
            if isinstance(t, GaussianTerm):
                emit(f"    _E -= _rowdot(_eta @ {code(t.covariance)}, _eta) / 2")
                emit(f"    _E += {code(t.log_normalizer())}")
            elif isinstance(t.kind, Bernoulli):
                emit("    _E -= numpy.logaddexp(0.0, _eta).sum(axis=-1)")
            elif isinstance(t.kind, Spin):
                emit("    _E -= _logcosh2(_eta).sum(axis=-1)")
            else:
                vals = ", ".join(repr(float(v)) for v in t.kind.values)
                emit(f"    _E -= _logsumexp_values(_eta, [{vals}]).sum(axis=-1)")
        elif isinstance(t, EnumeratedTerm):
            rows = ", ".join(f"numpy.broadcast_to(numpy.asarray({code(e)}, dtype=float), (_N,))" for e in t.exponents)
            emit(f"    _E += -_logsumexp_rows(numpy.array([{rows}]))")
        else:  # pragma: no cover - every term type is handled above
            raise ExportError(f"cannot export the term {t!r}")
    emit(f"    _E += {code(model.constant)}")
    emit("    return float(_E[0]) if _single else _E")
    body = lines

    blocks = [(f"theta_{k}", v) for k, v in model.biases.items()]
    blocks += [(f"Q_{k}", v) for k, v in model.quadratic.items()]
    blocks += [(f"W_{a}{b}", v) for (a, b), v in model.couplings.items()]
    par_lines = ["    return {"] + [f"        {k!r}: numpy.asarray({code(v)}, dtype=float),"
                                     for k, v in blocks] + ["    }"]

    symbols = {pyname[a]: a for a in order}
    sig = ", ".join(args)
    arg_doc = "\n".join(f"    {pyname[a]}: " + _describe(model, a) for a in order)
    conds = tuple(f"{text(c.matrix)} positive definite ({c.reason})" for c in model.conditions)
    head = title or f"Energy of {model!r}"
    out = [
        f'"""{head}.',
        "",
        "Standalone numeric module written by symrg.output.export (needs numpy only).",
        "",
        f"{name}({sig}) returns the energy E (Boltzmann weight exp(-E)); layer states have",
        "shape (n,) (a float is returned) or (N, n) (an array of N energies is returned).",
        "",
        "Arguments, in order:",
        arg_doc,
        "",
        "Conditions checked at every call (ConditionError when violated):",
        *(["    " + c for c in conds] or ["    (none)"]),
        '"""',
        "",
        "import numpy",
        "",
        f"ARGUMENTS = {tuple(args)!r}",
        f"SYMBOLS = {symbols!r}",
        f"CONDITIONS = {conds!r}",
        _HELPERS,
        "",
        f"def _prepare({psig}):",
        *prelude,
        f"    return ({returned},)" if returned else "    return ()",
        "",
        "",
        f"def {name}({sig}):",
        f'    """Energy at the given arguments ({sig}); see the module docstring."""',
        *states,
        (f"    {returned}, = _prepare({psig})" if returned else f"    _prepare({psig})"),
        *body,
        "",
        "",
        f"def parameters({', '.join(param_args)}):",
        '    """The evaluated blocks: fields theta_L, self blocks Q_L and couplings W_LM."""',
        "    _sizes = {}",
        (f"    {returned}, = _prepare({psig})" if returned else f"    _prepare({psig})"),
        *par_lines,
        "",
    ]
    src = "\n".join(out)
    compile(src, "<symrg export>", "exec")  # generated code must at least be valid Python
    return src


def _describe(model: EnergyModel, arg: str) -> str:
    if arg in model.layer_names:
        lay = model.layer(arg)
        return f"states of layer {arg!r} ({lay.size} {lay.kind.name} units), shape (n,) or (N, n)"
    p = model.params.get(arg)
    if p is not None:
        r, c = p.symbol.shape
        return f"parameter {arg!r}, array of shape ({r}, {c})" + (" or (n,)" if c == 1 else "")
    return f"scalar symbol {arg!r}"


# --------------------------------------------------------------------------------------
# recursion maps
# --------------------------------------------------------------------------------------


def export_recursion(rmap: Any, title: str | None = None) -> str:
    """The source of a standalone numpy module computing a recursion map's images.

    The module defines ``COUPLINGS``, ``PARAMETERS`` (free parameters, and ``b`` when
    the scale factor is symbolic), ``ARGUMENTS`` (couplings then parameters),
    ``images(*ARGUMENTS)`` returning the tuple of images, and when the map carries a
    constant ``constant_image(*ARGUMENTS, g0)`` and ``step(*ARGUMENTS, g0=0.0)``.

    >>> import sympy as sp
    >>> from symrg.rg.recursion import RecursionMap
    >>> K = sp.Symbol("K")
    >>> ns = {}
    >>> exec(export_recursion(RecursionMap((K,), (sp.log(sp.cosh(2*K))/2,), 2)), ns)
    >>> round(float(ns["images"](0.5)[0]), 12)
    0.216890415242
    """
    couplings = tuple(rmap.couplings)
    params = list(rmap.parameters)
    b = rmap.b
    if isinstance(b, sp.Symbol) and b not in params:
        params.append(b)
    used: set = {"images", "constant_image", "step", "COUPLINGS", "PARAMETERS", "ARGUMENTS", "SYMBOLS"}
    names = {s: _identifier(s.name, used) for s in list(couplings) + params}
    if rmap.constant is not None:
        names[rmap.constant] = _identifier(rmap.constant.name, used)
    pr = _Printer(names, {})
    args = [names[s] for s in list(couplings) + params]
    sig = ", ".join(args)
    check = []
    if isinstance(b, sp.Symbol):
        check = [f"    if not numpy.all(numpy.asarray({names[b]}) > 1):",
                 f"        raise ValueError('the scale factor {b} must be > 1')"]
    lines = [
        f'"""{title or "Recursion map " + rmap.name}.',
        "",
        "Standalone numeric module written by symrg.output.export (needs numpy only).",
        "",
        f"images({sig}) returns the renormalized couplings "
        f"({', '.join(str(c) + chr(39) for c in couplings)}); arguments may be numpy arrays.",
        f"Scale factor b = {b}.",
        "",
        "Map:",
        *[f"    {lhs} = {sp.sstr(rhs)}" for lhs, rhs in rmap.equations()],
        '"""',
        "",
        "import numpy",
        "",
        f"COUPLINGS = {tuple(names[c] for c in couplings)!r}",
        f"PARAMETERS = {tuple(names[p] for p in params)!r}",
        f"ARGUMENTS = {tuple(args)!r}",
        f"SYMBOLS = {({names[s]: s.name for s in names})!r}",
        "",
        "",
        f"def images({sig}):",
        f'    """({", ".join(args)}) -> ({", ".join(names[c] + chr(39) for c in couplings)})."""',
        *check,
        "    return (" + "".join(f"{pr.doprint(e)}, " for e in rmap.images) + ")",
    ]
    if rmap.constant is not None:
        g0 = names[rmap.constant]
        lines += [
            "",
            "",
            f"def constant_image({sig}, {g0}):",
            f'    """The constant (free energy) term after one step, from {g0} before it."""',
            *check,
            f"    return {pr.doprint(rmap.constant_image)}",
            "",
            "",
            f"def step({sig}, {g0}=0.0):",
            '    """One step of the flow: (couplings..., constant) after the step."""',
            f"    return images({sig}) + (constant_image({sig}, {g0}),)",
        ]
    src = "\n".join(lines) + "\n"
    compile(src, "<symrg export>", "exec")
    return src


def export_expression(expr: Any, name: str = "f", title: str | None = None) -> str:
    """The source of a standalone numpy module computing a scalar sympy expression.

    The function takes the free symbols in alphabetical order (``ARGUMENTS``).

    >>> import sympy as sp
    >>> K, h = sp.symbols("K h")
    >>> ns = {}
    >>> exec(export_expression(sp.log(sp.cosh(2*K + h))/4, name="K_prime"), ns)
    >>> ns["ARGUMENTS"], round(float(ns["K_prime"](0.5, 0.1)), 12)
    (('K', 'h'), 0.127984034802)
    """
    expr = sp.sympify(expr)
    if isinstance(expr, (sp.MatrixBase, sp.MatrixExpr)) or expr.has(sp.MatrixSymbol):
        raise ExportError("export_expression writes scalar expressions; export the energy model instead")
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ExportError(f"function name {name!r} must be a public Python identifier")
    syms = sorted((s for s in expr.free_symbols if isinstance(s, sp.Symbol)), key=lambda s: s.name)
    used: set = {name, "ARGUMENTS", "SYMBOLS"}
    names = {s: _identifier(s.name, used) for s in syms}
    pr = _Printer(names, {})
    args = [names[s] for s in syms]
    lines = [
        f'"""{title or "A scalar result"}.',
        "",
        "Standalone numeric module written by symrg.output.export (needs numpy only).",
        "",
        f"{name}({', '.join(args)}) = {sp.sstr(expr)}",
        '"""',
        "",
        "import numpy",
        "",
        f"ARGUMENTS = {tuple(args)!r}",
        f"SYMBOLS = {({names[s]: s.name for s in syms})!r}",
        "",
        "",
        f"def {name}({', '.join(args)}):",
        f'    """{sp.sstr(expr)[:200]}"""',
        f"    return {pr.doprint(expr)}",
    ]
    src = "\n".join(lines) + "\n"
    compile(src, "<symrg export>", "exec")
    return src


def write_module(result: Any, path: str | Path, **kwargs: Any) -> Path:
    """Write the standalone module of an energy model or a recursion map to ``path``."""
    from symrg.rg.recursion import RecursionMap

    if isinstance(result, EnergyModel):
        src = export_energy(result, **kwargs)
    elif isinstance(result, RecursionMap):
        src = export_recursion(result, **kwargs)
    elif isinstance(result, sp.Expr) and not isinstance(result, sp.MatrixExpr) and not result.has(sp.MatrixSymbol):
        src = export_expression(result, **kwargs)
    else:
        raise ExportError(f"cannot export a {type(result).__name__}; export an EnergyModel or a RecursionMap")
    p = Path(path)
    p.write_text(src)
    return p
