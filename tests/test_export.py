"""Exported numeric modules agree with the lambdified callables, in a process without symrg."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from symrg.engine.marginalization import marginalize
from symrg.model.energy import dbm, energy_model, rbm, seed_dbm
from symrg.output.export import ExportError, export_energy, export_recursion, write_module
from symrg.rg.chain import decimate_chain
from symrg.rg.migdal_kadanoff import migdal_kadanoff
from symrg.verify.brute_force import random_parameters

J = sp.Symbol("J", real=True)
beta = sp.Symbol("beta", positive=True)
SIZES = {"n_v": 4, "n_h": 3, "n_s": 2}


def _energy_cases():
    return {
        "seed_abstract_Hv": marginalize(seed_dbm(), "s", "h"),
        "seed_abstract_Hvh": marginalize(seed_dbm(), "s"),  # an unfolded Gaussian term
        "seed_explicit_Hv": marginalize(seed_dbm(4, 3, 2), "s", "h"),
        "seed_original": seed_dbm(3, 2, 2),
        "rbm_spin": marginalize(rbm(4, 3, hidden="spin"), "h"),
        "rbm_discrete": marginalize(rbm(3, 2, hidden=[0, 1, 2]), "h"),
        "dbm_enumerated": marginalize(dbm([2, 2, 2], ["spin", "spin", "spin"]), "x1", "x0"),
        "precision_param": marginalize(
            energy_model([("v", 2, "bernoulli"), ("h", 2, "gaussian")], [("v", "h")], precisions={"h": "P"}), "h"),
        "symbolic_entries": marginalize(
            energy_model([("v", 2, "spin"), ("h", 1, "spin")], {("v", "h"): [[J], [beta * J]]}, biases={"v": 0, "h": 0}), "h"),
    }


def _arguments(model, rng):
    f = model.lambdify()
    sizes = {sp.Symbol(k, integer=True, positive=True): v for k, v in SIZES.items()}
    vals = random_parameters(model, rng, sizes=None if model.explicit else sizes, scale=0.4)
    vals.update(P=np.array([[2.0, 0.3], [0.3, 1.5]]), J=0.7, beta=1.3)
    for lay in model.layers:
        n = lay.size if isinstance(lay.size, int) else SIZES[str(lay.size)]
        if lay.kind.is_discrete:
            vals[lay.name] = rng.choice(np.array([float(x) for x in lay.kind.values]), size=(6, n))
        else:
            vals[lay.name] = rng.normal(size=(6, n))
    return {a: np.asarray(vals[a], dtype=float) for a in f.arguments}


# the child process: no symrg, no sympy, no mpmath -- only numpy and the written files
CHILD = r'''
import importlib.abc, importlib.util, json, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("symrg", "sympy", "mpmath"):
            raise ImportError(f"{name} is blocked in this process")
        return None
sys.meta_path.insert(0, Block())
try:
    import symrg
except ImportError:
    pass
else:
    raise SystemExit("symrg is importable in the child process")
import numpy as np
jobs = json.loads(sys.argv[1])
for job in jobs:
    spec = importlib.util.spec_from_file_location(job["module"], job["path"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    data = dict(np.load(job["inputs"]))
    fn = getattr(mod, job["function"])
    if job["kind"] == "energy":
        out = {"energy": fn(**{a: data[a] for a in mod.ARGUMENTS})}
        params = mod.parameters(**{a: data[a] for a in mod.ARGUMENTS if a not in job["layers"]})
        out.update({"param_" + k: v for k, v in params.items()})
    else:
        res = fn(*[data[a] for a in mod.ARGUMENTS])
        out = {f"image_{k}": np.asarray(v) for k, v in enumerate(res)}
        if hasattr(mod, "constant_image"):
            out["constant"] = np.asarray(mod.constant_image(*[data[a] for a in mod.ARGUMENTS], data["g0"]))
    np.savez(job["outputs"], **out)
for m in ("symrg", "sympy", "mpmath"):
    assert m not in sys.modules, m
print("ok", len(jobs))
'''


def _run_child(tmp_path: Path, jobs: list) -> None:
    r = subprocess.run([sys.executable, "-I", "-c", CHILD, json.dumps(jobs)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr + r.stdout
    assert r.stdout.strip() == f"ok {len(jobs)}"


def test_energies_agree_in_a_process_without_symrg(tmp_path):
    rng = np.random.default_rng(2024)
    jobs, refs = [], {}
    for name, model in _energy_cases().items():
        path = write_module(model, tmp_path / f"{name}.py")
        args = _arguments(model, rng)
        np.savez(tmp_path / f"{name}_in.npz", **args)
        f = model.lambdify()
        params = f.parameters(**{a: v for a, v in args.items() if a not in model.layer_names})
        refs[name] = (f(**args), params)
        jobs.append(dict(module=name, path=str(path), inputs=str(tmp_path / f"{name}_in.npz"),
                         outputs=str(tmp_path / f"{name}_out.npz"), function="energy", kind="energy",
                         layers=list(model.layer_names)))
    _run_child(tmp_path, jobs)
    for name, (ref, params) in refs.items():
        out = np.load(tmp_path / f"{name}_out.npz")
        assert out["energy"].shape == (6,)
        np.testing.assert_allclose(out["energy"], ref, rtol=0, atol=1e-12, err_msg=name)
        for k, v in params.items():
            np.testing.assert_allclose(out["param_" + k], np.asarray(v, dtype=float), rtol=0, atol=1e-12, err_msg=f"{name} {k}")


def test_recursion_maps_agree_in_a_process_without_symrg(tmp_path):
    b = sp.Symbol("b", positive=True)
    maps = {
        "chain_b2": decimate_chain("spin", 2).recursion_map,
        "chain_general_b": decimate_chain("spin", b, couplings=("K",)).recursion_map,
        "mk_d2": migdal_kadanoff(2, 2),
    }
    rng = np.random.default_rng(7)
    jobs, refs = [], {}
    for name, rmap in maps.items():
        path = write_module(rmap, tmp_path / f"{name}.py")
        src = path.read_text()
        assert "import sympy" not in src and "symrg" not in src.split('"""', 2)[2].replace("symrg.output.export", "")
        n = 5
        vals = {str(c): rng.uniform(0.1, 1.2, size=n) for c in rmap.couplings}
        if isinstance(rmap.b, sp.Symbol):
            vals[str(rmap.b)] = rng.uniform(1.5, 4.0, size=n)
        vals["g0"] = rng.normal(size=n)
        np.savez(tmp_path / f"{name}_in.npz", **vals)
        ref_map = rmap
        imgs = []
        for k in range(n):
            m = ref_map.subs({rmap.b: vals[str(rmap.b)][k]}) if isinstance(rmap.b, sp.Symbol) else ref_map
            fn = m.numeric("numpy")
            imgs.append(fn(*[vals[str(c)][k] for c in rmap.couplings]))
        const = None
        if rmap.constant is not None:
            g = sp.lambdify(list(rmap.couplings) + ([rmap.b] if isinstance(rmap.b, sp.Symbol) else []) + [rmap.constant],
                            rmap.constant_image, "numpy")
            const = g(*[vals[str(c)] for c in rmap.couplings], *([vals[str(rmap.b)]] if isinstance(rmap.b, sp.Symbol) else []), vals["g0"])
        refs[name] = (np.array(imgs, dtype=float), const)
        jobs.append(dict(module=name, path=str(path), inputs=str(tmp_path / f"{name}_in.npz"),
                         outputs=str(tmp_path / f"{name}_out.npz"), function="images", kind="recursion", layers=[]))
    _run_child(tmp_path, jobs)
    for name, (imgs, const) in refs.items():
        out = np.load(tmp_path / f"{name}_out.npz")
        for k in range(imgs.shape[1]):
            np.testing.assert_allclose(out[f"image_{k}"], imgs[:, k], rtol=1e-13, atol=1e-13, err_msg=name)
        if const is not None:
            np.testing.assert_allclose(out["constant"], const, rtol=1e-13, atol=1e-13, err_msg=name)


def test_exported_module_checks_conditions_and_documents_arguments(tmp_path):
    model = marginalize(seed_dbm(), "s", "h")
    src = export_energy(model, title="H(v) of the seed DBM")
    assert src.startswith('"""H(v) of the seed DBM.')
    assert "Arguments, in order:\n    v: states of layer 'v'" in src
    assert "I - U*U.T positive definite" in src
    ns: dict = {}
    exec(compile(src, "h.py", "exec"), ns)
    assert ns["ARGUMENTS"] == model.lambdify().arguments
    args = dict(v=np.ones(3), a=np.zeros(3), b=np.zeros(2), c=np.zeros(2), W=np.zeros((3, 2)), U=2 * np.eye(2))
    with pytest.raises(ns["ConditionError"], match="not positive definite"):
        ns["energy"](**args)
    args["U"] = np.zeros((2, 3))
    with pytest.raises(ValueError, match="size n_s is 2 elsewhere, got 3"):
        ns["energy"](**args)
    with pytest.raises(ExportError, match="public Python identifier"):
        export_energy(model, name="_x")
    with pytest.raises(ExportError, match="cannot export a str"):
        write_module("H", tmp_path / "x.py")


def test_recursion_module_checks_b():
    b = sp.Symbol("b", positive=True)
    ns: dict = {}
    exec(export_recursion(decimate_chain("spin", b, couplings=("K",)).recursion_map), ns)
    assert ns["ARGUMENTS"] == ("K", "b")
    with pytest.raises(ValueError, match="must be > 1"):
        ns["images"](0.5, 0.5)


def test_cli_export_default_and_named_results(tmp_path, capsys):
    from symrg.cli import main

    out = tmp_path / "h.py"
    assert main(["export", "--output", str(out)]) == 0
    ns: dict = {}
    exec(compile(out.read_text(), str(out), "exec"), ns)
    model = marginalize(seed_dbm(), "s", "h")
    rng = np.random.default_rng(1)
    args = _arguments(model, rng)
    np.testing.assert_allclose(ns["energy"](**args), model.lambdify()(**args), rtol=0, atol=1e-12)
    assert ns["__doc__"].startswith("H(v) of the seed's three-layer DBM")
    # a scalar result of a derivation script
    script = Path(__file__).resolve().parents[1] / "derivations" / "ising_chain_decimation.py"
    assert main(["export", str(script), "--result", "K' (b=2)", "--name", "K_prime"]) == 0
    src = capsys.readouterr().out
    ns = {}
    exec(src, ns)
    K, h = 0.7, 0.3
    ref = np.log(np.cosh(2 * K + h) * np.cosh(2 * K - h) / np.cosh(h) ** 2) / 4
    assert ns["ARGUMENTS"] == ("K", "h") and abs(ns["K_prime"](K, h) - ref) < 1e-14
    assert main(["export", str(script), "--result", "nope"]) == 2
    assert "no result named 'nope'" in capsys.readouterr().err
