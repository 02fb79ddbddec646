"""Save and load results (energy models, effective models, recursion maps, expressions).

The format is JSON holding a *table of sympy nodes*: every node names its class and
lists the indices of its arguments (earlier nodes), numbers and symbols are leaves with
their exact data (integers as decimal strings, floats as their binary mantissa and
exponent, symbols with their assumptions).  Loading never evaluates text: each class
name is looked up in a fixed whitelist of sympy (and symrg) classes and the object is
rebuilt from its arguments without re-simplification, so a loaded result is ``==`` to
the saved one.  Shared subexpressions are stored once.

Examples
--------
>>> from symrg.model.energy import seed_dbm
>>> from symrg.engine.marginalization import marginalize
>>> H = marginalize(seed_dbm(), "s", "h")
>>> text = dumps(H)
>>> models_equal(loads(text), H)
True
>>> loads(text).energy == H.energy
True
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any, Mapping

import mpmath
import sympy as sp
from sympy.core.assumptions import _assume_defined
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.diagonal import DiagonalOf
from sympy.matrices.expressions.matexpr import MatrixElement

from symrg.errors import BudgetError, ModelError, SerializeError, SymrgError
from symrg.model import budgets
from symrg.model.energy import (
    Condition,
    EnergyModel,
    EnumeratedTerm,
    GaussianTerm,
    Intermediate,
    Layer,
    LogPartitionTerm,
    MultispinTerm,
    Param,
    Step,
)
from symrg.model.exprs import MatScalar, SumLogPartition
from symrg.model.terms import TransferMatrixTerm
from symrg.model.units import UnitKind, kind_class

__all__ = ["dumps", "loads", "save", "load", "models_equal", "SerializeError", "FORMAT", "VERSION"]

FORMAT = "symrg"
VERSION = 1
#: limits that keep a hostile file from exhausting memory or time
MAX_NODES = 2_000_000
#: characters of one hexadecimal integer (the bit budget of symrg.model.budgets applies as well)
MAX_DIGITS = 100_000
#: characters of one save file
MAX_BYTES = 500_000_000


def _classes() -> dict[str, type]:
    names = [
        # core
        "Add", "Mul", "Pow", "Tuple", "Pi", "Exp1", "EulerGamma", "ImaginaryUnit", "Infinity",
        "NegativeInfinity", "ComplexInfinity", "NaN", "Zero", "One", "NegativeOne", "Half",
        # functions
        "exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "asin",
        "acos", "atan", "sech", "csch", "coth", "Abs", "sign", "re", "im", "Max", "Min", "Heaviside",
        "factorial", "binomial", "gamma", "floor", "ceiling", "Piecewise", "ExprCondPair", "LambertW",
        # relations and logic (conditions of piecewise results)
        "Equality", "Unequality", "StrictGreaterThan", "GreaterThan", "StrictLessThan", "LessThan",
        "And", "Or", "Not", "BooleanTrue", "BooleanFalse",
        # matrix expressions
        "MatrixSymbol", "MatAdd", "MatMul", "MatPow", "Transpose", "Inverse", "Determinant", "Trace",
        "Identity", "ZeroMatrix", "OneMatrix", "HadamardProduct",
    ]
    out = {n: getattr(sp, n) for n in names if hasattr(sp, n)}
    from sympy.core import numbers

    for n in ("Pi", "Exp1", "EulerGamma", "ImaginaryUnit", "Infinity", "NegativeInfinity", "ComplexInfinity",
              "NaN", "Zero", "One", "NegativeOne", "Half"):
        out[n] = getattr(numbers, n)
    from sympy.functions.elementary.piecewise import ExprCondPair

    out["ExprCondPair"] = ExprCondPair
    out["MatrixElement"] = MatrixElement
    out["DiagonalOf"] = DiagonalOf
    out["MatScalar"] = MatScalar
    out["SumLogPartition"] = SumLogPartition
    from sympy.logic.boolalg import BooleanFalse, BooleanTrue

    out["BooleanTrue"], out["BooleanFalse"] = BooleanTrue, BooleanFalse
    return out


_CLASSES: dict[str, type] | None = None


def _whitelist() -> dict[str, type]:
    global _CLASSES
    if _CLASSES is None:  # built on first use: no work at import time
        _CLASSES = _classes()
    return _CLASSES


# --------------------------------------------------------------------------------------
# sympy objects <-> node table
# --------------------------------------------------------------------------------------


class _Writer:
    """Sympy objects -> a node table, children before parents (an explicit stack: no recursion).

    The writer feeds every node to a :class:`~symrg.model.budgets.Meter`, so an object
    that could not be loaded back (too deep, too large) is refused when saving.
    """

    def __init__(self) -> None:
        self.nodes: list = []
        self.index: dict = {}
        self.meter = budgets.Meter("saving")

    @staticmethod
    def _normal(e: Any) -> sp.Basic:
        if isinstance(e, bool):
            raise SerializeError(f"cannot save the Python bool {e!r} as a sympy node")
        if isinstance(e, int):
            e = sp.Integer(e)
        if isinstance(e, str):
            e = sp.core.symbol.Str(e)
        if isinstance(e, sp.MatrixBase):
            e = sp.ImmutableMatrix(e)
        if not isinstance(e, sp.Basic):
            raise SerializeError(f"cannot save {type(e).__name__} {str(e)[:80]!r}: not a sympy object")
        return e

    @staticmethod
    def _kids(e: sp.Basic) -> tuple:
        if isinstance(e, (sp.Integer, sp.Rational, sp.Float, sp.Symbol, sp.core.symbol.Str)):
            return ()
        if isinstance(e, sp.ImmutableDenseMatrix):
            return tuple(e)
        return e.args

    def add(self, root: Any) -> int:
        root = self._normal(root)
        stack: list[tuple[sp.Basic, bool]] = [(root, False)]
        while stack:
            e, done = stack.pop()
            key = (type(e), e)  # post-order: children are hashed (and cached) before parents
            if key in self.index:
                continue
            kids = [self._normal(a) for a in self._kids(e)]
            if not done:
                stack.append((e, True))
                stack.extend((a, False) for a in reversed(kids))
                continue
            ids = [self.index[(type(a), a)] for a in kids]
            node = self._node(e, ids)
            self.meter.add(len(self.nodes), e, ids)
            self.nodes.append(node)
            self.index[key] = len(self.nodes) - 1
        return self.index[(type(root), root)]

    def _node(self, e: Any, ids: list[int]) -> dict:
        if isinstance(e, sp.Integer):
            return {"t": "Integer", "v": _int_text(e.p)}
        if isinstance(e, sp.Rational):
            return {"t": "Rational", "p": _int_text(e.p), "q": _int_text(e.q)}
        if isinstance(e, sp.Float):
            sign, man, exp, bc = e._mpf_
            return {"t": "Float", "mpf": [int(sign), _int_text(int(man)), int(exp), int(bc)], "prec": int(e._prec)}
        if isinstance(e, sp.Dummy):
            raise SerializeError(f"cannot save the dummy symbol {e}; substitute a named Symbol first")
        if isinstance(e, sp.Symbol):
            return {"t": "Symbol", "name": e.name, "assumptions": dict(e._assumptions_orig)}
        if isinstance(e, sp.core.symbol.Str):
            return {"t": "Str", "v": e.name}
        if isinstance(e, sp.ImmutableDenseMatrix):
            return {"t": "Matrix", "rows": e.rows, "cols": e.cols, "a": ids}
        if isinstance(e, AppliedUndef):  # a named function of the printed forms: kappa_2(b_1), sigma(x)
            if not _FUNCTION_NAME.match(e.func.__name__):
                raise SerializeError(f"cannot save the function {e.func.__name__[:40]!r}: only plain names and \\sigma are saved")
            return {"t": "NamedFunction", "name": e.func.__name__, "a": ids}
        name = type(e).__name__
        if _whitelist().get(name) is not type(e):
            raise SerializeError(f"cannot save objects of class {name}; it is not in symrg's whitelist")
        if not ids:
            return {"t": name}
        return {"t": name, "a": ids}


#: names of undefined functions a file may hold (named cumulants kappa_n, the sigmoid \\sigma):
#: never a LaTeX command, which a printer would copy into a document
_FUNCTION_NAME = re.compile(r"(?:[A-Za-z][A-Za-z0-9_]{0,40}|\\sigma)\Z")

#: integers up to this many bits are written in decimal (Python refuses str() beyond 4300 digits)
_DECIMAL_BITS = 13_000


def _int_text(n: int) -> str:
    """``n`` as text: decimal when short, else ``0x...`` hexadecimal (exact at any size)."""
    n = int(n)
    if n.bit_length() <= _DECIMAL_BITS:
        return str(n)
    return ("-" if n < 0 else "") + hex(abs(n))


def _bad(msg: str) -> SerializeError:
    return SerializeError(f"not a valid symrg save file: {msg}")


_NO_EVALUATE_KW = ("Tuple", "MatrixSymbol", "Identity", "ZeroMatrix", "OneMatrix", "MatrixElement", "DiagonalOf",
                   "Transpose", "Inverse", "Determinant", "Trace", "ExprCondPair", "SumLogPartition")


class _Reader:
    """A node table -> sympy objects, each node validated and checked against the budgets before the next."""

    def __init__(self, nodes: Any) -> None:
        b = budgets.current()
        if not isinstance(nodes, list) or len(nodes) > min(MAX_NODES, b.max_nodes):
            raise _bad("'nodes' must be a list of at most %d nodes" % min(MAX_NODES, b.max_nodes))
        self.meter = budgets.Meter("loading")
        self.objs: list = []
        for k, node in enumerate(nodes):
            obj = self._build(k, node)
            args = node.get("a", [])
            self.meter.add(k, obj, list(args) if isinstance(args, list) else [])
            self.objs.append(obj)

    def get(self, i: Any) -> Any:
        if i is None:
            return None
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(self.objs):
            raise _bad(f"node reference {str(i)[:40]!r} is out of range")
        return self.objs[i]

    @staticmethod
    def _int(s: Any) -> int:
        if isinstance(s, str):
            neg = s.startswith("-")
            body = s[1:] if neg else s
            if body.startswith("0x") and 2 < len(body) <= MAX_DIGITS and all(c in "0123456789abcdef" for c in body[2:]):
                n = int(body[2:], 16)
            elif 0 < len(body) <= 4000 and body.isascii() and body.isdigit():
                n = int(body)
            else:
                raise _bad(f"bad integer {s[:40]!r}")
            budgets.check_int(n, "loading")
            return -n if neg else n
        raise _bad(f"bad integer {str(s)[:40]!r}")

    def _float(self, k: int, node: dict) -> sp.Float:
        mpf, prec = node.get("mpf"), node.get("prec")
        b = budgets.current()
        if not (isinstance(mpf, list) and len(mpf) == 4 and type(prec) is int and 1 <= prec <= b.max_float_prec):
            raise _bad(f"node {k}: a Float needs 'mpf' [sign, mantissa, exponent, bits] and 'prec' in 1..{b.max_float_prec}")
        sign, man, exp, bc = mpf
        if not (type(sign) is int and type(exp) is int and type(bc) is int and sign in (0, 1)):
            raise _bad(f"node {k}: bad Float sign {str(sign)[:20]!r} (0 or 1) or exponent")
        man = self._int(man)
        if abs(exp).bit_length() > b.max_int_bits:
            raise _bad(f"node {k}: Float exponent too large")
        # a normalized mpf: zero is (0, 0, 0, 0); else an odd mantissa of bc <= prec bits
        if man == 0:
            if (sign, exp, bc) != (0, 0, 0):
                raise _bad(f"node {k}: a Float with mantissa 0 must be (0, 0, 0, 0) (no NaN or infinities)")
        elif man < 0 or man % 2 == 0 or bc != man.bit_length() or bc > prec:
            raise _bad(f"node {k}: the Float {[sign, man if man.bit_length() < 64 else '...', exp, bc]} is not normalized at precision {prec}")
        if man == 0:
            return sp.Float(0, precision=prec)  # Float._new would give the Integer 0
        return sp.Float._new((sign, man, exp, bc), prec)

    def _build(self, k: int, node: Any) -> Any:
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise _bad(f"node {k} is not an object with a type 't'")
        t = node["t"]
        if t == "Integer":
            return sp.Integer(self._int(node.get("v")))
        if t == "Rational":
            p, q = self._int(node.get("p")), self._int(node.get("q"))
            if q <= 0 or math.gcd(p, q) != 1:
                raise _bad(f"node {k}: a Rational needs a positive denominator coprime to the numerator")
            return sp.Rational(p, q)
        if t == "Float":
            return self._float(k, node)
        if t == "Symbol":
            name, assumptions = node.get("name"), node.get("assumptions", {})
            if not isinstance(name, str) or not 0 < len(name) <= 1000 or not isinstance(assumptions, dict):
                raise _bad(f"node {k}: a Symbol needs a 'name' (1 to 1000 characters) and an 'assumptions' object")
            for a, v in assumptions.items():
                if a not in _assume_defined or not isinstance(v, (bool, type(None))):
                    raise _bad(f"node {k}: unknown assumption {str(a)[:40]!r}={str(v)[:40]!r}")
            try:
                return sp.Symbol(name, **assumptions)
            except Exception as e:  # noqa: BLE001 - inconsistent assumptions
                raise _bad(f"node {k}: symbol {name[:40]!r}: {type(e).__name__}: {str(e)[:200]}") from None
        if t == "Str":
            if not isinstance(node.get("v"), str) or len(node["v"]) > 1000:
                raise _bad(f"node {k}: bad Str")
            return sp.core.symbol.Str(node["v"])
        args = node.get("a", [])
        if not isinstance(args, list) or any(type(i) is not int or not 0 <= i < k for i in args):
            raise _bad(f"node {k}: arguments must be indices of earlier nodes")
        objs = [self.objs[i] for i in args]
        if t == "NamedFunction":
            name = node.get("name")
            if not isinstance(name, str) or not _FUNCTION_NAME.match(name):
                raise _bad(f"node {k}: a NamedFunction needs a plain name (letters, digits, _) or \\sigma")
            if not objs or not all(isinstance(x, sp.Expr) and not isinstance(x, sp.MatrixExpr) for x in objs):
                raise _bad(f"node {k}: a NamedFunction takes scalar arguments")
            return sp.Function(name)(*objs)
        if t == "Matrix":
            rows, cols = node.get("rows"), node.get("cols")
            if not (type(rows) is int and type(cols) is int and rows >= 0 and cols >= 0 and rows * cols == len(objs)):
                raise _bad(f"node {k}: a Matrix needs rows * cols == the number of its entries")
            if not all(isinstance(x, sp.Expr) and not isinstance(x, sp.MatrixExpr) for x in objs):
                raise _bad(f"node {k}: matrix entries must be scalar expressions")
            return sp.ImmutableMatrix(rows, cols, objs)
        cls = _whitelist().get(t)
        if cls is None:
            raise _bad(f"node {k}: class {t[:40]!r} is not allowed")
        self.meter.arity(cls, len(objs))
        try:
            if not objs:
                return cls()
            if t in _NO_EVALUATE_KW:
                return cls(*objs)
            return cls(*objs, evaluate=False)  # rebuilt as stored: nothing is simplified or computed
        except SymrgError:
            raise
        except Exception as e:  # noqa: BLE001 - any failure means the file is inconsistent
            raise _bad(f"node {k}: cannot rebuild {t} from its arguments ({type(e).__name__}: {str(e)[:200]})") from None


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------


def _kind(w: _Writer, k: UnitKind) -> dict:
    # the kind's registry name and the constructor arguments it reports (tuples become lists)
    if not isinstance(k, UnitKind):
        raise SerializeError(f"cannot save the unit kind {k!r}")
    out: dict = {"type": k.registry_name}
    for name, value in k.arguments().items():
        out[name] = [w.add(v) for v in value] if isinstance(value, tuple) else w.add(value)
    return out


def _read_kind(r: _Reader, d: Any) -> Any:
    # only registered UnitKind classes are built, with already validated sympy arguments
    t = d.get("type") if isinstance(d, dict) else None
    try:
        cls = kind_class(t) if isinstance(t, str) else None
    except ModelError:
        cls = None
    if cls is None:
        raise _bad(f"unknown unit kind {d!r}")
    allowed = {f.name for f in dataclasses.fields(cls) if f.init and f.compare}
    args = {}
    for name, value in d.items():
        if name == "type":
            continue
        if name not in allowed:
            raise _bad(f"unit kind {t}: unknown argument {name!r}")
        args[name] = tuple(r.get(i) for i in value) if isinstance(value, list) else r.get(value)
    try:
        return cls(**args)
    except (ModelError, TypeError, ValueError) as e:
        raise _bad(f"unit kind {t}: {e}") from None


def _opt(w: _Writer, e: Any) -> int | None:
    return None if e is None else w.add(e)


def _term(w: _Writer, t: Any) -> dict:
    if isinstance(t, LogPartitionTerm):
        return {"type": "LogPartitionTerm", "layer": t.layer, "kind": _kind(w, t.kind), "size": w.add(t.size),
                "theta": _opt(w, t.theta), "weights": [[m, w.add(x)] for m, x in t.weights]}
    if isinstance(t, GaussianTerm):
        return {"type": "GaussianTerm", "layer": t.layer, "size": w.add(t.size), "theta": _opt(w, t.theta),
                "weights": [[m, w.add(x)] for m, x in t.weights], "precision": w.add(t.precision),
                "covariance": w.add(t.covariance)}
    if isinstance(t, EnumeratedTerm):  # structural: its size does not grow with the configurations
        return {"type": "EnumeratedTerm", "layer": t.layer, "layers": list(t.layers), "kind": _kind(w, t.kind),
                "size": w.add(t.size), "theta": _opt(w, t.theta), "quadratic": _opt(w, t.quadratic),
                "weights": [[m, w.add(x)] for m, x in t.weights], "absorbed": [_term(w, a) for a in t.absorbed]}
    if isinstance(t, TransferMatrixTerm):
        return {"type": "TransferMatrixTerm", "layer": t.layer, "kind": _kind(w, t.kind), "size": w.add(t.size),
                "theta": _opt(w, t.theta), "quadratic": w.add(t.quadratic),
                "weights": [[m, w.add(x)] for m, x in t.weights], "order": [int(i) for i in t.order], "ring": bool(t.ring)}
    if isinstance(t, MultispinTerm):
        return {"type": "MultispinTerm", "layer": t.layer, "kind": _kind(w, t.kind), "size": w.add(t.size),
                "monomials": [[[int(i) for i in u], w.add(c)] for u, c in t.monomials]}
    raise SerializeError(f"cannot save the term {t!r}")


def _size_out(x: Any) -> Any:
    return int(x) if isinstance(x, sp.Integer) else x


def _read_term(r: _Reader, d: dict) -> Any:
    t = d.get("type")
    if t == "LogPartitionTerm":
        return LogPartitionTerm(d["layer"], _read_kind(r, d["kind"]), _size_out(r.get(d["size"])), r.get(d["theta"]),
                                tuple((m, r.get(x)) for m, x in d["weights"]))
    if t == "GaussianTerm":
        return GaussianTerm(d["layer"], _size_out(r.get(d["size"])), r.get(d["theta"]),
                            tuple((m, r.get(x)) for m, x in d["weights"]), r.get(d["precision"]), r.get(d["covariance"]))
    if t == "EnumeratedTerm":
        return EnumeratedTerm(d["layer"], tuple(d["layers"]), _read_kind(r, d["kind"]), _size_out(r.get(d["size"])),
                              r.get(d["theta"]), r.get(d["quadratic"]), tuple((m, r.get(x)) for m, x in d["weights"]),
                              tuple(_read_term(r, a) for a in d["absorbed"]))
    if t == "TransferMatrixTerm":
        return TransferMatrixTerm(d["layer"], _read_kind(r, d["kind"]), _size_out(r.get(d["size"])), r.get(d["theta"]),
                                  r.get(d["quadratic"]), tuple((m, r.get(x)) for m, x in d["weights"]),
                                  tuple(int(i) for i in d["order"]), bool(d["ring"]))
    if t == "MultispinTerm":
        mono = tuple((tuple(int(i) for i in u), r.get(c)) for u, c in d["monomials"])
        return MultispinTerm(d["layer"], _read_kind(r, d["kind"]), _size_out(r.get(d["size"])), mono)
    raise _bad(f"unknown term type {t!r}")


def _model(w: _Writer, m: EnergyModel) -> dict:
    return {
        "layers": [{"name": l.name, "size": w.add(l.size), "kind": _kind(w, l.kind), **_latex_field(l.latex)} for l in m.layers],
        "biases": [[k, w.add(v)] for k, v in m.biases.items()],
        "quadratic": [[k, w.add(v)] for k, v in m.quadratic.items()],
        "couplings": [[a, b, w.add(v)] for (a, b), v in m.couplings.items()],
        "terms": [_term(w, t) for t in m.terms],
        "constant": w.add(m.constant),
        "params": [[k, {"symbol": w.add(p.symbol), "value": _opt(w, p.value), "auto": bool(p.auto), **_latex_field(p.latex)}]
                   for k, p in m.params.items()],
        "intermediates": [[w.add(i.symbol), w.add(i.inverse_of)] for i in m.intermediates],
        "conditions": [[w.add(c.matrix), c.reason] for c in m.conditions],
        "history": [[s.layer, s.rule, s.detail, s.cumulant_reading] for s in m.history],
        "original": None if m.original is None else _model(w, m.original),
    }


def _read_model(r: _Reader, d: dict) -> EnergyModel:
    try:
        if not isinstance(d, dict):
            raise _bad("a model must be an object")
        m = EnergyModel(
            layers=tuple(Layer(l["name"], _size_out(r.get(l["size"])), _read_kind(r, l["kind"]), _read_latex(l)) for l in d["layers"]),
            biases={k: r.get(v) for k, v in d["biases"]},
            quadratic={k: r.get(v) for k, v in d["quadratic"]},
            couplings={(a, b): r.get(v) for a, b, v in d["couplings"]},
            terms=tuple(_read_term(r, t) for t in d["terms"]),
            constant=r.get(d["constant"]),
            params={k: Param(r.get(p["symbol"]), r.get(p["value"]), bool(p["auto"]), _read_latex(p)) for k, p in d["params"]},
            intermediates=tuple(Intermediate(r.get(s), r.get(i)) for s, i in d["intermediates"]),
            conditions=tuple(Condition(r.get(c), _text(reason)) for c, reason in d["conditions"]),
            history=tuple(Step(*map(_text, s)) for s in d["history"]),
            original=None if d["original"] is None else _read_model(r, d["original"]),
        )
        _check_model(m)
        return m
    except (SerializeError, BudgetError):
        raise
    except Exception as e:  # noqa: BLE001 - KeyError, TypeError, ModelError ...: the file is inconsistent
        raise _bad(f"malformed model ({type(e).__name__}: {str(e)[:300]})") from None


def _latex_field(tex: str | None) -> dict:
    """The ``latex`` field of a layer or parameter: written only when set (files without it still load)."""
    return {} if tex is None else {"latex": tex}


def _read_latex(d: dict) -> str | None:
    """A layer's or parameter's LaTeX symbol (absent in files written before it existed);
    :class:`Layer` and :class:`Param` vet it (``check_latex``)."""
    tex = d.get("latex")
    return None if tex is None else _text(tex)


def _text(s: Any) -> str:
    """A string field of a save file (never a number or object turned into text)."""
    if not isinstance(s, str) or len(s) > 100_000:
        raise _bad(f"expected a string, got {type(s).__name__}")
    return s


def _expect(x: Any, types: Any, what: str) -> Any:
    if not isinstance(x, types) or (types is sp.Expr and isinstance(x, sp.MatrixExpr)):
        raise _bad(f"{what} must be a {getattr(types, '__name__', types)}, got {type(x).__name__}")
    return x


def _check_model(m: EnergyModel) -> None:
    """Types and shapes of a loaded model's blocks (the constructors check these for new models)."""
    names = set(m.layer_names)
    for l in m.layers:
        if l.explicit:
            budgets.check_layer_size(l.size, f"layer {l.name!r}")
    matrix = (sp.MatrixExpr, sp.MatrixBase)
    for k, v in list(m.biases.items()) + list(m.quadratic.items()):
        if k not in names:
            raise _bad(f"a block of unknown layer {str(k)[:40]!r}")
        _expect(v, matrix, f"the block of layer {k!r}")
        n = m.layer(k).size
        if m.explicit and tuple(v.shape) != ((n, 1) if k in m.biases and v is m.biases[k] else (n, n)):
            raise _bad(f"the block of layer {k!r} has shape {v.shape}")
    for (a, b), v in m.couplings.items():
        if a not in names or b not in names or a == b:
            raise _bad(f"a coupling between {str(a)[:40]!r} and {str(b)[:40]!r} (not two distinct layers)")
        _expect(v, matrix, f"the coupling ({a!r}, {b!r})")
        if m.explicit and tuple(v.shape) != (m.layer(a).size, m.layer(b).size):
            raise _bad(f"the coupling ({a!r}, {b!r}) has shape {v.shape}")
    _expect(m.constant, sp.Expr, "the constant")
    for k, p in m.params.items():
        _expect(p.symbol, sp.MatrixSymbol, f"parameter {str(k)[:40]!r}")
        if p.symbol.name != k:
            raise _bad(f"parameter {str(k)[:40]!r} holds the symbol {p.symbol.name[:40]!r}")
        if p.value is not None:
            _expect(p.value, sp.ImmutableDenseMatrix, f"the value of parameter {k!r}")
            if p.value.shape != p.symbol.shape:
                raise _bad(f"the value of parameter {k!r} has shape {p.value.shape}, its symbol {p.symbol.shape}")
    for i in m.intermediates:
        _expect(i.symbol, sp.MatrixSymbol, "an intermediate")
        _expect(i.inverse_of, matrix, "the definition of an intermediate")
    for c in m.conditions:
        _expect(c.matrix, matrix, "the matrix of a condition")
    for t in m.terms:
        if (t.layer in names and not isinstance(t, MultispinTerm)) or not set(t.layers) <= names:
            raise _bad(f"a term of layer {str(t.layer)[:40]!r} must refer to remaining layers only")


def _recursion(w: _Writer, m: Any) -> dict:
    return {
        "couplings": [w.add(c) for c in m.couplings],
        "images": [w.add(e) for e in m.images],
        "b": w.add(m.b),
        "constant": _opt(w, m.constant),
        "constant_image": _opt(w, m.constant_image),
        "name": m.name,
        "origin": None if m.origin is None else [[w.add(c) for c in m.origin[0]], [w.add(e) for e in m.origin[1]]],
    }


def _read_recursion(r: _Reader, d: dict) -> Any:
    from symrg.rg.recursion import RecursionMap

    try:
        origin = None if d["origin"] is None else (tuple(r.get(i) for i in d["origin"][0]), tuple(r.get(i) for i in d["origin"][1]))
        rm = RecursionMap(tuple(r.get(i) for i in d["couplings"]), tuple(r.get(i) for i in d["images"]), r.get(d["b"]),
                          r.get(d["constant"]), r.get(d["constant_image"]), _text(d["name"]), origin)
        for c in rm.couplings:
            _expect(c, sp.Symbol, "a coupling of a recursion map")
        for e in (*rm.images, rm.b, *(x for x in (rm.constant, rm.constant_image) if x is not None)):
            _expect(e, sp.Expr, "an image of a recursion map")
        return rm
    except (SerializeError, BudgetError):
        raise
    except Exception as e:  # noqa: BLE001 - the file is inconsistent
        raise _bad(f"malformed recursion map ({type(e).__name__}: {str(e)[:300]})") from None


# --------------------------------------------------------------------------------------
# other results: frozen dataclasses of a fixed whitelist, field by field
# --------------------------------------------------------------------------------------


def _result_classes() -> dict[str, type]:
    """The result types saved field by field (rebuilt through their own constructors)."""
    from symrg.engine.canonical import CanonicalForm
    from symrg.engine.cumulant_expansion import CumulantExpansion
    from symrg.engine.effective import CumulantSeries
    from symrg.engine.trained import TrainedRBM
    from symrg.rg.block_exact import ExactRenormalization
    from symrg.rg.chain import ChainDecimation, DroppedTerm
    from symrg.rg.cluster_expansion import CumulantRG
    from symrg.rg.lattice import BlockPartition, Interaction, Lattice, LatticeModel
    from symrg.rg.recursion import FixedPoint, Flow, FlowFreeEnergy

    classes = (CanonicalForm, CumulantExpansion, CumulantSeries, ExactRenormalization, ChainDecimation, DroppedTerm,
               CumulantRG, BlockPartition, Interaction, Lattice, LatticeModel, FixedPoint, Flow, FlowFreeEnergy, TrainedRBM)
    return {c.__name__: c for c in classes}


#: numpy dtypes a saved array may have
_DTYPES = ("float64", "int64", "bool", "object")


class _Values:
    """Python values of result fields <-> tagged JSON (sympy objects go to the node table)."""

    def __init__(self, w: _Writer | None = None, r: _Reader | None = None) -> None:
        self.w, self.r = w, r

    def out(self, x: Any) -> Any:
        import numpy as np

        from symrg.model.units import UnitKind
        from symrg.rg.coarse import CoarseRule
        from symrg.rg.recursion import RecursionMap

        w = self.w
        assert w is not None
        if x is None or isinstance(x, (bool, str)):
            return {"v": x}
        if isinstance(x, (int, np.integer)):
            return {"i": _int_text(int(x))}
        if isinstance(x, (float, np.floating)):
            return {"f": repr(float(x))}
        if isinstance(x, mpmath.mpf):  # exact binary data, as for a Float node
            sign, man, exp, bc = x._mpf_
            if man == 0 and (sign, exp, bc) != (0, 0, 0):
                raise SerializeError(f"cannot save the non-finite mpmath number {x}")
            return {"mpf": [int(sign), _int_text(int(man)), int(exp), int(bc)]}
        if isinstance(x, (sp.Basic, sp.MatrixBase)):
            return {"n": w.add(x)}
        if isinstance(x, EnergyModel):
            return {"model": _model(w, x)}
        if isinstance(x, RecursionMap):
            return {"map": _recursion(w, x)}
        if isinstance(x, UnitKind):
            return {"kind": _kind(w, x)}
        if isinstance(x, CoarseRule):
            if x.name not in ("decimation", "majority", "smooth") or any(callable(v) for _, v in x.params):
                raise SerializeError(f"cannot save the coarse-graining rule {x!r}: it is defined by a Python function")
            return {"rule": x.name, "params": [[k, self.out(v)] for k, v in x.params]}
        if isinstance(x, np.ndarray):
            if x.dtype.name == "object" and not all(isinstance(v, mpmath.mpf) for v in x.ravel()):
                raise SerializeError("cannot save an object array unless it holds mpmath numbers")
            if x.dtype.name not in _DTYPES:
                raise SerializeError(f"cannot save an array of dtype {x.dtype}")
            return {"array": [self.out(v) for v in x.ravel().tolist()], "dtype": x.dtype.name, "shape": list(x.shape)}
        if isinstance(x, tuple):
            return {"tuple": [self.out(v) for v in x]}
        if isinstance(x, list):
            return {"list": [self.out(v) for v in x]}
        if isinstance(x, Mapping):
            return {"map_items": [[self.out(k), self.out(v)] for k, v in x.items()]}
        if dataclasses.is_dataclass(x) and type(x).__name__ in _result_classes() and _result_classes()[type(x).__name__] is type(x):
            return {"obj": type(x).__name__,
                    "fields": {f.name: self.out(getattr(x, f.name)) for f in dataclasses.fields(x) if f.init}}
        raise SerializeError(f"cannot save a value of type {type(x).__name__} inside a result")

    def get(self, d: Any, depth: int = 0) -> Any:
        import numpy as np

        r = self.r
        assert r is not None
        if depth > 100:
            raise _bad("values nested more than 100 deep")
        if not isinstance(d, dict) or len(d) == 0:
            raise _bad(f"a value must be a tagged object, got {type(d).__name__}")
        if "v" in d:
            if not (d["v"] is None or isinstance(d["v"], (bool, str))):
                raise _bad("a plain value must be null, a bool or a string")
            return d["v"]
        if "i" in d:
            return r._int(d["i"])
        if "f" in d:
            if not isinstance(d["f"], str) or len(d["f"]) > 40:
                raise _bad("a float must be its repr string")
            try:
                return float(d["f"])
            except ValueError:
                raise _bad(f"bad float {d['f']!r}") from None
        if "n" in d:
            return r.get(d["n"])
        if "mpf" in d:
            mpf = d["mpf"]
            bc = mpf[3] if isinstance(mpf, list) and len(mpf) == 4 and type(mpf[3]) is int else 0
            f = r._float(-1, {"mpf": mpf, "prec": max(53, bc)})  # validated like a Float node
            with mpmath.workprec(max(53, bc)):
                return mpmath.mpf(f._mpf_)
        if "model" in d:
            return _read_model(r, d["model"])
        if "map" in d:
            return _read_recursion(r, d["map"])
        if "kind" in d:
            return _read_kind(r, d["kind"])
        if "rule" in d:
            from symrg.rg.coarse import coarse_rule

            if d["rule"] not in ("decimation", "majority", "smooth") or not isinstance(d.get("params"), list):
                raise _bad(f"unknown coarse-graining rule {str(d['rule'])[:40]!r}")
            params = {_text(k): self.get(v, depth + 1) for k, v in d["params"]}
            return coarse_rule(d["rule"], **params)
        if "array" in d:
            shape, dtype, items = d.get("shape"), d.get("dtype"), d["array"]
            if dtype not in _DTYPES or not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape) \
                    or not isinstance(items, list) or len(shape) > 8 or math.prod(shape) != len(items):
                raise _bad("an array needs a known dtype, a shape and prod(shape) items")
            budgets.check_matrix_shape(len(items), 1, "loading an array")
            vals = [self.get(v, depth + 1) for v in items]
            ok = (lambda v: isinstance(v, mpmath.mpf)) if dtype == "object" else (lambda v: isinstance(v, (int, float)))
            if not all(ok(v) for v in vals):
                raise _bad(f"the items of a {dtype} array must be {'mpmath numbers' if dtype == 'object' else 'numbers'}")
            out = np.empty(len(vals), dtype=dtype)
            out[:] = vals
            return out.reshape(shape)
        if "tuple" in d or "list" in d:
            items = d.get("tuple", d.get("list"))
            if not isinstance(items, list):
                raise _bad("a tuple must hold a list")
            vals = [self.get(v, depth + 1) for v in items]
            return tuple(vals) if "tuple" in d else vals
        if "map_items" in d:
            items = d["map_items"]
            if not isinstance(items, list) or not all(isinstance(p, list) and len(p) == 2 for p in items):
                raise _bad("a mapping must hold [key, value] pairs")
            return {self.get(k, depth + 1): self.get(v, depth + 1) for k, v in items}
        if "obj" in d:
            cls = _result_classes().get(d["obj"]) if isinstance(d["obj"], str) else None
            fields = d.get("fields")
            if cls is None or not isinstance(fields, dict):
                raise _bad(f"unknown result class {str(d['obj'])[:40]!r}")
            allowed = {f.name for f in dataclasses.fields(cls) if f.init}
            if not set(fields) <= allowed:
                raise _bad(f"{cls.__name__}: unknown fields {sorted(set(fields) - allowed)[:5]}")
            kw: dict[str, Any] = {k: self.get(v, depth + 1) for k, v in fields.items()}
            for f in dataclasses.fields(cls):
                # a field declared as a sympy object must hold one (annotations are strings here)
                ann = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
                if f.name in kw and ann.startswith("sp.") and "|" not in ann and kw[f.name] is not None \
                        and not isinstance(kw[f.name], (sp.Basic, sp.MatrixBase)):
                    raise _bad(f"{cls.__name__}.{f.name} must be a sympy object, got {type(kw[f.name]).__name__}")
            return cls(**kw)
        raise _bad(f"unknown value tag {sorted(d)[:3]}")


def _read_result(r: _Reader, data: Any) -> Any:
    try:
        out = _Values(r=r).get(data)
    except (SerializeError, BudgetError):
        raise
    except Exception as e:  # noqa: BLE001 - a constructor refused the fields: the file is inconsistent
        raise _bad(f"malformed result ({type(e).__name__}: {str(e)[:300]})") from None
    if not dataclasses.is_dataclass(out):
        raise _bad("a saved result must be one of the result classes")
    return out


def dumps(obj: Any, indent: int | None = None) -> str:
    """``obj`` as JSON text: an EnergyModel, a RecursionMap, a sympy expression / matrix, or a result.

    Results saved field by field: ChainDecimation, CanonicalForm, CumulantSeries,
    CumulantExpansion, CumulantRG, ExactRenormalization, FixedPoint, Flow and the lattice
    objects they hold (a coarse-graining rule defined by a Python function cannot be saved).

    >>> from symrg.rg.chain import decimate_chain
    >>> c = decimate_chain()
    >>> loads(dumps(c)) == c
    True
    """
    from symrg.rg.recursion import RecursionMap

    w = _Writer()
    data: Any
    if isinstance(obj, EnergyModel):
        kind, data = "EnergyModel", _model(w, obj)
    elif isinstance(obj, RecursionMap):
        kind, data = "RecursionMap", _recursion(w, obj)
    elif isinstance(obj, (sp.Basic, sp.MatrixBase)):
        kind, data = "Expr", w.add(obj)
    elif dataclasses.is_dataclass(obj) and _result_classes().get(type(obj).__name__) is type(obj):
        kind, data = "Result", _Values(w=w).out(obj)
    else:
        raise SerializeError(
            f"cannot save a {type(obj).__name__}; save an EnergyModel, a RecursionMap, a sympy object or one of "
            f"{sorted(_result_classes())}"
        )
    return json.dumps({"format": FORMAT, "version": VERSION, "type": kind, "nodes": w.nodes, "data": data}, indent=indent)


def loads(text: str | bytes) -> Any:
    """The object saved by :func:`dumps` (nothing in ``text`` is executed).

    Every node is validated (class whitelist, exact numbers, normalized floats, symbol
    assumptions) and checked against the budgets of :mod:`symrg.model.budgets` (node
    count, expanded size, depth, sizes of the numbers it would evaluate to) as soon as it
    is read; nothing is simplified or evaluated.  A bad file raises
    :class:`~symrg.errors.SerializeError`, one beyond a budget
    :class:`~symrg.errors.BudgetError` (both :class:`~symrg.errors.SymrgError`).

    >>> loads('{"format": "symrg", "version": 1, "type": "Expr", "nodes": [{"t": "Float", "mpf": [0, "3", 0, 100], "prec": 53}], "data": 0}')
    Traceback (most recent call last):
    ...
    symrg.errors.SerializeError: not a valid symrg save file: node 0: the Float [0, 3, 0, 100] is not normalized at precision 53
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise _bad(f"not UTF-8 text ({e})") from None
    if not isinstance(text, str):
        raise SerializeError(f"loads expects the JSON text of a save file, got {type(text).__name__}")
    if len(text) > MAX_BYTES:
        raise BudgetError(f"loading: a save file of {len(text)} characters exceeds the limit of {MAX_BYTES}")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, huge integer literals, deep nesting
        raise _bad(f"not JSON ({type(e).__name__}: {str(e)[:200]})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _bad("missing the header {'format': 'symrg'}")
    if doc.get("version") != VERSION:
        raise _bad(f"version {doc.get('version')!r} is not supported (this symrg reads version {VERSION})")
    r = _Reader(doc.get("nodes"))
    kind, data = doc.get("type"), doc.get("data")
    if kind == "EnergyModel" and isinstance(data, dict):
        return _read_model(r, data)
    if kind == "RecursionMap" and isinstance(data, dict):
        return _read_recursion(r, data)
    if kind == "Expr":
        return r.get(data)
    if kind == "Result":
        return _read_result(r, data)
    raise _bad(f"unknown result type {kind!r}")


def save(obj: Any, path: str | Path) -> Path:
    """Write :func:`dumps` of ``obj`` to ``path`` (UTF-8 JSON)."""
    p = Path(path)
    p.write_text(dumps(obj), encoding="utf-8")
    return p


def load(path: str | Path) -> Any:
    """Read a file written by :func:`save` (validated as :func:`loads` does)."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise BudgetError(f"loading: {p} has {p.stat().st_size} bytes, above the limit of {MAX_BYTES}")
        data = p.read_bytes()
    except OSError as e:
        raise SerializeError(f"cannot read the save file {p}: {e}") from None
    return loads(data)


def models_equal(a: EnergyModel, b: EnergyModel) -> bool:
    """Structural equality of two energy models, field by field (order of blocks included).

    The same as ``a == b`` for two models (layers, biases, self blocks, couplings,
    terms, constant, parameters, intermediates, conditions, history and the original
    model), and False when either is not a model.

    >>> from symrg.model.energy import rbm
    >>> models_equal(rbm(2, 1), rbm(2, 1)), models_equal(rbm(2, 1), rbm(2, 2))
    (True, False)
    """
    return isinstance(a, EnergyModel) and isinstance(b, EnergyModel) and a == b
