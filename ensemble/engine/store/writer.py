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
    fields: tuple[tuple[str, tuple[int, ...], str], ...]   # the store's accumulators: name, shape, dtype

    @classmethod
    def of(cls, path: str, staging, accumulators: list[Accumulator]) -> "ShardWriter":
        return cls(path, staging, tuple((a.name, tuple(a.shape), str(np.dtype(a.dtype))) for a in accumulators))

    def write(self, point: int, shard: int, sums: dict[str, np.ndarray]) -> None:
        """Write one shard's sums (a crash before the commit leaves it pending)."""
        values = {}
        for name, shape, dtype in self.fields:
            if name not in sums:
                raise KeyError(f"run_shard returned no {name!r}")
            value = np.asarray(sums[name], dtype=dtype)
            if value.shape != shape:
                raise ValueError(f"run_shard returned {name!r} with shape {value.shape}, declared {shape}")
            values[name] = value
        self.staging.write(point, shard, values)

    def bytes_per_shard(self) -> int:
        """Bytes one shard occupies once compacted (values, done flag)."""
        return sum(int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize for _, shape, dtype in self.fields) + 1

    def staged_files(self) -> int:
        return self.staging.files_per_shard()
