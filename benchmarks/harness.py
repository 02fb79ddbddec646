"""A small benchmark harness shared by every ``benchmarks/bench_*.py`` module.

A :class:`Case` pairs a symrg computation with the baseline a competent user would write
with sympy/numpy alone.  :func:`run_case` times the two alternately in one process (so
drifts in machine load hit both), takes medians, and evaluates the case's target.

Every bench module exposes ``cases(smoke: bool = False) -> list[Case]``; ``smoke=True``
returns the smallest sizes only (used by ``tests/test_benchmarks_smoke.py``).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

__all__ = [
    "Case",
    "Result",
    "ratio_at_least",
    "faster_than",
    "run_case",
    "run_cases",
    "format_table",
    "values_agree",
]

Predicate = Callable[[float, "float | None"], bool]


def values_agree(a: Any, b: Any, rtol: float = 1e-9, atol: float = 1e-9) -> bool:
    """Default agreement test: numerically close, elementwise for sequences/arrays."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_agree(a[k], b[k], rtol, atol) for k in a)
    try:
        return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=atol))
    except (TypeError, ValueError):
        return bool(a == b)


def ratio_at_least(factor: float) -> Predicate:
    """Target: the baseline median is at least ``factor`` times the symrg median."""

    def holds(symrg: float, baseline: float | None) -> bool:
        return baseline is not None and baseline >= factor * symrg

    return holds


def faster_than(seconds: float) -> Predicate:
    """Target: the symrg median is below ``seconds``."""

    def holds(symrg: float, baseline: float | None) -> bool:
        return symrg < seconds

    return holds


@dataclass(frozen=True)
class Case:
    """One benchmark comparison.

    Attributes
    ----------
    task, size : labels printed in the table
    symrg : zero-argument callable running the symrg computation (returns its result)
    baseline : zero-argument callable running the naive baseline, or None
    target : human-readable statement of the performance target
    holds : predicate ``(symrg_median, baseline_median) -> bool`` for the target
    repeat : number of timed runs of the symrg callable
    baseline_repeat : number of timed runs of the baseline (slow baselines: 1)
    agree : ``(symrg_result, baseline_result) -> bool``; default :func:`values_agree`
    note : how the baseline is computed, if that needs saying
    baseline_scale : factor applied to the baseline time (a documented partial baseline)
    baseline_timeout : seconds after which one baseline run is abandoned; its time then
        counts as this lower bound (the ratio printed as ">= ...")
    baseline_scale : factor applied to the measured baseline time, for a baseline that
        computes a documented fraction of the work of uniform cost (say so in ``note``)
    """

    task: str
    size: str
    symrg: Callable[[], Any]
    baseline: Callable[[], Any] | None
    target: str
    holds: Predicate
    repeat: int = 5
    baseline_repeat: int = 3
    agree: Callable[[Any, Any], bool] | None = None
    note: str = ""
    baseline_scale: float = 1.0
    baseline_timeout: float | None = None

    def check(self) -> bool | None:
        """Run both once (untimed) and say whether their results agree (None: no baseline)."""
        a = self.symrg()
        if self.baseline is None:
            return None
        b = self.baseline()
        return (self.agree or values_agree)(a, b)


@dataclass(frozen=True)
class Result:
    case: Case
    symrg_median: float
    baseline_median: float | None
    holds: bool
    baseline_timed_out: bool = False
    peak_rss_mb: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline_median is None or self.symrg_median <= 0:
            return None
        return self.baseline_median / self.symrg_median


def _time(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


class _Timeout(Exception):
    pass


def _time_limited(fn: Callable[[], Any], limit: float | None) -> tuple[float, bool]:
    """Time ``fn``; past ``limit`` seconds abandon it (SIGALRM) and report the limit."""
    if limit is None:
        return _time(fn), False
    import signal

    def stop(signum, frame):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return _time(fn), False
    except _Timeout:
        return float(limit), True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_case(case: Case) -> Result:
    """Time ``case``: symrg and baseline alternately, medians of the runs."""
    ours: list[float] = []
    theirs: list[float] = []
    timed_out = False
    for r in range(max(case.repeat, case.baseline_repeat if case.baseline else 0)):
        if r < case.repeat:
            ours.append(_time(case.symrg))
        if case.baseline is not None and r < case.baseline_repeat and not timed_out:
            t, timed_out = _time_limited(case.baseline, case.baseline_timeout)
            theirs.append(t)
    s = statistics.median(ours)
    bm = statistics.median(theirs) * case.baseline_scale if theirs else None
    return Result(case, s, bm, bool(case.holds(s, bm)), timed_out)


def run_cases(cases: Sequence[Case], progress: Callable[[str], None] | None = None) -> list[Result]:
    out = []
    for case in cases:
        if progress:
            progress(f"running {case.task} [{case.size}] ...")
        out.append(run_case(case))
    return out


def _fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    if t < 1e-3:
        return f"{t * 1e6:.1f} us"
    if t < 1:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def format_table(results: Sequence[Result]) -> str:
    """Plain-text table: task, size, medians, ratio, target, whether it holds."""
    rows = [("task", "size", "symrg", "baseline", "ratio", "target", "holds", "peak RSS")]
    for r in results:
        ratio = "-" if r.ratio is None else f"{r.ratio:.0f}x" if r.ratio >= 10 else f"{r.ratio:.2f}x"
        base = _fmt_time(r.baseline_median)
        if r.baseline_timed_out:  # the baseline was abandoned: its time and the ratio are lower bounds
            ratio, base = ">=" + ratio, "> " + base
        mem = "-" if r.peak_rss_mb is None else f"{r.peak_rss_mb:.0f} MB"
        rows.append(
            (r.case.task, r.case.size, _fmt_time(r.symrg_median), base,
             ratio, r.case.target, "yes" if r.holds else "NO", mem)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"* {r.case.task} [{r.case.size}]: {r.case.note}" for r in results if r.case.note]
    return "\n".join(lines + ([""] + notes if notes else []))
