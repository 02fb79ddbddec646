"""Flow diagrams: PNG output of the expected size, and the flow subcommand."""

from __future__ import annotations

import argparse
import struct

import pytest
import sympy as sp

pytest.importorskip("matplotlib")

from symrg.rg.chain import decimate_chain  # noqa: E402
from symrg.rg.flowplot import add_cli, flow_model, plot_flow  # noqa: E402
from symrg.rg.migdal_kadanoff import migdal_kadanoff  # noqa: E402


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
