"""Generic figure: every 1-d estimator against its coordinate, one curve per point, with error bands."""
from __future__ import annotations

import numpy as np

from ensemble.engine.results import PointResult


def point_label(params: dict, swept: list[str] | None = None) -> str:
    keys = swept if swept is not None else list(params)
    return ", ".join(f"{k}={params[k]}" for k in keys)


def swept_names(points: list[PointResult]) -> list[str]:
    if len(points) < 2:
        return []
    first = points[0].params
    return [k for k in first if any(pt.params[k] != first[k] for pt in points[1:])]


def default_plot(points: list[PointResult], fig) -> None:
    names = []
    for pt in points:
        names += [n for n, r in pt.estimates.items() if len(r.dims) == 1 and n not in names]
    if not names:
        ax = fig.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, "no 1-d estimators yet", ha="center", va="center")
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
            line, = ax.plot(x, r.mean, label=point_label(pt.params, swept) or None)
            if np.isfinite(r.stderr).any():
                ax.fill_between(x, r.mean - r.stderr, r.mean + r.stderr, alpha=0.25, color=line.get_color())
        ax.set_xlabel(r.dims[0])
        ax.set_ylabel(name + (f" [{r.unit}]" if r.unit else ""))
        if swept:
            ax.legend(fontsize="small")


def figure_title(spec, points: list[PointResult]) -> str:
    """The spec's title, or the model's description with its member count when the spec has none."""
    if spec.title:
        return spec.title
    done = max((pt.members_done for pt in points), default=0)
    return f"{spec.model_name}: {spec.model.description} ({done} members per point)"
