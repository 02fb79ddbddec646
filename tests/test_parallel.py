"""symrg.parallel: local maps and sweeps, their errors and budgets, and the same work on a
Dask LocalCluster (two worker processes) giving the same numbers as the local run."""

from __future__ import annotations

import functools
import operator
import os
import sys
import threading
import time

import numpy as np
import pytest

from symrg.errors import BudgetError, ParallelError, SymrgError
from symrg.parallel import MAX_ITEMS, SweepResult, current_client, run_map, sweep, use_client


def _square(x):
    return x * x


def _fail_on_three(x):
    if x == 3:
        raise ValueError("three is not allowed")
    return x


def _slow(x):
    time.sleep(0.05)
    return x


def _pair(a, b):
    return np.array([a + b, a * b])


def _name_of(point):
    return sorted(point)


# --------------------------------------------------------------------------------------
# local
# --------------------------------------------------------------------------------------


def test_run_map_is_an_ordered_map():
    xs = list(range(50))[::-1]
    assert run_map(_square, xs) == [x * x for x in xs]
    assert run_map(_square, iter(xs)) == [x * x for x in xs]  # any iterable
    assert run_map(_square, []) == []
    assert run_map(functools.partial(operator.add, 1), (1, 2)) == [2, 3]


def test_local_runs_take_any_callable():
    def local(x):
        return x + 1

    assert run_map(local, [1, 2]) == [2, 3]
    assert run_map(lambda x: -x, [1, 2]) == [-1, -2]
    assert sweep(lambda K: 2 * K, {"K": [1, 2]}).values.tolist() == [2, 4]
    with pytest.raises(ParallelError, match="callable") as e:
        run_map(3, [1])
    assert isinstance(e.value, SymrgError)
    with pytest.raises(ParallelError, match="callable"):
        sweep("f", {"K": [1]})


def test_errors_of_the_function_propagate_unchanged():
    with pytest.raises(ValueError, match="three is not allowed"):
        run_map(_fail_on_three, range(5))


def test_item_budget_refuses_without_consuming_an_endless_iterator():
    import itertools

    with pytest.raises(BudgetError, match="more than 10 items"):
        run_map(_square, itertools.count(), max_items=10)
    with pytest.raises(BudgetError, match=f"budget max_items = {MAX_ITEMS}"):
        run_map(_square, itertools.count())
    with pytest.raises(BudgetError, match="max_items must be a positive int"):
        run_map(_square, [1], max_items=0)
    with pytest.raises(BudgetError, match="exceed the budget max_items = 3"):
        sweep(_pair, {"a": [1, 2], "b": [1, 2]}, max_items=3)


def test_timeout_gives_a_budget_error_not_a_hang():
    with pytest.raises(BudgetError, match=r"timeout of 0.1 s exceeded after \d+ of 100 items"):
        run_map(_slow, range(100), timeout=0.1)
    assert run_map(_slow, range(3), timeout=60) == [0, 1, 2]
    for bad in (0, -1, float("inf"), "1", True):
        with pytest.raises(BudgetError, match="timeout must be a positive number"):
            run_map(_square, [1], timeout=bad)


def test_progress_bar_on_stderr(capsys):
    run_map(_square, range(4), progress=True, desc="squares")
    err = capsys.readouterr().err
    assert "squares 4/4" in err and "100%" in err
    run_map(_square, range(4), progress=False)
    run_map(_square, range(4))  # automatic: a fast run draws nothing
    assert capsys.readouterr().err == ""
    with pytest.raises(ParallelError, match="progress must be"):
        run_map(_square, [1], progress="yes")


def test_use_client_nests_and_resets():
    assert current_client() is None
    with use_client(None) as c:
        assert c is None and current_client() is None
        with use_client(None):
            assert run_map(_square, [3]) == [9]
        assert current_client() is None
    with pytest.raises(ParallelError, match="dask.distributed.Client"):
        with use_client("tcp://scheduler:8786"):
            pass
    assert current_client() is None


def test_missing_dask_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    assert run_map(_square, [2]) == [4]  # local runs do not need Dask
    with pytest.raises(ParallelError, match=r"pip install 'symrg\[distributed\]'"):
        run_map(_square, [2], client=object())
    with pytest.raises(ParallelError, match="not installed"):
        with use_client(object()):
            pass


def test_cartesian_sweep():
    r = sweep(_pair, {"a": [1, 2, 3], "b": np.array([10.0, 20.0])})
    assert isinstance(r, SweepResult)
    assert r.names == ("a", "b") and r.shape == (3, 2) and len(r) == 6
    assert r.points.tolist() == [[1, 10], [1, 20], [2, 10], [2, 20], [3, 10], [3, 20]]
    assert r.values.shape == (6, 2) and r.values.dtype == float
    assert r.grid().shape == (3, 2, 2)
    assert r.grid()[2, 1].tolist() == [23.0, 60.0]
    assert r.axis("a").tolist() == [1, 2, 3] and r.axis("b").tolist() == [10.0, 20.0]
    assert [p for p, _ in r.items()][3] == {"a": 2.0, "b": 20.0}
    # immutable
    with pytest.raises(ValueError):
        r.values[0, 0] = 1.0
    with pytest.raises(ValueError):
        r.points[0, 0] = 1.0
    with pytest.raises(AttributeError):
        r.names = ("x",)  # type: ignore[misc]
    assert r == sweep(_pair, {"a": [1, 2, 3], "b": [10.0, 20.0]})
    with pytest.raises(ParallelError, match="unknown sweep parameter 'c'"):
        r.axis("c")


def test_list_of_points_and_mapping_calls():
    pts = [{"b": 1, "a": 2}, {"a": 5, "b": 7}]
    r = sweep(_name_of, pts, as_mapping=True)
    assert r.shape is None and r.names == ("b", "a")
    assert r.values.tolist() == [["a", "b"], ["a", "b"]]
    r2 = sweep(_pair, pts)
    assert r2.values.tolist() == [[3, 2], [12, 35]]
    with pytest.raises(ParallelError, match="cartesian"):
        r2.grid()


@pytest.mark.parametrize(
    "grid, message",
    [
        ({}, "grid is empty"),
        ({"a": []}, "'a' has no values"),
        ({"a": "abc"}, "must be a sequence"),
        ({"a": 3}, "must be a sequence"),
        ({"a": np.zeros((2, 2))}, "must be 1-D"),
        ({1: [1]}, "must be identifiers"),
        ([], "list of points is empty"),
        ([{"a": 1}, {"b": 2}], "point 1 must give exactly the parameters"),
        ([1, 2], "point 0 must be a non-empty mapping"),
        ("a", "mapping name -> values or a list of points"),
        (5, "mapping name -> values or a list of points"),
    ],
)
def test_bad_grids_are_refused(grid, message):
    with pytest.raises(ParallelError, match=message):
        sweep(_pair, grid)


def test_object_values_are_kept():
    r = sweep(_name_of, {"x": [1, 2]}, as_mapping=True)
    assert r.values.dtype == object and r.values[1] == ["x"]


# --------------------------------------------------------------------------------------
# the same work on a Dask LocalCluster with two worker processes
# --------------------------------------------------------------------------------------

try:
    import distributed
except ImportError:  # pragma: no cover - dask[distributed] is in the test extra
    distributed = None


@pytest.fixture(scope="module")
def client():
    if distributed is None:
        # the test extra installs dask[distributed]: in CI a missing Dask is a failure, not a skip
        message = "dask[distributed] is not installed (pip install '.[test]' or 'symrg[distributed]')"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as c:
            yield c


def _with_lock(lock, x):
    return x


def _pid(_):
    return os.getpid()


def test_run_map_on_the_cluster(client):
    xs = list(range(40))[::-1]
    assert run_map(_square, xs, client=client) == [x * x for x in xs]
    pids = run_map(_pid, range(8), client=client)
    assert os.getpid() not in pids  # the work ran in the worker processes
    with use_client(client):
        assert current_client() is client
        assert os.getpid() not in run_map(_pid, range(4))
        with use_client(None):  # an inner block runs locally
            assert run_map(_pid, range(2)) == [os.getpid()] * 2
        assert os.getpid() not in run_map(_pid, range(2))
    assert current_client() is None
    with pytest.raises(ValueError, match="three is not allowed"):
        run_map(_fail_on_three, range(6), client=client)
    with pytest.raises(BudgetError, match="timeout of 0.3 s exceeded on the cluster"):
        run_map(time.sleep, [1.0] * 4, client=client, timeout=0.3)
    # closures travel by value (cloudpickle); what cannot be serialized is refused before submission
    offset = 5
    assert run_map(lambda x: x + offset, [1, 2], client=client) == [6, 7]
    with pytest.raises(ParallelError, match=r"the function partial cannot be sent to the Dask workers \(TypeError: cannot pickle '_thread.lock'"):
        run_map(functools.partial(_with_lock, threading.Lock()), [1], client=client)
    with pytest.raises(ParallelError, match="the first item lock cannot be sent to the Dask workers"):
        run_map(_square, [threading.Lock()], client=client)


def test_exact_block_rg_on_the_cluster_equals_the_local_sum(client):
    from symrg.rg.block_exact import exact_renormalization
    from symrg.rg.coarse import majority
    from symrg.rg.lattice import ising_model, square, square_blocks

    m = ising_model(square(4, 4), {"K": 1, "L": 2})
    blocks = square_blocks(m.lattice, 2)
    vals = {"K": 0.4, "L": -0.05}
    local = exact_renormalization(m, blocks, majority(tie="random"), vals, "enumeration")
    remote = exact_renormalization(m, blocks, majority(tie="random"), vals, "enumeration", client=client)
    with use_client(client):
        remote2 = exact_renormalization(m, blocks, majority(tie="random"), vals, "enumeration")
    assert np.array_equal(local.hamiltonian, remote.hamiltonian)  # the same chunks, the same arithmetic: bit for bit
    assert local == remote == remote2
    # and the chunked sum is the plain sum over all 2^16 configurations
    from symrg.engine.multilinear import configurations

    X = configurations(16, "spin").astype(float)
    logw = m.log_weight(X, vals)
    assert abs(np.logaddexp.reduce(logw) - remote.log_z) < 1e-12


def test_brute_force_on_the_cluster_equals_the_local_sum(client, monkeypatch):
    from symrg.engine.marginalization import marginalize
    from symrg.model.energy import rbm
    from symrg.verify import brute_force

    monkeypatch.setattr(brute_force, "CHUNK_ROWS", 1024)  # 2^12 configurations x 16 states -> 64 chunks
    model = rbm(3, 12, "spin", "spin")
    rng = np.random.default_rng(3)
    vals = brute_force.random_parameters(model, rng)
    states = {"v": rng.choice([-1.0, 1.0], size=(16, 3))}
    local = brute_force.brute_force_log_weight(model, vals, states)
    remote = brute_force.brute_force_log_weight(model, vals, states, client=client)
    assert np.abs(local - remote).max() <= 1e-14 * np.abs(local).max()
    # the full cross-check of an effective model, on the cluster
    report = brute_force.crosscheck(marginalize(model, "h"), seed=2, client=client)
    assert report.passed and report.log_z_error is not None and report.max_abs_error < 1e-10


def test_parameter_sweep_on_the_cluster(client, capsys):
    from symrg.rg.block_exact import exact_renormalization
    from symrg.rg.lattice import chain, chain_blocks, ising_model

    ring = ising_model(chain(8), {"K": 1})
    fn = functools.partial(exact_renormalization, ring, chain_blocks(ring.lattice, 2), "decimation")
    Ks = np.linspace(0.1, 1.5, 8)
    local = sweep(fn, {"K": Ks}, as_mapping=True)
    remote = sweep(fn, {"K": Ks}, as_mapping=True, client=client)
    assert remote == local and remote.values.dtype == object
    # decimation of a ring: K' = log cosh(2K) / 2 (docs/block_rg.md)
    nn = np.array([r.coupling((0, 1)) for r in remote.values])
    assert np.abs(nn - np.log(np.cosh(2 * Ks)) / 2).max() < 1e-12
    # a numeric two-parameter grid
    g_local = sweep(_pair, {"a": [1, 2, 3], "b": [0.5, 2.0]})
    with use_client(client):
        g_remote = sweep(_pair, {"a": [1, 2, 3], "b": [0.5, 2.0]})
    assert g_remote == g_local and g_remote.grid().shape == (3, 2, 2)
    # a map of I(H:E) over the coupling and the buffer (keyword arguments of the sweep)
    from symrg.rg.information import mutual_information_chain

    mi = functools.partial(mutual_information_chain, rule="decimation", b=2)
    mi_grid = sweep(mi, {"K": [0.3, 0.9], "buffer": [0, 1]}, client=client)
    assert mi_grid.grid().tolist() == [[mutual_information_chain(K, "decimation", 2, buffer=n) for n in (0, 1)] for K in (0.3, 0.9)]
    assert mi_grid.values.min() > 0
    # progress=True on a cluster is Dask's own bar
    assert sweep(_pair, {"a": [1, 2], "b": [3]}, client=client, progress=True) == sweep(_pair, {"a": [1, 2], "b": [3]})
    assert "100% Completed" in capsys.readouterr().out
