"""Online estimators: totals over done shards and delete-one-block jackknife errors.

Estimators take arrays: block sums (see :mod:`ensemble.engine.blocking`, which also fixes the summation
order) from a store or from memory.  ``totals`` is the sum of the block sums in order: a fixed summation
order, hence a resumed run gives bitwise the same numbers as an uninterrupted one.  Error bars:
``finalize`` is re-evaluated with each block left out (jackknife), which gives honest errors for
non-linear (ratio) estimators without the model knowing.
"""
from __future__ import annotations

import numpy as np

from ensemble.engine.blocking import MAX_BLOCKS, add_blocks, block_partition, summed_blocks
from ensemble.engine.model import Model
from ensemble.engine.results import PointResult, Result

__all__ = ["MAX_BLOCKS", "jackknife", "jackknife_arrays", "point_results", "point_totals"]


def jackknife(model: Model, params: dict, blocks: list[dict[str, np.ndarray]]) -> tuple[dict, dict[str, Result]]:
    """Return (totals, results) of one point from its block sums."""
    totals = add_blocks(blocks)
    full = model.finalize(totals, params)
    replicas: dict[str, list[np.ndarray]] = {k: [] for k, e in full.items() if e.jackknife}
    if len(blocks) >= 2 and replicas:
        for block in blocks:
            est = model.finalize({name: totals[name] - block[name] for name in totals}, params)
            for name in replicas:
                replicas[name].append(np.asarray(est[name].value, dtype=float))
    results = {}
    for name, est in full.items():
        mean = np.asarray(est.value, dtype=float)
        if replicas.get(name):
            reps = np.stack(replicas[name])
            n = len(reps)
            with np.errstate(invalid="ignore"):
                stderr = np.sqrt((n - 1) / n * ((reps - reps.mean(axis=0)) ** 2).sum(axis=0))
        else:
            stderr = np.full_like(mean, np.nan if est.jackknife else 0.0)
        results[name] = Result(mean, stderr, tuple(est.dims), dict(est.coords), est.unit)
    return totals, results


def jackknife_arrays(model: Model, params: dict, per_shard: dict[str, np.ndarray], sizes: np.ndarray,
                     max_blocks: int = MAX_BLOCKS, table: np.ndarray | None = None):
    """Jackknife from in-memory per-shard sums (arrays (shards, *shape)) with ``sizes`` members each.

    ``table`` (the shard table) is needed only for two-level runs, whose blocks hold whole realizations.
    """
    if table is None:
        table = np.c_[np.zeros(len(sizes)), np.cumsum(sizes)]  # flat: only the row count matters
    ids, edges = block_partition(table, np.arange(len(sizes)), max_blocks)
    sizes = np.asarray(sizes, dtype=float)[ids]
    blocks = summed_blocks(lambda a, b: {k: v[ids[a:b]] for k, v in per_shard.items()}, sizes, max_blocks, edges)
    return jackknife(model, params, blocks)


def point_results(store, points: list[int] | None = None) -> list[PointResult]:
    """Estimators with errors for every point of a store (anything with ``spec`` and ``blocks(p)``, as
    :class:`ensemble.engine.store.RunStore`), from whatever shards are done now."""
    spec = store.spec
    model = spec.model
    all_points = spec.points()
    out = []
    for p in (range(len(all_points)) if points is None else points):
        blocks = store.blocks(p)
        if not blocks:
            out.append(PointResult(all_points[p], 0, {}))
            continue
        totals, results = jackknife(model, all_points[p], blocks)
        out.append(PointResult(all_points[p], int(totals["members"]), results))
    return out


def point_totals(store, p: int) -> dict[str, np.ndarray]:
    """Summed accumulators of point ``p`` over its done shards (same order as the estimators use)."""
    blocks = store.blocks(p)
    return add_blocks(blocks) if blocks else {}
