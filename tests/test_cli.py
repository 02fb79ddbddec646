import subprocess
import sys
from pathlib import Path

import pytest

from symrg.cli import main

ROOT = Path(__file__).resolve().parents[1]
DERIVATIONS = sorted((ROOT / "derivations").glob("*.py"))


def test_default_derive_prints_both_hamiltonians_and_a_small_error(capsys):
    assert main(["derive"]) == 0
    out = capsys.readouterr().out
    assert "H(v, h) = -a.T*v - (b + U*c).T*h + h.T*(I - U*U.T)*h/2" in out
    assert "H(v) = -a.T*v - (b + U*c + W.T*v).T*C*(b + U*c + W.T*v)/2" in out
    assert "where C = (I - U*U.T)**(-1)" in out
    errors = [float(line.rsplit("error", 1)[1]) for line in out.splitlines() if "error" in line and "value" in line]
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


@pytest.mark.parametrize("script", DERIVATIONS, ids=[p.stem for p in DERIVATIONS])
def test_every_derivation_script_runs_and_passes_its_checks(script, capsys):
    assert main(["derive", str(script)]) == 0, capsys.readouterr().err
