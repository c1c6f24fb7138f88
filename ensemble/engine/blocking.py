"""Jackknife blocks: which done shards are summed together, and in which order.

One definition serves the estimators (reading any subset of done shards) and the store's compaction
(pre-summing the blocks of a complete point), so both give the same bits.  The done shards of a point
are cut into at most ``MAX_BLOCKS`` contiguous blocks in shard-id order; in two-level runs a block holds
whole realizations, since the vectors of one realization are correlated.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

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


def sum_dtype(dtype) -> np.dtype:
    """dtype of a numpy sum over shards (small ints and bools widen)."""
    return np.zeros(1, dtype=dtype).sum(axis=0).dtype
