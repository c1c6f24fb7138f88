"""What a worker writes: one shard's sums into the staging area, its ``done`` chunk last.

A :class:`ShardWriter` is made by the client from the store's metadata and shipped with every task, so a
worker never opens zarr: it writes whole chunk files (atomically, with their checksums).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.engine.model import Accumulator
from ensemble.engine.store.chunks import ChunkedArray
from ensemble.engine.store.staging import staged_coords


@dataclass(frozen=True)
class ShardWriter:
    path: str
    arrays: tuple[ChunkedArray, ...]   # staged accumulators, in the model's order
    done: ChunkedArray

    def write(self, point: int, shard: int, sums: dict[str, np.ndarray], accumulators: list[Accumulator]) -> None:
        """Write one shard's sums, then mark it done (a crash in between leaves it pending)."""
        by_name = {a.name: a for a in accumulators}
        values = []
        for array in self.arrays:
            name = array.name.rsplit("/", 1)[-1]
            if name not in sums:
                raise KeyError(f"run_shard returned no {name!r}")
            value = np.asarray(sums[name], dtype=by_name[name].dtype)
            if value.shape != tuple(array.chunks[2:]):
                raise ValueError(f"run_shard returned {name!r} with shape {value.shape}, declared {array.chunks[2:]}")
            values.append(value)
        for array, value in zip(self.arrays, values):  # in place: the done chunk below commits them
            array.write(staged_coords(array, point, shard), value.reshape(array.chunks), atomic=False)
        self.done.write((point, shard), np.ones((1, 1), dtype=bool))

    def bytes_per_shard(self) -> int:
        """Bytes one shard occupies once compacted (values, done flag)."""
        return sum(a.chunk_bytes for a in self.arrays) + 1
