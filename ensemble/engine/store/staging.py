"""The staging area: what workers write, one shard at a time, and compaction empties.

Layout 3: one chunk file per (point, shard), ``staging/shards/c.<point>.<shard>.0``, holding all of the
shard's accumulators (little-endian, in the store's accumulator order) and a crc32c; it is written to a
temporary file and renamed, so its existence is the shard's ``done``.  One file per shard, flat names: no
directories to leave behind.  It is a zarr array of bytes (``staging/shards``, with the record's fields
in its attributes), so zarr verifies the same files.
Layout 2 (still read and resumed): one chunk per shard and accumulator plus a ``done`` chunk written last,
nested as ``staging/<array>/c/<point>/<shard>``, without checksums.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ensemble.engine.store.chunks import ChunkedArray, ChunkError
from ensemble.engine.store.layout import STAGING

RECORDS = "shards"


@dataclass(frozen=True)
class Field:
    name: str
    dtype: str      # little-endian numpy dtype string
    shape: tuple[int, ...]
    offset: int

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


def record_fields(accumulators) -> list[Field]:
    """Where each accumulator lies in a shard's staged record."""
    fields, offset = [], 0
    for acc in accumulators:
        field = Field(acc.name, np.dtype(acc.dtype).newbyteorder("<").str, tuple(acc.shape), offset)
        fields.append(field)
        offset += field.nbytes
    return fields


def _parse(names, parts_wanted: int) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for name in names:
        parts = name.split(".")
        if len(parts) == parts_wanted and parts[0] == "c" and parts[1].isdigit() and parts[2].isdigit():
            found.setdefault(int(parts[1]), []).append(int(parts[2]))
    return found


def _sorted(found: dict[int, list[int]], n_points: int, n_shards: int) -> dict[int, np.ndarray]:
    out = {}
    for p, ids in found.items():
        ids = np.sort(np.asarray(ids, dtype=np.int64))
        ids = ids[ids < n_shards]
        if p < n_points and len(ids):
            out[p] = ids
    return out


@dataclass(frozen=True)
class RecordStaging:
    """Layout 3: one checksummed record file per shard (see the module docstring)."""

    records: ChunkedArray
    fields: tuple[Field, ...]

    def write(self, p: int, s: int, values: dict[str, np.ndarray]) -> None:
        record = np.concatenate([np.ascontiguousarray(values[f.name], dtype=f.dtype).reshape(-1).view(np.uint8)
                                 for f in self.fields]) if self.fields else np.zeros(0, np.uint8)
        self.records.write(self.records.coords_of(p, s), record.reshape(self.records.chunks))

    def read(self, p: int, s: int) -> dict[str, np.ndarray] | None:
        raw = self.records.read(self.records.coords_of(p, s))
        if raw is None:
            return None
        raw = raw.reshape(-1)
        return {f.name: raw[f.offset:f.offset + f.nbytes].view(f.dtype).reshape(f.shape) for f in self.fields}

    def remove(self, p: int, s: int) -> None:
        self.records.delete(self.records.coords_of(p, s))

    def ids(self, n_points: int, n_shards: int) -> dict[int, np.ndarray]:
        try:
            names = os.listdir(self.records.root)
        except FileNotFoundError:
            return {}
        return _sorted(_parse(names, 4), n_points, n_shards)

    def files_per_shard(self) -> int:
        return 1

    def tidy(self) -> None:
        """Nothing nests in this layout."""


@dataclass(frozen=True)
class ArrayStaging:
    """Layout 2: a chunk per shard and accumulator, then its ``done`` chunk (see the module docstring)."""

    arrays: tuple[ChunkedArray, ...]     # in the store's accumulator order
    done: ChunkedArray

    def _name(self, array: ChunkedArray) -> str:
        return array.name.rsplit("/", 1)[-1]

    def write(self, p: int, s: int, values: dict[str, np.ndarray]) -> None:
        for array in self.arrays:  # in place: the done chunk below commits them
            array.write(array.coords_of(p, s), np.asarray(values[self._name(array)]).reshape(array.chunks),
                        atomic=False)
        self.done.write((p, s), np.ones((1, 1), dtype=bool))

    def read(self, p: int, s: int) -> dict[str, np.ndarray] | None:
        out = {}
        for array in self.arrays:
            got = array.read(array.coords_of(p, s))
            if got is None:
                return None   # a repeated task is rewriting it, or it was moved meanwhile
            out[self._name(array)] = got[0, 0]
        return out

    def remove(self, p: int, s: int) -> None:
        for array in (self.done, *self.arrays):  # done first: never done without its values
            array.delete(array.coords_of(p, s))
            parent, top = Path(array.path(array.coords_of(p, s))).parent, Path(array.root) / "c" / str(p)
            while parent != top and parent.is_relative_to(top):
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent

    def ids(self, n_points: int, n_shards: int) -> dict[int, np.ndarray]:
        root = Path(self.done.root)
        found: dict[int, list[int]] = {}
        try:
            points = os.listdir(root / "c")
        except FileNotFoundError:
            return {}
        for p in points:
            if p.isdigit():
                found[int(p)] = [int(s) for s in os.listdir(root / "c" / p) if s.isdigit()]
        return _sorted(found, n_points, n_shards)

    def files_per_shard(self) -> int:
        return len(self.arrays) + 1

    def tidy(self) -> None:
        """Remove emptied nested directories (an earlier version left one per shard)."""
        for array in (self.done, *self.arrays):
            for root, _, _ in os.walk(Path(array.root) / "c", topdown=False):
                try:
                    os.rmdir(root)   # fails (and stays) where the directory is not empty
                except OSError:
                    pass


def open_staging(store_path: Path, names: list[str], layout: int):
    """The staging area of a store of ``layout`` (2 or 3) with accumulators ``names``."""
    if layout >= 3:
        records = ChunkedArray.from_metadata(store_path, f"{STAGING}/{RECORDS}")
        import json

        attrs = json.loads((store_path / STAGING / RECORDS / "zarr.json").read_text()).get("attributes", {})
        fields = tuple(Field(n, d, tuple(shape), o) for n, d, shape, o in attrs["fields"])
        return RecordStaging(records, fields)
    return ArrayStaging(tuple(ChunkedArray.from_metadata(store_path, f"{STAGING}/{n}") for n in names),
                        ChunkedArray.from_metadata(store_path, f"{STAGING}/done"))


__all__ = ["ArrayStaging", "ChunkError", "Field", "RecordStaging", "open_staging", "record_fields"]
