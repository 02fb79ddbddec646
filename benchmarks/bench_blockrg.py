"""Renormalized couplings of a periodic Ising chain, blocks of 2, any rule (here the smooth rule).

symrg: :func:`symrg.rg.block_exact.exact_renormalization`, block transfer matrices (the products
of half the ring for every half of the coarse configuration, joined by one matrix
product) and the Walsh transform of :mod:`symrg.engine.multilinear`.

Baseline (numpy alone, as a competent user would write it): enumerate all 2^N fine
configurations (bonds from popcounts of ``k xor rotate(k)``), contract the Boltzmann
weights with ``p(h_j | x_j)`` block by block to get ``Z(h)`` for every coarse configuration,
and Walsh-transform ``log Z(h)`` with a numpy butterfly.  N_BASELINE is the largest N the
baseline finishes in about 60 s on the development machine (2 cores); above it memory
(2^N doubles: about 2 GB per array at N = 28, several GB in all) and time double per spin;
measured: N = 24 in 2.7 s, 26 in 11 s, 28 in 58 s; symrg does N = 28 in ~5 ms and N = 40 in ~0.15 s.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Case, faster_than, ratio_at_least
from symrg.rg.block_exact import exact_renormalization
from symrg.rg.coarse import smooth
from symrg.rg.lattice import chain, chain_blocks, ising_model

K = 0.5
LAMBDA = (0.7, 0.2)
N_BASELINE = 28
N_TARGET = 40


def _symrg(n: int) -> np.ndarray:
    model = ising_model(chain(n), {"K": 1})
    return exact_renormalization(model, chain_blocks(model.lattice, 2), smooth(LAMBDA), {"K": K}).couplings


def _baseline(n: int) -> np.ndarray:
    nb = n // 2
    k = np.arange(1 << n, dtype=np.int64)
    rot = ((k >> 1) | ((k & 1) << (n - 1)))  # bit i -> bit of site i+1
    diff = k ^ rot
    unequal = np.zeros(1 << n, dtype=np.int64)
    for i in range(n):
        unequal += (diff >> i) & 1
    del rot, diff, k
    logw = K * (n - 2 * unequal).astype(np.float64)
    del unequal
    top = logw.max()
    w = np.exp(logw - top)
    del logw
    # p(h = +1 | x) for the 4 block states (x_0, x_1) = (bit0, bit1) -> spins
    s0 = np.array([-1, 1, -1, 1])
    s1 = np.array([-1, -1, 1, 1])
    pp = (1 + np.tanh(LAMBDA[0] * s0 + LAMBDA[1] * s1)) / 2
    P = np.stack([1 - pp, pp])  # P[h bit, block state]
    T = w.reshape(-1, 4, 1)
    for j in range(nb):
        T = np.einsum("rcs,hc->rhs", T, P).reshape(T.shape[0], -1)
        if j < nb - 1:
            T = T.reshape(T.shape[0] // 4, 4, -1)
    return walsh_coefficients(np.log(T.reshape(-1)) + top)


def walsh_coefficients(a: np.ndarray) -> np.ndarray:
    """Coefficients of a function of spins given on all configurations (bit j = spin j), by the Walsh-Hadamard butterfly."""
    size, h = a.shape[0], 1
    while h < size:
        a = a.reshape(-1, 2, h)
        a = np.stack([a[:, 0] + a[:, 1], a[:, 1] - a[:, 0]], axis=1).reshape(-1)
        h *= 2
    return a / size


def cases(smoke: bool = False) -> list[Case]:
    if smoke:
        n = 8
        return [
            Case("chain couplings, transfer vs enumeration", f"N={n}", lambda: _symrg(n), lambda: _baseline(n),
                 "faster than enumeration", ratio_at_least(1.0), repeat=1, baseline_repeat=1,
                 agree=lambda a, b: bool(np.allclose(a, b, atol=1e-11))),
            Case("chain couplings, transfer matrix", "N=12", lambda: _symrg(12), None, "< 10 s", faster_than(10.0), repeat=1),
        ]
    return [
        Case("chain couplings, transfer vs enumeration", f"N={N_BASELINE}", lambda: _symrg(N_BASELINE), lambda: _baseline(N_BASELINE),
             ">=100x faster", ratio_at_least(100), repeat=3, baseline_repeat=1,
             agree=lambda a, b: bool(np.allclose(a, b, atol=1e-10)),
             note="baseline: numpy enumeration of all 2^N fine configurations; N_BASELINE is the largest N it finishes in ~60 s"),
        Case("chain couplings, transfer matrix", f"N={N_TARGET}", lambda: _symrg(N_TARGET), None,
             "< 10 s", faster_than(10.0), repeat=3),
    ]
