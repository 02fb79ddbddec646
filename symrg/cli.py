"""The ``symrg`` command line.

``symrg derive`` runs the built-in default (the seed's three-layer DBM) and prints the
derivation; ``symrg derive FILE`` runs a derivation script (a Python file defining
``derivation()`` that returns a :class:`symrg.document.Derivation`).  ``symrg flow``
draws an RG flow diagram.

Exit status: 0 on success, 1 when a derivation's numeric checks fail, 2 on bad usage
or bad input (message on stderr).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Sequence

from .document import FORMATS, Derivation

__all__ = ["main", "load_derivation"]


class CLIError(Exception):
    """Bad input on the command line (reported on stderr, exit status 2)."""


def load_derivation(path: str | Path) -> Derivation:
    """Run the derivation script at ``path`` and return its document.

    The script must define ``derivation()`` returning a :class:`~symrg.document.Derivation`.
    """
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"no such derivation script: {p}")
    spec = importlib.util.spec_from_file_location(f"symrg_derivation_{p.stem}", p)
    if spec is None or spec.loader is None:
        raise CLIError(f"cannot load {p} as a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, "derivation", None)
    if not callable(fn):
        raise CLIError(f"{p} defines no function derivation() returning a symrg Derivation")
    doc = fn()
    if not isinstance(doc, Derivation):
        raise CLIError(f"derivation() in {p} returned {type(doc).__name__}, not a symrg Derivation")
    return doc


def _derive(args: argparse.Namespace) -> int:
    if args.file is None:
        from .examples import seed_derivation

        doc = seed_derivation(seed=args.seed)
    else:
        doc = load_derivation(args.file)
    out = doc.render(args.format)
    if args.output:
        Path(args.output).write_text(out)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
    if not doc.passed:
        failed = [c.name for c in doc.checks if not c.passed]
        print(f"symrg: numeric checks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symrg",
        description="Symbolic derivations for the renormalization group and deep learning.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    d = sub.add_parser(
        "derive",
        help="run a derivation and print it (default: the seed's three-layer DBM)",
        description="Run a derivation script (or the built-in seed DBM derivation) and print its document.",
    )
    d.add_argument("file", nargs="?", help="a derivation script defining derivation(); omit for the built-in default")
    d.add_argument("--format", "-f", choices=FORMATS, default="text", help="output format (default: text)")
    d.add_argument("--output", "-o", help="write to this file instead of standard output")
    d.add_argument("--seed", type=int, default=0, help="seed of the random numeric cross-check (built-in default only)")
    d.set_defaults(func=_derive)
    try:
        from .flowplot import add_cli as add_flow_cli
    except ImportError:  # pragma: no cover - the module ships with symrg
        pass
    else:
        add_flow_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symrg`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CLIError, ValueError, ImportError, OSError) as e:
        print(f"symrg {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
