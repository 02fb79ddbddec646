"""The theory notes in docs/: cited correctly, present, linked, and their examples run.

Docstrings, comments and the README must cite files inside the repository (``docs/...``),
never the specification files outside it (``MATH.md``, ``DESIGN.md``, ``../shared``), and
every ``docs/<name>.md`` they cite must exist.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: where citations of docs/ are looked for (and must resolve)
SOURCES = sorted(
    [p for d in ("symrg", "derivations", "tests", "benchmarks") for p in (ROOT / d).rglob("*.py")]
    + [ROOT / "README.md"]
)
#: where citations of files outside the repository are forbidden (tests may name the patterns)
CITING = sorted(
    [p for d in ("symrg", "derivations", "benchmarks") for p in (ROOT / d).rglob("*.py")]
    + [ROOT / "README.md", *DOCS.glob("*.md")]
)

FORBIDDEN = re.compile(r"MATH\.md|DESIGN\.md|\.\./shared|/shared/docs")
CITATION = re.compile(r"docs/([A-Za-z0-9_\-]+\.md)")
LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)")

NOTES = ("README.md", "conventions.md", "marginalization.md", "cumulants.md", "recursions.md", "block_rg.md", "numerics.md")


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _forbidden_citations(paths) -> list[str]:
    bad = []
    for path in paths:
        if path == Path(__file__).resolve():
            continue  # this file names the forbidden patterns on purpose
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if FORBIDDEN.search(line):
                bad.append(f"{_rel(path)}:{no}: {line.strip()}")
    return bad


def test_sources_are_found():
    names = {_rel(p) for p in SOURCES}
    assert "README.md" in names
    assert "symrg/engine/marginalization.py" in names
    assert any(n.startswith("derivations/") for n in names)


def test_no_citation_of_files_outside_the_repository():
    bad = _forbidden_citations(CITING)
    assert not bad, "cite docs/<file>.md instead of files outside the repository:\n" + "\n".join(bad)


def test_forbidden_citation_is_detected(tmp_path):
    # the check itself must be able to fail
    f = tmp_path / "mod.py"
    f.write_text('"""The identity (MATH.md section 1)."""\n# see ../shared/docs/DESIGN.md\nx = 1\n')
    assert len(_forbidden_citations([f])) == 2


def test_every_cited_note_exists():
    cited: dict[str, list[str]] = {}
    for path in SOURCES:
        if path == Path(__file__).resolve():
            continue
        for name in CITATION.findall(path.read_text(encoding="utf-8")):
            cited.setdefault(name, []).append(_rel(path))
    missing = {name: where for name, where in cited.items() if not (DOCS / name).is_file()}
    assert not missing, f"docstrings cite notes that do not exist: {missing}"
    # the package really cites the notes (the main ones at least)
    for name in ("marginalization.md", "cumulants.md", "recursions.md", "block_rg.md", "conventions.md"):
        assert name in cited, f"no source cites docs/{name}"


@pytest.mark.parametrize("name", NOTES)
def test_note_exists_with_a_title_and_math(name):
    text = (DOCS / name).read_text(encoding="utf-8")
    assert text.startswith("# ")
    if name != "README.md":
        assert "$" in text  # formulas in GitHub math


def test_index_lists_every_note():
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    listed = set(LINK.findall(index))
    on_disk = {p.name for p in DOCS.glob("*.md")} - {"README.md"}
    assert on_disk <= listed, f"notes missing from docs/README.md: {sorted(on_disk - listed)}"
    for pkg in ("symrg/model", "symrg/engine", "symrg/rg", "symrg/output", "symrg/verify"):
        assert pkg in index


def test_links_between_notes_resolve():
    broken = []
    for path in [*DOCS.glob("*.md"), ROOT / "README.md"]:
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            if not (path.parent / target).resolve().is_file():
                broken.append(f"{_rel(path)} -> {target}")
    assert not broken, f"broken links: {broken}"


def test_readme_points_to_the_notes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Theory notes" in readme
    assert "docs/README.md" in readme


@pytest.mark.parametrize("name", [p.name for p in sorted(DOCS.glob("*.md")) if ">>> " in p.read_text(encoding="utf-8")])
def test_examples_in_notes_run(name):
    result = doctest.testfile(
        str(DOCS / name), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    )
    assert result.attempted >= 1
    assert result.failed == 0
