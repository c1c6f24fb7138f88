"""Generic figure: every 1-d estimator against its coordinate, one curve per point, with error bands.

Also the small helpers every model figure shares: legend labels that carry parameter units, a legend
that lists only what is drawn, and a log-axis floor that keeps numerical noise out of view.
"""
from __future__ import annotations

import textwrap
from typing import Sequence

import numpy as np

from ensemble.engine.model import Param, PointResult

MARKERS = ("o", "s", "D", "^", "v")
TITLE_WIDTH = 95   # characters per suptitle line: fits a 10-inch figure at the default font size


def param_units(params: Sequence[Param] | None) -> dict[str, str]:
    """Unit of each parameter that declares one."""
    return {p.name: p.unit for p in params or () if p.unit}


def format_value(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def param_text(name: str, value, units: dict | None = None, symbols: dict | None = None) -> str:
    """``"ω0 = 0.2 t"``: display symbol, value and unit (none for dimensionless parameters)."""
    unit = (units or {}).get(name, "")
    return f"{(symbols or {}).get(name, name)} = {format_value(value)}" + (f" {unit}" if unit else "")


def point_label(params: dict, swept: list[str] | None = None, units: dict | None = None,
                symbols: dict | None = None) -> str:
    keys = swept if swept is not None else list(params)
    return ", ".join(param_text(k, params[k], units, symbols) for k in keys)


def swept_names(points: list[PointResult]) -> list[str]:
    if len(points) < 2:
        return []
    first = points[0].params
    return [k for k in first if any(pt.params[k] != first[k] for pt in points[1:])]


def key_handles(entries):
    """Proxy artists that say what line styles (or markers) mean: [("-", "DOS"), ("--", "Γ")], drawn in
    black; a style given as ``(style, colour)`` is drawn in that colour."""
    from matplotlib.lines import Line2D

    handles = []
    for style, text in entries:
        s, colour = style if isinstance(style, tuple) and len(style) == 2 and isinstance(style[0], str) else (style, "k")
        look = {"marker": s, "ls": "none"} if isinstance(s, str) and s in MARKERS else {"ls": s}
        handles.append(Line2D([], [], color=colour, label=text, **look))
    return handles


def legend(ax, key=None, **kw) -> None:
    """One legend: the style ``key`` entries (see :func:`key_handles`), then every labelled artist on
    ``ax``; none when there is nothing to list."""
    handles, labels = ax.get_legend_handles_labels()
    proxies = key_handles(key or [])
    handles, labels = proxies + handles, [h.get_label() for h in proxies] + labels
    if handles:
        ax.legend(handles, labels, **{"fontsize": "small", **kw})


LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))


def point_styles(points, swept, units=None, symbols=None, name="mean"):
    """Colour and line style of each point's curve, and the legend entries that explain them.

    With two or more swept parameters, the last one (if it has at most six values) sets the line style
    and the others the colour, so that no two curves look alike; otherwise colour alone, one per point.
    Returns ``(styles, key)``: a ``dict(color=, ls=)`` per point and the ``key`` for :func:`legend`
    (colour entries first, then black line-style entries; ``name`` labels the colour when nothing is
    swept); draw the curves without labels.
    """
    from matplotlib import colormaps

    by_style = swept[-1] if len(swept) >= 2 else None
    style_values = sorted({_hashable(pt.params[by_style]) for pt in points}) if by_style else []
    if len(style_values) > len(LINESTYLES):
        by_style, style_values = None, []
    colour_keys = [k for k in swept if k != by_style]
    colour_labels = list(dict.fromkeys(point_label(pt.params, colour_keys, units, symbols) for pt in points))
    n = len(colour_labels)
    cmap = colormaps["tab10"] if n <= 10 else colormaps["viridis"]
    colours = {lab: cmap(i if n <= 10 else i / max(n - 1, 1)) for i, lab in enumerate(colour_labels)}
    styles = []
    for pt in points:
        ls = LINESTYLES[style_values.index(_hashable(pt.params[by_style]))] if by_style else "-"
        styles.append({"color": colours[point_label(pt.params, colour_keys, units, symbols)], "ls": ls})
    key = [(("-", c), lab or name) for lab, c in colours.items()]
    key += [(LINESTYLES[i], param_text(by_style, v, units, symbols)) for i, v in enumerate(style_values)]
    return styles, key


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def log_floor(ax, values, decades: float = 6.0) -> None:
    """Lower y limit of a log axis ``decades`` below the largest finite positive value."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size:
        ax.set_ylim(bottom=max(v.min(), v.max() * 10.0 ** -decades) / 2)


def _axis_label(name: str, unit: str) -> str:
    return name + (f" [{unit}]" if unit else "")


def default_plot(points: list[PointResult], fig, params: Sequence[Param] | None = None) -> None:
    """``params`` (the model's Param list) puts units on swept-parameter labels and on coordinate axes."""
    units = param_units(params)
    names = []
    for pt in points:
        names += [n for n, r in pt.estimates.items() if len(r.dims) == 1 and n not in names]
    if not names:
        ax = fig.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, "no 1-d estimators yet", ha="center", va="center")
        ax.set_axis_off()
        return
    swept = swept_names(points)
    styles, key = point_styles(points, swept, units)
    cols = min(len(names), 3)
    rows = (len(names) + cols - 1) // cols
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        for pt, style in zip(points, styles):
            if name not in pt.estimates:
                continue
            r = pt.estimates[name]
            x = np.asarray(r.coords.get(r.dims[0], np.arange(len(r.mean))))
            ax.plot(x, r.mean, **style)
            if np.isfinite(r.stderr).any():
                ax.fill_between(x, r.mean - r.stderr, r.mean + r.stderr, alpha=0.25, color=style["color"])
        ax.set_xlabel(_axis_label(r.dims[0], units.get(r.dims[0], "")))
        ax.set_ylabel(_axis_label(name, r.unit))
        legend(ax, key=key if swept else key[:0])


def figure_title(spec, points: list[PointResult]) -> str:
    """The spec's title, or the model's description with its member count when the spec has none;
    wrapped so that it fits above the figure."""
    if spec.title:
        return textwrap.fill(spec.title, TITLE_WIDTH)
    done = max((pt.members_done for pt in points), default=0)
    members = f"{done} member{'s' if done != 1 else ''} per point"
    return textwrap.fill(f"{spec.model_name}: {spec.model.description} ({members})", TITLE_WIDTH)
