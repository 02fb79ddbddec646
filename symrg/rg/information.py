"""Information carried by a coarse spin: the mutual information with its environment.

For the Ising chain and a coarse-graining rule (:mod:`symrg.rg.coarse`),
:func:`mutual_information_chain` computes ``I(H:E)`` between the coarse spin ``H`` of one
block and the environment ``E`` beyond a buffer, exactly (transfer matrix, mpmath), the
quantity that the real-space mutual-information RG maximizes (docs/block_rg.md).

Examples
--------
>>> round(mutual_information_chain(1.0, "decimation", 2), 10) > 0
True
"""

from __future__ import annotations

from typing import Mapping

import mpmath
import numpy as np

from symrg.rg.block_exact import MAX_ENUMERATION_SITES
from symrg.rg.coarse import CoarseRule, coarse_rule

__all__ = ["mutual_information_chain"]


def mutual_information_chain(
    K: float,
    rule: "CoarseRule | str",
    b: int,
    buffer: int = 0,
    h: float = 0.0,
    values: Mapping | None = None,
    dps: int = 30,
) -> float:
    """Exact ``I(H:E)`` of a coarse spin and its environment in the infinite Ising chain.

    The chain has weight ``exp(sum_i [K x_i x_{i+1} + h x_i])``; the coarse spin ``H`` of a
    block of ``b`` sites is drawn from ``rule``; the environment ``E`` is every spin
    farther than ``buffer`` sites from the block (Lenggenhager et al.).  Because the
    chain is Markov, ``I(H:E) = I(H : e_L, e_R)`` with ``e_L``, ``e_R`` the environment spins
    nearest to the block; their joint law with the block follows from the transfer
    matrix ``T = [exp(K s s' + h (s + s')/2)]`` and its Perron eigenvector ``v``:
    ``p(x_1..x_n) = v(x_1) prod T(x_i, x_{i+1}) v(x_n) / lambda^(n-1)``.

    Returns the mutual information in nats (computed with ``dps`` digits).

    Examples
    --------
    >>> round(mutual_information_chain(0.0, "decimation", 2), 12)     # no correlations
    0.0
    >>> 0 < mutual_information_chain(0.5, "decimation", 2) < mutual_information_chain(1.0, "decimation", 2)
    True
    """
    rule = coarse_rule(rule)
    if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
        raise ValueError(f"b must be a positive integer, got {b!r}")
    if isinstance(buffer, bool) or not isinstance(buffer, (int, np.integer)) or buffer < 0:
        raise ValueError(f"buffer must be a non-negative integer, got {buffer!r}")
    n = b + 2 * buffer + 2
    if n > MAX_ENUMERATION_SITES:
        raise ValueError(f"block plus buffers ({n} sites) above the limit of {MAX_ENUMERATION_SITES} sites (MAX_ENUMERATION_SITES)")
    table = rule.numeric_table(b, None if values is None else dict(values))
    with mpmath.workdps(dps):
        Km, hm = mpmath.mpf(K), mpmath.mpf(h)
        T = mpmath.matrix([[mpmath.exp(Km * s * t + hm * (s + t) / 2) for t in (-1, 1)] for s in (-1, 1)])
        E, ER = mpmath.eighe(T)
        i = 0 if E[0] > E[1] else 1
        lam = E[i]
        v = [abs(ER[0, i]), abs(ER[1, i])]
        v = [x / mpmath.sqrt(v[0] ** 2 + v[1] ** 2) for x in v]
        joint: dict = {}
        for k in range(1 << n):
            x = [2 * ((k >> j) & 1) - 1 for j in range(n)]
            p = v[(x[0] + 1) // 2] * v[(x[-1] + 1) // 2] / lam ** (n - 1)
            for j in range(n - 1):
                p *= T[(x[j] + 1) // 2, (x[j + 1] + 1) // 2]
            blk = x[1 + buffer : 1 + buffer + b]
            c = sum(((s + 1) // 2) << j for j, s in enumerate(blk))
            pp = mpmath.mpf(table[c])
            for hv, ph in ((1, pp), (-1, 1 - pp)):
                key = (hv, x[0], x[-1])
                joint[key] = joint.get(key, 0) + p * ph
        ph_ = {hv: sum(v_ for (a, _, _), v_ in joint.items() if a == hv) for hv in (1, -1)}
        pe: dict = {}
        for (hv, el, er), val in joint.items():
            pe[(el, er)] = pe.get((el, er), 0) + val
        mi = mpmath.mpf(0)
        for (hv, el, er), val in joint.items():
            if val > 0:
                mi += val * mpmath.log(val / (ph_[hv] * pe[(el, er)]))
        return max(float(mi), 0.0)  # I >= 0; rounding can leave -1e-40
