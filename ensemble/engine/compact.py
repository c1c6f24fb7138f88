"""Compaction of a run store: few large files instead of one small file per shard and accumulator.

Layout of a compacted store (group attribute ``layout`` = 2; stores without it are read as before):
  staging/<acc>, staging/done    one chunk per (point, shard): what workers write (never a shared file)
  <acc>, done                    (point, shard, ...) in chunks of up to SHARDS_PER_CHUNK shards
  blocks/<acc>, blocks/members   (point, block, ...) jackknife block sums of each complete point
  blocks/n_shards, blocks/count  (point,) shard count those blocks were summed for (0: none), block count

Only the client that holds the store's lease compacts, so it is the single writer of the large chunks.
A pass moves staged shards into the large chunks (each rewritten to a temporary file and renamed: atomic),
then marks them done there, then deletes the staged files; a kill at any moment leaves each shard staged,
compacted or pending, and the next pass repeats the same idempotent steps.  Block sums are made with the
estimators' own partition and summation (:func:`ensemble.engine.estimators.summed_blocks`) from the same
per-shard values, so they are bitwise what summing the shards would give.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import zarr

SHARDS_PER_CHUNK = 1000
MAX_CHUNK_BYTES = 16 * 2**20
STAGING, BLOCKS = "staging", "blocks"
LAYOUT = 2
INTERVAL_S = 2.0


def shards_per_chunk(bytes_per_shard: int) -> int:
    """Shards in one large chunk: SHARDS_PER_CHUNK, fewer for big accumulators (chunk at most 16 MiB)."""
    return int(max(1, min(SHARDS_PER_CHUNK, MAX_CHUNK_BYTES // max(int(bytes_per_shard), 1))))


def sum_dtype(dtype) -> np.dtype:
    """dtype of a numpy sum over shards (small ints and bools widen)."""
    return np.zeros(1, dtype=dtype).sum(axis=0).dtype


_COMPACTED: set[str] = set()


def is_compacted(path: str) -> bool:
    """Whether the store at ``path`` has the staging layout (remembered once seen: a layout never goes away)."""
    if path in _COMPACTED:
        return True
    if (Path(path) / STAGING / "zarr.json").is_file():
        _COMPACTED.add(path)
        return True
    return False


def create_side_groups(group: zarr.Group, accs, n_points: int, n_shards: int) -> None:
    """Add the staging and block-sum groups to a new store (called once, by the store's creation)."""
    staging = group.create_group(STAGING)
    for acc in accs:
        staging.create_array(acc.name, shape=(n_points, n_shards, *acc.shape), chunks=(1, 1, *acc.shape),
                             dtype=acc.dtype, fill_value=0, compressors=None,
                             dimension_names=("point", "shard", *acc.dims))
    staging.create_array("done", shape=(n_points, n_shards), chunks=(1, 1), dtype=bool, fill_value=False,
                         compressors=None, dimension_names=("point", "shard"))
    blocks = group.create_group(BLOCKS)
    from ensemble.engine.estimators import MAX_BLOCKS

    for acc in accs:
        blocks.create_array(acc.name, shape=(n_points, MAX_BLOCKS, *acc.shape), chunks=(1, MAX_BLOCKS, *acc.shape),
                            dtype=sum_dtype(acc.dtype), fill_value=0, compressors=None,
                            dimension_names=("point", "block", *acc.dims))
    blocks.create_array("members", shape=(n_points, MAX_BLOCKS), chunks=(1, MAX_BLOCKS), dtype="float64",
                        fill_value=0, compressors=None, dimension_names=("point", "block"))
    for name in ("n_shards", "count"):
        blocks.create_array(name, shape=(n_points,), chunks=(max(n_points, 1),), dtype="int64", fill_value=0,
                            compressors=None, dimension_names=("point",))
    group.attrs["layout"] = LAYOUT


class _Rows:
    """Rows (point, shard ids) of one compacted (point, shard, ...) array, read and written as raw chunk files."""

    def __init__(self, path: Path, name: str):
        from ensemble.engine.store import raw_chunks

        self.path = path / name
        self.array = zarr.open_array(str(self.path), mode="r")
        meta = self.array.metadata
        self.raw = raw_chunks(self.array)
        self.length = int(meta.chunks[1])
        self.shape = tuple(meta.shape[2:])
        self.dtype = np.dtype(self.array.dtype)
        self.fill = np.asarray(meta.fill_value, dtype=self.dtype) if meta.fill_value is not None else 0
        self.root = path / name / "c"
        self.tail = ("0",) * len(self.shape)

    def _file(self, p: int, k: int) -> Path:
        return self.root.joinpath(str(p), str(k), *self.tail)

    def _chunk(self, p: int, k: int) -> np.ndarray:
        try:
            data = np.fromfile(self._file(p, k), dtype=self.dtype.newbyteorder("<"))
        except FileNotFoundError:
            return np.full((self.length, *self.shape), self.fill, dtype=self.dtype)
        return data.reshape(self.length, *self.shape).astype(self.dtype, copy=False)

    def read(self, p: int, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        if not self.raw:
            return np.asarray(self.array.get_orthogonal_selection((p, ids)))
        out = np.empty((len(ids), *self.shape), dtype=self.dtype)
        chunk_of = ids // self.length
        for k in np.unique(chunk_of):
            where = np.flatnonzero(chunk_of == k)
            out[where] = self._chunk(p, int(k))[ids[where] - k * self.length]
        return out

    def write(self, p: int, ids: np.ndarray, values: np.ndarray) -> None:
        """Set rows ``ids`` of point ``p``; each touched chunk is replaced atomically."""
        ids = np.asarray(ids, dtype=np.int64)
        if not self.raw:
            zarr.open_array(str(self.path), mode="r+").set_orthogonal_selection((p, ids), values)
            return
        chunk_of = ids // self.length
        for k in np.unique(chunk_of):
            where = np.flatnonzero(chunk_of == k)
            rows = self._chunk(p, int(k)).copy()
            rows[ids[where] - k * self.length] = values[where]
            target = self._file(p, int(k))
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.compact.{os.getpid()}.tmp")
            tmp.write_bytes(np.ascontiguousarray(rows, dtype=self.dtype.newbyteorder("<")).tobytes())
            os.replace(tmp, target)


def _staged_file(path: Path, name: str, p: int, s: int, ndim: int) -> Path:
    return path.joinpath(STAGING, name, "c", str(p), str(s), *("0",) * ndim)


def staged_ids(path: str | Path, p: int) -> np.ndarray:
    """Shard ids of point ``p`` whose staged ``done`` chunk exists (sorted)."""
    try:
        names = os.listdir(Path(path) / STAGING / "done" / "c" / str(p))
    except FileNotFoundError:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.asarray([int(n) for n in names if n.isdigit()], dtype=np.int64))


def with_staged(path: str | Path, done: np.ndarray) -> np.ndarray:
    """``done`` (from the compacted array) or'ed with the shards that are done but still staged."""
    if not is_compacted(str(path)):
        return done
    done = done.copy()
    for p in range(done.shape[0]):
        ids = staged_ids(path, p)
        done[p, ids[ids < done.shape[1]]] = True
    return done


def _read_staged(path: Path, rows: _Rows, name: str, p: int, s: int) -> np.ndarray | None:
    try:
        data = np.fromfile(_staged_file(path, name, p, s, len(rows.shape)), dtype=rows.dtype.newbyteorder("<"))
    except FileNotFoundError:
        return None
    return data.reshape(rows.shape).astype(rows.dtype, copy=False)


def read_shards(store, p: int, names: list[str], ids: np.ndarray) -> dict[str, np.ndarray]:
    """Per-shard values (len(ids), *shape) of point ``p`` for done shards ``ids``, staged or compacted."""
    ids = np.asarray(ids, dtype=np.int64)
    if not is_compacted(str(store.path)):
        return {n: np.asarray(store.group[n].get_orthogonal_selection((p, ids))) for n in names}
    staged = np.intersect1d(ids, staged_ids(store.path, p))
    out = {}
    for name in names:
        rows = _Rows(store.path, name)
        values = rows.read(p, ids)
        for s in staged:
            value = _read_staged(store.path, rows, name, p, int(s))
            if value is not None:
                values[ids == s] = value
        out[name] = values
    return out


def cached_blocks(store, p: int, done_row: np.ndarray) -> list[dict[str, np.ndarray]] | None:
    """The pre-summed jackknife blocks of point ``p`` when it is complete and they are current, else None."""
    if not (is_compacted(str(store.path)) and done_row.all()):
        return None
    blocks = zarr.open_group(str(store.path / BLOCKS), mode="r")
    if int(blocks["n_shards"][p]) != done_row.size:
        return None
    count = int(blocks["count"][p])
    names = list(store.group.attrs["accumulators"])
    data = {name: np.asarray(blocks[name][p, :count]) for name in names}
    members = np.asarray(blocks["members"][p, :count])
    return [{**{name: data[name][i] for name in names}, "members": np.asarray(float(members[i]))}
            for i in range(count)]


class _Compactor:
    def __init__(self, path: Path):
        self.path = path
        group = zarr.open_group(str(path), mode="r", use_consolidated=False)
        self.names = list(group.attrs["accumulators"])
        self.n_points, self.n_shards = group["done"].shape
        self.rows = {name: _Rows(path, name) for name in [*self.names, "done"]}
        self.blocks = zarr.open_group(str(path / BLOCKS), mode="r+", use_consolidated=False)
        self.group = group

    def move_staged(self, p: int) -> int:
        """Move point ``p``'s staged shards into the compacted chunks; returns how many moved."""
        ids = staged_ids(self.path, p)
        ids = ids[ids < self.n_shards]
        if not len(ids):
            return 0
        self.blocks["n_shards"][p] = 0  # its data change: the cached blocks are no longer proven current
        moved = 0
        for k in np.unique(ids // SHARDS_PER_CHUNK):
            batch = ids[ids // SHARDS_PER_CHUNK == k]
            values = {name: [] for name in self.names}
            kept = []
            for s in batch:
                got = {name: _read_staged(self.path, self.rows[name], name, p, int(s)) for name in self.names}
                if all(v is not None for v in got.values()):
                    kept.append(int(s))
                    for name, v in got.items():
                        values[name].append(v)
                # else: a repeated task is rewriting this shard after an earlier pass took it; already moved
            if kept:
                for name in self.names:
                    self.rows[name].write(p, np.asarray(kept), np.stack(values[name]))
                self.rows["done"].write(p, np.asarray(kept), np.ones(len(kept), dtype=bool))
            for s in batch:  # done first: a shard never looks staged-done without its values
                for name in ["done", *self.names]:
                    ndim = 0 if name == "done" else len(self.rows[name].shape)
                    try:
                        _staged_file(self.path, name, p, int(s), ndim).unlink()
                    except FileNotFoundError:
                        pass
            moved += len(kept)
        return moved

    def update_blocks(self, p: int) -> bool:
        """Pre-sum the jackknife blocks of point ``p`` if it is complete and not yet summed."""
        from ensemble.engine.estimators import block_partition, summed_blocks
        from ensemble.engine.seeding import shard_members

        if int(self.blocks["n_shards"][p]) == self.n_shards:
            return False
        done = self.rows["done"].read(p, np.arange(self.n_shards))
        if not done.all():
            return False
        table = np.asarray(self.group["shard_range"][:])
        ids, edges = block_partition(table, np.arange(self.n_shards))
        sizes = shard_members(table)[ids].astype(float)
        store = _StoreView(self.path, self.group)
        sums = summed_blocks(lambda a, b: read_shards(store, p, self.names, ids[a:b]), sizes, edges=edges)
        for name in self.names:
            self.blocks[name][p, :len(sums)] = np.stack([np.asarray(b[name]) for b in sums])
        self.blocks["members"][p, :len(sums)] = np.asarray([float(b["members"]) for b in sums])
        self.blocks["count"][p] = len(sums)
        self.blocks["n_shards"][p] = self.n_shards  # last: marks the blocks current
        return True


class _StoreView:
    def __init__(self, path: Path, group: zarr.Group):
        self.path, self.group = path, group


def compact(path: str | Path, all_points: bool = False) -> int:
    """One compaction pass; returns the number of shards moved.  ``all_points`` also (re)sums the blocks
    of complete points that were not touched in this pass (a final pass, or after a crash)."""
    path = Path(path)
    if not is_compacted(str(path)):
        return 0
    comp = _Compactor(path)
    if all_points:  # temporary files of a pass killed half-way (only this client compacts)
        for name in comp.rows:
            for tmp in (path / name / "c").rglob(".*.compact.*.tmp"):
                tmp.unlink(missing_ok=True)
    moved = 0
    for p in range(comp.n_points):
        n = comp.move_staged(p)
        moved += n
        if n or all_points:
            comp.update_blocks(p)
    return moved


@contextmanager
def background_compaction(path: str | Path, interval: float = INTERVAL_S):
    """Compact every ``interval`` seconds while the body runs (the run's client), and once more at the end."""
    path = Path(path)
    if not is_compacted(str(path)):
        yield
        return
    stop = threading.Event()
    errors: list[BaseException] = []

    def loop():
        while not stop.wait(interval):
            try:
                compact(path)
            except Exception as exc:  # noqa: BLE001 - reported after the run; the shards stay staged
                errors.append(exc)
                return

    thread = threading.Thread(target=loop, name="ensemble-compaction", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        compact(path, all_points=True)
    if errors:
        raise errors[0]
