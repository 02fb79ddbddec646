"""Chain decimation: engine output against brute-force sums and transfer matrices."""

from __future__ import annotations

import itertools
import math
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

from symrg.model.units import Discrete
from symrg.rg.chain import chain_symbols, decimate_chain, transfer_matrix_log_z
from symrg.rg.recursion import free_energy_from_flow

S = chain_symbols()
K, h, g = S["K"], S["h"], S["g"]


def _bond(x, y, Kv, hv, gv=0.0):
    return gv + Kv * x * y + hv * (x + y) / 2


def _brute_log_bond(values, b, Kv, hv, x, y):
    """log sum over the b-1 decimated units between x and y (plain floats)."""
    tot = 0.0
    for mids in itertools.product(values, repeat=b - 1):
        path = (x,) + mids + (y,)
        tot += math.exp(sum(_bond(path[k], path[k + 1], Kv, hv) for k in range(b)))
    return math.log(tot)


def _ring_log_z(Kv, hv, gv, n):
    """log tr T^n, T the 2x2 spin transfer matrix (exact partition function of a ring)."""
    T = np.array([[math.exp(_bond(x, y, Kv, hv, gv)) for y in (-1, 1)] for x in (-1, 1)])
    return math.log(np.trace(np.linalg.matrix_power(T, n)))


def _ev(expr, **vals):
    return float(sp.N(expr.subs({S[k]: v for k, v in vals.items()}), 30))


def _evmp(expr, **vals):
    """The expression at 30 digits (inputs taken as exact binary floats)."""
    f = sp.lambdify([S[k] for k in vals], expr, modules="mpmath")
    return f(*vals.values())


def test_b2_matches_brute_force_sum_at_random_points(chain_decimation):
    rng = random.Random(1234)
    for _ in range(8):
        Kv, hv, gv = rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5), rng.uniform(-1, 1)
        Kp = _ev(chain_decimation.images[K], K=Kv, h=hv)
        hp = _ev(chain_decimation.images[h], K=Kv, h=hv)
        gp = _ev(chain_decimation.constant_image, K=Kv, h=hv, g=gv)
        for x, y in itertools.product((-1, 1), repeat=2):
            exact = 2 * gv + _brute_log_bond((-1, 1), 2, Kv, hv, x, y)
            assert abs(_bond(x, y, Kp, hp, gp) - exact) < 1e-14 * max(1, abs(exact))


def test_b2_reproduces_pathria_nelson_fisher(chain_decimation):
    rng = random.Random(7)
    with mpmath.workdps(30):
        for _ in range(6):
            Kv, hv, gv = (mpmath.mpf(rng.uniform(-1.2, 1.2)) for _ in range(3))
            cp, cm, ch = mpmath.cosh(2 * Kv + hv), mpmath.cosh(2 * Kv - hv), mpmath.cosh(hv)
            assert abs(_evmp(chain_decimation.images[K], K=Kv, h=hv) - mpmath.log(cp * cm / ch**2) / 4) < 1e-25
            assert abs(_evmp(chain_decimation.images[h], K=Kv, h=hv) - (hv + mpmath.log(cp / cm) / 2)) < 1e-25
            ref = 2 * gv + mpmath.log(16 * cp * cm * ch**2) / 4
            assert abs(_evmp(chain_decimation.constant_image, K=Kv, h=hv, g=gv) - ref) < 1e-25


@pytest.mark.parametrize("b", [2, 3, 4, 5])
def test_zero_field_tanh_power(b):
    dec = decimate_chain("spin", b, couplings=("K",))
    assert dec.exact
    for Kv in (0.1, 0.37, 0.8, 1.6):
        Kp = mpmath.mpf(_ev(dec.images[K], K=Kv))
        assert abs(mpmath.tanh(Kp) - mpmath.tanh(Kv) ** b) < 1e-14
        # and the brute-force sum for the same b
        brute = _brute_log_bond((-1, 1), b, Kv, 0.0, 1, 1) - _brute_log_bond((-1, 1), b, Kv, 0.0, 1, -1)
        assert abs(2 * float(Kp) - brute) < 1e-13


@pytest.mark.parametrize("n,b", [(8, 2), (12, 2), (12, 3), (8, 4)])
def test_ring_partition_function_preserved(n, b):
    dec = dec_cache(b)
    Kv, hv, gv = 0.63, -0.41, 0.17
    Kp = _ev(dec.images[K], K=Kv, h=hv)
    hp = _ev(dec.images[h], K=Kv, h=hv)
    gp = _ev(dec.constant_image, K=Kv, h=hv, g=gv)
    before = _ring_log_z(Kv, hv, gv, n)
    after = _ring_log_z(Kp, hp, gp, n // b)
    assert abs(before - after) < 1e-12 * abs(before)


_DEC: dict = {}


def dec_cache(b):
    if b not in _DEC:
        _DEC[b] = decimate_chain("spin", b)
    return _DEC[b]


@pytest.mark.parametrize("Kv,hv", [(0.5, 0.0), (0.7, 0.3)])
def test_free_energy_from_flow_matches_transfer_matrix(Kv, hv, chain_decimation):
    fe = free_energy_from_flow(chain_decimation.recursion_map, {"K": Kv, "h": hv})
    # independent: largest eigenvalue of the 2x2 transfer matrix (numpy)
    T = np.array([[math.exp(_bond(x, y, Kv, hv)) for y in (-1, 1)] for x in (-1, 1)])
    ref = math.log(max(np.linalg.eigvalsh(T)))
    assert abs(float(fe.log_z_per_bond) - ref) < 1e-12
    assert abs(float(fe.free_energy) + ref) < 1e-12
    assert abs(float(transfer_matrix_log_z("spin", Kv, hv)) - ref) < 1e-13


def test_general_b_map_beta_function_and_fixed_points():
    b = sp.Symbol("b", positive=True)
    dec = decimate_chain("spin", b, couplings=("K",))
    rmap = dec.recursion_map
    # general-b map against the numeric eigen-decomposition of T at non-integer b
    for bv, Kv in ((2.5, 0.4), (3.7, 0.9)):
        w, V = np.linalg.eigh(np.array([[math.exp(Kv), math.exp(-Kv)], [math.exp(-Kv), math.exp(Kv)]]))
        Tb = V @ np.diag(w**bv) @ V.T
        ref = 0.5 * math.log(Tb[0, 0] / Tb[0, 1])
        assert abs(float(sp.N(rmap.images[0].subs({K: Kv, b: bv}))) - ref) < 1e-13
    u = sp.Symbol("u")
    mu = rmap.change_variables([u], [sp.tanh(K)], [sp.atanh(u)])
    assert sp.simplify(mu.images[0] - u**b) == 0
    (beta,) = mu.beta_function()
    assert sp.simplify(beta - u * sp.log(u)) == 0
    # numeric twin of the beta function: finite difference in b of the numeric T^b at b = 1
    for uv in (0.3, 0.75):
        Kv = math.atanh(uv)

        def u_of(bv):
            w, V = np.linalg.eigh(np.array([[math.exp(Kv), math.exp(-Kv)], [math.exp(-Kv), math.exp(Kv)]]))
            Tb = V @ np.diag(w**bv) @ V.T
            return (Tb[0, 0] - Tb[0, 1]) / (Tb[0, 0] + Tb[0, 1])

        eps = 1e-6
        fd = (u_of(math.exp(eps)) - u_of(math.exp(-eps))) / (2 * eps)
        assert abs(float(beta.subs(u, uv)) - fd) < 1e-8
    # fixed points and stability found by the engine (b = 2)
    fps = mu.subs({b: 2}).fixed_points()
    pos = [fp for fp in fps if fp.values[0] >= 0]
    assert [fp.values[0] for fp in pos] == [0, 1]
    assert pos[0].stable and pos[0].labels == ("irrelevant",)
    assert pos[1].labels == ("relevant",) and pos[1].nu == 1
    assert pos[1].original == {K: sp.oo}
    # for symbolic b the T = 0 fixed point has y = 1 exactly
    fpb = [fp for fp in mu.fixed_points() if fp.values == (1,)]
    assert fpb and fpb[0].rg_eigenvalues == (1,)


def test_three_state_units_report_dropped_couplings():
    kind = Discrete((-1, 0, 1))
    dec = decimate_chain(kind, 2, couplings=("K",))
    assert not dec.exact
    names = {d.name for d in dec.dropped}
    assert names == {"c_20", "c_22"}
    s, t = S["s"], S["s'"]
    # projected bond + residual reproduces the brute-force sum on all 9 entries
    Kv, gv = 0.45, 0.1
    Kp = _ev(dec.images[K], K=Kv)
    gp = _ev(dec.constant_image, K=Kv, g=gv)
    for x, y in itertools.product((-1, 0, 1), repeat=2):
        res = float(sp.N(dec.residual.subs({K: Kv, s: x, t: y})))
        exact = 2 * gv + _brute_log_bond((-1, 0, 1), 2, Kv, 0.0, x, y)
        assert abs(gp + Kp * x * y + res - exact) < 1e-13
    # the biquadratic coupling really is nonzero
    c22 = [d for d in dec.dropped if d.name == "c_22"][0]
    assert abs(float(sp.N(c22.coefficient.subs(K, Kv)))) > 1e-3


def test_restricted_projection_reports_field():
    dec = decimate_chain("spin", 2, project_onto=("K",))
    assert [d.name for d in dec.dropped] == ["h"]
    assert dec.parameters == (h,)
    Kv, hv = 0.5, 0.3
    ref = hv + math.log(math.cosh(2 * Kv + hv) / math.cosh(2 * Kv - hv)) / 2
    assert abs(_ev(dec.dropped[0].coefficient, K=Kv, h=hv) - ref) < 1e-14
    # bernoulli units without a field generate one: reported, not dropped silently
    dec01 = decimate_chain("bernoulli", 2, couplings=("K",))
    assert "h" in [d.name for d in dec01.dropped]


def test_bad_input():
    with pytest.raises(ValueError, match="b must be an integer >= 2"):
        decimate_chain("spin", 1)
    with pytest.raises(ValueError, match="b must be an integer"):
        decimate_chain("spin", 2.5)
    with pytest.raises(ValueError, match="unknown coupling 'J' in couplings"):
        decimate_chain("spin", 2, couplings=("K", "J"))
    with pytest.raises(ValueError, match="project_onto"):
        decimate_chain("spin", 2, couplings=("K",), project_onto=("K", "h"))
    with pytest.raises(ValueError, match="units"):
        decimate_chain("gaussian", 2)
    with pytest.raises(ValueError, match="two-valued"):
        decimate_chain((-1, 0, 1), sp.Symbol("b"))


def test_derivation_script_passes():
    import pathlib

    from symrg.cli import load_derivation

    doc = load_derivation(pathlib.Path(__file__).resolve().parents[1] / "derivations" / "ising_chain_decimation.py")
    assert doc.passed and len(doc.checks) >= 15
    assert sp.simplify(doc.results["beta(u)"] - sp.Symbol("u") * sp.log(sp.Symbol("u"))) == 0
