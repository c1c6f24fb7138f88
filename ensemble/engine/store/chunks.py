"""Chunk files of the store's arrays, read and written without zarr's general path.

Every array the engine writes is uncompressed: a chunk file is the chunk's little-endian bytes, followed
by a 4-byte crc32c of those bytes where the array's codecs end in ``crc32c`` (zarr v3's checksum codec,
so zarr and xarray verify the same files).  A chunk is written to a temporary file and renamed into
place, so a reader sees the old chunk or the new one, never half of one; a torn or flipped chunk is
found by its length or its checksum and raised as :class:`ChunkError`, never returned as numbers.
"""
from __future__ import annotations

import json
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

import google_crc32c
import numpy as np

CRC_BYTES = 4


class ChunkError(Exception):
    """A chunk file that cannot be trusted: ``problem`` is "corrupted" (checksum) or "truncated" (length)."""

    def __init__(self, array: str, coords: tuple[int, ...], problem: str, path: str):
        super().__init__(f"{array} chunk {coords} is {problem}")
        self.array, self.coords, self.problem, self.path = array, tuple(coords), problem, path


def crc32c(data) -> bytes:
    """zarr's crc32c trailer: the checksum as 4 little-endian bytes."""
    return struct.pack("<I", google_crc32c.value(data))


@dataclass(frozen=True)
class ChunkedArray:
    """What it takes to read and write the chunk files of one array of a store (picklable: workers get it)."""

    root: str                   # the array's directory
    name: str                   # its path inside the store, e.g. "staging/done"
    dtype: str                  # numpy dtype string (stored little-endian)
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    separator: str              # chunk key separator: "/" (nested directories) or "." (flat)
    checksummed: bool
    fill: float | int | bool = 0

    @classmethod
    def from_metadata(cls, store_root: str | Path, name: str) -> "ChunkedArray":
        root = Path(store_root) / name
        meta = json.loads((root / "zarr.json").read_text())
        codecs = [c["name"] for c in meta.get("codecs", [])]
        if not codecs or codecs[0] != "bytes" or set(codecs[1:]) - {"crc32c"}:
            raise ValueError(f"{name}: codecs {codecs} are not raw chunks")
        endian = (meta["codecs"][0].get("configuration") or {}).get("endian", "little")
        if endian != "little":
            raise ValueError(f"{name}: big-endian chunks")
        encoding = meta.get("chunk_key_encoding", {})
        separator = (encoding.get("configuration") or {}).get("separator", "/")
        fill = meta.get("fill_value", 0)
        return cls(str(root), name, np.dtype(meta["data_type"]).str, tuple(meta["shape"]),
                   tuple(meta["chunk_grid"]["configuration"]["chunk_shape"]), separator,
                   codecs[-1] == "crc32c", fill if fill is not None else 0)

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype).newbyteorder("<")

    @property
    def chunk_bytes(self) -> int:
        return int(np.prod(self.chunks, dtype=np.int64)) * self.np_dtype.itemsize

    def coords_of(self, *lead: int) -> tuple[int, ...]:
        """Chunk coordinates from the leading ones (point, shard chunk, ...): trailing axes are whole chunks."""
        return (*(int(c) for c in lead), *(0,) * (len(self.chunks) - len(lead)))

    def shard_chunks(self, n_shards: int):
        """(k, first shard, end shard) of each chunk along the shard axis (axis 1) of ``n_shards`` shards."""
        length = self.chunks[1]
        for k in range(-(-n_shards // length)):
            yield k, k * length, min((k + 1) * length, n_shards)

    def path(self, coords) -> str:
        """The chunk's file (a plain string: compaction builds tens of thousands of these a second)."""
        return self.root + "/" + self.separator.join(["c", *map(str, coords)])

    def decode(self, data: bytes, coords) -> np.ndarray:
        want = self.chunk_bytes + (CRC_BYTES if self.checksummed else 0)
        if len(data) != want:
            raise ChunkError(self.name, tuple(coords), "truncated" if len(data) < want else "corrupted",
                             self.path(coords))
        if self.checksummed:
            body = data[:-CRC_BYTES]
            if crc32c(body) != data[-CRC_BYTES:]:
                raise ChunkError(self.name, tuple(coords), "corrupted", self.path(coords))
        else:
            body = data
        return np.frombuffer(body, dtype=self.np_dtype).reshape(self.chunks)

    def read(self, coords) -> np.ndarray | None:
        """The chunk at ``coords`` (read-only), or None where its file does not exist."""
        try:
            with open(self.path(coords), "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return None
        return self.decode(data, coords)

    def read_or_fill(self, coords) -> np.ndarray:
        got = self.read(coords)
        return np.full(self.chunks, self.fill, dtype=self.np_dtype) if got is None else got

    def encode(self, values) -> bytes:
        body = np.ascontiguousarray(np.broadcast_to(values, self.chunks), dtype=self.np_dtype).tobytes()
        return body + crc32c(body) if self.checksummed else body

    def write(self, coords, values, atomic: bool = True) -> None:
        """Replace the chunk at ``coords``: atomically (a temporary file, then a rename), or, where something
        else commits the write (a staged shard's ``done`` chunk, written last), in place."""
        target = self.path(coords)
        data = self.encode(values)
        head, name = os.path.split(target)
        tmp = os.path.join(head, f".{name}.{os.getpid()}.{threading.get_ident()}.tmp") if atomic else target
        try:
            _write_file(tmp, data)
        except FileNotFoundError:  # first chunk under a new directory
            os.makedirs(head, exist_ok=True)
            _write_file(tmp, data)
        if atomic:
            os.replace(tmp, target)

    def delete(self, coords) -> None:
        try:
            os.unlink(self.path(coords))
        except FileNotFoundError:
            pass


def _write_file(path: str, data: bytes) -> None:
    """Write ``data`` to ``path``; a failed write (a full disk) leaves no partial file behind."""
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError:
        try:
            os.unlink(path)
        except OSError:
            pass
        raise
