"""Regenerate the gallery: the first page of every derivation document as a PNG.

Run from the repository root::

    python docs/gallery/make_gallery.py            # every script in derivations/
    python docs/gallery/make_gallery.py rbm_cumulants migdal_kadanoff

Each script in ``derivations/`` is run, its document written as LaTeX (with its figures)
into a temporary folder, compiled with ``pdflatex`` and the first page rendered with
``pdftoppm -png -r 80 -f 1 -l 1`` to ``docs/gallery/<script>.png``.  Needs pdflatex and
pdftoppm (poppler-utils).  Not run by the test suite (it takes a few minutes).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GALLERY = ROOT / "docs" / "gallery"


def render(script: Path, out_dir: Path = GALLERY) -> Path:
    """Compile the document of ``script`` and write the PNG of its first page; returns its path."""
    from symrg.cli import load_derivation

    doc = load_derivation(script)
    with tempfile.TemporaryDirectory() as tmp:
        tex = Path(tmp) / f"{script.stem}.tex"
        doc.write(tex, "latex")
        r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", tex.name],
                           cwd=tmp, capture_output=True, text=True, errors="replace", timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"pdflatex failed on {script.name}:\n{r.stdout[-2000:]}")
        target = out_dir / f"{script.stem}.png"
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                        str(tex.with_suffix(".pdf")), str(target.with_suffix(""))], check=True, timeout=120)
    return target


def main(names: list[str]) -> int:
    for tool in ("pdflatex", "pdftoppm"):
        if shutil.which(tool) is None:
            print(f"make_gallery: {tool} is not installed", file=sys.stderr)
            return 2
    scripts = sorted((ROOT / "derivations").glob("*.py"))
    if names:
        scripts = [s for s in scripts if s.stem in names]
    for s in scripts:
        print(f"wrote {render(s).relative_to(ROOT)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
