"""The one stable log-sum-exp (issue 10), against mpmath at 50 digits."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from symrg.model.numerics import logsumexp, logsumexp_mp
from symrg.model.units import Discrete


def _reference(values) -> float:
    with mpmath.workdps(50):
        return float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in values)))


@pytest.mark.parametrize("values", [[0.0, 1.0, 2.0], [1000.0, 999.0], [-1000.0, -1001.0, -1e4], [-np.inf, 3.0], [7.5]])
def test_logsumexp_against_mpmath(values):
    assert abs(logsumexp(values) - _reference(values)) <= 1e-13 * max(1.0, abs(_reference(values)))
    with mpmath.workdps(40):
        assert abs(float(logsumexp_mp([mpmath.mpf(v) for v in values])) - _reference(values)) < 1e-12 * max(1.0, abs(_reference(values)))


def test_logsumexp_axis_and_empty_weight():
    a = np.array([[0.0, -np.inf], [-np.inf, -np.inf], [800.0, 800.0]])
    out = logsumexp(a, axis=1)
    assert out.shape == (3,)
    assert out[0] == 0.0 and out[1] == -np.inf and abs(out[2] - (800 + np.log(2))) < 1e-12
    assert logsumexp_mp([-mpmath.inf, -mpmath.inf]) == -mpmath.inf


def test_discrete_log_partition_is_finite_at_large_fields():
    kind = Discrete((-1, 0, 1))
    eta = np.array([-900.0, 0.0, 900.0])
    got = kind.log_partition_numpy(eta)
    ref = [_reference([e * x for x in (-1, 0, 1)]) for e in eta]
    assert np.all(np.isfinite(got)) and np.allclose(got, ref, rtol=1e-14, atol=0)
    with mpmath.workdps(30):
        assert abs(float(kind.log_partition_mpmath(mpmath.mpf(900))) - ref[2]) < 1e-12


def test_complex_log_partition_is_finite_at_large_fields():
    # verify evaluates at complex points; exp(800) overflowed in the naive sum
    kind = Discrete((-1, 0, 2))
    eta = 400.0 + 0.7j
    with mpmath.workdps(50):
        ref = complex(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpc(eta) * v) for v in (-1, 0, 2))))
        got_mp = complex(kind.log_partition_mpc(eta))
    got = complex(kind.log_partition_complex(eta))
    assert abs(got - ref) < 1e-12 * abs(ref) and abs(got_mp - ref) < 1e-12 * abs(ref)
    assert abs(logsumexp([eta * v for v in (-1, 0, 2)]) - ref) < 1e-12 * abs(ref)
