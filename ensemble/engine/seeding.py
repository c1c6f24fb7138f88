"""Member seeding and the shard table.

Member ``m`` of point ``p`` draws from ``SeedSequence(seed, spawn_key=(p, m))``, so a member's
random stream depends on nothing but (seed, p, m): not on shard size, worker count or restarts.
A shard is a fixed contiguous block ``[start, stop)`` of member ids; extending an ensemble appends
new shards after the old ones and never re-cuts existing shards.
"""
from __future__ import annotations

import numpy as np


def member_seeds(seed: int, point: int, member_ids) -> list[np.random.SeedSequence]:
    return [np.random.SeedSequence(seed, spawn_key=(point, int(m))) for m in member_ids]


def shard_table(members: int, shard_size: int, existing: np.ndarray | None = None) -> np.ndarray:
    """Return an int64 array (shards, 2) of [start, stop) member ranges covering ``members``.

    ``existing`` (from a store being extended) is kept as is; new shards start at its last stop.
    """
    table = [] if existing is None else [tuple(row) for row in np.asarray(existing)]
    start = int(table[-1][1]) if table else 0
    if members < start:
        raise ValueError(f"members = {members} is fewer than the {start} already in the store")
    while start < members:
        stop = min(start + shard_size, members)
        table.append((start, stop))
        start = stop
    return np.asarray(table, dtype=np.int64).reshape(-1, 2)
