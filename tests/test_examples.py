import pytest

from symrg.examples import seed_derivation


@pytest.mark.parametrize("sizes", [(1, 1, 1), (3, 2, 1), (2, 3, 4)])
def test_seed_derivation_checks_pass_at_any_sizes(sizes):
    doc = seed_derivation(*sizes, seed=5)
    assert doc.passed
    assert len(doc.checks) == 6
    assert max(c.error for c in doc.checks) < 1e-10
