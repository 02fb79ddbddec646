"""Exact couplings and joint cumulants: fast subset transforms vs naive sums.

Baselines (numpy, as a competent user would write them without the butterfly):

* Möbius: for every subset S, select its subsets T with a vectorized mask test over all
  2^n configurations and sum ``(-1)^{|S|-|T|} H(1_T)``; O(4^n) work, run in full.
* Walsh: for every subset S, ``2^{-n} sum_k H(k) (-1)^{|S| - popcount(k & S)}`` vectorized
  over k; O(4^n) work.  At n = 16 the full run takes over a minute, so the baseline
  computes the couplings of the first 2^(n-4) masks only (every subset of units 0..n-5)
  and its time is multiplied by 16: each mask costs the same vector operations, so the
  extrapolation is linear and exact up to timing noise.
* joint cumulant of order r of r distinct variables: the sum over all Bell(r) set
  partitions (sympy's ``multiset_partitions``) of ``(-1)^{|pi|-1} (|pi|-1)! prod E[block]``.
"""

from __future__ import annotations

import math

import numpy as np
from sympy.utilities.iterables import multiset_partitions

from benchmarks.harness import Case, faster_than, ratio_at_least
from symrg.engine.joint_cumulants import joint_cumulant
from symrg.engine.multilinear import exact_couplings


def _popcount(n: int) -> np.ndarray:
    ar = np.arange(1 << n)
    pc = np.zeros(1 << n, dtype=np.int64)
    for i in range(n):
        pc += (ar >> i) & 1
    return pc


def _naive_mobius(H: np.ndarray) -> np.ndarray:
    n = H.shape[0].bit_length() - 1
    ar = np.arange(1 << n)
    sign = 1 - 2 * (_popcount(n) & 1)
    out = np.empty(1 << n)
    for S in range(1 << n):
        sel = (ar & S) == ar
        out[S] = sign[S] * np.dot(sign[sel], H[sel])
    return out


def _naive_walsh(H: np.ndarray, masks: int | None = None) -> np.ndarray:
    n = H.shape[0].bit_length() - 1
    ar = np.arange(1 << n)
    pc = _popcount(n)
    masks = 1 << n if masks is None else masks
    out = np.empty(masks)
    for S in range(masks):
        # prod_{i in S} s_i with s_i = 2 bit_i - 1: (-1)^(number of bits of S that are 0 in k)
        chi = 1 - 2 * ((pc[S] - pc[ar & S]) & 1)
        out[S] = np.dot(chi, H) / (1 << n)
    return out


def _moment_table(r: int, seed: int = 0) -> dict[tuple, float]:
    """Joint moments of r distinct variables (from random cumulants, any values would do)."""
    rng = np.random.default_rng(seed)
    return {
        tuple(i for i in range(r) if S >> i & 1): float(rng.normal(scale=0.5)) for S in range(1, 1 << r)
    }


def _partition_sum(moments: dict[tuple, float], r: int) -> float:
    total = 0.0
    for part in multiset_partitions(list(range(r))):
        k = len(part)
        term = (-1) ** (k - 1) * math.factorial(k - 1)
        for block in part:
            term *= moments[tuple(block)]
        total += term
    return total


def cases(smoke: bool = False) -> list[Case]:
    rng = np.random.default_rng(0)
    n = 8 if smoke else 16
    H = rng.normal(size=1 << n)
    big = 10 if smoke else 22
    Hbig = rng.normal(size=1 << big)
    r = 6 if smoke else 12
    walsh_part = 16 if n >= 12 else 1  # fraction of the naive Walsh sum actually run
    mom = _moment_table(r)
    return [
        Case(
            "Möbius couplings vs naive inclusion-exclusion", f"n={n}",
            lambda: exact_couplings(H, "bernoulli"), lambda: _naive_mobius(H),
            ">=1000x faster", ratio_at_least(1000), repeat=7, baseline_repeat=1,
            agree=lambda a, b: bool(np.allclose(a, b, atol=1e-9)),
        ),
        Case(
            "Walsh couplings vs naive sum", f"n={n}",
            lambda: exact_couplings(H, "spin"), lambda: _naive_walsh(H, (1 << n) // walsh_part),
            ">=1000x faster", ratio_at_least(1000), repeat=7, baseline_repeat=1,
            agree=lambda a, b: bool(np.allclose(a[: len(b)], b, atol=1e-12)),
            baseline_scale=walsh_part,
            note=(
                f"naive baseline run on 1/{walsh_part} of the masks and its time scaled by {walsh_part}"
                if walsh_part > 1 else ""
            ),
        ),
        Case(
            "Möbius couplings", f"n={big}", lambda: exact_couplings(Hbig, "bernoulli"), None,
            "< 2 s", faster_than(2.0), repeat=3,
        ),
        Case(
            "Walsh couplings", f"n={big}", lambda: exact_couplings(Hbig, "spin"), None,
            "< 2 s", faster_than(2.0), repeat=3,
        ),
        Case(
            "joint cumulant vs all set partitions", f"order {r}",
            lambda: joint_cumulant(mom, tuple(range(r))), lambda: _partition_sum(mom, r),
            ">=100x faster", ratio_at_least(100), repeat=7, baseline_repeat=1,
            agree=lambda a, b: abs(a - b) <= 1e-9 * max(1.0, abs(b)),
        ),
    ]
