"""Migdal-Kadanoff: engine output against an independent bisection."""

from __future__ import annotations

import math

import mpmath
import pytest
import sympy as sp

from symrg.rg.migdal_kadanoff import critical_point, migdal_kadanoff, migdal_kadanoff_tanh


def _bisect_fixed_point(d, b=2):
    """K* of tanh K = tanh^b(b^(d-1) K) by bisection in 40-digit mpmath (independent of the engine)."""
    with mpmath.workdps(40):
        f = lambda k: mpmath.tanh(b ** (d - 1) * k) ** b - mpmath.tanh(k)  # noqa: E731
        lo, hi = mpmath.mpf("0.01"), mpmath.mpf(2)
        assert f(lo) < 0 < f(hi)
        for _ in range(150):
            mid = (lo + hi) / 2
            if f(mid) < 0:
                lo = mid
            else:
                hi = mid
        Ks = (lo + hi) / 2
        # dK'/dK from the chain rule on tanh K' = tanh^b(c K), by a central difference
        c = b ** (d - 1)
        Kp = lambda k: mpmath.atanh(mpmath.tanh(c * k) ** b)  # noqa: E731
        eps = mpmath.mpf(10) ** -15
        lam = (Kp(Ks + eps) - Kp(Ks - eps)) / (2 * eps)
        return Ks, mpmath.log(b) / mpmath.log(lam)


def test_d2_b2_map_and_critical_point():
    m = migdal_kadanoff(2, 2)
    (K,) = m.couplings
    for Kv in (0.1, 0.3, 0.8):
        assert abs(float(m(Kv)[0]) - 0.5 * math.log(math.cosh(4 * Kv))) < 1e-14
    fp = critical_point(2, 2)
    Ks, nu = _bisect_fixed_point(2, 2)
    with mpmath.workdps(40):
        assert abs(mpmath.mpf(fp.values[0]) - Ks) < 1e-25
        assert abs(mpmath.mpf(fp.nu) - nu) < 1e-12
    assert f"{float(fp.values[0]):.12g}" == "0.304688931718"
    assert f"{float(fp.nu):.12g}" == "1.33826579039"
    assert fp.labels == ("relevant",)


@pytest.mark.parametrize("d,b", [(3, 2), (2, 3)])
def test_other_dimensions_and_scales(d, b):
    fp = critical_point(d, b)
    Ks, nu = _bisect_fixed_point(d, b)
    with mpmath.workdps(40):
        assert abs(mpmath.mpf(fp.values[0]) - Ks) < 1e-25
        assert abs(mpmath.mpf(fp.nu) - nu) < 1e-12


def test_tanh_form_is_rational_and_has_exact_critical_point():
    mu = migdal_kadanoff_tanh(2, 2)
    (u,) = mu.couplings
    assert sp.simplify(mu.images[0] - 4 * u**2 / (1 + u**2) ** 2) == 0
    fps = mu.fixed_points(bounds=[(0, 1)])
    crit = [fp for fp in fps if fp.labels == ("relevant",)]
    assert len(crit) == 1 and crit[0].exact
    Ks, _ = _bisect_fixed_point(2, 2)
    assert abs(float(sp.N(crit[0].original[sp.Symbol("K", real=True)], 30)) - float(Ks)) < 1e-14


def test_constant_term_of_the_bond_moved_chain():
    m = migdal_kadanoff(2, 2)
    K, g = m.couplings[0], m.constant
    # g' = b^d g + constant of a two-bond chain of strength 2K: log(2 cosh 4K) + log 2 ... checked by brute force
    for Kv in (0.2, 0.7):
        c = float(sp.N(m.constant_image.subs({K: Kv, g: 0})))
        # sum over the middle spin of a chain s - m - s' with coupling 2K, per new bond;
        # the per-bond constant is (1/4) sum over (s, s') of log of the summed weight
        logs = [math.log(sum(math.exp(2 * Kv * (s * mm + mm * t)) for mm in (-1, 1))) for s in (-1, 1) for t in (-1, 1)]
        assert abs(c - sum(logs) / 4) < 1e-14
    assert m.volume_factor == 4


def test_bad_input():
    with pytest.raises(ValueError, match="d must be an integer >= 1"):
        migdal_kadanoff(0, 2)
    with pytest.raises(ValueError, match="b must be an integer >= 2"):
        migdal_kadanoff(2, 1)
    with pytest.raises(ValueError, match="b must be an integer"):
        migdal_kadanoff(2, 2.5)


def test_derivation_script_passes():
    import pathlib

    from symrg.cli import load_derivation

    doc = load_derivation(pathlib.Path(__file__).resolve().parents[1] / "derivations" / "migdal_kadanoff.py")
    assert doc.passed and len(doc.checks) >= 5
    assert "nu d=3" in doc.results
