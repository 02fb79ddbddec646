"""Run the benchmarks: ``python -m benchmarks.run [--smoke] [--only NAME]``.

Imports every ``benchmarks/bench_*.py``, runs its cases and prints one table.
``--only cumulants`` runs ``bench_cumulants.py`` only (several ``--only`` allowed).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

from benchmarks.harness import format_table, run_cases


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="smallest sizes only")
    parser.add_argument("--only", action="append", metavar="NAME", help="run bench_NAME only")
    args = parser.parse_args(argv)
    cases = []
    for mod in bench_modules(args.only):
        cases.extend(mod.cases(smoke=args.smoke))
    results = run_cases(cases, progress=lambda s: print(s, file=sys.stderr, flush=True))
    print(format_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
