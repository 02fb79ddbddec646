"""Flow diagrams: PNG output of the expected size, and the flow subcommand."""

from __future__ import annotations

import argparse
import struct

import pytest
import sympy as sp

pytest.importorskip("matplotlib")

from symrg.rg.chain import decimate_chain
from symrg.rg.flowplot import add_cli, flow_model, plot_flow
from symrg.rg.migdal_kadanoff import migdal_kadanoff


def _png_size(path):
    with open(path, "rb") as fh:
        head = fh.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_one_coupling_png(tmp_path):
    out = plot_flow(migdal_kadanoff(2, 2), tmp_path / "mk.png", figsize=(5, 4), dpi=80)
    assert _png_size(out) == (400, 320)
    assert (tmp_path / "mk.png").stat().st_size > 5000


def test_two_coupling_png_and_pdf(tmp_path):
    rmap = decimate_chain("spin", 2).recursion_map
    fps = rmap.fixed_points(seeds=[(0.0, 0.5)], bounds=[(0, 1.5), (-1, 1)])
    out = plot_flow(rmap, tmp_path / "chain.png", ranges=[(0, 1.5), (-1, 1)], fixed_points=fps, steps=6, dpi=50)
    assert _png_size(out) == (320, 240)
    pdf = plot_flow(rmap, tmp_path / "chain.pdf", ranges=[(0, 1.5), (-1, 1)], fixed_points=fps, steps=4)
    with open(pdf, "rb") as fh:
        assert fh.read(4) == b"%PDF"


def test_cli_flow_subcommand(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="symrg")
    add_cli(parser.add_subparsers(dest="command"))
    out = tmp_path / "flow.png"
    args = parser.parse_args(["flow", "--model", "ising-chain", "--b", "3", "--output", str(out), "--dpi", "60"])
    assert args.func(args) == 0
    assert _png_size(out) == (384, 288)
    assert "wrote" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser.parse_args(["flow", "--model", "potts"])


def test_bad_input(tmp_path):
    x, y, z = sp.symbols("x y z")
    from symrg.rg.recursion import RecursionMap

    with pytest.raises(ValueError, match="rmap: plot_flow draws maps of one or two couplings"):
        plot_flow(RecursionMap((x, y, z), (x, y, z), 2), tmp_path / "a.png")
    with pytest.raises(ValueError, match="ranges: expected 1"):
        plot_flow(migdal_kadanoff(2, 2), tmp_path / "a.png", ranges=[(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="unknown model 'potts'"):
        flow_model("potts")


def test_file_name_is_honoured_exactly(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="symrg")
    add_cli(parser.add_subparsers(dest="command"))
    out = tmp_path / "noext"
    args = parser.parse_args(["flow", "--model", "migdal-kadanoff", "-o", str(out), "--dpi", "40"])
    assert args.func(args) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert [p.name for p in tmp_path.iterdir()] == ["noext"]
    assert _png_size(out) == (256, 192)
    with pytest.raises(ValueError, match="cannot write 'xyz' files"):
        plot_flow(migdal_kadanoff(2, 2), tmp_path / "a.xyz")


def test_line_of_fixed_points_is_a_line_not_two_points():
    from symrg.rg.flowplot import fixed_lines

    rmap = decimate_chain("spin", 2).recursion_map
    # K = 0 is a line of fixed points (K' = O(K^2): attracting); h = 0 is invariant but not fixed (K flows)
    assert fixed_lines(rmap, [(0, 1.5), (-1, 1)]) == [(0, 0.0, "attracting")]
    K, h = rmap.couplings
    assert float(rmap.images[0].subs({K: 0.7, h: 0.0})) != pytest.approx(0.7)
    assert fixed_lines(migdal_kadanoff(2, 2), [(0, 1)]) == []


def test_chain_in_a_field_marks_no_spurious_isolated_fixed_points(tmp_path, monkeypatch):
    import symrg.rg.flowplot as fp_mod

    labels = []
    orig = fp_mod._fp_label
    monkeypatch.setattr(fp_mod, "_fp_label", lambda fp: labels.append(orig(fp)) or orig(fp))
    rmap, ranges = flow_model("ising-chain", b=2, field=True)
    fps = rmap.fixed_points(seeds=[(0.0, -0.9), (0.0, 0.9)], bounds=ranges)
    assert fps  # the numeric search finds points of the K = 0 line ...
    plot_flow(rmap, tmp_path / "f.png", ranges=ranges, fixed_points=fps, steps=3, dpi=30)
    assert labels == []  # ... but they are drawn as the line, not as isolated "stable" points


def test_classification_by_eigenvalues():
    from symrg.rg.flowplot import _num, classify
    from symrg.rg.recursion import RecursionMap

    x, y = sp.symbols("x y")
    saddle = RecursionMap((x, y), (2 * x, y / 2), 2).linearize((0, 0))
    assert classify(saddle) == "saddle, 1 relevant"
    assert classify(RecursionMap((x, y), (x / 3, y / 2), 2).linearize((0, 0))) == "stable"
    assert classify(RecursionMap((x, y), (3 * x, 2 * y), 2).linearize((0, 0))) == "unstable"
    assert classify(RecursionMap((x, y), (3 * x, y + x**2), 2).linearize((0, 0))) == "saddle, 1 relevant, 1 marginal"
    assert _num(-2.845e-34) == "0" and _num(0.30468) == "0.3047" and _num(-0.5) == "\u22120.5"
