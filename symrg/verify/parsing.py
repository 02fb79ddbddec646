"""Safe parsing of claimed expressions (sympy syntax or LaTeX) into sympy objects.

Nothing a user types is ever executed: no ``eval``, ``sympify`` or ``parse_expr`` sees
the text.  A claim in *sympy syntax* is parsed by Python's :mod:`ast` (which only
builds a syntax tree) and the tree is walked against a whitelist -- names, numbers,
``+ - * / ** ^ @``, calls of whitelisted functions, ``.T`` (transpose) and entry
access ``W[1, 2]``; everything else (other attributes, dunder or private names,
imports, lambdas, comprehensions, keyword arguments, strings, unknown functions,
over-long or over-deep inputs) is rejected with :class:`ClaimError` before any sympy
object is built.  A *LaTeX* claim goes through a small tokenizer and recursive-descent
parser for the subset physicists write (``\\frac``, ``\\log``, ``\\exp``, ``\\cosh``,
``\\tanh``, ``\\sqrt``, ``^``, ``_``, ``\\left( \\right)``, ``\\cdot``, ``^{T}``,
``\\det``, ``^{-1}``); any other command is rejected.

Names resolve through a :class:`Namespace`, usually built from the model or result the
claim is compared with:

* exact names: ``W``, ``v``, ``C``, ``n_h`` (abstract mode), ``v_1``, ``a_2``;
* explicit-mode entries (1-indexed): ``W_{12}`` (LaTeX), ``W_12`` or ``W[1, 2]``
  (sympy syntax); when a dimension is 10 or more the entry is ``W_{1,12}``, written
  ``W_1_12`` or ``W[1, 12]`` in sympy syntax;
* constants, unless the namespace defines the name: ``pi`` (or ``π``); ``E`` is Euler's number
  (so is ``exp(1)``; in LaTeX ``e^{x}``, ``\\exp``, ``\\mathrm{e}``).  A bare ``e`` is a
  plain name, as in a physicist's notes (a charge, an edge).  ``I`` is the identity
  matrix: a scalar added to a square matrix means that multiple of the identity, so
  ``I - U*U.T`` and ``1 - U*U.T`` are the same; ``I`` in a purely scalar expression is
  refused (it is not the imaginary unit: ``exp(I*pi) + 1`` is an error, not ``1 + e**pi``);
* numbers: integer and decimal literals are exact (``0.1`` is ``1/10``), and so is
  scientific notation in sympy syntax (``1e-3`` is ``1/1000``).  Literals have at most
  :data:`MAX_DIGITS` digits, integer exponents at most :data:`MAX_EXPONENT`, and no exact
  number built from them (``(1/(1/10**59)**-1000)**-1000``) more than
  :data:`MAX_NUMBER_DIGITS` digits.

A 1x1 matrix expression combined with scalars (``-a.T*v + log(2)``) becomes a scalar
(:class:`~symrg.model.exprs.MatScalar`), as in symrg's own energies.

Examples
--------
>>> import sympy as sp
>>> from symrg.model.energy import seed_dbm
>>> ns = Namespace.from_model(seed_dbm())
>>> parse_claim("-a.T*v - log(det(1 - U*U.T))/2", ns)
-log(Determinant(I - U*U.T))/2 - a.T*v
>>> parse_claim(r"-a^{T} v - \\frac{1}{2}\\log\\det\\left(1 - U U^{T}\\right)", ns)
-log(Determinant(I - U*U.T))/2 - a.T*v
>>> parse_claim("__import__('os')")
Traceback (most recent call last):
...
symrg.errors.ClaimError: name '__import__' is not allowed (names starting with '_' are rejected)
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, cast

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from symrg.errors import ClaimError
from symrg.model.exprs import MatScalar
from symrg.model.naming import latex_name, model_symbols, split_entry, subscript_indices

__all__ = [
    "ClaimError",
    "Namespace",
    "parse_claim",
    "parse_sympy",
    "parse_latex",
    "FUNCTIONS",
    "MAX_LENGTH",
    "MAX_DEPTH",
    "match_names",
]

#: inputs longer than this many characters are rejected unread
MAX_LENGTH = 20_000
#: maximal nesting depth (parentheses, calls, operators)
MAX_DEPTH = 60
#: maximal number of syntax-tree nodes
MAX_NODES = 20_000
#: integer literals and exponents are bounded so that no arithmetic can blow up
MAX_DIGITS = 60
MAX_EXPONENT = 1000
#: digits of any exact number (numerator or denominator) a claim may build by arithmetic
#: on its literals: ``(1/(1/10**59)**-1000)**-1000`` would have 59,000,000 digits
MAX_NUMBER_DIGITS = 3000


# --------------------------------------------------------------------------------------
# values while building: scalars and matrices, with the promotions a physicist expects
# --------------------------------------------------------------------------------------


def _basic(x: Any) -> sp.Basic:
    """A size or entry as a sympy object (ints only; never a string)."""
    return x if isinstance(x, sp.Basic) else sp.Integer(int(x))


def _is_matrix(x: Any) -> bool:
    return isinstance(x, (MatrixExpr, sp.MatrixBase))


def _one_by_one(x: Any) -> bool:
    return _is_matrix(x) and tuple(x.shape) == (1, 1)


def _scalar(x: Any, what: str) -> sp.Expr:
    """``x`` as a scalar: 1x1 matrices become :class:`MatScalar`."""
    if _one_by_one(x):
        return MatScalar(x)
    if _is_matrix(x):
        raise ClaimError(f"{what} needs a scalar, got a {x.shape[0]} x {x.shape[1]} matrix {x}")
    return x


def _square(x: Any, what: str) -> MatrixExpr:
    if not _is_matrix(x):
        raise ClaimError(f"{what} needs a square matrix, got the scalar {x}")
    r, c = x.shape
    if r != c:
        raise ClaimError(f"{what} needs a square matrix, got {x} of shape {r} x {c}")
    return x


def _surely_different(s1: tuple, s2: tuple) -> bool:
    """True when two shapes differ for every value of their symbolic sizes."""
    return any(_basic(a - b).is_zero is False and (_basic(a).is_Integer and _basic(b).is_Integer) for a, b in zip(s1, s2))


_LOG10_2 = 0.30103


def _digits(x: sp.Rational) -> int:
    """Decimal digits of the larger of numerator and denominator (estimated from bits)."""
    return int(max(abs(int(x.p)).bit_length(), int(x.q).bit_length()) * _LOG10_2) + 1


def _checked(v: Any) -> Any:
    """``v``, after checking that an exact number stays within :data:`MAX_NUMBER_DIGITS`."""
    if isinstance(v, sp.Rational) and _digits(v) > MAX_NUMBER_DIGITS:
        raise ClaimError(f"the claim builds a number of about {_digits(v)} digits (limit {MAX_NUMBER_DIGITS})")
    if isinstance(v, sp.Basic) and v.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ClaimError("the claim divides by zero or is infinite")
    return v


def _add(x: Any, y: Any) -> Any:
    mx, my = _is_matrix(x), _is_matrix(y)
    if not mx and not my:
        return _checked(x + y)
    if mx and my:
        if _surely_different(x.shape, y.shape) and not (_one_by_one(x) or _one_by_one(y)):
            raise ClaimError(f"cannot add {x} (shape {x.shape[0]} x {x.shape[1]}) and {y} (shape {y.shape[0]} x {y.shape[1]})")
        if not _surely_different(x.shape, y.shape):
            # symbolic sizes that differ by name may still agree; the numeric test decides
            return sp.MatAdd(x, y) if not isinstance(x, sp.MatrixBase) or not isinstance(y, sp.MatrixBase) else x + y
        return _scalar(x, "addition") + _scalar(y, "addition")
    m, s = (x, y) if mx else (y, x)
    s = _as_identity_multiple(s)
    if _one_by_one(m):
        return _scalar(m, "addition") + s
    r, c = m.shape
    if r != c:
        raise ClaimError(f"cannot add the scalar {s} to the {r} x {c} matrix {m}")
    # a scalar added to a square matrix means that multiple of the identity
    ident = sp.Identity(r) if not isinstance(m, sp.MatrixBase) else sp.eye(r)
    return sp.MatAdd(m, s * ident) if not isinstance(m, sp.MatrixBase) else m + s * ident


def _neg(x: Any) -> Any:
    return -x


def _mul(x: Any, y: Any) -> Any:
    mx, my = _is_matrix(x), _is_matrix(y)
    if not mx and not my:
        if isinstance(x, sp.Rational) and isinstance(y, sp.Rational) and _digits(x) + _digits(y) > MAX_NUMBER_DIGITS + 2:
            raise ClaimError(f"the product {_brief(x)} * {_brief(y)} would have about {_digits(x) + _digits(y)} digits "
                             f"(limit {MAX_NUMBER_DIGITS})")
        return _checked(x * y)
    if mx and my:
        if x.shape[1] != y.shape[0] and (_one_by_one(x) or _one_by_one(y)):
            # (a^T v) W: a 1x1 product used as a scalar factor
            return _mul(_scalar(x, "product") if _one_by_one(x) else x, _scalar(y, "product") if _one_by_one(y) else y)
        return x * y
    return _as_identity_multiple(x) * _as_identity_multiple(y)


def _div(x: Any, y: Any) -> Any:
    y = _scalar(y, "division")
    if y == 0:
        raise ClaimError("division by zero in the claim")
    return _mul(x, sp.Pow(y, -1))


def _pow(x: Any, y: Any) -> Any:
    y = _scalar(y, "an exponent")
    if y.is_Number and abs(y) > MAX_EXPONENT:
        raise ClaimError(f"exponent {y} is too large (limit {MAX_EXPONENT})")
    if _is_matrix(x) and not _one_by_one(x):
        _square(x, "a matrix power")
        if y == -1:
            return sp.Inverse(x)
        if not (y.is_Integer):
            raise ClaimError(f"a matrix power needs an integer exponent, got {y}")
        return sp.MatPow(x, y)
    x = _scalar(x, "a power")
    if isinstance(x, sp.Rational) and isinstance(y, sp.Rational) and x != 0:
        # the size of an exact power, also for |x| < 1 and negative exponents
        est = int(abs(y) * _digits(x)) + 1
        if est > MAX_NUMBER_DIGITS and abs(x) != 1:
            raise ClaimError(f"{_brief(x)}**{y} is too large a number: about {est} digits (limit {MAX_NUMBER_DIGITS})")
    return _checked(sp.Pow(x, y))


def _brief(x: Any, limit: int = 40) -> str:
    """A number or expression shown in at most ``limit`` characters (never printing a huge one)."""
    if isinstance(x, sp.Rational) and _digits(x) > limit:
        return f"(a number of about {_digits(x)} digits)"
    s = str(x)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _transpose(x: Any) -> Any:
    if not _is_matrix(x):
        return x  # the transpose of a scalar is itself
    # keep a sum together, (b + U c)^T, as symrg's printers do
    return sp.Transpose(x) if isinstance(x, sp.MatAdd) else x.T


def _inverse(x: Any) -> Any:
    return _pow(x, sp.Integer(-1))


def _det(x: Any) -> Any:
    if _one_by_one(x) or not _is_matrix(x):
        return _scalar(x, "det")
    return sp.Determinant(_square(x, "det"))


def _trace(x: Any) -> Any:
    if not _is_matrix(x):
        return x
    return sp.Trace(_square(x, "trace"))


def _scalar_fn(fn: Callable) -> Callable:
    def apply(x: Any) -> Any:
        return _checked(fn(_scalar(x, fn.__name__ if hasattr(fn, "__name__") else "a function")))

    return apply


#: the functions a claim may call (sympy syntax and LaTeX share them)
FUNCTIONS: Mapping[str, Callable] = {
    "log": _scalar_fn(sp.log),
    "ln": _scalar_fn(sp.log),
    "exp": _scalar_fn(sp.exp),
    "sqrt": _scalar_fn(sp.sqrt),
    "sin": _scalar_fn(sp.sin),
    "cos": _scalar_fn(sp.cos),
    "tan": _scalar_fn(sp.tan),
    "sinh": _scalar_fn(sp.sinh),
    "cosh": _scalar_fn(sp.cosh),
    "tanh": _scalar_fn(sp.tanh),
    "sech": _scalar_fn(sp.sech),
    "asinh": _scalar_fn(sp.asinh),
    "acosh": _scalar_fn(sp.acosh),
    "atanh": _scalar_fn(sp.atanh),
    "arctanh": _scalar_fn(sp.atanh),
    "abs": _scalar_fn(sp.Abs),
    "Abs": _scalar_fn(sp.Abs),
    "det": _det,
    "Determinant": _det,
    "trace": _trace,
    "Trace": _trace,
    "tr": _trace,
    "transpose": _transpose,
    "Transpose": _transpose,
    "inverse": _inverse,
    "Inverse": _inverse,
    "inv": _inverse,
}

#: ``I`` while a claim is built: the identity matrix where it meets a matrix (any scalar
#: there is a multiple of the identity, and a function of ``c I`` is ``f(c) I``); left in
#: a purely scalar result it is refused by :func:`_finish`
_IDENTITY = sp.Dummy("I")
_CONSTANTS = {"pi": sp.pi, "π": sp.pi, "E": sp.E, "I": _IDENTITY}


def _as_identity_multiple(s: Any) -> Any:
    """A scalar met by a matrix: ``I`` there is the identity, so the scalar 1."""
    return s.xreplace({_IDENTITY: sp.S.One}) if isinstance(s, sp.Basic) and s.has(_IDENTITY) else s


# --------------------------------------------------------------------------------------
# names
# --------------------------------------------------------------------------------------

_BRACED = re.compile(r"^([A-Za-z][A-Za-z0-9]*)_\{(\d+(?:,\d+)*)\}$")
_PLAIN = re.compile(r"^([A-Za-z][A-Za-z0-9]*)_(\d+)$")
_MULTI = re.compile(r"^([A-Za-z][A-Za-z0-9]*)((?:_\d+){2,})$")


@dataclass
class Namespace:
    """Names a claim may use, mapped to sympy objects.

    ``strict`` namespaces reject unknown names (with the list of known ones); open
    namespaces create a real :class:`~sympy.Symbol` for each new name (and remember
    it, so two claims parsed with the same namespace share their symbols).

    >>> ns = Namespace.from_expressions([sp.Symbol("W_{12}"), sp.Symbol("a_1")])
    >>> ns.resolve("W_12"), ns.entry("W", (1, 2)), ns.resolve("a_1")
    (W_{12}, W_{12}, a_1)
    """

    names: dict = field(default_factory=dict)
    entries: dict = field(default_factory=dict)
    strict: bool = False
    aliases: dict = field(default_factory=dict)
    #: the LaTeX symbol of every layer and parameter of the models added -> their names
    #: (:func:`symrg.model.naming.model_symbols`); the LaTeX reader looks symbols up here
    latex_symbols: dict = field(default_factory=dict)
    #: values of free index letters for the LaTeX reader (``{"i": 1, "j": 2}`` reads
    #: ``\sum_{k=1}^{2} W_{ik} W_{jk}`` as ``W_{11} W_{21} + W_{12} W_{22}``)
    indices: dict = field(default_factory=dict)

    # -- construction -------------------------------------------------------------------
    def add(self, obj: Any, name: str | None = None) -> None:
        """Register ``obj`` under its name (and its entry aliases)."""
        name = name if name is not None else str(getattr(obj, "name", obj))
        self.names.setdefault(name, obj)
        m = _BRACED.match(name)
        if m:
            digits = m.group(2)
            idx = subscript_indices(digits)
            self.entries.setdefault((m.group(1), idx), obj)
            # the identifier spellings W_12 and W_1_12
            alias = m.group(1) + "_" + ("_".join(digits.split(",")) if "," in digits else digits)
            self.aliases.setdefault(alias, obj)
            return
        m = _PLAIN.match(name)
        if m:
            self.entries.setdefault((m.group(1), (int(m.group(2)),)), obj)

    @classmethod
    def from_expressions(cls, exprs: Iterable[Any], strict: bool = False) -> "Namespace":
        """A namespace of the symbols and matrix symbols in ``exprs``."""
        ns = cls(strict=strict)
        for e in exprs:
            ns.add_expression(e)
        return ns

    def add_expression(self, e: Any) -> None:
        if e is None:
            return
        if hasattr(e, "rhs_latex") and hasattr(e, "energy"):  # an EnergyModel
            self.add_model(e)
            return
        if not isinstance(e, sp.Basic):
            return
        for a in sorted(e.atoms(sp.MatrixSymbol), key=str):
            self.add(a)
            for d in a.shape:
                for s in _basic(d).free_symbols:
                    self.add(s)
        for s in sorted(e.free_symbols, key=str):
            if isinstance(s, sp.Symbol):
                self.add(s)
                self._add_default_symbol(s)

    def _add_default_symbol(self, s: sp.Symbol) -> None:
        """The default LaTeX symbol of an entry name outside a model (``h1_2``, ``W_vh1_{12}``:
        ``h^{(1)}``, ``W^{(v,h^{(1)})}``, :func:`symrg.model.naming.latex_name`), so that a
        result kept as an expression (a document's) reads the model's printed LaTeX; a base
        a model already gave a symbol keeps that one only."""
        parts = split_entry(s.name)
        if parts is None or parts[0].isalpha():
            return  # plain names (v_1, W_{12}) read as they always have
        base, idx, _ = parts
        self.entries.setdefault((base, idx), s)
        if any(base in names for names in self.latex_symbols.values()):
            return
        self.latex_symbols.setdefault(latex_name(base), set()).add(base)

    def add_model(self, model: Any) -> None:
        """Register a model's layers, parameters, entries, sizes, intermediates and LaTeX symbols."""
        for name, tex in model_symbols(model).items():
            self.latex_symbols.setdefault(tex, set()).add(name)
        for lay in model.layers:
            self.add(lay.symbol)
            if lay.explicit:
                for i, s in enumerate(lay.states):
                    self.add(s)
                    self.entries.setdefault((lay.name, (i + 1,)), s)
            else:
                self.add(lay.size)
        for p in model.params.values():
            self.add(p.symbol)
            for d in p.symbol.shape:
                for s in _basic(d).free_symbols:
                    self.add(s)
            if p.value is not None:
                rows, cols = p.value.shape
                for i in range(rows):
                    for j in range(cols):
                        v = p.value[i, j]
                        self.entries.setdefault((p.name, (i + 1, j + 1)), v)
                        if cols == 1:
                            self.entries.setdefault((p.name, (i + 1,)), v)
                        for s in _basic(v).free_symbols:
                            self.add(s)
        for i in model.intermediates:
            self.add(i.symbol)
        if model.original is not None:
            self.add_model(model.original)

    @classmethod
    def from_model(cls, model: Any, strict: bool = True) -> "Namespace":
        """The names of ``model`` (and of the model it was derived from)."""
        ns = cls(strict=strict)
        ns.add_model(model)
        return ns

    # -- lookup ---------------------------------------------------------------------------
    def known(self) -> list[str]:
        return sorted(self.names)

    def _unknown(self, name: str) -> ClaimError:
        main = [n for n in self.known() if not (_BRACED.match(n) or _PLAIN.match(n))]
        entries = [n for n in self.known() if _BRACED.match(n) or _PLAIN.match(n)]
        shown = ", ".join(main[:40]) + (", ..." if len(main) > 40 else "")
        if entries:
            shown += f"; entries such as {', '.join(entries[:3])} ({len(entries)} in all)"
        hint = " (Euler's number is E or exp(1); in LaTeX e^{x} or \\mathrm{e})" if name == "e" else ""
        return ClaimError(f"unknown name {name!r} in the claim{hint}; known names: {shown or '(none)'}")

    def resolve(self, name: str) -> Any:
        """The object called ``name`` (exact name, ``W_12`` spelling, or a constant)."""
        if name in self.names:
            return self.names[name]
        if name in self.aliases:
            return self.aliases[name]
        m = _PLAIN.match(name) or _MULTI.match(name)
        if m:
            digits = [int(p) for p in m.group(2).strip("_").split("_")] if _MULTI.match(name) else [int(m.group(2))]
            for idx in (tuple(digits), tuple(int(ch) for ch in m.group(2).strip("_")) if len(digits) == 1 else ()):
                if idx and (m.group(1), idx) in self.entries:
                    return self.entries[(m.group(1), idx)]
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if self.strict:
            raise self._unknown(name)
        sym = sp.Symbol(name, real=True)
        self.names[name] = sym
        return sym

    def entry(self, base: str, index: tuple[int, ...]) -> Any:
        """Entry ``base[index]`` (1-indexed), e.g. ``W[1, 2]`` -> ``W_{12}``."""
        if (base, index) in self.entries:
            return self.entries[(base, index)]
        mat = self.names.get(base)
        if isinstance(mat, sp.MatrixSymbol):
            rows, cols = mat.shape
            if not all(_basic(d).is_Integer for d in (rows, cols)):
                # an entry of an abstract n x m matrix exists only for some sizes
                raise ClaimError(f"{base} is an abstract {rows} x {cols} matrix: its entries cannot be named "
                                 f"(write the claim with whole matrices, or use a model with numeric sizes)")
            idx = index if len(index) == 2 else (index[0], 1) if cols == 1 else None
            if idx is None:
                raise ClaimError(f"{base} is a {rows} x {cols} matrix; index it with two indices, {base}[i, j]")
            for k, d in zip(idx, (rows, cols)):
                if k < 1 or (isinstance(d, (int, sp.Integer)) and k > int(d)):
                    raise ClaimError(f"index {list(index)} is out of range for {base} of shape {rows} x {cols} (indices start at 1)")
            return mat[idx[0] - 1, idx[1] - 1]
        if any(k < 1 for k in index):
            raise ClaimError(f"index {list(index)} of {base} is out of range (indices start at 1)")
        if self.strict or base in self.names:
            raise ClaimError(f"no entry {base}[{', '.join(map(str, index))}] in this namespace")
        name = f"{base}_{{{','.join(map(str, index))}}}" if len(index) > 1 else f"{base}_{index[0]}"
        return self.resolve(name)


def _namespace(ns: Namespace | Mapping | None) -> Namespace:
    if ns is None:
        return Namespace()
    if isinstance(ns, Namespace):
        return ns
    out = Namespace(strict=True)
    for k, v in ns.items():
        out.add(v, k)
    return out


def _finish(value: Any) -> Any:
    """The parsed claim, after the last checks (``I`` in a scalar context)."""
    if isinstance(value, sp.MatrixBase):
        if any(isinstance(x, sp.Basic) and x.has(_IDENTITY) for x in value):
            raise ClaimError(_I_SCALAR)
        return value
    if isinstance(value, sp.Basic) and value.has(_IDENTITY):
        if _is_matrix(value):
            return _as_identity_multiple(value)
        raise ClaimError(_I_SCALAR)
    return value


_I_SCALAR = ("'I' is the identity matrix in a claim, but here it is used as a scalar; write 1 for one "
             "(the imaginary unit is not supported in claims)")


# --------------------------------------------------------------------------------------
# sympy syntax through the ast module
# --------------------------------------------------------------------------------------


def _precheck(text: Any, what: str) -> str:
    if not isinstance(text, str):
        raise ClaimError(f"a {what} claim must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ClaimError(f"the claim is {len(text)} characters long; the limit is {MAX_LENGTH}")
    if not text.strip():
        raise ClaimError("the claim is empty")
    depth = best = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            best = max(best, depth)
        elif ch in ")]}":
            depth -= 1
    if best > MAX_DEPTH:
        raise ClaimError(f"the claim nests brackets {best} deep; the limit is {MAX_DEPTH}")
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text):
        raise ClaimError("the claim contains control characters")
    return text


_BINOPS = {
    ast.Add: _add,
    ast.Sub: lambda x, y: _add(x, _neg(y)),
    ast.Mult: _mul,
    ast.MatMult: _mul,
    ast.Div: _div,
    ast.Pow: _pow,
}


class _AstBuilder:
    def __init__(self, ns: Namespace) -> None:
        self.ns = ns

    def check(self, tree: ast.AST) -> None:
        """Whitelist pass over the whole tree, before anything is built."""
        count = 0
        for node in ast.walk(tree):
            count += 1
            if count > MAX_NODES:
                raise ClaimError(f"the claim has more than {MAX_NODES} syntax nodes")
            if isinstance(node, ast.Name):
                self._check_name(node.id)
            elif isinstance(node, ast.Attribute):
                if node.attr != "T":
                    raise ClaimError(f"attribute access '.{node.attr}' is not allowed (only .T, the transpose)")
            elif isinstance(node, ast.Call):
                if not isinstance(node.func, ast.Name):
                    raise ClaimError("only calls of whitelisted functions by name are allowed, e.g. log(x)")
                self._check_name(node.func.id)
                if node.func.id not in FUNCTIONS:
                    raise ClaimError(f"unknown function {node.func.id!r}; allowed: {', '.join(sorted(FUNCTIONS))}")
                if node.keywords or len(node.args) != 1 or any(isinstance(a, ast.Starred) for a in node.args):
                    raise ClaimError(f"{node.func.id}() takes exactly one positional argument")
            elif isinstance(node, ast.Constant):
                if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                    raise ClaimError(f"literal {node.value!r} is not allowed (numbers only)")
                if isinstance(node.value, int) and node.value.bit_length() > MAX_DIGITS * 3.33:
                    raise ClaimError(f"integer literal with more than {MAX_DIGITS} digits")
                if isinstance(node.value, float) and not math.isfinite(node.value):
                    raise ClaimError("a number literal is out of range (at most about 1e308; write 10**400 for larger)")
            elif isinstance(node, ast.Subscript):
                if not isinstance(node.value, ast.Name):
                    raise ClaimError("only a name can be indexed, e.g. W[1, 2]")
            elif not isinstance(
                node,
                (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Load, ast.Tuple, ast.operator, ast.unaryop),
            ):
                raise ClaimError(f"{type(node).__name__} is not allowed in a claim (names, numbers, operators and whitelisted functions only)")
            if isinstance(node, ast.BinOp) and type(node.op) not in _BINOPS:
                raise ClaimError(f"operator {type(node.op).__name__} is not allowed")
            if isinstance(node, ast.UnaryOp) and not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise ClaimError(f"operator {type(node.op).__name__} is not allowed")

    @staticmethod
    def _check_name(name: str) -> None:
        if name.startswith("_"):
            raise ClaimError(f"name {name!r} is not allowed (names starting with '_' are rejected)")

    def build(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return self.build(node.body)
        if isinstance(node, ast.Constant):
            v = node.value
            return sp.Integer(v) if isinstance(v, int) else sp.Rational(repr(v))
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise ClaimError(f"{node.id} is a function; call it, e.g. {node.id}(x)")
            return self.ns.resolve(node.id)
        if isinstance(node, ast.UnaryOp):
            x = self.build(node.operand)
            return _neg(x) if isinstance(node.op, ast.USub) else x
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](self.build(node.left), self.build(node.right))
        if isinstance(node, ast.Attribute):  # .T only (checked)
            return _transpose(self.build(node.value))
        if isinstance(node, ast.Call):
            return FUNCTIONS[cast(ast.Name, node.func).id](self.build(node.args[0]))  # a Name (checked)
        if isinstance(node, ast.Subscript):
            sl = node.slice
            parts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
            idx = []
            for p in parts:
                if not (isinstance(p, ast.Constant) and isinstance(p.value, int) and not isinstance(p.value, bool)):
                    raise ClaimError("indices must be integer literals, e.g. W[1, 2] (1-indexed)")
                idx.append(p.value)
            if not 1 <= len(idx) <= 2:
                raise ClaimError("use one or two indices, e.g. a[1] or W[1, 2]")
            return self.ns.entry(cast(ast.Name, node.value).id, tuple(idx))  # a Name (checked)
        if isinstance(node, ast.Tuple):
            raise ClaimError("a tuple is not an expression; did you mean W[1, 2]?")
        raise ClaimError(f"{type(node).__name__} is not allowed in a claim")  # pragma: no cover - caught by check


def parse_sympy(text: str, namespace: Namespace | Mapping | None = None) -> Any:
    """Parse a claim written in sympy syntax (``-a.T*v + log(det(I - U*U.T))/2``).

    >>> parse_sympy("x**2 + 2*x")
    x**2 + 2*x
    >>> parse_sympy("x.__class__")
    Traceback (most recent call last):
    ...
    symrg.errors.ClaimError: attribute access '.__class__' is not allowed (only .T, the transpose)
    """
    text = _precheck(text, "sympy-syntax")
    ns = _namespace(namespace)
    # hand-typed syntax (2K, K', Unicode minus, ^ for **) becomes Python syntax, parsed by
    # the ast module (never run); syntax errors name their position with a caret
    from symrg.verify.latex_reader import sympy_syntax_tree  # latex_reader builds on this module

    tree, ns = sympy_syntax_tree(text, ns)
    b = _AstBuilder(ns)
    b.check(tree)
    try:
        return _finish(b.build(tree))
    except ClaimError:
        raise
    except (TypeError, ValueError, sp.ShapeError, RecursionError) as e:  # shape and type errors of sympy
        raise ClaimError(f"the claim is not a valid expression: {e}") from None


# --------------------------------------------------------------------------------------
# LaTeX
# --------------------------------------------------------------------------------------

def parse_latex(text: str, namespace: Namespace | Mapping | None = None) -> Any:
    r"""Parse a claim written in (a physicist's subset of) LaTeX.

    Reading rules: an unbracketed function argument is the product that follows, up
    to an operator or the next function (``\log 2\pi = \log(2\pi)``, ``\sin x \cos y
    = \sin(x)\cos(y)``); ``e`` is Euler's number only as ``e^{...}`` or ``\mathrm{e}``
    (a bare ``e`` is a name); scientific notation ``1e-3`` is refused (write
    ``10^{-3}``); ``\Gamma(x)`` is refused (there is no Gamma function) unless
    ``\Gamma`` is a known name; ``I`` is the identity matrix, as in sympy syntax.

    >>> parse_latex(r"\log 2\pi + \mathrm{e}^{x}")
    exp(x) + log(2*pi)

    >>> parse_latex(r"\frac{1}{4}\log\left(\cosh(2K + h)\cosh(2K - h)\right)")
    log(cosh(2*K - h)*cosh(2*K + h))/4
    >>> parse_latex(r"\input{/etc/passwd}")
    Traceback (most recent call last):
    ...
    symrg.errors.ClaimError: \input is refused: a claim may not read or write files or define macros (position 0):
    ...

    The reading is done by :func:`symrg.verify.latex_reader.read_latex` (the notation of
    papers: ``\cosh^2 h``, ``\frac14``, ``K' = ...``, ``align`` rows, primes; every error
    with its position and a caret).
    """
    from symrg.verify.latex_reader import read_latex  # latex_reader builds on this module

    return read_latex(text, namespace)


def parse_claim(claim: Any, namespace: Namespace | Mapping | None = None, syntax: str = "auto") -> Any:
    """A claim as a sympy object.

    Parameters
    ----------
    claim
        A sympy expression (returned with its names matched to ``namespace``), a string
        in sympy syntax, or a LaTeX string.
    namespace
        Names the claim may use (:class:`Namespace`, or a mapping name -> object).
    syntax
        ``"auto"`` (LaTeX when the string holds a backslash, ``^{`` or ``_{``),
        ``"sympy"`` or ``"latex"``.

    >>> parse_claim("K**2") == parse_claim(r"K^{2}") == parse_claim(r"K^2")
    True
    """
    if syntax not in ("auto", "sympy", "latex"):
        raise ClaimError(f"unknown syntax {syntax!r}; valid: auto, sympy, latex")
    if isinstance(claim, str):
        if syntax == "latex" or (syntax == "auto" and ("\\" in claim or "^{" in claim or "_{" in claim)):
            value = parse_latex(claim, namespace)
        else:
            value = parse_sympy(claim, namespace)
        return _finish(value)
    if isinstance(claim, (int, float)) and not isinstance(claim, bool):
        return sp.Rational(repr(claim)) if isinstance(claim, float) else sp.Integer(claim)
    if isinstance(claim, (sp.Basic, sp.MatrixBase)):
        return match_names(claim, _namespace(namespace))
    raise ClaimError(f"a claim must be a sympy expression or a string, got {type(claim).__name__}")


def match_names(expr: Any, ns: Namespace) -> Any:
    """Replace symbols of ``expr`` by the namespace's objects of the same name.

    A user's ``Symbol("W_{12}")`` (no assumptions) is the model's ``W_{12}``
    (``real=True``): names, not assumptions, identify parameters.
    """
    rep = {}
    for a in expr.atoms(sp.MatrixSymbol):
        obj = ns.names.get(a.name)
        if isinstance(obj, sp.MatrixSymbol) and obj != a:
            rep[a] = obj
    for s in expr.free_symbols:
        if isinstance(s, sp.Symbol) and not isinstance(s, sp.Dummy):
            obj = ns.names.get(s.name)
            if isinstance(obj, sp.Symbol) and obj != s:
                rep[s] = obj
    return expr.xreplace(rep) if rep else expr
