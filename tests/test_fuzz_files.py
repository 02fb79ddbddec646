"""Tampered save files (tests/data/fuzz/files.json): each loads or is refused as expected.

Every entry must finish well inside a 20 s guard, must not run code (a canary path in a
temporary directory is never created), and may only raise the documented symrg error
class named in the corpus (``SerializeError`` for a malformed file, ``BudgetError`` for
one that would exceed a size budget).  Files that load must then be safe to print.
The corpus is written by tests/data/fuzz/make_files.py with hand-written expectations.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import sympy as sp

import symrg.errors
from symrg.output.serialize import dumps, load, loads

CORPUS = json.loads((Path(__file__).parent / "data" / "fuzz" / "files.json").read_text(encoding="utf-8"))
GUARD_SECONDS = 20.0


def _run_guarded(fn):
    """``fn()`` in a thread; fail (instead of hanging the suite) if it is not done in GUARD_SECONDS."""
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - reported to the test
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(GUARD_SECONDS)
    assert not t.is_alive(), f"still running after {GUARD_SECONDS} s"
    return box


def test_corpus_size():
    assert len(CORPUS) >= 60
    assert sum(e["expect"] != "ok" for e in CORPUS) >= 60


@pytest.mark.parametrize("entry", CORPUS, ids=[e["name"] for e in CORPUS])
def test_tampered_file(entry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    canary = tmp_path / "canary"
    text = entry["text"].replace("CANARY", str(canary))

    def attempt():
        obj = loads(text)
        if not isinstance(obj, sp.Integer):  # Python refuses str() of integers above 4300 digits
            str(obj)  # a loaded object is safe to print
        if hasattr(obj, "energy"):
            str(obj.energy)
        return obj

    box = _run_guarded(attempt)
    assert not canary.exists(), "code from the file was executed"
    if entry["expect"] == "ok":
        assert "error" not in box, f"{type(box.get('error')).__name__}: {box.get('error')}"
    else:
        err = box.get("error")
        assert err is not None, "a tampered file loaded"
        expected = getattr(symrg.errors, entry["expect"])
        assert type(err) is expected, f"expected {expected.__name__}, got {type(err).__name__}: {err}"
        assert str(err)


def test_load_reads_bytes_and_refuses_bad_paths(tmp_path):
    p = tmp_path / "bad.json"
    p.write_bytes(b'{"format": "symrg", "\xff"}')
    with pytest.raises(symrg.errors.SerializeError, match="UTF-8"):
        load(p)
    with pytest.raises(symrg.errors.SerializeError, match="cannot read"):
        load(tmp_path / "missing.json")
    with pytest.raises(symrg.errors.SerializeError):
        loads(12)  # type: ignore[arg-type]


def test_huge_exact_numbers_round_trip_exactly():
    # issue 11 item 8: a 5,000-digit integer could not be saved
    for n in (sp.Integer(7) ** 5917, -sp.Integer(3) ** 20000, sp.Rational(10**5000 + 1, 3**9000), sp.Float("-3.25"),
              sp.Float("1.5", 3000)):
        back = loads(dumps(n))
        assert back == n and type(back) is type(n)
    assert str(loads(dumps(sp.Float("-3.25")))) == "-3.25000000000000"


def test_a_3000_term_sum_saves_and_loads_and_deep_nesting_is_a_budget_error():
    # issue 11 item 8: a legitimate 3,000-term sum hit "maximum recursion depth"
    y = sp.Symbol("y")
    s = sp.Add(*[sp.Rational(1, k) * y**k for k in range(1, 3001)])
    assert loads(dumps(s)) == s
    deep = y
    for k in range(1000):
        deep = sp.Add(deep, sp.Symbol(f"z{k}"), evaluate=False)
    with pytest.raises(symrg.errors.BudgetError, match="max_depth"):
        dumps(deep)  # refused when saving too: what saves also loads and prints
