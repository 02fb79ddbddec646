"""Every benchmark case runs at smoke size and symrg agrees with its baseline (not timed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the benchmarks package lives at the repository root
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import Case, format_table, run_case  # noqa: E402
from benchmarks.run import bench_modules  # noqa: E402


def _all_cases() -> list[tuple[str, Case]]:
    out = []
    for mod in bench_modules():
        for case in mod.cases(smoke=True):
            out.append((f"{mod.__name__.rsplit('.', 1)[-1]}:{case.task}[{case.size}]", case))
    return out


CASES = _all_cases()


def test_bench_modules_found():
    names = {mod.__name__ for mod in bench_modules()}
    assert {"benchmarks.bench_cumulants", "benchmarks.bench_multilinear"} <= names


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[i for i, _ in CASES])
def test_case_agrees_with_baseline(case: Case):
    agreed = case.check()
    if case.baseline is None:
        assert agreed is None
        assert case.symrg() is not None
    else:
        assert agreed is True


def test_harness_runner_and_table():
    case = Case("toy", "n=1", lambda: 1, lambda: sum(range(1000)), "faster", lambda s, b: b is not None)
    res = run_case(case)
    assert res.baseline_median is not None and res.holds
    table = format_table([res])
    assert "toy" in table and "yes" in table
