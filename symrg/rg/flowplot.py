"""Flow diagrams of recursion maps (matplotlib, optional) and the ``symrg flow`` command.

matplotlib is imported lazily inside the functions and drawn through the Agg canvas
(no display, no pyplot global state).

Examples
--------
>>> import argparse
>>> from symrg.rg.flowplot import add_cli
>>> parser = argparse.ArgumentParser(prog="symrg")
>>> sub = parser.add_subparsers()
>>> _ = add_cli(sub)
>>> args = parser.parse_args(["flow", "--model", "migdal-kadanoff", "--d", "2", "--b", "2"])
>>> args.model, args.d, args.b, args.output
('migdal-kadanoff', 2, 2, 'flow.png')
"""

from __future__ import annotations

import argparse
import os
from typing import Any, Sequence

import numpy as np
import sympy as sp

from symrg.rg.recursion import FixedPoint, RecursionMap

__all__ = ["plot_flow", "add_cli", "flow_model", "FLOW_MODELS"]

FLOW_MODELS = ("ising-chain", "migdal-kadanoff")


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is installed in CI
        raise ImportError("plot_flow needs matplotlib, an optional extra: pip install symrg[plot]") from exc
    return Figure, FigureCanvasAgg


def _fp_label(fp: FixedPoint) -> str:
    vals = ", ".join(f"{c}*={float(sp.N(v)):.4g}" for c, v in zip(fp.couplings, fp.values))
    kind = "stable" if fp.stable else "unstable"
    return f"{vals} ({kind})"


def _trajectory(rmap: RecursionMap, start: Sequence[float], steps: int, ranges) -> np.ndarray:
    fl = rmap.iterate(start, steps, backend="numpy").points
    keep = [fl[0]]
    for p in fl[1:]:
        if not np.all(np.isfinite(p)):
            break
        spans = [(hi - lo) for lo, hi in ranges]
        if any(x < lo - 0.5 * s or x > hi + 0.5 * s for x, (lo, hi), s in zip(p, ranges, spans)):
            break
        keep.append(p)
    return np.array(keep)


def plot_flow(
    rmap: RecursionMap,
    path: str | os.PathLike,
    *,
    ranges: Sequence[tuple[float, float]] | None = None,
    starts: Sequence[Any] | None = None,
    steps: int = 12,
    fixed_points: Sequence[FixedPoint] | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (6.4, 4.8),
    dpi: int = 100,
) -> str:
    """Draw the RG flow of a one- or two-coupling map and write it to ``path`` (PNG, PDF, ...).

    One coupling: the map ``g'(g)`` against the diagonal with cobweb trajectories.
    Two couplings: trajectories in the plane.  Arrows point along the flow; fixed
    points (found by ``rmap.fixed_points`` inside ``ranges`` unless given) are marked
    and labelled with their stability.  The image is exactly ``figsize * dpi`` pixels.

    Parameters
    ----------
    rmap : RecursionMap
        A map with numeric parameters and ``b``.
    path : str or PathLike
        Output file; the format follows the suffix.
    ranges : sequence of (lo, hi), optional
        Plot range per coupling (default ``(0, 1)``).
    starts : sequence of points, optional
        Starting points of the trajectories (default: a spread inside ``ranges``).
    steps : int
        Iterations per trajectory.
    fixed_points : sequence of FixedPoint, optional
        Fixed points to mark (default: computed).

    Returns
    -------
    str
        The path written.
    """
    Figure, FigureCanvasAgg = _matplotlib()
    n = rmap.dimension
    if n not in (1, 2):
        raise ValueError(f"rmap: plot_flow draws maps of one or two couplings, this one has {n}")
    if ranges is None:
        ranges = [(0.0, 1.0)] * n
    ranges = [tuple(map(float, r)) for r in ranges]
    if len(ranges) != n:
        raise ValueError(f"ranges: expected {n} (lo, hi) pairs, got {len(ranges)}")
    if fixed_points is None:
        fixed_points = rmap.fixed_points(bounds=ranges, timeout=10.0)
    fixed_points = [fp for fp in fixed_points if all(lo - 1e-9 <= float(sp.re(sp.N(v))) <= hi + 1e-9
                                                     for v, (lo, hi) in zip(fp.values, ranges))]
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    arrow = dict(arrowstyle="->", color="tab:blue", lw=1.0)
    names = [sp.latex(c) for c in rmap.couplings]
    if n == 1:
        lo, hi = ranges[0]
        xs = np.linspace(lo, hi, 400)
        f = rmap.numeric("numpy")
        with np.errstate(all="ignore"):
            ys = np.array([f(x)[0] for x in xs], dtype=float)
        ax.plot(xs, ys, color="k", lw=1.5, label=f"${names[0]}'({names[0]})$")
        ax.plot(xs, xs, color="0.5", lw=1.0, ls="--", label="diagonal")
        if starts is None:
            starts = [lo + (hi - lo) * t for t in (0.1, 0.3, 0.5, 0.7, 0.9)]
        for s in starts:
            tr = _trajectory(rmap, rmap.point(s), steps, ranges)[:, 0]
            for a, c in zip(tr[:-1], tr[1:]):
                ax.annotate("", xy=(a, c), xytext=(a, a), arrowprops=arrow)
                ax.annotate("", xy=(c, c), xytext=(a, c), arrowprops=arrow)
        for fp in fixed_points:
            x = float(sp.N(fp.values[0]))
            ax.plot([x], [x], "o", color="tab:red" if not fp.stable else "tab:green", ms=8, zorder=5)
            ax.annotate(_fp_label(fp), (x, x), textcoords="offset points", xytext=(6, -14), fontsize=8)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(f"${names[0]}$")
        ax.set_ylabel(f"${names[0]}'$")
        ax.legend(loc="upper left", fontsize=8)
    else:
        (x0, x1), (y0, y1) = ranges
        if starts is None:
            starts = [(x0 + (x1 - x0) * a, y0 + (y1 - y0) * c) for a in (0.3, 0.6, 0.9, 0.99) for c in (0.1, 0.3, 0.5, 0.7, 0.9)]
        for s in starts:
            tr = _trajectory(rmap, rmap.point(s), steps, ranges)
            ax.plot(tr[:, 0], tr[:, 1], "-", color="tab:blue", lw=0.8, alpha=0.7)
            for p, q in zip(tr[:-1], tr[1:]):
                ax.annotate("", xy=tuple(q), xytext=tuple(p), arrowprops=arrow)
        for fp in fixed_points:
            x, y = (float(sp.N(v)) for v in fp.values)
            ax.plot([x], [y], "o", color="tab:red" if not fp.stable else "tab:green", ms=8, zorder=5)
            ax.annotate(_fp_label(fp), (x, y), textcoords="offset points", xytext=(6, 6), fontsize=8)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_xlabel(f"${names[0]}$")
        ax.set_ylabel(f"${names[1]}$")
    ax.set_title(title if title is not None else f"RG flow: {rmap.name} (b = {rmap.b})", fontsize=10)
    path = os.fspath(path)
    fig.savefig(path, dpi=dpi)
    return path


def flow_model(model: str, d: int = 2, b: int = 2, field: bool = False) -> tuple[RecursionMap, list[tuple[float, float]]]:
    """The map and plot ranges behind ``symrg flow --model ...``.

    ``ising-chain``: the derived decimation in ``u = tanh K`` (with ``field``: the
    two-coupling map in ``(K, h)``); ``migdal-kadanoff``: the d-dimensional map in ``K``.

    >>> m, r = flow_model("ising-chain", b=2)
    >>> m.images, r
    ((u**2,), [(0.0, 1.0)])
    """
    if model not in FLOW_MODELS:
        raise ValueError(f"unknown model {model!r}; valid models: {', '.join(FLOW_MODELS)}")
    from symrg.rg.chain import decimate_chain
    from symrg.rg.migdal_kadanoff import migdal_kadanoff

    if model == "ising-chain":
        if field:
            return decimate_chain("spin", b).recursion_map, [(0.0, 1.5), (-1.0, 1.0)]
        dec = decimate_chain("spin", b, couplings=("K",)).recursion_map
        (K,) = dec.couplings
        u = sp.Symbol("u", real=True)
        return dec.change_variables([u], [sp.tanh(K)], [sp.atanh(u)]), [(0.0, 1.0)]
    return migdal_kadanoff(d, b), [(0.0, 1.0)]


def _run_flow(args: argparse.Namespace) -> int:
    rmap, ranges = flow_model(args.model, args.d, args.b, args.field)
    fps = None
    if args.model == "ising-chain" and args.field:
        # the K = 0 line is a line of fixed points: mark its two ends only
        fps = [fp for fp in rmap.fixed_points(seeds=[(0.0, -0.9), (0.0, 0.9)], bounds=ranges)]
    path = plot_flow(rmap, args.output, ranges=ranges, steps=args.steps, fixed_points=fps, dpi=args.dpi)
    print(f"wrote {path}")
    return 0


def add_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``flow`` subcommand on an argparse ``subparsers`` object.

    ``symrg flow --model ising-chain|migdal-kadanoff [--d D] [--b B] [--field]
    [--steps N] [--dpi DPI] --output flow.png``; ``args.func(args)`` draws the diagram
    and returns the exit status.
    """
    p = subparsers.add_parser(
        "flow",
        help="draw the RG flow diagram of a built-in recursion map",
        description="Draw the RG flow of the derived Ising-chain decimation or of Migdal-Kadanoff bond moving.",
    )
    p.add_argument("--model", choices=FLOW_MODELS, default="migdal-kadanoff", help="which recursion map")
    p.add_argument("--d", type=int, default=2, help="dimension (migdal-kadanoff)")
    p.add_argument("--b", type=int, default=2, help="scale factor b >= 2")
    p.add_argument("--field", action="store_true", help="ising-chain: flow in (K, h) instead of u = tanh K")
    p.add_argument("--steps", type=int, default=12, help="iterations per trajectory")
    p.add_argument("--dpi", type=int, default=100, help="resolution of raster output")
    p.add_argument("--output", "-o", default="flow.png", help="output file (.png, .pdf, ...)")
    p.set_defaults(func=_run_flow)
    return p
