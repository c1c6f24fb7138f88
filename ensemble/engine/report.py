"""Turn point results into plain data: the JSON of ``ensemble show --json`` and status summaries."""
from __future__ import annotations

import math

import numpy as np

from ensemble.engine.model import PointResult


def _clean(value):
    """numpy -> JSON-safe Python; non-finite floats become null."""
    arr = np.asarray(value)
    if arr.dtype.kind in "iub":
        return arr.tolist()
    if arr.dtype.kind == "c":
        arr = arr.real
    if arr.dtype.kind in "f":
        out = arr.astype(float).tolist()
        if arr.ndim == 0:
            return out if math.isfinite(out) else None
        return _finite(out)
    return arr.tolist()


def _finite(x):
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x if isinstance(x, (int, float)) and math.isfinite(x) else None


def results_json(model_name: str, points: list[PointResult]) -> dict:
    return {
        "model": model_name,
        "points": [
            {
                "params": pt.params,
                "members_done": pt.members_done,
                "estimators": {
                    name: {
                        "dims": list(r.dims),
                        "coords": {d: _clean(c) for d, c in r.coords.items()},
                        "mean": _clean(r.mean),
                        "stderr": _clean(r.stderr),
                        **({"unit": r.unit} if r.unit else {}),
                    }
                    for name, r in pt.estimates.items()
                },
            }
            for pt in points
        ],
    }


def format_scalar_table(points: list[PointResult], swept: list[str]) -> str:
    """Human table: one block per point; scalars as mean ± err, arrays by shape only."""
    lines = []
    for i, pt in enumerate(points):
        head = ", ".join(f"{k}={pt.params[k]}" for k in swept) or "single point"
        lines.append(f"point {i} ({head}): {pt.members_done} members")
        for name, r in pt.estimates.items():
            if r.mean.ndim == 0:
                unit = f" {r.unit}" if r.unit else ""
                lines.append(f"  {name:<24} {float(r.mean):.6g} ± {float(r.stderr):.2g}{unit}")
            else:
                lines.append(f"  {name:<24} array {tuple(r.dims)} shape {r.mean.shape}")
    return "\n".join(lines)


def variance_json(report) -> dict:
    """Variance components of one point as JSON (``optimal_vectors`` depends on measured times)."""
    out = {"reason": report.reason} if report.reason else {}
    for name, c in report.estimators.items():
        s_opt = report.optimal_vectors(name)
        out[name] = {"between": c.between, "within": c.within, "realizations": c.realizations,
                     "vectors_per_realization": c.vectors_mean,
                     "optimal_vectors": None if s_opt is None or not math.isfinite(s_opt) else s_opt}
    return out


def format_variance(reports) -> str:
    lines = ["variance components (between realizations / within a realization, per vector):"]
    for rep in reports:
        if rep.reason:
            lines.append(f"  point {rep.point}: {rep.reason}")
            continue
        cost = (f"; measured {rep.setup_seconds:.3g} s per setup, {rep.vector_seconds:.3g} s per vector"
                if rep.setup_seconds is not None else "")
        lines.append(f"  point {rep.point}{cost}")
        for name, c in rep.estimators.items():
            s_opt = rep.optimal_vectors(name)
            best = ("" if s_opt is None else
                    "; best vectors/realization: any number (no realization variance)" if not math.isfinite(s_opt)
                    else f"; best vectors/realization ≈ {max(s_opt, 1.0):.3g}")
            lines.append(f"    {name:<22} between {c.between:.4g}, within {c.within:.4g} "
                         f"({c.realizations} realizations, {c.vectors_mean:.3g} vectors each){best}")
    return "\n".join(lines)
