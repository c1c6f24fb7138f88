"""Member seeding and the shard table.

Flat runs: member ``m`` of point ``p`` draws from ``SeedSequence(seed, spawn_key=(p, m))``.
Two-level runs (realizations x vectors): realization ``r`` of point ``p`` draws its disorder from
``SeedSequence(seed, spawn_key=(p, r))`` and its vector ``v`` from ``SeedSequence(seed, spawn_key=(p, r, v))``,
a child of the realization's sequence.  A stream depends on nothing but these ids: not on shard size,
worker count, restarts, or how many realizations or vectors the run has.

A shard is a fixed block of members.  Flat: rows ``[start, stop)`` of member ids.  Two-level: rows
``[r0, r1, v0, v1)``, a rectangle of realizations x vectors.  Extending an ensemble appends shards after
the old ones and never re-cuts existing shards.
"""
from __future__ import annotations

import numpy as np


def member_seeds(seed: int, point: int, member_ids) -> list[np.random.SeedSequence]:
    return [np.random.SeedSequence(seed, spawn_key=(point, int(m))) for m in member_ids]


def realization_seed(seed: int, point: int, realization: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(point, int(realization)))


def realization_of(seed: np.random.SeedSequence) -> int:
    """The realization index r of a stream made by :func:`realization_seed` (for models whose realizations are
    fixed strata, see ``Model.strata``)."""
    return int(seed.spawn_key[1])


def vector_seeds(seed: int, point: int, realization: int, vector_ids) -> list[np.random.SeedSequence]:
    return [np.random.SeedSequence(seed, spawn_key=(point, int(realization), int(v))) for v in vector_ids]


def shard_table(members: int, shard_size: int, existing: np.ndarray | None = None) -> np.ndarray:
    """Return an int64 array (shards, 2) of [start, stop) member ranges covering ``members``.

    ``existing`` (from a store being extended) is kept as is; new shards start at its last stop.
    """
    old = np.zeros((0, 2), dtype=np.int64) if existing is None else np.asarray(existing, dtype=np.int64).reshape(-1, 2)
    start = int(old[-1, 1]) if len(old) else 0
    if members < start:
        raise ValueError(f"members = {members} is fewer than the {start} already in the store")
    starts = np.arange(start, members, shard_size, dtype=np.int64)
    new = np.c_[starts, np.minimum(starts + shard_size, members)].astype(np.int64).reshape(-1, 2)
    return np.concatenate([old, new])


def _cut_rectangle(r_lo: int, r_hi: int, v_lo: int, v_hi: int, shard_size: int) -> list[tuple[int, int, int, int]]:
    """Cut realizations [r_lo, r_hi) x vectors [v_lo, v_hi) into shards of about ``shard_size`` members.

    When a realization's vectors fit in one shard, a shard holds whole realizations (its setup is never
    split across tasks); otherwise each shard holds one realization and a block of its vectors.
    """
    width = v_hi - v_lo
    rows = []
    if width <= 0 or r_hi <= r_lo:
        return rows
    if shard_size >= width:
        per = shard_size // width
        for r in range(r_lo, r_hi, per):
            rows.append((r, min(r + per, r_hi), v_lo, v_hi))
    else:
        for r in range(r_lo, r_hi):
            for v in range(v_lo, v_hi, shard_size):
                rows.append((r, r + 1, v, min(v + shard_size, v_hi)))
    return rows


def two_level_table(realizations: int, vectors: int, shard_size: int, existing: np.ndarray | None = None) -> np.ndarray:
    """Return an int64 array (shards, 4) of [r0, r1, v0, v1) rectangles covering realizations x vectors.

    ``existing`` is kept as is.  New vectors of old realizations come first, then the new realizations
    with all their vectors, so either axis can grow without touching what was computed.
    """
    old = np.zeros((0, 4), dtype=np.int64) if existing is None else np.asarray(existing, dtype=np.int64)
    r_old = int(old[:, 1].max()) if len(old) else 0
    v_old = int(old[:, 3].max()) if len(old) else 0
    if realizations < r_old or vectors < v_old:
        raise ValueError(f"realizations x vectors = {realizations} x {vectors} is fewer than the "
                         f"{r_old} x {v_old} already in the store")
    rows = [tuple(int(x) for x in row) for row in old]
    rows += _cut_rectangle(0, r_old, v_old, vectors, shard_size)
    rows += _cut_rectangle(r_old, realizations, 0, vectors, shard_size)
    return np.asarray(rows, dtype=np.int64).reshape(-1, 4)


def shard_members(table: np.ndarray) -> np.ndarray:
    """Members in each shard of a flat (shards, 2) or two-level (shards, 4) table."""
    table = np.asarray(table)
    if table.shape[1] == 2:
        return table[:, 1] - table[:, 0]
    return (table[:, 1] - table[:, 0]) * (table[:, 3] - table[:, 2])
