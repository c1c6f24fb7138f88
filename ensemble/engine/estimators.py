"""Online estimators: totals over done shards and delete-one-block jackknife errors.

The done shards of a point are cut into at most ``MAX_BLOCKS`` contiguous blocks (in shard-id order;
in two-level runs a block holds whole realizations, since vectors of one realization are correlated);
each block is summed as it is read, so memory stays at one block of shards whatever the run's size.
``totals`` is the sum of the block sums in order: a fixed summation order, hence a resumed run gives
bitwise the same numbers as an uninterrupted one.  Error bars: ``finalize`` is re-evaluated with each
block left out (jackknife), which gives honest errors for non-linear (ratio) estimators without the
model knowing.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ensemble.engine.model import Model, PointResult, Result
from ensemble.engine.seeding import shard_members

MAX_BLOCKS = 64


def block_edges(n_shards: int, max_blocks: int = MAX_BLOCKS) -> np.ndarray:
    n_blocks = max(min(n_shards, max_blocks), 1)
    return np.linspace(0, n_shards, n_blocks + 1).round().astype(int)


def realization_groups(rows: np.ndarray) -> np.ndarray:
    """Group label of each two-level shard row (r0, r1, v0, v1): shards sharing a realization share a label.

    Labels increase with the realizations they cover, so groups are contiguous in realization order.
    """
    rows = np.asarray(rows)
    order = np.lexsort((np.arange(len(rows)), rows[:, 0]))
    labels = np.empty(len(rows), dtype=np.int64)
    label, reach = -1, -1
    for i in order:
        if rows[i, 0] >= reach:
            label += 1
        reach = max(reach, int(rows[i, 1]))
        labels[i] = label
    return labels


def block_partition(table: np.ndarray, ids: np.ndarray, max_blocks: int = MAX_BLOCKS):
    """Order the done shard ``ids`` for summation and cut them into jackknife blocks.

    Returns (ordered ids, block edges into them).  Flat runs: shard-id order, equal blocks.  Two-level
    runs: shards grouped by realization (then shard id), and block edges only between groups.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if np.asarray(table).shape[1] == 2:
        return ids, block_edges(len(ids), max_blocks)
    labels = realization_groups(np.asarray(table)[ids])
    order = np.lexsort((ids, labels))
    ids, labels = ids[order], labels[order]
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]]) if len(ids) else np.zeros(0, int)
    group_edges = np.r_[starts, len(ids)]
    return ids, group_edges[block_edges(len(starts), max_blocks)]


def summed_blocks(read: Callable[[int, int], dict[str, np.ndarray]], sizes: np.ndarray,
                  max_blocks: int = MAX_BLOCKS, edges: np.ndarray | None = None) -> list[dict[str, np.ndarray]]:
    """``read(a, b)`` returns per-accumulator arrays (b - a, *shape) of done shards a..b-1."""
    if edges is None:
        edges = block_edges(len(sizes), max_blocks)
    blocks = []
    for a, b in zip(edges[:-1], edges[1:]):
        block = {name: arr.sum(axis=0) for name, arr in read(a, b).items()}
        block["members"] = np.asarray(float(sizes[a:b].sum()))
        blocks.append(block)
    return blocks


def add_blocks(blocks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Sum block sums in block order (the fixed order that makes resumed runs bitwise equal)."""
    totals = {name: blocks[0][name].copy() for name in blocks[0]}
    for block in blocks[1:]:
        for name in totals:
            totals[name] = totals[name] + block[name]
    return totals


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


def _store_blocks(store, p: int) -> list[dict[str, np.ndarray]] | None:
    mask = store.done()[p]
    if not mask.any():
        return None
    table = store.shard_range()
    ids, edges = block_partition(table, np.nonzero(mask)[0])
    sizes = shard_members(table)[ids].astype(float)
    accs = store.spec.model.accumulators(store.spec.points()[p])
    arrays = {a.name: store.group[a.name] for a in accs}

    def read(a, b):
        sel = ids[a:b]
        return {name: np.asarray(arr.get_orthogonal_selection((p, sel))) for name, arr in arrays.items()}

    return summed_blocks(read, sizes, edges=edges)


def point_results(store, points: list[int] | None = None) -> list[PointResult]:
    """Estimators with errors for every point of a store, from whatever shards are done now."""
    spec = store.spec
    model = spec.model
    all_points = spec.points()
    out = []
    for p in (range(len(all_points)) if points is None else points):
        blocks = _store_blocks(store, p)
        if blocks is None:
            out.append(PointResult(all_points[p], 0, {}))
            continue
        totals, results = jackknife(model, all_points[p], blocks)
        out.append(PointResult(all_points[p], int(totals["members"]), results))
    return out


def point_totals(store, p: int) -> dict[str, np.ndarray]:
    """Summed accumulators of point ``p`` over its done shards (same order as the estimators use)."""
    blocks = _store_blocks(store, p)
    return add_blocks(blocks) if blocks else {}
