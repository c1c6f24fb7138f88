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


SHORT_ARRAY = 8   # 1-d estimators up to this length are printed value by value


def _pm(mean, err) -> str:
    mean, err = float(np.real(mean)), float(np.real(err))
    if not math.isfinite(err):
        return f"{mean:.6g} ± n/a"
    return f"{mean:.6g} ± {err:.2g}"


def format_scalar_table(points: list[PointResult], swept: list[str]) -> str:
    """Human table: one block per point; scalars and short 1-d arrays as mean ± err, longer arrays by shape."""
    lines = []
    no_error = False
    for i, pt in enumerate(points):
        head = ", ".join(f"{k}={pt.params[k]}" for k in swept) or "single point"
        lines.append(f"point {i} ({head}): {pt.members_done} members")
        for name, r in pt.estimates.items():
            unit = f" {r.unit}" if r.unit else ""
            if r.mean.ndim == 0:
                lines.append(f"  {name:<24} {_pm(r.mean, r.stderr)}{unit}")
                no_error |= not math.isfinite(float(np.real(r.stderr)))
            elif r.mean.ndim == 1 and r.mean.size <= SHORT_ARRAY:
                axis = np.asarray(r.coords.get(r.dims[0], np.arange(r.mean.size)))
                lines.append(f"  {name}{unit}:")
                for x, m, e in zip(axis, r.mean, r.stderr):
                    label = f"{r.dims[0]}={x:.6g}" if np.ndim(x) == 0 and np.isreal(x) else f"{r.dims[0]}={x}"
                    lines.append(f"    {label:<22} {_pm(m, e)}")
            else:
                lines.append(f"  {name:<24} array {tuple(r.dims)} shape {r.mean.shape}")
    if no_error:
        lines.append("(± n/a: an error bar needs at least two jackknife blocks, i.e. two shards done per point)")
    return "\n".join(lines)


def variance_json(report) -> dict:
    """Variance components of one point as JSON (``optimal_vectors`` depends on measured times)."""
    out = {"reason": report.reason} if report.reason else {}
    for name, c in report.estimators.items():
        if not report.defined(name):
            out[name] = {"undefined": "not finite on a single shard or realization"}
            continue
        s_opt = report.optimal_vectors(name)
        out[name] = {"between": c.between, "within": c.within, "realizations": c.realizations,
                     "vectors_per_realization": c.vectors_mean,
                     "optimal_vectors": None if s_opt is None or not math.isfinite(s_opt) else s_opt,
                     "best_integer_vectors": report.best_integer_vectors(name),
                     "flat_cost_ratio": report.flat_cost_ratio(name)}
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
        undefined = [name for name in rep.estimators if not rep.defined(name)]
        if undefined:
            lines.append(f"    not finite on a single shard or realization, so not split: {', '.join(undefined)}")
        for name, c in rep.estimators.items():
            if name in undefined:
                continue
            s_opt = rep.optimal_vectors(name)
            best = ("" if s_opt is None else
                    "; best vectors/realization: any number (no realization variance)" if not math.isfinite(s_opt)
                    else f"; best vectors/realization ≈ {max(s_opt, 1.0):.3g}")
            ratio = rep.flat_cost_ratio(name)
            best += "" if ratio is None else f"; the flat scheme costs x{ratio:.3g} for the same error"
            lines.append(f"    {name:<22} between {c.between:.4g}, within {c.within:.4g} "
                         f"({c.realizations} realizations, {c.vectors_mean:.3g} vectors each){best}")
    return "\n".join(lines)


def stratified_json(result) -> dict:
    """A stratified result (``ensemble.engine.strata``) of one point as JSON, or why there is none."""
    if isinstance(result, str):
        return {"reason": result}
    out = {"strata": result.strata, "vectors_per_stratum": result.vectors.tolist(), "estimators": {}}
    for name, (value, err) in result.estimates.items():
        entry = {"mean": _clean(value), "stderr": _clean(err)}
        if np.ndim(value) == 0:
            entry["neyman_fractions"] = _clean(result.neyman_fractions(name))
            entry["neyman_variance_ratio"] = _clean(result.neyman_variance_ratio(name))
        out["estimators"][name] = entry
    return out


def format_stratified(results: dict) -> str:
    """``results``: point -> stratified result or the reason there is none."""
    lines = ["stratified estimate (realizations are strata; error from the stratified jackknife, "
             "no between-stratum part):"]
    for p, result in results.items():
        if isinstance(result, str):
            lines.append(f"  point {p}: {result}")
            continue
        lines.append(f"  point {p}: {len(result.strata)} strata, "
                     f"{result.vectors.min():g}-{result.vectors.max():g} vectors each")
        for name, (value, err) in result.estimates.items():
            if np.ndim(value) == 0:
                shares = " ".join(f"{f:.2f}" for f in result.neyman_fractions(name))
                lines.append(f"    {name:<22} {value:.6g} ± {err:.2g}; Neyman shares per stratum (equal cost) "
                             f"{shares}: variance x{result.neyman_variance_ratio(name):.3g} at the same cost")
            elif np.ndim(value) == 1 and len(value) <= 8:
                lines.append(f"    {name:<22} " + ", ".join(f"{v:.6g} ± {e:.2g}" for v, e in zip(value, err)))
    return "\n".join(lines)
