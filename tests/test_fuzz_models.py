"""Bad model descriptions (tests/data/fuzz/models.json): each is built or refused as expected.

Every entry must finish well inside a 20 s guard, must not run code (a canary path in
a temporary directory is never created), and may only raise the symrg error class the
corpus names (``ModelError`` for a bad description, ``BudgetError`` beyond a size
budget).  Models that are accepted must print.  The corpus is written by
tests/data/fuzz/make_models.py with hand-written expectations.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symrg.errors
from symrg.model.energy import dbm, energy_model, rbm

CORPUS = json.loads((Path(__file__).parent / "data" / "fuzz" / "models.json").read_text(encoding="utf-8"))
CALLS = {"energy_model": energy_model, "rbm": rbm, "dbm": dbm}
GUARD_SECONDS = 20.0


def _decode(x, canary: str):
    """The corpus's tagged JSON values as the Python / numpy / sympy objects they stand for."""
    if isinstance(x, str):
        return x.replace("CANARY", canary)
    if isinstance(x, list):
        return [_decode(v, canary) for v in x]
    if not isinstance(x, dict):
        return x
    if "$nan" in x:
        return float("nan")
    if "$inf" in x:
        return float("inf")
    if "$complex" in x:
        return complex(*x["$complex"])
    if "$array" in x:
        return np.array(_decode(x["$array"], canary), dtype=x["dtype"])
    if "$pow" in x:
        b, e = (_decode(v, canary) for v in x["$pow"])
        return sp.Pow(b, e, evaluate=False)
    if "$symbol" in x:
        return sp.Symbol(x["$symbol"], **{k: v for k, v in x.items() if k != "$symbol"})
    if "$pow10" in x:
        return 10 ** x["$pow10"]
    if "$max" in x:
        return sp.Max(*sp.symbols(f"y:{x['$max']}"), evaluate=False)
    if "$npstr" in x:
        return np.str_(x["$npstr"])
    if "$pairs" in x:
        return {(_decode(a, canary), _decode(b, canary)): _decode(s, canary) for a, b, s in x["$pairs"]}
    return {k: _decode(v, canary) for k, v in x.items()}


def _as_pairs(args: list) -> list:
    # JSON lists stand for tuples where the constructors take pairs / layer specs
    return [tuple(a) if isinstance(a, list) and a and all(not isinstance(v, list) for v in a) else a for a in args]


def test_corpus_size():
    assert sum(e["expect"] != "ok" for e in CORPUS) >= 50


@pytest.mark.parametrize("entry", CORPUS, ids=[e["name"] for e in CORPUS])
def test_bad_model(entry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    canary = tmp_path / "canary"
    args = _decode(entry["args"], str(canary))
    kwargs = _decode(entry["kwargs"], str(canary))
    if entry["call"] == "energy_model" and args:
        args[0] = _as_pairs(args[0]) if isinstance(args[0], list) else args[0]
        if len(args) > 1 and isinstance(args[1], list):
            args[1] = _as_pairs(args[1])
    box: dict = {}

    def target() -> None:
        try:
            m = CALLS[entry["call"]](*args, **kwargs)
            str(m.energy)
            box["model"] = m
        except BaseException as e:  # noqa: BLE001 - reported below
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(GUARD_SECONDS)
    assert not t.is_alive(), f"still running after {GUARD_SECONDS} s"
    assert not canary.exists(), "code from a string was executed"
    if entry["expect"] == "ok":
        assert "error" not in box, f"{type(box.get('error')).__name__}: {box.get('error')}"
    else:
        err = box.get("error")
        assert err is not None, f"accepted: {box.get('model')!r}"
        expected = getattr(symrg.errors, entry["expect"])
        assert type(err) is expected, f"expected {expected.__name__}, got {type(err).__name__}: {err}"
        assert str(err)


def test_the_issue_constructor_canary_case(tmp_path, monkeypatch):
    # issue 11 item 2, as given
    monkeypatch.chdir(tmp_path)
    with pytest.raises(symrg.errors.ModelError, match="not read as code"):
        energy_model([("v", 1), ("h", 1)], [("v", "h")], constant="__import__('os').system('touch canary')")
    assert not (tmp_path / "canary").exists()


def test_string_names_and_numbers_mean_what_they_say():
    m = energy_model([("v", 1, "spin"), ("h", 1, "spin")], {("v", "h"): [["J"]]}, biases={"v": ["0.5"], "h": 0}, constant="3")
    J = sp.Symbol("J")
    assert m.params["W_vh"].value[0, 0] == J  # a plain name is a symbol, not sympy's function of that name
    assert m.constant == 3 and m.params["b_v"].value[0, 0] == sp.Float("0.5")
    # names sympify would have read as sympy objects stay symbols: I, E, S, beta
    m2 = energy_model([("v", 1, "spin"), ("h", 1, "spin")], {("v", "h"): [["beta"]]}, constant="E")
    assert m2.constant == sp.Symbol("E") and m2.params["W_vh"].value[0, 0] == sp.Symbol("beta")


def test_gaussian_bernoulli_chain_summed_out_completely_matches_quadrature():
    # issue 11 item 6: this valid model ended in AttributeError ('int' object has no attribute 'is_Integer')
    import itertools

    import mpmath

    from symrg.engine.marginalization import marginalize

    model = energy_model([("h", 1, "gaussian"), ("v", 1), ("s", 2)], [("h", "v"), ("v", "s")])
    z = marginalize(model, "h", "v", "s")
    rng = np.random.default_rng(11)
    vals = {"b_h": rng.normal(size=1), "b_v": rng.normal(size=1), "b_s": rng.normal(size=2),
            "W_hv": rng.normal(size=(1, 1)), "W_vs": rng.normal(size=(1, 2))}
    # independent: sum over v, s of a numerical integral over h of exp(-E)
    total = mpmath.mpf(0)
    for v, s1, s2 in itertools.product((0, 1), repeat=3):
        def weight(h, v=v, s1=s1, s2=s2):
            e = (-vals["b_h"][0] * h + h * h / 2 - vals["b_v"][0] * v - vals["b_s"][0] * s1 - vals["b_s"][1] * s2
                 - vals["W_hv"][0, 0] * h * v - v * (vals["W_vs"][0, 0] * s1 + vals["W_vs"][0, 1] * s2))
            return mpmath.exp(-e)
        total += mpmath.quad(weight, [-mpmath.inf, mpmath.inf])
    log_z = float(mpmath.log(total))
    sub = model.substitutions(vals)
    assert abs(float(z.energy.xreplace(sub)) - (-log_z)) < 1e-10
    assert abs(float(z.lambdify()(**vals)) - (-log_z)) < 1e-10
