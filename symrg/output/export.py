"""Standalone numeric modules: a Python file that needs numpy only (no sympy, no symrg).

:func:`export_energy` writes the energy of an :class:`~symrg.model.EnergyModel` as the numpy
code that :mod:`symrg.output.codegen` generates from the model's *structure* (the same
program :mod:`symrg.output.numeric` compiles), after the numpy runtime's source: biases,
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
from pathlib import Path
from typing import Any

import sympy as sp

from symrg.errors import ExportError
from symrg.model.energy import EnergyModel
from symrg.output import codegen

__all__ = ["export_energy", "export_recursion", "export_expression", "write_module", "ExportError"]


# --------------------------------------------------------------------------------------
# energies
# --------------------------------------------------------------------------------------

_HEADER = "import numpy as _np\n"


def export_energy(model: EnergyModel, name: str = "energy", title: str | None = None) -> str:
    """The source of a standalone numpy module computing ``model``'s energy.

    The code is the program of :func:`symrg.output.codegen.energy_program` (the same one
    :func:`~symrg.output.numeric.lambdify` compiles) after the numpy runtime's source.

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
        ``SYMBOLS``, ``CONDITIONS``, ``ConditionError``, ``ModelError``, ``<name>(...)``
        and ``parameters(...)``.  Every text taken from the model (names, condition
        reasons) is embedded as an escaped literal; argument names are validated
        identifiers.
    """
    program = codegen.energy_program(model, name)
    args = program.arguments
    arg_doc = "\n".join(f"    {py}: " + _describe(model, orig) for py, orig in program.symbols)
    head = title or f"Energy of {model!r}"
    doc = "\n".join([
        f"{head}.",
        "",
        "Standalone numeric module written by symrg.output.export (needs numpy only).",
        "",
        f"{name}({', '.join(args)}) returns the energy E (Boltzmann weight exp(-E)); layer states have",
        "shape (n,) or (N, n): the result is a float when every layer is a single state, else an",
        "array of N energies (batches of different layers must have the same N; a single state is",
        "broadcast).  NaN, infinite or complex values, states outside a unit's support and negative",
        "values of positive symbols raise ConditionError naming the argument; wrong shapes ModelError.",
        "",
        "Arguments, in order:",
        arg_doc,
        "",
        "Conditions checked at every call (ConditionError when violated):",
        *(["    " + c for c in program.conditions] or ["    (none)"]),
    ])
    out = [
        codegen.doc_literal(doc),
        "",
        _HEADER,
        f"ARGUMENTS = {tuple(str(a) for a in args)!r}",
        f"SYMBOLS = {dict((str(p), str(o)) for p, o in program.symbols)!r}",
        f"CONDITIONS = {tuple(str(c) for c in program.conditions)!r}",
        codegen.runtime_source("numpy"),
        program.source,
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
# recursion maps and scalar expressions
# --------------------------------------------------------------------------------------


def export_recursion(rmap: Any, title: str | None = None) -> str:
    """The source of a standalone numpy module computing a recursion map's images.

    The module defines ``COUPLINGS``, ``PARAMETERS`` (free parameters, and ``b`` when
    the scale factor is symbolic), ``ARGUMENTS`` (couplings then parameters),
    ``images(*ARGUMENTS)`` returning the tuple of images, and when the map carries a
    constant ``constant_image(*ARGUMENTS, g0)`` and ``step(*ARGUMENTS, g0=0.0)``.
    The code is :func:`symrg.output.codegen.scalar_program`'s, with stable forms
    (``log cosh`` stays finite for any argument).

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
    syms = list(couplings) + params
    funcs = [("images", list(rmap.images), True)]
    if rmap.constant is not None:
        funcs_c = [("constant_image", [rmap.constant_image], False)]
    src_images, args = codegen.scalar_program(syms, funcs, set(used))
    used |= set(args)
    g0 = None
    src_const = ""
    if rmap.constant is not None:
        src_const, cargs = codegen.scalar_program(syms + [rmap.constant], funcs_c, set(used) - set(args))
        if cargs[: len(args)] != args:  # pragma: no cover - same symbols give the same names
            raise ExportError("inconsistent argument names")
        g0 = cargs[-1]
    check = []
    if isinstance(b, sp.Symbol):
        bn = args[syms.index(b)]
        check = [
            "",
            "",
            "_images_unchecked = images",
            "",
            "",
            f"def images({', '.join(args)}):",
            f"    if not _np.all(_np.asarray({bn}) > 1):",
            f"        raise ConditionError({codegen._lit('the scale factor ' + str(b) + ' must be > 1')})",
            f"    return _images_unchecked({', '.join(args)})",
        ]
    sig = ", ".join(args)
    doc = "\n".join([
        f"{title or 'Recursion map ' + str(rmap.name)}.",
        "",
        "Standalone numeric module written by symrg.output.export (needs numpy only).",
        "",
        f"images({sig}) returns the renormalized couplings "
        f"({', '.join(str(c) + chr(39) for c in couplings)}); arguments may be numpy arrays.",
        f"Scale factor b = {b}.",
        "",
        "Map:",
        *[f"    {lhs} = {sp.sstr(rhs)}" for lhs, rhs in rmap.equations()],
    ])
    lines = [
        codegen.doc_literal(doc),
        "",
        _HEADER,
        f"COUPLINGS = {tuple(args[: len(couplings)])!r}",
        f"PARAMETERS = {tuple(args[len(couplings):])!r}",
        f"ARGUMENTS = {tuple(args)!r}",
        f"SYMBOLS = {dict((a, str(s.name)) for a, s in zip(args, syms))!r}",
        codegen.runtime_source("numpy"),
        src_images,
        *check,
    ]
    if rmap.constant is not None:
        lines += [
            src_const,
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
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ExportError(f"function name {name!r} must be a public Python identifier")
    syms = sorted((s for s in expr.free_symbols if isinstance(s, sp.Symbol)), key=lambda s: s.name)
    src_fn, args = codegen.scalar_program(syms, [(name, [expr], False)], {name, "ARGUMENTS", "SYMBOLS"})
    doc = "\n".join([
        f"{title or 'A scalar result'}.",
        "",
        "Standalone numeric module written by symrg.output.export (needs numpy only).",
        "",
        f"{name}({', '.join(args)}) = {sp.sstr(expr)}",
    ])
    lines = [
        codegen.doc_literal(doc),
        "",
        _HEADER,
        f"ARGUMENTS = {tuple(args)!r}",
        f"SYMBOLS = {dict((a, str(s.name)) for a, s in zip(args, syms))!r}",
        codegen.runtime_source("numpy"),
        src_fn,
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
