"""Online estimators: totals over done shards and delete-one-block jackknife errors.

``totals`` are summed over the done shards of a point in shard-id order, so a resumed run gives
bitwise the same numbers as an uninterrupted one.  Error bars come from the jackknife over up to
``MAX_BLOCKS`` contiguous blocks of done shards: finalize is re-evaluated with each block left out,
which gives honest errors for non-linear (ratio) estimators without the model knowing.
"""
from __future__ import annotations

import numpy as np

from ensemble.engine.model import Estimate, Model, PointResult, Result

MAX_BLOCKS = 64


def block_sums(per_shard: dict[str, np.ndarray], sizes: np.ndarray, n_blocks: int) -> list[dict[str, np.ndarray]]:
    """Group shards (already restricted to done ones, in id order) into contiguous blocks and sum each."""
    edges = np.linspace(0, len(sizes), n_blocks + 1).round().astype(int)
    blocks = []
    for a, b in zip(edges[:-1], edges[1:]):
        block = {name: arr[a:b].sum(axis=0) for name, arr in per_shard.items()}
        block["members"] = np.asarray(float(sizes[a:b].sum()))
        blocks.append(block)
    return blocks


def _as_result_parts(est: Estimate) -> np.ndarray:
    return np.asarray(est.value, dtype=float)


def jackknife(model: Model, params: dict, per_shard: dict[str, np.ndarray], sizes: np.ndarray,
              max_blocks: int = MAX_BLOCKS) -> tuple[dict[str, np.ndarray], dict[str, Result]]:
    """Return (totals, results) for one point from its done shards' sums (arrays (shards, *shape))."""
    totals = {name: arr.sum(axis=0) for name, arr in per_shard.items()}
    totals["members"] = np.asarray(float(sizes.sum()))
    full = model.finalize(totals, params)
    n_blocks = min(len(sizes), max_blocks)
    replicas: dict[str, list[np.ndarray]] = {k: [] for k, e in full.items() if e.jackknife}
    if n_blocks >= 2 and replicas:
        for block in block_sums(per_shard, sizes, n_blocks):
            rest = {name: totals[name] - block[name] for name in totals}
            est = model.finalize(rest, params)
            for name in replicas:
                replicas[name].append(_as_result_parts(est[name]))
    results = {}
    for name, est in full.items():
        mean = _as_result_parts(est)
        if name in replicas and replicas[name]:
            reps = np.stack(replicas[name])
            n = len(reps)
            with np.errstate(invalid="ignore"):
                stderr = np.sqrt((n - 1) / n * ((reps - reps.mean(axis=0)) ** 2).sum(axis=0))
        else:
            stderr = np.full_like(mean, np.nan if est.jackknife else 0.0)
        results[name] = Result(mean, stderr, tuple(est.dims), dict(est.coords), est.unit)
    return totals, results


def point_results(store, points: list[int] | None = None) -> list[PointResult]:
    """Estimators with errors for every point of a store, from whatever shards are done now."""
    spec = store.spec
    model = spec.model
    all_points = spec.points()
    done = store.done()
    table = store.shard_range()
    sizes_all = (table[:, 1] - table[:, 0]).astype(float)
    accs = model.accumulators(all_points[0])
    out = []
    for p in (range(len(all_points)) if points is None else points):
        mask = done[p]
        members_done = int(sizes_all[mask].sum())
        if not mask.any():
            out.append(PointResult(all_points[p], 0, {}))
            continue
        per_shard = {a.name: np.asarray(store.group[a.name][p])[mask] for a in accs}
        _, results = jackknife(model, all_points[p], per_shard, sizes_all[mask])
        out.append(PointResult(all_points[p], members_done, results))
    return out


def point_totals(store, p: int) -> dict[str, np.ndarray]:
    """Summed accumulators of point ``p`` over its done shards, in shard-id order."""
    mask = store.done()[p]
    table = store.shard_range()
    accs = store.spec.model.accumulators(store.spec.points()[p])
    totals = {a.name: np.asarray(store.group[a.name][p])[mask].sum(axis=0) for a in accs}
    totals["members"] = np.asarray(float((table[mask, 1] - table[mask, 0]).sum()))
    return totals
