"""The ``symrg`` command line.

``symrg derive`` runs the built-in default (the seed's three-layer DBM) and prints the
derivation; ``symrg derive FILE`` runs a derivation script (a Python file defining
``derivation()`` that returns a :class:`symrg.output.document.Derivation`).  ``symrg flow``
draws an RG flow diagram.

``symrg verify FILE --result NAME --claim CLAIM`` checks a claim (sympy syntax or LaTeX,
parsed safely) against a named result of a derivation (the built-in seed derivation when
FILE is omitted); ``symrg verify --lhs A --rhs B`` compares two expressions;
``symrg verify FILE NOTES.tex`` (or ``--notes NOTES.md``) checks every equation of a note
whose left side names a result (``K' = ...``) and prints a table of verdicts (exit status
of the most serious one, see :func:`symrg.verify.notes.overall_status`).

``symrg export FILE --result NAME --output h.py`` writes a standalone numpy module of a
named result (default: the seed model's ``H(v)``).

``--timeout SECONDS`` (``derive``, ``verify``, ``export``) ends the command with a message
on stderr and exit status 124 when the time is up, whatever it is doing.

Exit status (see :data:`EXIT`)
------------------------------
==========  ==================================================================
0           success; ``verify``: equal (proved symbolically)
1           ``verify``: not equal; ``derive``: a numeric check failed
2           bad input or bad usage (message on stderr, ``symrg CMD: error: ...``)
3           ``verify``: undecided (no valid point, or a budget of verify ran out)
4           ``verify``: consistent (agrees numerically, also at 50 digits, but no proof)
5           internal error (a bug in symrg: please report the message)
124         ``--timeout`` reached
==========  ==================================================================
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from symrg.errors import CLIError, SymrgError
from symrg.output.document import FORMATS, Derivation

__all__ = ["main", "load_derivation", "EXIT"]

#: exit statuses of the command line (also in ``symrg verify --help``)
EXIT = {
    "equal": 0,
    "success": 0,
    "not equal": 1,
    "checks failed": 1,
    "bad input": 2,
    "undecided": 3,
    "consistent": 4,
    "internal error": 5,
    "timeout": 124,
}

_STATUS_HELP = ("Exit status: 0 equal (proved symbolically), 1 not equal, 2 bad input, 3 undecided, "
                "4 consistent (agrees numerically, also at 50 digits, without a proof), 5 internal error, "
                "124 --timeout reached.")


def load_derivation(path: str | Path) -> Derivation:
    """Run the derivation script at ``path`` and return its document.

    The script must define ``derivation()`` returning a :class:`~symrg.output.document.Derivation`.
    """
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"no such derivation script: {p}")
    spec = importlib.util.spec_from_file_location(f"symrg_derivation_{p.stem}", p)
    if spec is None or spec.loader is None:
        raise CLIError(f"cannot load {p} as a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except (_Timeout, KeyboardInterrupt):
        raise
    except SymrgError:
        raise
    except Exception as e:  # the user's script failed: bad input, not a symrg bug
        raise CLIError(f"the derivation script {p} raised {type(e).__name__}: {e}") from e
    fn = getattr(module, "derivation", None)
    if not callable(fn):
        raise CLIError(f"{p} defines no function derivation() returning a symrg Derivation")
    try:
        doc = fn()
    except (_Timeout, KeyboardInterrupt):
        raise
    except SymrgError:
        raise
    except Exception as e:
        raise CLIError(f"derivation() in {p} raised {type(e).__name__}: {e}") from e
    if not isinstance(doc, Derivation):
        raise CLIError(f"derivation() in {p} returned {type(doc).__name__}, not a symrg Derivation")
    return doc


def _derive(args: argparse.Namespace) -> int:
    if args.file is None:
        from symrg.examples import seed_derivation

        doc = seed_derivation(seed=args.seed)
    else:
        doc = load_derivation(args.file)
    if args.output:
        # the document under exactly that name, its figures beside it (nothing elsewhere)
        written = doc.write(args.output, args.format)
        print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    else:
        out = doc.render(args.format)
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
    if not doc.passed:
        failed = [c.name for c in doc.checks if not c.passed]
        print(f"symrg: numeric checks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _document(file: str | None) -> Derivation:
    if file is None:
        from symrg.examples import seed_derivation

        return seed_derivation()
    return load_derivation(file)


def _read_claim(text: str | None, file: str | None, what: str) -> str:
    if file is not None:
        p = Path(file)
        if not p.is_file():
            raise CLIError(f"no such file for {what}: {p}")
        return p.read_text()
    if text is None:
        raise CLIError(f"give {what}")
    return text


def _verify(args: argparse.Namespace) -> int:
    from symrg.verify.verdict import verify, verify_result

    opts = dict(seed=args.seed, n_points=args.points, syntax=args.syntax)
    notes = args.notes or args.note
    if notes is not None:
        # a whole note: every equation whose left side names a result of the derivation
        from symrg.verify.notes import check_notes, overall_status

        if args.lhs or args.rhs or args.claim or args.claim_file or args.result:
            raise CLIError("check a note with FILE NOTES (or --notes NOTES) alone, without --claim/--result/--lhs")
        path = Path(notes)
        if not path.is_file():
            raise CLIError(f"no such note: {path}")
        report = check_notes(path, _document(args.file), seed=args.seed, n_points=args.points)
        print(report.table())
        return EXIT[overall_status(report)]
    if args.lhs is not None or args.rhs is not None:
        if args.lhs is None or args.rhs is None or args.file or args.result or args.claim or args.claim_file:
            raise CLIError("compare two expressions with --lhs and --rhs (and nothing else), "
                           "or a claim with [FILE] --result NAME --claim CLAIM")
        verdict = verify(args.lhs, args.rhs, **opts)
    else:
        claim = _read_claim(args.claim, args.claim_file, "--claim CLAIM or --claim-file PATH")
        doc = _document(args.file)
        name = args.result or ("H(v)" if args.file is None else None)
        if name is None:
            known = ", ".join(repr(k) for k in doc.results)
            raise CLIError(f"name the result to compare with, --result NAME; this derivation has {known or 'no named results'}")
        verdict = verify_result(doc, name, claim, **opts)
    print(verdict.text())
    return EXIT[verdict.status]


def _export(args: argparse.Namespace) -> int:
    from symrg.model.energy import EnergyModel
    from symrg.output.export import export_energy, export_expression, export_recursion
    from symrg.rg.recursion import RecursionMap
    from symrg.verify.verdict import resolve_result

    if args.file is None and args.result in (None, "H(v)"):
        from symrg.engine.marginalization import marginalize
        from symrg.model.energy import seed_dbm

        result: object = marginalize(seed_dbm(), "s", "h")
        title = "H(v) of the seed's three-layer DBM (v Bernoulli, h and s Gaussian)"
    else:
        doc = _document(args.file)
        name = args.result or "H(v)"
        result, _ = resolve_result(doc, name)
        title = f"{name} from {doc.title}"
    kw = {"title": title}
    if args.name:
        kw["name"] = args.name
    if isinstance(result, EnergyModel):
        src = export_energy(result, **kw)
    elif isinstance(result, RecursionMap):
        kw.pop("name", None)
        src = export_recursion(result, **kw)
    else:
        src = export_expression(result, **kw)
    if args.output:
        Path(args.output).write_text(src)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(src)
    return 0


def _add_verify_export(sub) -> None:
    v = sub.add_parser(
        "verify",
        help="check a claimed expression against a derived result (symbolically, then numerically)",
        description="Check a claim (sympy syntax or LaTeX; parsed without executing anything) against a named "
                    "result of a derivation script (default: the built-in seed derivation), or compare two "
                    "expressions. 'equal' needs a symbolic proof; agreement at every random point (double "
                    "precision and 50 digits, several sizes) without one is 'consistent'. " + _STATUS_HELP,
    )
    v.add_argument("file", nargs="?", help="a derivation script defining derivation(); omit for the built-in default")
    v.add_argument("note", nargs="?", help="a note (.tex or .md): check every equation whose left side names a result "
                                           "(K' = ...), print a table of verdicts")
    v.add_argument("--notes", help="the note to check (same as the second positional argument)")
    v.add_argument("--result", "-r", help="name of the result in the derivation (default for the built-in: H(v))")
    v.add_argument("--claim", "-c", help="the claimed expression")
    v.add_argument("--claim-file", help="read the claim from this file")
    v.add_argument("--lhs", help="left-hand expression (with --rhs: compare two expressions)")
    v.add_argument("--rhs", help="right-hand expression")
    v.add_argument("--syntax", choices=("auto", "sympy", "latex"), default="auto", help="claim syntax (default: auto)")
    v.add_argument("--seed", type=int, default=0, help="seed of the random test points (default 0)")
    v.add_argument("--points", type=int, default=24, help="number of random test points (default 24)")
    _add_timeout(v)
    v.set_defaults(func=_verify)
    e = sub.add_parser(
        "export",
        help="write a standalone numpy module of a result (default: the seed model's H(v))",
        description="Write a Python module (numpy only; no sympy, no symrg) computing a named result of a "
                    "derivation script: an energy (with its conditions checked), a recursion map or a scalar.",
    )
    e.add_argument("file", nargs="?", help="a derivation script defining derivation(); omit for the built-in seed model")
    e.add_argument("--result", "-r", help="name of the result (default: H(v))")
    e.add_argument("--output", "-o", help="write to this file instead of standard output")
    e.add_argument("--name", help="name of the function in the module (default: energy, or f for a scalar)")
    _add_timeout(e)
    e.set_defaults(func=_export)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symrg",
        description="Symbolic derivations for the renormalization group and deep learning.",
        epilog=_STATUS_HELP,
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
    _add_timeout(d)
    d.set_defaults(func=_derive)
    _add_verify_export(sub)
    try:
        from symrg.rg.flowplot import add_cli as add_flow_cli
    except ImportError:  # pragma: no cover - the module ships with symrg
        pass
    else:
        add_flow_cli(sub)
    return parser


class _Timeout(BaseException):
    """The ``--timeout`` of the command was reached (a BaseException: nothing swallows it)."""


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < 1e7:
        raise argparse.ArgumentTypeError(f"the timeout must be a positive number of seconds, got {text!r}")
    return value


def _add_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=_positive_seconds, metavar="SECONDS",
                   help="stop after this many seconds of wall-clock time (exit status 124)")


@contextmanager
def _deadline(seconds: float | None, hard: bool) -> Iterator[None]:
    """Raise :class:`_Timeout` in the main thread after ``seconds``; with ``hard``, also
    end the process (status 124) a few seconds later should the soft stop not get through
    (work inside a C extension does not see signals)."""
    if seconds is None:
        yield
        return
    soft = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    watchdog = None
    previous: Any = None
    if soft:
        def on_alarm(signum: int, frame: Any) -> None:
            raise _Timeout()

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    if hard or not soft:
        def kill() -> None:
            sys.stderr.write(f"symrg: error: the time limit of {seconds:g} s was reached (--timeout)\n")
            sys.stderr.flush()
            os._exit(EXIT["timeout"])

        watchdog = threading.Timer(seconds + (5.0 if soft else 0.0), kill)
        watchdog.daemon = True
        watchdog.start()
    try:
        yield
    finally:
        if soft:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        if watchdog is not None:
            watchdog.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symrg`` console script; returns the exit status (see :data:`EXIT`).

    Errors symrg raises on purpose (:class:`~symrg.errors.SymrgError`: a bad claim, model,
    file or option) and unreadable files exit with status 2 and a one-line message on
    stderr; any other exception is a bug in symrg and exits with status 5.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    timeout = getattr(args, "timeout", None)
    try:
        with _deadline(timeout, hard=argv is None):
            return int(args.func(args) or 0)
    except _Timeout:
        print(f"symrg {args.command}: error: the time limit of {timeout:g} s was reached (--timeout)", file=sys.stderr)
        return EXIT["timeout"]
    except (SymrgError, OSError, ImportError, ValueError) as e:
        # ValueError: plain-Python refusals of option values (e.g. flow --b 1)
        print(f"symrg {args.command}: error: {e}", file=sys.stderr)
        return EXIT["bad input"]
    except KeyboardInterrupt:
        print(f"symrg {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the contract: a bug gets its own status, never a traceback
        print(f"symrg {args.command}: internal error (please report): {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT["internal error"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
