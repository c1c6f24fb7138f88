"""Turn point results into plain data: the JSON of ``ensemble show --json`` and status summaries."""
from __future__ import annotations

import math

import numpy as np

from ensemble.engine.results import PointResult


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
