"""What a worker writes: one shard's sums into the staging area, committed by a single atomic write.

A :class:`ShardWriter` is made by the client from the store's metadata and shipped with every task, so a
worker never opens zarr: it writes whole chunk files (atomically, with their checksums).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.engine.model import Accumulator


@dataclass(frozen=True)
class ShardWriter:
    path: str
    staging: object                            # RecordStaging (layout 3) or ArrayStaging (layout 2)
    shapes: tuple[tuple[str, tuple[int, ...]], ...]   # the store's accumulators, in order
    value_bytes: int                           # one shard's values

    def write(self, point: int, shard: int, sums: dict[str, np.ndarray], accumulators: list[Accumulator]) -> None:
        """Write one shard's sums (a crash before the commit leaves it pending)."""
        by_name = {a.name: a for a in accumulators}
        values = {}
        for name, shape in self.shapes:
            if name not in sums:
                raise KeyError(f"run_shard returned no {name!r}")
            value = np.asarray(sums[name], dtype=by_name[name].dtype)
            if value.shape != tuple(shape):
                raise ValueError(f"run_shard returned {name!r} with shape {value.shape}, declared {tuple(shape)}")
            values[name] = value
        self.staging.write(point, shard, values)

    def bytes_per_shard(self) -> int:
        """Bytes one shard occupies once compacted (values, done flag)."""
        return self.value_bytes + 1

    def staged_files(self) -> int:
        return self.staging.files_per_shard()
