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
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from symrg.model import services
from symrg.rg.recursion import FixedPoint, RecursionMap

__all__ = ["FLOW_MODELS", "add_cli", "classify", "fixed_lines", "flow_model", "plot_flow"]

FLOW_MODELS = ("ising-chain", "migdal-kadanoff")


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is installed in CI
        raise ImportError("plot_flow needs matplotlib, an optional extra: pip install symrg[plot]") from exc
    return Figure, FigureCanvasAgg


def classify(fp: FixedPoint) -> str:
    """Stability of a fixed point from its eigenvalues.

    ``"stable"`` (every direction irrelevant), ``"unstable"`` (every direction
    relevant), ``"saddle, k relevant"`` (some of each); marginal directions are named.

    >>> from symrg.rg.migdal_kadanoff import critical_point
    >>> classify(critical_point(2, 2))
    'unstable'
    """
    n = len(fp.labels)
    rel, marg = fp.labels.count("relevant"), fp.labels.count("marginal")
    if rel == n:
        return "unstable"
    if rel == 0 and marg == 0:
        return "stable"
    parts = []
    if rel:
        parts.append(f"{rel} relevant")
    if marg:
        parts.append(f"{marg} marginal")
    return ("saddle, " if rel else "") + ", ".join(parts)


def _num(v: float) -> str:
    """A coordinate for a label: 4 significant digits, numerical noise (below 1e-10) as 0."""
    if abs(v) < 1e-10:
        return "0"
    return f"{v:.4g}".replace("-", "\u2212")


def _fp_label(fp: FixedPoint) -> str:
    vals = ", ".join(f"${sp.latex(c)}^* = {_num(float(sp.re(sp.N(v))))}$" for c, v in zip(fp.couplings, fp.values))
    return f"{vals}: {classify(fp)}"


_STYLE = {"stable": ("o", "tab:green"), "unstable": ("o", "tab:red")}


def _style(kind: str) -> tuple[str, str]:
    return _STYLE.get(kind, ("s", "tab:orange"))


def fixed_lines(rmap: RecursionMap, ranges: Sequence[tuple[float, float]], samples: int = 9,
                rtol: float = 1e-9) -> list[tuple[int, float, str]]:
    """Coordinate lines of fixed points of a two-coupling map inside ``ranges``.

    A line ``g_a = c`` (``c`` one of 0 and the ends of the range) is a line of fixed
    points when the map fixes every one of ``samples`` points spread along it.  Each
    is returned as ``(a, c, kind)`` with ``kind`` from the eigenvalue across the line
    (``"attracting"`` when ``|dg_a'/dg_a| < 1`` all along it, ``"repelling"`` when
    ``> 1``, else ``"mixed"``).

    >>> from symrg.rg.chain import decimate_chain
    >>> fixed_lines(decimate_chain("spin", 2).recursion_map, [(0, 1.5), (-1, 1)])
    [(0, 0.0, 'attracting')]
    """
    if rmap.dimension != 2:
        return []
    f = rmap.numeric("numpy")
    d = rmap.dimension
    jac_flat = services.get("compile_scalars")(rmap.couplings, list(rmap.jacobian()), "numpy", checked=False)

    def jac(*p: float) -> np.ndarray:
        return np.array(jac_flat(*p), dtype=float).reshape(d, d)

    out = []
    for a in (0, 1):
        other = 1 - a
        lo, hi = ranges[a]
        olo, ohi = ranges[other]
        for c in sorted({0.0, float(lo), float(hi)}):
            if not lo - 1e-12 <= c <= hi + 1e-12:
                continue
            pts = []
            for t in np.linspace(olo, ohi, samples):
                p = [0.0, 0.0]
                p[a], p[other] = c, float(t)
                pts.append(p)
            ok = True
            slopes = []
            with np.errstate(all="ignore"):
                for p in pts:
                    img = np.array(f(*p), dtype=float)
                    if not np.all(np.isfinite(img)) or np.any(np.abs(img - p) > rtol * (1 + np.abs(p))):
                        ok = False
                        break
                    slopes.append(abs(float(np.array(jac(*p), dtype=float)[a, a])))
            if not ok:
                continue
            kind = "attracting" if max(slopes) < 1 else "repelling" if min(slopes) > 1 else "mixed"
            out.append((a, c, kind))
    return out


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
    and listed in a legend inside the axes with their class from the eigenvalues
    (:func:`classify`); coordinate lines of fixed points (:func:`fixed_lines`) are drawn
    as lines, and isolated points found on them are dropped.  The file is written under
    exactly the name ``path`` (format from its suffix, PNG without one).  The image is
    exactly ``figsize * dpi`` pixels.

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
    title : str, optional
        Title (matplotlib mathtext allowed); default names the map and ``b``.

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
    ranges = [(float(lo), float(hi)) for lo, hi in ranges]
    if len(ranges) != n:
        raise ValueError(f"ranges: expected {n} (lo, hi) pairs, got {len(ranges)}")
    if fixed_points is None:
        fixed_points = rmap.fixed_points(bounds=ranges, timeout=10.0)
    fixed_points = [fp for fp in fixed_points if all(lo - 1e-9 <= float(sp.re(sp.N(v))) <= hi + 1e-9
                                                     for v, (lo, hi) in zip(fp.values, ranges))]
    lines = fixed_lines(rmap, ranges) if n == 2 else []
    # a fixed point on a line of fixed points is a point of the line, not an isolated one
    fixed_points = [fp for fp in fixed_points
                    if not any(abs(float(sp.re(sp.N(fp.values[a]))) - c) < 1e-9 for a, c, _ in lines)]
    path = os.fspath(path)
    fmt = _format_of(path)
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    if fmt not in fig.canvas.get_supported_filetypes():
        raise ValueError(f"path: cannot write {fmt!r} files ({path}); supported: "
                         f"{', '.join(sorted(fig.canvas.get_supported_filetypes()))}")
    ax = fig.add_subplot(1, 1, 1)
    arrow = dict(arrowstyle="->", color="tab:blue", lw=1.0)
    names = [sp.latex(c) for c in rmap.couplings]
    pad = [0.03 * (hi - lo) for lo, hi in ranges]  # points on the edge of the range stay visible
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
            x = float(sp.re(sp.N(fp.values[0])))
            marker, color = _style(classify(fp))
            ax.plot([x], [x], marker, color=color, ms=8, zorder=5, clip_on=False, ls="none", label=_fp_label(fp))
        ax.set_xlim(lo - pad[0], hi + pad[0])
        ax.set_ylim(lo - pad[0], hi + pad[0])
        ax.set_xlabel(f"${names[0]}$")
        ax.set_ylabel(f"${names[0]}'$")
    else:
        (x0, x1), (y0, y1) = ranges
        if starts is None:
            starts = [(x0 + (x1 - x0) * a, y0 + (y1 - y0) * c) for a in (0.3, 0.6, 0.9, 0.99) for c in (0.1, 0.3, 0.5, 0.7, 0.9)]
        for s in starts:
            tr = _trajectory(rmap, rmap.point(s), steps, ranges)
            ax.plot(tr[:, 0], tr[:, 1], "-", color="tab:blue", lw=0.8, alpha=0.7)
            for p, q in zip(tr[:-1], tr[1:]):
                ax.annotate("", xy=tuple(q), xytext=tuple(p), arrowprops=arrow)
        for a, c, kind in lines:
            color = "tab:green" if kind == "attracting" else "tab:red" if kind == "repelling" else "tab:orange"
            seg = ([c, c], [y0, y1]) if a == 0 else ([x0, x1], [c, c])
            ax.plot(*seg, "-", color=color, lw=4, alpha=0.8, zorder=4, solid_capstyle="butt",
                    label=f"line of fixed points ${names[a]} = {_num(c)}$ ({kind})")
        for fp in fixed_points:
            x, y = (float(sp.re(sp.N(v))) for v in fp.values)
            marker, color = _style(classify(fp))
            ax.plot([x], [y], marker, color=color, ms=8, zorder=5, clip_on=False, ls="none", label=_fp_label(fp))
        ax.set_xlim(x0 - pad[0], x1 + pad[0])
        ax.set_ylim(y0 - pad[1], y1 + pad[1])
        ax.set_xlabel(f"${names[0]}$")
        ax.set_ylabel(f"${names[1]}$")
    if ax.get_legend_handles_labels()[0]:
        # the legend stays inside the axes, where it covers the fewest data points
        ax.legend(loc="best", fontsize=8, framealpha=0.9)
    if title is None:
        title = f"RG flow: {rmap.name}" + ("" if f"b={rmap.b}" in rmap.name.replace(" ", "") else f" (b = {rmap.b})")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi, format=fmt)
    return path


def _format_of(path: str) -> str:
    """The file format named by the suffix of ``path`` (``png`` when there is none): the file is
    written under exactly that name, never with a suffix appended."""
    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    return suffix or "png"


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
    # lines of fixed points (K = 0 of the chain in a field) are found and drawn by plot_flow
    path = plot_flow(rmap, args.output, ranges=ranges, steps=args.steps, dpi=args.dpi)
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
