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
from pathlib import Path
from typing import Any

import sympy as sp
from sympy.core.assumptions import _assume_defined
from sympy.matrices.expressions.diagonal import DiagonalOf
from sympy.matrices.expressions.matexpr import MatrixElement

from symrg.model.exprs import MatScalar, SumLogPartition
from symrg.model.energy import (
    Condition,
    EnergyModel,
    EnumeratedTerm,
    GaussianTerm,
    Intermediate,
    Layer,
    LogPartitionTerm,
    Param,
    Step,
)
from symrg.model.units import UnitKind, kind_class
from symrg.errors import ModelError, SerializeError

__all__ = ["dumps", "loads", "save", "load", "models_equal", "SerializeError", "FORMAT", "VERSION"]

FORMAT = "symrg"
VERSION = 1
#: limits that keep a hostile file from exhausting memory or time
MAX_NODES = 2_000_000
MAX_DIGITS = 100_000


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
    def __init__(self) -> None:
        self.nodes: list = []
        self.index: dict = {}

    def add(self, e: Any) -> int:
        if isinstance(e, bool):
            raise SerializeError(f"cannot save the Python bool {e!r} as a sympy node")
        if isinstance(e, int):
            e = sp.Integer(e)
        if isinstance(e, str):
            e = sp.core.symbol.Str(e)
        if isinstance(e, sp.MatrixBase):
            e = sp.ImmutableMatrix(e)
        if not isinstance(e, sp.Basic):
            raise SerializeError(f"cannot save {type(e).__name__} {e!r}: not a sympy object")
        key = (type(e), e)
        if key in self.index:
            return self.index[key]
        node = self._node(e)
        self.nodes.append(node)
        self.index[key] = len(self.nodes) - 1
        return len(self.nodes) - 1

    def _node(self, e: sp.Basic) -> dict:
        if isinstance(e, sp.Integer):
            return {"t": "Integer", "v": str(int(e))}
        if isinstance(e, sp.Rational):
            return {"t": "Rational", "p": str(e.p), "q": str(e.q)}
        if isinstance(e, sp.Float):
            sign, man, exp, bc = e._mpf_
            return {"t": "Float", "mpf": [int(sign), str(man), int(exp), int(bc)], "prec": int(e._prec)}
        if isinstance(e, sp.Dummy):
            raise SerializeError(f"cannot save the dummy symbol {e}; substitute a named Symbol first")
        if isinstance(e, sp.Symbol):
            return {"t": "Symbol", "name": e.name, "assumptions": dict(e._assumptions_orig)}
        if isinstance(e, sp.core.symbol.Str):
            return {"t": "Str", "v": e.name}
        if isinstance(e, sp.ImmutableDenseMatrix):
            return {"t": "Matrix", "rows": e.rows, "cols": e.cols, "a": [self.add(x) for x in e]}
        name = type(e).__name__
        if _whitelist().get(name) is not type(e):
            raise SerializeError(f"cannot save objects of class {name} ({e}); it is not in symrg's whitelist")
        if not e.args:
            return {"t": name}
        return {"t": name, "a": [self.add(a) for a in e.args]}


def _bad(msg: str) -> SerializeError:
    return SerializeError(f"not a valid symrg save file: {msg}")


class _Reader:
    def __init__(self, nodes: Any) -> None:
        if not isinstance(nodes, list) or len(nodes) > MAX_NODES:
            raise _bad("'nodes' must be a list of at most %d nodes" % MAX_NODES)
        self.objs: list = []
        for k, node in enumerate(nodes):
            self.objs.append(self._build(k, node))

    def get(self, i: Any) -> Any:
        if i is None:
            return None
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(self.objs):
            raise _bad(f"node reference {i!r} is out of range")
        return self.objs[i]

    def _int(self, s: Any) -> int:
        if not isinstance(s, str) or len(s) > MAX_DIGITS or not s.lstrip("-").isdigit():
            raise _bad(f"bad integer {str(s)[:40]!r}")
        return int(s)

    def _build(self, k: int, node: Any) -> Any:
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise _bad(f"node {k} is not an object with a type 't'")
        t = node["t"]
        if t == "Integer":
            return sp.Integer(self._int(node.get("v")))
        if t == "Rational":
            return sp.Rational(self._int(node.get("p")), self._int(node.get("q")))
        if t == "Float":
            mpf, prec = node.get("mpf"), node.get("prec")
            if not (isinstance(mpf, list) and len(mpf) == 4 and isinstance(prec, int) and 1 <= prec <= 100_000):
                raise _bad(f"node {k}: bad Float")
            sign, man, exp, bc = mpf
            if not all(isinstance(x, int) and not isinstance(x, bool) for x in (sign, exp, bc)):
                raise _bad(f"node {k}: bad Float")
            return sp.Float._new((sign, self._int(man), exp, bc), prec)
        if t == "Symbol":
            name, assumptions = node.get("name"), node.get("assumptions", {})
            if not isinstance(name, str) or not isinstance(assumptions, dict):
                raise _bad(f"node {k}: bad Symbol")
            for a, v in assumptions.items():
                if a not in _assume_defined or not isinstance(v, (bool, type(None))):
                    raise _bad(f"node {k}: unknown assumption {a!r}={v!r}")
            return sp.Symbol(name, **assumptions)
        if t == "Str":
            if not isinstance(node.get("v"), str):
                raise _bad(f"node {k}: bad Str")
            return sp.core.symbol.Str(node["v"])
        args = node.get("a", [])
        if not isinstance(args, list) or any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < k for i in args):
            raise _bad(f"node {k}: arguments must be indices of earlier nodes")
        args = [self.objs[i] for i in args]
        if t == "Matrix":
            rows, cols = node.get("rows"), node.get("cols")
            if not (isinstance(rows, int) and isinstance(cols, int) and rows * cols == len(args)):
                raise _bad(f"node {k}: bad Matrix")
            return sp.ImmutableMatrix(rows, cols, args)
        cls = _whitelist().get(t)
        if cls is None:
            raise _bad(f"node {k}: class {t!r} is not allowed")
        if not args:
            return cls()
        try:
            if issubclass(cls, (sp.Add, sp.Mul, sp.Pow)) and not issubclass(cls, sp.MatrixExpr):
                return cls(*args, evaluate=False)
            if issubclass(cls, sp.Function):
                return cls(*args, evaluate=False)
            return cls(*args)
        except Exception as e:  # noqa: BLE001 - any failure means the file is inconsistent
            raise _bad(f"node {k}: cannot rebuild {t} from its arguments ({e})") from None


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


def _read_kind(r: _Reader, d: Any) -> UnitKind:
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
    raise _bad(f"unknown term type {t!r}")


def _model(w: _Writer, m: EnergyModel) -> dict:
    return {
        "layers": [{"name": l.name, "size": w.add(l.size), "kind": _kind(w, l.kind)} for l in m.layers],
        "biases": [[k, w.add(v)] for k, v in m.biases.items()],
        "quadratic": [[k, w.add(v)] for k, v in m.quadratic.items()],
        "couplings": [[a, b, w.add(v)] for (a, b), v in m.couplings.items()],
        "terms": [_term(w, t) for t in m.terms],
        "constant": w.add(m.constant),
        "params": [[k, {"symbol": w.add(p.symbol), "value": _opt(w, p.value), "auto": bool(p.auto)}] for k, p in m.params.items()],
        "intermediates": [[w.add(i.symbol), w.add(i.inverse_of)] for i in m.intermediates],
        "conditions": [[w.add(c.matrix), c.reason] for c in m.conditions],
        "history": [[s.layer, s.rule, s.detail, s.cumulant_reading] for s in m.history],
        "original": None if m.original is None else _model(w, m.original),
    }


def _read_model(r: _Reader, d: dict) -> EnergyModel:
    try:
        return EnergyModel(
            layers=tuple(Layer(l["name"], _size_out(r.get(l["size"])), _read_kind(r, l["kind"])) for l in d["layers"]),
            biases={k: r.get(v) for k, v in d["biases"]},
            quadratic={k: r.get(v) for k, v in d["quadratic"]},
            couplings={(a, b): r.get(v) for a, b, v in d["couplings"]},
            terms=tuple(_read_term(r, t) for t in d["terms"]),
            constant=r.get(d["constant"]),
            params={k: Param(r.get(p["symbol"]), r.get(p["value"]), bool(p["auto"])) for k, p in d["params"]},
            intermediates=tuple(Intermediate(r.get(s), r.get(i)) for s, i in d["intermediates"]),
            conditions=tuple(Condition(r.get(c), str(reason)) for c, reason in d["conditions"]),
            history=tuple(Step(*map(str, s)) for s in d["history"]),
            original=None if d["original"] is None else _read_model(r, d["original"]),
        )
    except SerializeError:
        raise
    except (KeyError, TypeError, ValueError) as e:
        raise _bad(f"malformed model ({type(e).__name__}: {e})") from None


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
        return RecursionMap(tuple(r.get(i) for i in d["couplings"]), tuple(r.get(i) for i in d["images"]), r.get(d["b"]),
                            r.get(d["constant"]), r.get(d["constant_image"]), str(d["name"]), origin)
    except SerializeError:
        raise
    except (KeyError, TypeError, ValueError) as e:
        raise _bad(f"malformed recursion map ({type(e).__name__}: {e})") from None


def dumps(obj: Any, indent: int | None = None) -> str:
    """``obj`` (EnergyModel, RecursionMap, or a sympy expression / matrix) as JSON text."""
    from symrg.rg.recursion import RecursionMap

    w = _Writer()
    if isinstance(obj, EnergyModel):
        kind, data = "EnergyModel", _model(w, obj)
    elif isinstance(obj, RecursionMap):
        kind, data = "RecursionMap", _recursion(w, obj)
    elif isinstance(obj, (sp.Basic, sp.MatrixBase)):
        kind, data = "Expr", w.add(obj)
    else:
        raise SerializeError(f"cannot save a {type(obj).__name__}; save an EnergyModel, a RecursionMap or a sympy object")
    return json.dumps({"format": FORMAT, "version": VERSION, "type": kind, "nodes": w.nodes, "data": data}, indent=indent)


def loads(text: str) -> Any:
    """The object saved by :func:`dumps` (nothing in ``text`` is executed)."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise _bad(f"not JSON ({e})") from None
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
    raise _bad(f"unknown result type {kind!r}")


def save(obj: Any, path: str | Path) -> Path:
    """Write :func:`dumps` of ``obj`` to ``path`` (UTF-8 JSON)."""
    p = Path(path)
    p.write_text(dumps(obj), encoding="utf-8")
    return p


def load(path: str | Path) -> Any:
    """Read a file written by :func:`save`."""
    return loads(Path(path).read_text(encoding="utf-8"))


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
