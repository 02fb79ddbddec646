import subprocess
import sys
from pathlib import Path

import pytest

from symrg.cli import main

ROOT = Path(__file__).resolve().parents[1]
DERIVATIONS = sorted((ROOT / "derivations").glob("*.py"))


def _unicode_float(s: str) -> float:
    """``2.1 × 10⁻¹⁶`` (or ``0``, ``10⁻¹²``) as a float."""
    sup = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
    if "10" in s and "×" not in s and s != "10" and s.startswith("10"):
        return 10.0 ** int(s[2:].translate(sup))
    if "×" in s:
        m, p = s.split("×")
        return float(m) * 10.0 ** int(p.strip()[2:].translate(sup))
    return float(s)


def test_default_derive_prints_both_hamiltonians_and_a_small_error(capsys):
    assert main(["derive"]) == 0
    out = capsys.readouterr().out
    assert "H(v, h) = -aᵀ v - (b + U c)ᵀ h + (hᵀ (I - U Uᵀ) h)/2" in out
    assert "H(v) = -aᵀ v - ((b + U c + Wᵀ v)ᵀ C (b + U c + Wᵀ v))/2" in out
    assert "where C = (I - U Uᵀ)⁻¹" in out
    # check rows name the measured error: "relative error of log Z ...: 2.1 × 10⁻¹⁶ (tolerance 10⁻¹⁰) passed"
    rows = [line for line in out.splitlines() if "error" in line and "(tolerance" in line]
    errors = [_unicode_float(line.rsplit(": ", 1)[1].split(" (tolerance")[0]) for line in rows]
    assert len(errors) >= 3 and max(errors) < 1e-10


@pytest.mark.parametrize("fmt,marker", [("latex", r"\documentclass"), ("markdown", "# Three-layer")])
def test_formats_and_output_file(tmp_path, fmt, marker):
    out = tmp_path / f"doc.{fmt}"
    assert main(["derive", "--format", fmt, "--output", str(out)]) == 0
    assert out.read_text().startswith(marker)


def test_errors_go_to_stderr_with_nonzero_status(tmp_path, capsys):
    assert main(["derive", str(tmp_path / "missing.py")]) == 2
    assert "no such derivation script" in capsys.readouterr().err
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\n")
    assert main(["derive", str(bad)]) == 2
    assert "defines no function derivation()" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["derive", "--format", "pdf"])
    assert e.value.code == 2


def test_console_script_help():
    r = subprocess.run([sys.executable, "-m", "symrg", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "derive" in r.stdout
    r = subprocess.run([sys.executable, "-m", "symrg", "nonsense"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_derive_runs_a_derivation_script_and_exits_0_when_its_checks_pass(capsys):
    # every script's document and checks are tested once, in tests/test_latex_documents.py
    script = ROOT / "derivations" / "gaussian_dbm.py"
    assert script in DERIVATIONS
    assert main(["derive", str(script)]) == 0, capsys.readouterr().err
    assert "integrate out" in capsys.readouterr().out


# -- the exit-status contract (issue 11, items 4 and 8) -----------------------------------


def test_verify_exit_statuses_distinguish_every_outcome(capsys, monkeypatch):
    from symrg.cli import EXIT

    assert EXIT == {"equal": 0, "success": 0, "not equal": 1, "checks failed": 1, "bad input": 2, "undecided": 3,
                    "consistent": 4, "internal error": 5, "timeout": 124}
    assert main(["verify", "--lhs", "log(cosh(2*K))/2", "--rhs", "log(cosh(K)**2 + sinh(K)**2)/2"]) == 0
    assert main(["verify", "--lhs", "x + 10**(-11)", "--rhs", "x"]) == 1
    assert main(["verify", "--lhs", "tanh(40*K**2 + 40)", "--rhs", "1"]) == 1
    capsys.readouterr()
    # an entry of an abstract matrix is bad input (was an IndexError, exit 1)
    assert main(["verify", "--claim", "W[5, 1]"]) == 2
    assert "abstract" in capsys.readouterr().err
    assert main(["verify", "--lhs", "(1/(1/10**59)**-1000)**-1000", "--rhs", "0"]) == 2
    assert "too large a number" in capsys.readouterr().err
    # numeric agreement without a proof: consistent (4)
    import symrg.verify.verdict as verdict

    real = verdict.verify
    monkeypatch.setattr(verdict, "verify", lambda *a, **k: real(*a, **{**k, "symbolic": False}))
    assert main(["verify", "--lhs", "log(cosh(2*K))/2", "--rhs", "log(cosh(K)**2 + sinh(K)**2)/2"]) == 4
    assert capsys.readouterr().out.startswith("CONSISTENT (numeric): no symbolic proof")

    def broken(*a, **k):
        raise KeyError("a bug")

    monkeypatch.setattr(verdict, "verify", broken)
    assert main(["verify", "--lhs", "x", "--rhs", "x"]) == 5
    assert "internal error (please report): KeyError" in capsys.readouterr().err


def test_verify_help_documents_the_exit_statuses():
    r = subprocess.run([sys.executable, "-m", "symrg", "verify", "--help"], capture_output=True, text=True, cwd=ROOT)
    text = " ".join(r.stdout.split())
    assert r.returncode == 0
    for part in ("0 equal", "1 not equal", "2 bad input", "3 undecided", "4 consistent", "5 internal error",
                 "124 --timeout", "--timeout SECONDS"):
        assert part in text, part


def test_timeout_ends_a_slow_derivation_with_its_own_status(tmp_path, capsys):
    slow = tmp_path / "slow.py"
    slow.write_text("import time\n\ndef derivation():\n    time.sleep(60)\n")
    assert main(["derive", str(slow), "--timeout", "0.5"]) == 124
    assert "time limit of 0.5 s was reached (--timeout)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["derive", "--timeout", "-1"])
    assert e.value.code == 2


def test_timeout_also_stops_work_that_never_returns_to_python(tmp_path):
    # catastrophic regex backtracking runs inside C and never sees a signal: the watchdog ends it
    stuck = tmp_path / "stuck.py"
    stuck.write_text("import re\n\ndef derivation():\n    re.match(r'(a+)+$', 'a' * 60 + 'b')\n")
    r = subprocess.run([sys.executable, "-m", "symrg", "derive", str(stuck), "--timeout", "1"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 124 and "--timeout" in r.stderr


def test_errors_of_a_users_script_are_bad_input(tmp_path, capsys):
    bad = tmp_path / "raises.py"
    bad.write_text("def derivation():\n    raise KeyError('oops')\n")
    assert main(["derive", str(bad)]) == 2
    assert "raised KeyError" in capsys.readouterr().err
