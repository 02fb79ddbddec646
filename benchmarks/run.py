"""Run the benchmarks: ``python -m benchmarks.run [--smoke] [--only NAME]``.

Imports every ``benchmarks/bench_*.py`` and runs each of its cases in a process of its
own (symrg and the baseline alternately inside it), so that one case's caches and
memory do not colour the next and the peak resident memory of each case is measured.
Prints one table.  ``--only cumulants`` runs ``bench_cumulants.py`` only (several
``--only`` allowed); ``--in-process`` runs everything in this process instead.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import resource
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from benchmarks.harness import Result, format_table, run_case, run_cases


def bench_modules(only: list[str] | None = None) -> list[ModuleType]:
    """The ``bench_*`` modules of this package, sorted, optionally filtered by name."""
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_")
    )
    if only:
        wanted = {o if o.startswith("bench_") else f"bench_{o}" for o in only}
        unknown = wanted - set(names)
        if unknown:
            raise SystemExit(f"unknown benchmark(s) {sorted(unknown)}; available: {names}")
        names = [n for n in names if n in wanted]
    return [importlib.import_module(f"benchmarks.{n}") for n in names]


def _run_one(module: str, index: int, smoke: bool) -> None:
    """Child process: run one case and print its result as JSON."""
    case = importlib.import_module(f"benchmarks.{module}").cases(smoke=smoke)[index]
    r = run_case(case)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB
    print(json.dumps({"symrg": r.symrg_median, "baseline": r.baseline_median, "holds": r.holds,
                      "timed_out": r.baseline_timed_out, "rss_mb": rss_mb}))


def _run_isolated(module, index, case, smoke) -> Result:
    cmd = [sys.executable, "-m", "benchmarks.run", "--case", f"{module.__name__.rsplit('.', 1)[-1]}:{index}"]
    if smoke:
        cmd.append("--smoke")
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=str(Path(__file__).resolve().parents[1]))
    if out.returncode != 0:
        raise SystemExit(f"benchmark {case.task} [{case.size}] failed:\n{out.stderr}")
    d = json.loads(out.stdout.strip().splitlines()[-1])
    return Result(case, d["symrg"], d["baseline"], d["holds"], d["timed_out"], d["rss_mb"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="smallest sizes only")
    parser.add_argument("--only", action="append", metavar="NAME", help="run bench_NAME only")
    parser.add_argument("--in-process", action="store_true", help="run every case in this process")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # MODULE:INDEX, used by the child processes
    args = parser.parse_args(argv)
    if args.case:
        module, index = args.case.split(":")
        _run_one(module, int(index), args.smoke)
        return 0
    results = []
    for mod in bench_modules(args.only):
        cases = mod.cases(smoke=args.smoke)
        if args.in_process:
            results += run_cases(cases, progress=lambda s: print(s, file=sys.stderr, flush=True))
            continue
        for i, case in enumerate(cases):
            print(f"running {case.task} [{case.size}] ...", file=sys.stderr, flush=True)
            results.append(_run_isolated(mod, i, case, args.smoke))
    print(format_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
