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
    """Black proxy artists that say what line styles (or markers) mean: [("-", "DOS"), ("--", "Γ")]."""
    from matplotlib.lines import Line2D

    return [Line2D([], [], color="k", label=text,
                   **({"marker": s, "ls": "none"} if isinstance(s, str) and s in MARKERS else {"ls": s}))
            for s, text in entries]


def legend(ax, key=None, **kw) -> None:
    """One legend: the style ``key`` entries (see :func:`key_handles`), then every labelled artist on
    ``ax``; none when there is nothing to list."""
    handles, labels = ax.get_legend_handles_labels()
    proxies = key_handles(key or [])
    handles, labels = proxies + handles, [h.get_label() for h in proxies] + labels
    if handles:
        ax.legend(handles, labels, **{"fontsize": "small", **kw})


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
    cols = min(len(names), 3)
    rows = (len(names) + cols - 1) // cols
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        for pt in points:
            if name not in pt.estimates:
                continue
            r = pt.estimates[name]
            x = np.asarray(r.coords.get(r.dims[0], np.arange(len(r.mean))))
            line, = ax.plot(x, r.mean, label=point_label(pt.params, swept, units) or None)
            if np.isfinite(r.stderr).any():
                ax.fill_between(x, r.mean - r.stderr, r.mean + r.stderr, alpha=0.25, color=line.get_color())
        ax.set_xlabel(_axis_label(r.dims[0], units.get(r.dims[0], "")))
        ax.set_ylabel(_axis_label(name, r.unit))
        if swept:
            legend(ax)


def figure_title(spec, points: list[PointResult]) -> str:
    """The spec's title, or the model's description with its member count when the spec has none;
    wrapped so that it fits above the figure."""
    if spec.title:
        return textwrap.fill(spec.title, TITLE_WIDTH)
    done = max((pt.members_done for pt in points), default=0)
    members = f"{done} member{'s' if done != 1 else ''} per point"
    return textwrap.fill(f"{spec.model_name}: {spec.model.description} ({members})", TITLE_WIDTH)
