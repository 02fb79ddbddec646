"""Write tests/data/fuzz/files.json: tampered save files, each with its expected outcome.

Run from the repository root (``python tests/data/fuzz/make_files.py``) after a format
change; tests/test_fuzz_files.py reads the JSON and never runs this script.  ``CANARY``
in a text stands for a path in the test's temporary directory that must never be created.
The expected outcome is written by hand below (the error class, or "ok"), not by running
the loader.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import sympy as sp

from symrg.engine.marginalization import marginalize
from symrg.model.energy import energy_model, rbm, seed_dbm
from symrg.output.serialize import dumps
from symrg.rg.chain import decimate_chain

CODE = "__import__('os').system('touch CANARY')"
SE, BE = "SerializeError", "BudgetError"


def doc(obj) -> dict:
    return json.loads(dumps(obj))


def expr_doc(nodes: list, data: int | None = None) -> dict:
    return {"format": "symrg", "version": 1, "type": "Expr", "nodes": nodes, "data": len(nodes) - 1 if data is None else data}


def sym(name: str, **assumptions) -> dict:
    return {"t": "Symbol", "name": name, "assumptions": assumptions}


def integer(n: int | str) -> dict:
    return {"t": "Integer", "v": str(n)}


def main() -> None:
    entries: list[dict] = []

    def add(name: str, expect: str, d=None, text: str | None = None) -> None:
        entries.append({"name": name, "expect": expect, "text": text if text is not None else json.dumps(d)})

    H = doc(marginalize(seed_dbm(), "s", "h"))
    E = doc(marginalize(energy_model([("v", 2), ("h", 2, "spin")], [("v", "h")]), "h"))
    R = doc(decimate_chain().recursion_map)
    M = doc(rbm(2, 1))

    # -- valid files still load ------------------------------------------------------
    for name, d in (("seed DBM H(v)", H), ("enumerated spin layer", E), ("chain recursion map", R), ("rbm(2, 1)", M)):
        add(f"valid: {name}", "ok", d)
    add("valid: 5,000-digit integer", "ok", doc(sp.Integer(7) ** 5917))
    add("valid: 3,000-term sum", "ok", doc(sp.Add(*sp.symbols("y:3000"))))
    add("valid: negative float", "ok", doc(sp.Float("-3.25")))

    # -- not a save file -----------------------------------------------------------
    add("empty text", SE, text="")
    add("not JSON", SE, text="{'format': 'symrg'}")
    add("JSON list", SE, text="[1, 2, 3]")
    add("JSON nested 10,000 deep", SE, text="[" * 10_000 + "]" * 10_000)
    add("5000-digit JSON integer", SE, text='{"format": "symrg", "version": 1, "type": "Expr", "nodes": [], "data": ' + "9" * 5000 + "}")
    add("wrong format", SE, {**H, "format": "pickle"})
    add("missing format", SE, {k: v for k, v in H.items() if k != "format"})
    add("version 2", SE, {**H, "version": 2})
    add("version as string", SE, {**H, "version": "1"})
    add("unknown result type", SE, {**H, "type": "os.system"})
    add("nodes not a list", SE, {**H, "nodes": {"0": {"t": "Integer", "v": "1"}}})
    add("data out of range", SE, expr_doc([integer(1)], 5))
    add("data negative", SE, expr_doc([integer(1)], -1))
    add("data a string", SE, expr_doc([integer(1)], "0"))  # type: ignore[arg-type]
    add("data a bool", SE, expr_doc([integer(1)], True))  # type: ignore[arg-type]

    # -- nodes ---------------------------------------------------------------------
    add("node not an object", SE, expr_doc([[1, 2]]))
    add("node without type", SE, expr_doc([{"v": "1"}]))
    add("class not whitelisted: Lambda", SE, expr_doc([{"t": "Lambda", "a": []}]))
    add("class not whitelisted: eval", SE, expr_doc([{"t": "eval"}]))
    add("class not whitelisted: __import__", SE, expr_doc([{"t": "__import__", "a": []}]))
    add("class name is code", SE, expr_doc([{"t": CODE}]))
    add("forward reference", SE, expr_doc([{"t": "Add", "a": [1, 1]}, sym("x")]))
    add("self reference", SE, expr_doc([sym("x"), {"t": "Add", "a": [0, 1]}]))
    add("bool reference", SE, expr_doc([sym("x"), {"t": "Add", "a": [True, 0]}]))
    add("float reference", SE, expr_doc([sym("x"), {"t": "Add", "a": [0.0, 0]}]))
    add("integer with code", SE, expr_doc([{"t": "Integer", "v": CODE}]))
    add("integer as JSON number", SE, expr_doc([{"t": "Integer", "v": 5}]))
    add("integer 1e5", SE, expr_doc([{"t": "Integer", "v": "1e5"}]))
    add("integer unicode digits", SE, expr_doc([{"t": "Integer", "v": "\u0661\u0662"}]))
    add("integer of 300,000 bits (hex)", BE, expr_doc([{"t": "Integer", "v": "0x" + "f" * 75_000}]))
    add("rational with zero denominator", SE, expr_doc([{"t": "Rational", "p": "1", "q": "0"}]))
    add("rational negative denominator", SE, expr_doc([{"t": "Rational", "p": "1", "q": "-2"}]))
    add("rational not reduced", SE, expr_doc([{"t": "Rational", "p": "2", "q": "4"}]))
    add("float: bit count 100 for mantissa 3 (looped forever)", SE, expr_doc([{"t": "Float", "mpf": [0, "3", 0, 100], "prec": 53}]))
    add("float: sign 5 (printed --3.0)", SE, expr_doc([{"t": "Float", "mpf": [5, "3", 0, 2], "prec": 53}]))
    add("float: even mantissa", SE, expr_doc([{"t": "Float", "mpf": [0, "6", 0, 3], "prec": 53}]))
    add("float: NaN encoding", SE, expr_doc([{"t": "Float", "mpf": [0, "0", -2, 0], "prec": 53}]))
    add("float: precision 10**7", SE, expr_doc([{"t": "Float", "mpf": [0, "3", 0, 2], "prec": 10**7}]))
    add("float: precision 0", SE, expr_doc([{"t": "Float", "mpf": [0, "3", 0, 2], "prec": 0}]))
    add("float: JSON NaN exponent", SE, text='{"format": "symrg", "version": 1, "type": "Expr", '
                                             '"nodes": [{"t": "Float", "mpf": [0, "3", NaN, 2], "prec": 53}], "data": 0}')
    add("float: mpf too short", SE, expr_doc([{"t": "Float", "mpf": [0, "3"], "prec": 53}]))
    add("symbol: inconsistent assumptions", SE, expr_doc([sym("x", positive=True, negative=True)]))
    add("symbol: unknown assumption", SE, expr_doc([sym("x", evil=True)]))
    add("symbol: assumption value code", SE, expr_doc([sym("x", positive=CODE)]))
    add("symbol: empty name", SE, expr_doc([sym("")]))
    add("symbol: name a number", SE, expr_doc([{"t": "Symbol", "name": 5, "assumptions": {}}]))
    add("matrix: rows*cols mismatch", SE, expr_doc([integer(1), {"t": "Matrix", "rows": 2, "cols": 2, "a": [0]}]))
    add("matrix: negative rows", SE, expr_doc([{"t": "Matrix", "rows": -1, "cols": 0, "a": []}]))
    add("matrix: a matrix entry", SE, expr_doc([integer(1), {"t": "Matrix", "rows": 1, "cols": 1, "a": [0]},
                                                {"t": "Matrix", "rows": 1, "cols": 1, "a": [1]}]))
    add("matrix element out of range", SE, expr_doc([integer(1), {"t": "Matrix", "rows": 1, "cols": 1, "a": [0]}, integer(5),
                                                     {"t": "MatrixElement", "a": [1, 2, 2]}]))
    add("Pow with no arguments", SE, expr_doc([{"t": "Pow", "a": []}]))

    # -- growth: each would hang or exhaust memory if built naively --------------------
    add("relation computing 10**(10**8)", BE, expr_doc([integer(10), integer(10**8), {"t": "Pow", "a": [0, 1]}, integer(1),
                                                         {"t": "Equality", "a": [2, 3]}]))
    add("(1/10**59)**-10**6 (|base| < 1)", BE, expr_doc([{"t": "Rational", "p": "1", "q": str(10**59)}, integer(-10**6), {"t": "Pow", "a": [0, 1]}]))
    add("tower 10**(10**4000)", BE, expr_doc([integer(10), integer(4000), {"t": "Pow", "a": [0, 1]}, {"t": "Pow", "a": [0, 2]}]))
    add("factorial(10**8)", BE, expr_doc([integer(10**8), {"t": "factorial", "a": [0]}]))
    add("gamma(10**7)", BE, expr_doc([integer(10**7), {"t": "gamma", "a": [0]}]))
    add("x**(10**9)", BE, expr_doc([sym("x"), integer(10**9), {"t": "Pow", "a": [0, 1]}]))
    add("Max of 300 symbols", BE, expr_doc([sym(f"y{i}") for i in range(300)] + [{"t": "Max", "a": list(range(300))}]))
    add("And of 300 relations", BE, expr_doc([sym("x"), integer(0)] + [{"t": "StrictGreaterThan", "a": [0, 1]}] * 1
                                             + [{"t": "And", "a": [2] * 300}]))
    add("doubling 80 times (2.4 KB)", BE, expr_doc([sym("x")] + [{"t": "Add", "a": [i, i]} for i in range(80)]))
    add("nesting depth 1000", BE, expr_doc([sym("x")] + [{"t": "exp", "a": [i]} for i in range(1000)]))
    add("Identity(10**50)", BE, expr_doc([integer(10**50), {"t": "Identity", "a": [0]}]))
    add("MatrixSymbol 10**6 x 1", BE, expr_doc([{"t": "Str", "v": "W"}, integer(10**6), integer(1), {"t": "MatrixSymbol", "a": [0, 1, 2]}]))
    add("MatPow exponent 10**9", BE, expr_doc([{"t": "Str", "v": "W"}, integer(2), {"t": "MatrixSymbol", "a": [0, 1, 1]}, integer(10**9),
                                              {"t": "MatPow", "a": [2, 3]}]))
    big = copy.deepcopy(M)
    size_nodes = [i for i, n in enumerate(big["nodes"]) if n == {"t": "Integer", "v": "2"}]
    big["nodes"][size_nodes[0]] = integer(10**50)
    add("model: layer of size 10**50", BE, big)

    # -- models and maps: structure ----------------------------------------------------
    def tamper(base: dict, path: list, value) -> dict:
        d = copy.deepcopy(base)
        target = d["data"]
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = value
        return d

    add("model: layers not a list", SE, tamper(M, ["layers"], "v"))
    add("model: layer name with code", SE, tamper(M, ["layers", 0, "name"], CODE))
    add("model: duplicate layer names", SE, tamper(M, ["layers", 1, "name"], "v"))
    add("model: unknown unit kind", SE, tamper(M, ["layers", 0, "kind"], {"type": "os.system"}))
    add("model: unit kind with an unknown argument", SE, tamper(M, ["layers", 0, "kind"], {"type": "Bernoulli", "evil": 0}))
    add("model: bias of a missing layer", SE, tamper(M, ["biases", 0, 0], "z"))
    add("model: coupling to a missing layer", SE, tamper(M, ["couplings", 0, 1], "z"))
    add("model: coupling of a layer with itself", SE, tamper(M, ["couplings", 0, 1], "v"))
    add("model: coupling block is a scalar", SE, tamper(M, ["couplings", 0, 2], 0))
    add("model: constant is a matrix", SE, tamper(M, ["constant"], M["data"]["couplings"][0][2]))
    add("model: missing 'terms'", SE, {**M, "data": {k: v for k, v in M["data"].items() if k != "terms"}})
    add("model: params not a list", SE, tamper(M, ["params"], 7))
    add("model: history entry a number", SE, tamper(M, ["history"], [[1, 2, 3, 4]]))
    add("model: condition reason an object", SE, tamper(H, ["conditions", 0, 1], {"x": 1}))
    add("model: condition reason with code (loads; text only)", "ok", tamper(H, ["conditions", 0, 1], 'x""";' + CODE + ';"""'))
    add("model: term of a remaining layer", SE, tamper(H, ["terms", 0, "layer"], "v"))
    add("model: unknown term type", SE, tamper(H, ["terms", 0, "type"], "EvalTerm"))
    add("map: name not a string", SE, tamper(R, ["name"], ["x"]))
    add("map: name with code (loads; text only)", "ok", tamper(R, ["name"], CODE))
    add("map: image index out of range", SE, tamper(R, ["images", 0], 10**6))
    add("map: coupling is a number", SE, tamper(R, ["couplings", 0], R["data"]["b"]))

    out = Path(__file__).with_name("files.json")
    out.write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")
    print(f"{len(entries)} entries -> {out}")


if __name__ == "__main__":
    main()
