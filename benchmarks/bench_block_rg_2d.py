"""Exact block RG on the square lattice, 2x2 majority blocks (tie random), by strip transfer matrices.

symrg: :func:`symrg.rg.block_exact.exact_renormalization` on a 2D lattice takes the strip
route of :mod:`symrg.rg.strip_transfer`: transfer matrices over rows of ``W`` spins
(``2^W x 2^W``), one per configuration of the coarse spins a row completes, products
over each half of the lattice for every coarse configuration of that half, joined over
the boundary row (a sum of independent chunks), then the Walsh transform of ``log Z(h)``.

Baseline (numpy alone, as a competent user would write it): enumerate every fine
configuration in slices of 2^16 (bonds from XOR of bit shifts), weigh each by
``prod_j p(h_j | x_j)`` for every coarse configuration, sum.  It is feasible at 4x4
(2^16 configurations); at 6x6 (2^36) and 8x8 (2^64) no enumeration is, so those rows
have a target time and no baseline.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from benchmarks.bench_blockrg import walsh_coefficients
from benchmarks.harness import Case, faster_than, ratio_at_least
from symrg.rg.block_exact import exact_renormalization
from symrg.rg.coarse import majority
from symrg.rg.lattice import ising_model, square, square_blocks

K = 0.44


def _symrg(lx: int, ly: int, boundary: str | None = None) -> Callable[[], np.ndarray]:
    model = ising_model(square(lx, ly), {"K": 1})  # built once, outside the timed call
    blocks = square_blocks(model.lattice, 2)

    def run() -> np.ndarray:
        return exact_renormalization(model, blocks, majority(tie="random"), {"K": K}, boundary=boundary, max_work=1e13).couplings

    return run


def _baseline(lx: int, ly: int) -> np.ndarray:
    n = lx * ly
    bonds = [(x + lx * y, (x + 1) % lx + lx * y) for y in range(ly) for x in range(lx)]
    bonds += [(x + lx * y, x + lx * ((y + 1) % ly)) for y in range(ly) for x in range(lx)]
    blocks = [((2 * bx) + lx * (2 * by), (2 * bx + 1) + lx * (2 * by), (2 * bx) + lx * (2 * by + 1), (2 * bx + 1) + lx * (2 * by + 1))
              for by in range(ly // 2) for bx in range(lx // 2)]
    spins = np.array([[2 * ((c >> i) & 1) - 1 for i in range(4)] for c in range(16)])
    s = spins.sum(axis=1)
    table = np.where(s > 0, 1.0, np.where(s < 0, 0.0, 0.5))
    Z = np.zeros(1 << len(blocks))
    for start in range(0, 1 << n, 1 << 16):
        k = np.arange(start, min(start + (1 << 16), 1 << n), dtype=np.int64)
        e = np.zeros(len(k))
        for i, j in bonds:
            e += K * (1 - 2 * (((k >> i) ^ (k >> j)) & 1))
        F = np.exp(e)[None, :]
        for blk in blocks:
            p = table[sum(((k >> q) & 1) << a for a, q in enumerate(blk))]
            F = np.concatenate([F * (1 - p), F * p])
        Z += F.sum(axis=1)
    return walsh_coefficients(np.log(Z))


def cases(smoke: bool = False) -> list[Case]:
    agree = lambda a, b: bool(np.allclose(a, b, atol=1e-11))  # noqa: E731
    if smoke:
        return [
            Case("2D block RG, strip vs enumeration", "4x4 torus", _symrg(4, 4), lambda: _baseline(4, 4),
                 "faster than enumeration", ratio_at_least(1.0), repeat=1, baseline_repeat=1, agree=agree),
        ]
    return [
        Case("2D block RG, strip vs enumeration", "4x4 torus", _symrg(4, 4), lambda: _baseline(4, 4),
             ">=2x faster", ratio_at_least(2.0), repeat=3, baseline_repeat=1, agree=agree,
             note="baseline: numpy enumeration of the 2^16 fine configurations (at 6x6 it would need 2^36)"),
        Case("2D block RG, 2x2 majority", "6x6 torus (coarse 3x3)", _symrg(6, 6), None, "< 60 s", faster_than(60.0), repeat=3),
        Case("2D block RG, 2x2 majority", "8x8 cylinder (coarse 4x4)", _symrg(8, 8, "cylinder"), None, "< 60 s",
             faster_than(60.0), repeat=1),
        Case("2D block RG, 2x2 majority", "8x8 torus (coarse 4x4)", _symrg(8, 8), None, "< 120 s", faster_than(120.0), repeat=1),
        Case("2D block RG, 2x2 majority", "8x10 torus (coarse 4x5)", _symrg(8, 10), None, "< 600 s", faster_than(600.0), repeat=1),
        Case("2D block RG, 2x2 majority", "8x12 cylinder (coarse 4x6)", _symrg(8, 12, "cylinder"), None, "< 120 s",
             faster_than(120.0), repeat=1, note="24 coarse spins: the largest coarse lattice (MAX_COARSE_SITES)"),
    ]
