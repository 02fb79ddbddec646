"""Write tests/data/fuzz/models.json: bad model descriptions, each with its expected outcome.

Run from the repository root (``python tests/data/fuzz/make_models.py``);
tests/test_fuzz_models.py reads the JSON.  Values JSON cannot hold are tagged objects
decoded by the test: ``{"$nan": 1}``, ``{"$inf": 1}``, ``{"$complex": [re, im]}``,
``{"$array": rows, "dtype": ...}``, ``{"$pow": [base, exp]}`` (unevaluated),
``{"$symbol": name}``, ``{"$pow10": k}`` (the int 10**k), ``{"$pairs": [[a, b, spec], ...]}``
(a mapping from layer pairs), ``{"$max": n}`` (an unevaluated Max of n symbols),
``{"$npstr": s}``.  ``CANARY`` stands for a path that must never be created.
"""

from __future__ import annotations

import json
from pathlib import Path

CODE = "__import__('os').system('touch CANARY')"
ME, BE, OK = "ModelError", "BudgetError", "ok"
L2 = [["v", 1], ["h", 1]]
VH = [["v", "h"]]


def main() -> None:
    entries: list[dict] = []

    def em(name: str, expect: str, *args, call: str = "energy_model", **kwargs) -> None:
        entries.append({"name": name, "expect": expect, "call": call, "args": list(args), "kwargs": kwargs})

    # -- valid descriptions (the corpus also checks they still work) -------------------
    em("valid: rbm(2, 1)", OK, 2, 1, call="rbm")
    em("valid: plain name entries", OK, L2, {"$pairs": [["v", "h", [["J"]]]]}, constant="2.5")
    em("valid: numeric string precision", OK, [["v", 1], ["h", 1, "gaussian"]], VH, precisions={"h": "2"})
    em("valid: numpy float matrix", OK, [["v", 2], ["h", 1]], {"$pairs": [["v", "h", {"$array": [[0.5], [1.5]], "dtype": "float"}]]})
    em("valid: sympy constant", OK, L2, VH, constant={"$pow": [2, 10]})
    em("valid: numpy-string layer names", OK, [[{"$npstr": "v"}, 1], [{"$npstr": "h"}, 1]], [[{"$npstr": "v"}, {"$npstr": "h"}]])

    # -- strings that would be code --------------------------------------------------
    em("constant with code", ME, L2, VH, constant=CODE)
    em("constant expression string", ME, L2, VH, constant="2*x + 1")
    em("constant lambda string", ME, L2, VH, constant="(lambda: 1)()")
    em("coupling entry with code", ME, L2, {"$pairs": [["v", "h", [[CODE]]]]})
    em("coupling entry expression", ME, L2, {"$pairs": [["v", "h", [["J**2"]]]]})
    em("coupling name with code", ME, L2, {"$pairs": [["v", "h", CODE]]})
    em("coupling name with spaces", ME, L2, {"$pairs": [["v", "h", "W vh"]]})
    em("bias entry with code", ME, L2, VH, biases={"v": [CODE]})
    em("bias name with code", ME, L2, VH, biases={"v": CODE})
    em("precision with code", ME, [["v", 1], ["h", 1, "gaussian"]], VH, precisions={"h": CODE})
    em("precision matrix entry with code", ME, [["v", 1], ["h", 1, "gaussian"]], VH, precisions={"h": [[CODE]]})
    em("rbm weights with code", ME, 1, 1, call="rbm", weights=[[CODE]])
    em("rbm bias name with code", ME, 1, 1, call="rbm", biases=[CODE, "b"])
    em("dbm weights with code", ME, [1, 1], call="dbm", weights=[CODE])
    em("layer name with code", ME, [[CODE, 1], ["h", 1]], [])
    em("layer kind with code", ME, [["v", 1, CODE], ["h", 1]], VH)
    em("numeric literal with code suffix", ME, L2, VH, constant="1; import os")
    em("object array with code", ME, L2, {"$pairs": [["v", "h", {"$array": [[CODE]], "dtype": "object"}]]})

    # -- numbers that are not finite reals ---------------------------------------------
    em("NaN coupling", ME, L2, {"$pairs": [["v", "h", [[{"$nan": 1}]]]]})
    em("inf bias", ME, L2, VH, biases={"v": [{"$inf": 1}]})
    em("NaN constant", ME, L2, VH, constant={"$nan": 1})
    em("NaN in a numpy array", ME, L2, {"$pairs": [["v", "h", {"$array": [[{"$nan": 1}]], "dtype": "float"}]]})
    em("complex coupling 1j", ME, L2, {"$pairs": [["v", "h", [[{"$complex": [0, 1]}]]]]})
    em("complex numpy array", ME, L2, {"$pairs": [["v", "h", {"$array": [[{"$complex": [1, 2]}]], "dtype": "complex"}]]})
    em("string 'nan' entry", ME, L2, {"$pairs": [["v", "h", [["nan"]]]]})
    em("bool entry", ME, L2, {"$pairs": [["v", "h", [[True]]]]})
    em("negative scalar precision", ME, [["v", 1], ["h", 1, "gaussian"]], VH, precisions={"h": -1})
    em("asymmetric precision matrix", ME, [["v", 1], ["h", 2, "gaussian"]], VH, precisions={"h": [[1, 2], [3, 1]]})

    # -- shapes, names, layers ----------------------------------------------------------
    em("coupling of the wrong shape", ME, [["v", 2], ["h", 3]], {"$pairs": [["v", "h", [[1, 2], [3, 4]]]]})
    em("ragged coupling rows", ME, [["v", 2], ["h", 2]], {"$pairs": [["v", "h", [[1, 2], [3]]]]})
    em("bias of the wrong length", ME, [["v", 2], ["h", 3]], VH, biases={"v": [1, 2, 3]})
    em("empty bias", ME, [["v", 2], ["h", 3]], VH, biases={"v": []})
    em("3-d array coupling", ME, L2, {"$pairs": [["v", "h", {"$array": [[[1.0]]], "dtype": "float"}]]})
    em("coupling to a missing layer", ME, L2, [["v", "x"]])
    em("bias of a missing layer", ME, L2, VH, biases={"x": 0})
    em("precision of a discrete layer", ME, L2, VH, precisions={"v": 2})
    em("valid: coupling of a layer with itself", OK, L2, [["v", "v"]])
    em("self-coupling of a discrete layer with a diagonal", ME, [["v", 2], ["h", 1]], {"$pairs": [["v", "v", [[1, 0], [0, 0]]]]})
    em("asymmetric self-coupling", ME, [["v", 2], ["h", 1]], {"$pairs": [["v", "v", [[0, 1], [2, 0]]]]})
    em("self-coupling entry with code", ME, [["v", 2], ["h", 1]], {"$pairs": [["v", "v", [[0, CODE], [CODE, 0]]]]})
    em("layers coupled twice", ME, L2, [["v", "h"], ["h", "v"]])
    em("coupling pair of three names", ME, L2, [["v", "h", "x"]])
    em("coupling pair of numbers", ME, L2, [[1, 2]])
    em("couplings a string", ME, L2, "vh")
    em("biases a list", ME, L2, VH, biases=[0, 0])
    em("duplicated layer names", ME, [["v", 1], ["v", 1]], [])
    em("layer name clashes with a parameter", ME, [["v", 1], ["b_v", 1]], [])
    em("parameter name used twice", ME, L2, {"$pairs": [["v", "h", "b_v"]]})
    em("no layers", ME, [], [])
    em("layers a string", ME, "vh", [])
    em("layer spec of one element", ME, [["v"]], [])
    em("layer spec of four elements", ME, [["v", 1, "spin", 4]], [])
    em("layer name not an identifier", ME, [["v h", 1]], [])
    em("layer name a number", ME, [[3, 1]], [])
    em("negative layer size", ME, [["v", -2], ["h", 1]], VH)
    em("zero layer size", ME, [["v", 0], ["h", 1]], VH)
    em("float layer size", ME, [["v", 2.5], ["h", 1]], VH)
    em("string layer size", ME, [["v", "2"], ["h", 1]], VH)
    em("bool layer size", ME, [["v", True], ["h", 1]], VH)
    em("negative symbolic size", ME, [["v", {"$symbol": "n", "negative": True}], ["h", {"$symbol": "m"}]], VH)
    em("mixed explicit and symbolic sizes", ME, [["v", 2], ["h", {"$symbol": "n", "positive": True, "integer": True}]], VH)
    em("unknown unit kind", ME, [["v", 1, "quark"], ["h", 1]], VH)
    em("dbm kinds and sizes differ", ME, [1, 1], call="dbm", kinds=["spin"])
    em("dbm with too few weights", ME, [1, 1, 1], call="dbm", weights=["W"])

    # -- growth ----------------------------------------------------------------------
    em("layer of size 10**50", BE, [["v", {"$pow10": 50}], ["h", 1]], VH)
    em("rbm of size 10**50", BE, {"$pow10": 50}, 1, call="rbm")
    em("coupling of 3000 x 3000 entries", BE, [["v", 3000], ["h", 3000]], VH)
    em("constant 10**(10**8)", BE, L2, VH, constant={"$pow": [10, 100000000]})
    em("constant (1/10**59)**(-10**6)", BE, L2, VH, constant={"$pow": [{"$pow": [10, -59]}, -1000000]})
    em("constant Max of 300 symbols", BE, L2, VH, constant={"$max": 300})
    em("constant integer of 10**6 bits", BE, L2, VH, constant={"$pow10": 300000})
    em("entry x**(10**9)", BE, L2, {"$pairs": [["v", "h", [[{"$pow": [{"$symbol": "x"}, 1000000000]}]]]]})

    out = Path(__file__).with_name("models.json")
    out.write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")
    print(f"{len(entries)} entries -> {out}")


if __name__ == "__main__":
    main()
