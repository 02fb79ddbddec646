"""The claims corpus: correct formulas in three textbook styles are confirmed; a wrong variant of each
is refused with the right diagnosis (tests/data/claims/README.md describes the files)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from symrg.cli import load_derivation
from symrg.rg.chain import chain_symbols, decimate_chain
from symrg.verify.notes import diagnosis_of, verify_latex
from symrg.verify.parsing import Namespace, parse_sympy

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "claims"
STYLES = sorted(DATA.glob("*.claims"))


def _entries() -> list[dict]:
    out = []
    for path in STYLES:
        for block in path.read_text().split("\n\n"):
            lines = [ln for ln in block.strip().split("\n") if ln and not ln.startswith("#")]
            if not lines:
                continue
            e: dict = {"style": path.stem, "ok": [], "wrong": [], "positive": []}
            for ln in lines:
                key, _, value = ln.partition(": ")
                if key == "ok":
                    e["ok"].append(value)
                elif key.startswith("wrong "):
                    e["wrong"].append((key[len("wrong "):], value))
                elif key == "positive":
                    e["positive"] = value.split()
                else:
                    e[key] = value
            out.append(e)
    return out


ENTRIES = _entries()
OK = [(e, text) for e in ENTRIES for text in e["ok"]]
WRONG = [(e, kind, text) for e in ENTRIES for kind, text in e["wrong"]]


@pytest.fixture(scope="module")
def refs():
    S = chain_symbols()
    dec = decimate_chain("spin", 2)
    K, h = sp.symbols("K h", real=True)
    W = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"W_{{{i + 1}{j + 1}}}", real=True))
    U = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"U_{{{i + 1}{j + 1}}}", real=True))
    b = sp.Matrix([sp.Symbol("b_1", real=True), sp.Symbol("b_2", real=True)])
    v = sp.Matrix([sp.Symbol("v_1", real=True), sp.Symbol("v_2", real=True)])
    return {
        "chain.K": dec.images[S["K"]],
        "chain.h": dec.images[S["h"]],
        "chain.g": dec.constant_image,
        # transfer matrix T_{ss'} = exp(K s s' + h s), s, s' = +1, -1 (Pathria-style, not symmetric)
        "T_asym": sp.ImmutableMatrix(2, 2, lambda i, j: sp.exp(K * (1 - 2 * i) * (1 - 2 * j) + h * (1 - 2 * i))),
        "field": sp.ImmutableMatrix(b + W.T * v),
        "UW": sp.ImmutableMatrix(U * W),
        "dbm": load_derivation(ROOT / "derivations" / "gaussian_dbm.py"),
    }


def _check(entry: dict, text: str, refs: dict):
    ref = entry["ref"]
    if ref.startswith("@dbm."):
        name = {"H": "H(v)", "WCWT": "W C W^T"}[ref[len("@dbm."):]]
        return verify_latex(refs["dbm"], name, text)
    if ref.startswith("@"):
        derived = refs[ref[1:]]
    else:
        ns = Namespace.from_expressions([sp.Symbol(s, positive=True) for s in entry["positive"]])
        derived = parse_sympy(ref, ns)
    return verify_latex({"ref": derived}, "ref", text)


def test_the_corpus_is_large_and_in_three_styles():
    assert len(ENTRIES) >= 40 and len(STYLES) >= 3
    assert all(e["ok"] and len(e["wrong"]) == 1 and "ref" in e for e in ENTRIES), [e.get("id") for e in ENTRIES]
    kinds = {kind for _, kind, _ in WRONG}
    assert {"factor", "offset", "sign", "transpose", "missing term"} <= kinds


@pytest.mark.parametrize("entry,text", OK, ids=[f"{e['style']}: {e['id']}: {i}" for i, (e, _) in enumerate(OK)])
def test_correct_formulas_are_confirmed(entry, text, refs):
    v = _check(entry, text, refs)
    assert v.status in ("equal", "consistent"), v.text()
    if not entry["ref"].startswith("@dbm"):
        assert v.status == "equal", v.text()  # every scalar and explicit formula is proved by sympy


@pytest.mark.parametrize("entry,kind,text", WRONG, ids=[f"{e['style']}: {e['id']}: {k}" for e, k, _ in WRONG])
def test_wrong_variants_are_refused_with_the_right_diagnosis(entry, kind, text, refs):
    v = _check(entry, text, refs)
    assert v.status == "not equal", v.text()
    d = diagnosis_of(v)
    assert d is not None and d.kind == kind, (d, v.text())
