"""A hostile-claim corpus (issue 11): nothing runs, nothing hangs, nothing undocumented escapes.

``tests/data/fuzz/claims.json`` holds claims an attacker or a careless user might type --
code injection, dunder access, huge numbers and exponents, deep nesting, unbalanced
brackets, unicode tricks, TeX primitives that read or write files or define macros -- and
claims that are valid but heavy or deceptive (differences below double precision).  Each
entry names what it is compared with (``open``: a free symbol, names created as needed;
``seed`` / ``explicit``: the seed DBM's H(v) in abstract / explicit form; ``lhs:EXPR``: an
expression) and its expected outcome: a verdict status or the name of a documented error
class of :mod:`symrg.errors`.  Long inputs are stored run-length encoded (``parts``).

Every entry runs in a forked child with a 20 s budget, so a hang fails the test instead of
stalling it; a canary file that the injection attempts try to create must never appear.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import symrg.errors
from symrg.cli import EXIT, main
from symrg.errors import SymrgError
from symrg.verify.verdict import STATUSES, _bounded, _OverBudget, verify

CORPUS = Path(__file__).parent / "data" / "fuzz" / "claims.json"
ENTRIES = json.loads(CORPUS.read_text(encoding="utf-8"))
BUDGET = 20.0  # seconds per entry


def _claim(entry: dict, canary: Path) -> str:
    text = entry["claim"] if "claim" in entry else "".join(unit * n for unit, n in entry["parts"])
    return text.replace("{CANARY}", str(canary))


def _outcome(entry: dict, canary: Path, targets: dict) -> str:
    """The verdict status, or the class name of the symrg error raised (anything else propagates)."""
    against = entry["against"]
    target = "x" if against == "open" else against[4:] if against.startswith("lhs:") else targets[against]
    try:
        return verify(_claim(entry, canary), target, syntax=entry["syntax"], n_points=8,
                      symbolic_budget=4, numeric_budget=10).status
    except SymrgError as e:
        return type(e).__name__


def _run_bounded(fn) -> str:
    try:
        return _bounded(fn, BUDGET, "one corpus entry")
    except _OverBudget as e:
        return f"HANG: {e}"
    except Exception as e:  # noqa: BLE001 - reported as the failure
        return f"UNDOCUMENTED: {type(e).__name__}: {e}"


@pytest.fixture(scope="module")
def targets():
    from symrg.engine.marginalization import marginalize
    from symrg.model.energy import seed_dbm

    return {"seed": marginalize(seed_dbm(), "s", "h"), "explicit": marginalize(seed_dbm(2, 2, 1), "s", "h")}


def test_the_corpus_is_large_and_its_expectations_are_documented_outcomes():
    assert len(ENTRIES) >= 150
    documented = set(symrg.errors.__all__)
    for e in ENTRIES:
        assert e["expect"] in STATUSES or e["expect"] in documented, e
    cats = {e["category"] for e in ENTRIES}
    for c in ("code injection", "dunder", "huge numbers", "deep nesting", "malformed", "unicode", "latex hostile"):
        assert c in cats
    texts = " ".join(e.get("claim", "") for e in ENTRIES)
    for tex in (r"\input", r"\include", r"\def", r"\csname", r"\catcode", r"\write18", r"\openout", r"\directlua"):
        assert tex in texts, tex
    assert sum(e["category"] == "verdict" for e in ENTRIES) >= 15


def test_every_claim_has_its_expected_outcome_and_nothing_runs(tmp_path, targets):
    canary = tmp_path / "CANARY"
    wrong = []
    for i, entry in enumerate(ENTRIES):
        got = _run_bounded(lambda entry=entry: _outcome(entry, canary, targets))
        if got != entry["expect"]:
            wrong.append((i, entry["category"], _claim(entry, canary)[:80], entry["against"][:40], entry["expect"], got))
    assert not canary.exists()
    assert not wrong, "\n".join(map(repr, wrong))


def test_the_command_line_maps_every_outcome_to_its_exit_status(tmp_path, capsys):
    canary = tmp_path / "CANARY"
    sample = [e for e in ENTRIES if e["against"] != "explicit"][::9]
    assert len(sample) >= 30
    wrong = []
    for entry in sample:
        claim = _claim(entry, canary)
        if entry["against"] == "seed":
            argv = ["verify", "--claim", claim]
        else:
            argv = ["verify", "--lhs", claim, "--rhs", "x" if entry["against"] == "open" else entry["against"][4:]]
        argv += ["--syntax", entry["syntax"], "--points", "8"]
        got = _run_bounded(lambda argv=argv: main(argv))
        expect = EXIT[entry["expect"]] if entry["expect"] in STATUSES else EXIT["bad input"]
        if got != expect:
            wrong.append((claim[:80], entry["expect"], got))
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "internal error" not in out.err
    assert not canary.exists()
    assert not wrong, "\n".join(map(repr, wrong))
