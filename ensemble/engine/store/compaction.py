"""Compaction: few large chunk files instead of one small file per shard and array.

Only the client that holds the store's lease compacts, so it is the single writer of the large chunks
and the block sums.  A pass moves staged shards into the large chunks (each chunk rewritten to a
temporary file and renamed: atomic), then marks them done there, then deletes the staged files (``done``
first); a kill at any moment leaves each shard staged, compacted or pending, and the next pass repeats
the same idempotent steps.  Block sums are made with the estimators' own partition and summation
(:mod:`ensemble.engine.blocking`) from the same per-shard values, so they are bitwise what summing the
shards would give.  A large chunk that fails its checksum is never rewritten (that would bury the damage):
the pass stops with :class:`StoreCorruption`.  A staged chunk that fails its checksum is discarded, so
its shard is pending again and is recomputed.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ensemble.engine.blocking import block_partition, summed_blocks
from ensemble.engine.seeding import shard_members
from ensemble.engine.store.chunks import ChunkedArray, ChunkError
from ensemble.engine.store.layout import BLOCKS, SHARDS_PER_CHUNK, STAGING
from ensemble.engine.store.run_store import RunStore, StoreCorruption

INTERVAL_S = 2.0
STALE_TMP_S = 3600.0   # a worker's temporary file this old belongs to a task that died


def write_rows(store: RunStore, array: ChunkedArray, p: int, ids: np.ndarray, values: np.ndarray) -> None:
    """Set rows ``ids`` of point ``p`` of a (point, shard, ...) array; each touched chunk is replaced atomically."""
    length = array.chunks[1]
    chunk_of = ids // length
    for k in np.unique(chunk_of):
        where = np.flatnonzero(chunk_of == k)
        try:
            rows = array.read_or_fill(array.coords_of(p, k)).copy()
        except ChunkError as err:
            raise store.corruption(err) from None
        rows[0, ids[where] - k * length] = values[where]
        array.write(array.coords_of(p, k), rows)


def set_point_counts(store: RunStore, p: int, n_shards: int | None = None, count: int | None = None) -> None:
    """Set blocks/n_shards and/or blocks/count of point ``p`` (single-chunk arrays over all points)."""
    for name, value in (("count", count), ("n_shards", n_shards)):  # n_shards last: it marks blocks current
        if value is None:
            continue
        array = store.array(f"{BLOCKS}/{name}")
        try:
            chunk = array.read_or_fill((0,)).copy()
        except ChunkError as err:
            raise store.corruption(err) from None
        chunk[p] = value
        array.write((0,), chunk)


class Compactor:
    def __init__(self, store: RunStore):
        self.store = store
        self.values = {name: store.array(name) for name in store.names}
        self.done = store.array("done")
        self.staging = store.staging
        self.discarded: list[tuple[int, int, str]] = []   # staged shards that failed their check

    def move_staged(self, p: int, ids: np.ndarray) -> int:
        """Move point ``p``'s staged shards ``ids`` into the large chunks; returns how many moved."""
        store = self.store
        if not len(ids):
            return 0
        n_done, _ = store.block_counts()
        if n_done[p]:
            set_point_counts(store, p, n_shards=0)  # its data change: the cached blocks are no longer current
        moved = 0
        for k in np.unique(ids // SHARDS_PER_CHUNK):
            batch = ids[ids // SHARDS_PER_CHUNK == k]
            values: dict[str, list[np.ndarray]] = {name: [] for name in store.names}
            kept = []
            for s in batch:
                try:
                    got = store.read_staged(p, int(s))
                except StoreCorruption as exc:  # a damaged staged chunk: discarded, so the shard is recomputed
                    self.discarded.append((p, int(s), str(exc)))
                    self.staging.remove(p, int(s))
                    continue
                if got is not None:
                    kept.append(int(s))
                    for name in store.names:
                        values[name].append(got[name])
                # else: a repeated task is rewriting this shard after an earlier pass took it; already moved
            if kept:
                rows = np.asarray(kept)
                for name in store.names:
                    write_rows(store, self.values[name], p, rows, np.stack(values[name]))
                write_rows(store, self.done, p, rows, np.ones(len(kept), dtype=bool))
            for s in batch:
                self.staging.remove(p, int(s))
            moved += len(kept)
        return moved

    def update_blocks(self, p: int) -> bool:
        """Pre-sum the jackknife blocks of point ``p`` if it is complete and not yet summed."""
        store = self.store
        n_shards = store.n_shards
        n_done, _ = store.block_counts()
        if int(n_done[p]) == n_shards:
            return False
        if not self.complete(p):
            return False
        all_ids = np.arange(n_shards)
        table = store.shard_range()
        ids, edges = block_partition(table, all_ids)
        sizes = shard_members(table)[ids].astype(float)
        sums = summed_blocks(lambda a, b: store.read_shards(p, store.names, ids[a:b]), sizes, edges=edges)
        for name in [*store.names, "members"]:
            array = store.array(f"{BLOCKS}/{name}")
            chunk = np.zeros(array.chunks, dtype=np.dtype(array.dtype))
            chunk[0, :len(sums)] = np.stack([np.asarray(b[name]) for b in sums])
            array.write(array.coords_of(p, 0), chunk)
        set_point_counts(store, p, count=len(sums))
        set_point_counts(store, p, n_shards=n_shards)  # last: marks the blocks current
        return True

    def complete(self, p: int) -> bool:
        """Whether every shard of point ``p`` is compacted (stops at the first chunk that is not)."""
        for k, lo, hi in self.done.shard_chunks(self.store.n_shards):
            try:
                chunk = self.done.read((p, k))
            except ChunkError as err:
                raise self.store.corruption(err) from None
            if chunk is None or not chunk[0, :hi - lo].all():
                return False
        return True

    def remove_temporaries(self) -> None:
        """Temporary files of a pass killed half-way (only this client writes the large chunks and blocks),
        and workers' temporary staged files old enough to belong to tasks that died."""
        path = self.store.path
        for array in [*self.values.values(), self.done]:
            for tmp in Path(array.root).rglob(".*.tmp"):
                tmp.unlink(missing_ok=True)
        for tmp in (path / BLOCKS).rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        cutoff = time.time() - STALE_TMP_S
        for tmp in (path / STAGING).rglob(".*.tmp"):
            try:
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink(missing_ok=True)
            except FileNotFoundError:
                pass
        self.staging.tidy()


def compact(store: RunStore, all_points: bool = False) -> int:
    """One compaction pass; returns the number of shards moved.  ``all_points`` also (re)sums the blocks
    of complete points that were not touched in this pass (a final pass, or after a crash)."""
    if not store.staged:
        return 0
    comp = Compactor(store)
    staged = store.staged_ids()
    moved = 0
    for p in range(store.n_points):
        n = comp.move_staged(p, staged.get(p, np.zeros(0, np.int64)))
        moved += n
        if n or all_points:
            comp.update_blocks(p)
    if all_points:
        comp.remove_temporaries()
    store.discarded += comp.discarded
    return moved


@contextmanager
def background_compaction(store: RunStore, interval: float = INTERVAL_S):
    """Compact every ``interval`` seconds while the body runs (the run's client), and once more at the end.

    An error of a pass stops the thread; it is raised after the body unless the body raised itself."""
    if not store.staged:
        yield
        return
    stop = threading.Event()
    errors: list[BaseException] = []

    def loop():
        while not stop.wait(interval):
            try:
                compact(store)
            except Exception as exc:  # noqa: BLE001 - raised after the run; the shards stay staged
                errors.append(exc)
                return

    thread = threading.Thread(target=loop, name="ensemble-compaction", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if not errors:
            try:
                compact(store, all_points=True)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
    if errors:
        raise errors[0]
