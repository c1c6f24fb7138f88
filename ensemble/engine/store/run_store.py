"""The run store as one object: its layout, what workers write, what the client compacts, what estimators read.

Everything that touches a store's files goes through :class:`RunStore`; the path of a store is opened
once per process and command.  Reading verifies every chunk it reads (layout 3), and a chunk that fails
its check is raised as :class:`StoreCorruption` naming the array and the (point, shard) range, never
returned as numbers.
"""
from __future__ import annotations

import time
from functools import cached_property
from pathlib import Path

import numpy as np
import zarr

from ensemble.engine.blocking import block_partition, summed_blocks
from ensemble.engine.model import SpecError
from ensemble.engine.seeding import shard_members, shard_table, two_level_table
from ensemble.engine.spec import Spec, describe_difference, spec_from_dict
from ensemble.engine.store import layout
from ensemble.engine.store.chunks import ChunkedArray, ChunkError
from ensemble.engine.store.layout import BLOCKS, STAGING
from ensemble.engine.store.provenance import session_record, version_change
from ensemble.engine.store.staging import open_staging
from ensemble.engine.store.writer import ShardWriter


class StoreError(SpecError):
    """A store that cannot be used as asked (missing, foreign, or made with another spec)."""


class StoreCorruption(StoreError):
    """A chunk or the metadata of a store failed its check; ``ensemble verify --repair`` handles chunks."""


def table_for(spec: Spec, existing: np.ndarray | None = None) -> np.ndarray:
    """The shard table of ``spec``, extending ``existing`` (a stored table) when given."""
    if spec.two_level:
        return two_level_table(spec.realizations, spec.vectors, spec.shard_size, existing)
    return shard_table(spec.members, spec.shard_size, existing)


def pending_pairs(n_points: int, n_shards: int, done: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(points, shards) arrays of what is still to compute when a run has ``n_shards`` shards per point and
    ``done`` (a stored done array, possibly for fewer shards before an extension) marks what is stored."""
    todo = np.ones((n_points, n_shards), dtype=bool)
    if done is not None:
        width = min(done.shape[1], n_shards)
        todo[:, :width] = ~done[:, :width]
    p, s = np.nonzero(todo)
    return p.astype(np.int64, copy=False), s.astype(np.int64, copy=False)


class RunStore:
    """One run's zarr store.  Open with :func:`open_store`; create or resume with :func:`create_or_resume`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        attrs = self._read_attrs()
        if "spec" not in attrs:
            raise StoreError(f"{self.path}: a zarr group but not a run store (no spec attribute)")
        try:
            self.spec = spec_from_dict(attrs["spec"], stored=True)
        except SpecError as exc:
            raise StoreCorruption(f"{self.path}: its stored spec cannot be read ({exc})") from None
        if attrs.get("spec_hash") and attrs["spec_hash"] != self.spec.hash():
            raise StoreCorruption(f"{self.path}: its stored spec does not match its spec_hash (the group metadata "
                                  "zarr.json was altered); not guessing which is right")
        self.attrs = attrs
        self.layout = int(attrs.get("layout", 2 if (self.path / STAGING / "zarr.json").is_file() else 1))
        self.names: list[str] = list(attrs.get("accumulators")
                                     or [a.name for a in self.spec.model.accumulators(self.spec.points()[0])])
        self.n_points = len(self.spec.points())
        self.discarded: list[tuple[int, int, str]] = []   # staged shards compaction found damaged

    # ----- metadata -----
    def _read_attrs(self) -> dict:
        import json

        try:
            meta = json.loads((self.path / "zarr.json").read_text())
        except FileNotFoundError:
            raise StoreError(f"{self.path}: no run store here") from None
        except (ValueError, UnicodeDecodeError):
            raise StoreCorruption(f"{self.path}: its group metadata zarr.json is not valid JSON "
                                  "(corrupted); the spec and the shard table cannot be trusted") from None
        return meta.get("attributes", {}) or {}

    def group(self, mode: str = "r") -> zarr.Group:
        return zarr.open_group(str(self.path), mode=mode, use_consolidated=False)

    def update_attrs(self, **values) -> None:
        """Set group attributes (the run's client only) and refresh the consolidated metadata."""
        group = self.group("r+")
        group.attrs.update(values)
        self.attrs.update(values)
        layout.consolidate(self.path)

    @property
    def checksummed(self) -> bool:
        return self.layout >= 3

    @property
    def staged(self) -> bool:
        """Whether workers stage shards for compaction (layouts 2 and 3); layout 1 stores are read only."""
        return self.layout >= 2

    def note(self) -> str | None:
        """One line about what this store cannot promise (printed once by ``status`` and ``show``)."""
        if not self.checksummed:
            return (f"{self.path} was written before chunk checksums (layout {self.layout}): its chunks are read "
                    "but cannot be verified")
        return None

    # ----- arrays -----
    def array(self, name: str) -> ChunkedArray:
        """The chunk files of array ``name`` (its metadata read once per store object)."""
        if name not in self._arrays:
            try:
                self._arrays[name] = ChunkedArray.from_metadata(self.path, name)
            except (OSError, ValueError, KeyError) as exc:
                raise StoreCorruption(f"{self.path}: the metadata of array {name!r} cannot be read "
                                      f"({type(exc).__name__}: {exc})") from None
        return self._arrays[name]

    @cached_property
    def _arrays(self) -> dict[str, ChunkedArray]:
        return {}

    @cached_property
    def _table(self) -> np.ndarray:
        return self.read_zarr("shard_range").astype(np.int64)

    def read_zarr(self, name: str) -> np.ndarray:
        """A whole small array (shard table, coordinates) through zarr, its checksums verified."""
        try:
            return np.asarray(self.group()[name][...])
        except (ValueError, OSError, KeyError) as exc:
            raise StoreCorruption(f"{self.path}: the array {name!r} cannot be read ({exc}); it is metadata that "
                                  "cannot be recomputed, restore it from a copy") from None

    def shard_range(self) -> np.ndarray:
        return self._table

    @property
    def n_shards(self) -> int:
        return len(self._table)

    def shard_sizes(self) -> np.ndarray:
        """Members in each shard."""
        return shard_members(self._table)

    def describe(self, err: ChunkError) -> str:
        """Which (point, shard) range a failed chunk holds, in words."""
        name, c = err.array, err.coords
        if name.startswith(f"{BLOCKS}/"):
            what = (f"the block bookkeeping {name} (all points)" if len(c) == 1
                    else f"the block sums {name} of point {c[0]}")
        elif name.startswith(f"{STAGING}/"):
            what = f"the staged chunk {name} of point {c[0]}, shard {c[1]}"
        else:
            length = self.array(name).chunks[1]
            lo, hi = c[1] * length, min((c[1] + 1) * length, self.n_shards) - 1
            what = f"the chunk {name} of point {c[0]}, shards {lo}–{hi}"
        return f"{what} is {err.problem}"

    def corruption(self, err: ChunkError) -> StoreCorruption:
        return StoreCorruption(f"{self.path}: {self.describe(err)}; `ensemble verify {self.path} --repair` marks "
                               f"its shards pending and `ensemble run --store {self.path}` recomputes them")

    def _rows(self, name: str, p: int, ids: np.ndarray, may_be_missing: np.ndarray | None = None) -> np.ndarray:
        """Rows ``ids`` of point ``p`` of a compacted (point, shard, ...) array.  A chunk file that does not
        exist reads as the fill value only where ``may_be_missing`` (per id; default: everywhere) allows it."""
        array = self.array(name)
        length = array.chunks[1]
        out = np.empty((len(ids), *array.chunks[2:]), dtype=np.dtype(array.dtype))
        chunk_of = ids // length
        for k in np.unique(chunk_of):
            where = np.flatnonzero(chunk_of == k)
            coords = array.coords_of(p, k)
            try:
                chunk = array.read(coords)
            except ChunkError as err:
                raise self.corruption(err) from None
            if chunk is None:
                if may_be_missing is not None and not may_be_missing[where].all():
                    raise self.corruption(ChunkError(name, coords, "missing", array.path(coords)))
                chunk = np.full(array.chunks, array.fill, dtype=array.np_dtype)
            out[where] = chunk[0, ids[where] - k * length]
        return out

    @cached_property
    def staging(self):
        """The staging area (layout 3 records, or layout 2 per-array chunks)."""
        try:
            return open_staging(self.path, self.names, self.layout)
        except (OSError, ValueError, KeyError) as exc:
            raise StoreCorruption(f"{self.path}: the metadata of its staging area cannot be read ({exc})") from None

    def staged_ids(self) -> dict[int, np.ndarray]:
        return self.staging.ids(self.n_points, self.n_shards) if self.staged else {}

    def done(self) -> np.ndarray:
        """(point, shard) bool: shards whose values are stored, compacted or still staged."""
        if not self.staged:
            return np.asarray(self.group()["done"][...], dtype=bool)
        staged = self.staged_ids()
        return np.stack([self.done_row(p, staged) for p in range(self.n_points)])

    def done_row(self, p: int, staged: dict[int, np.ndarray] | None = None) -> np.ndarray:
        """Point ``p``'s row of :meth:`done`, reading only its chunks (``staged``: the staged ids, if known)."""
        if not self.staged:
            return np.asarray(self.group()["done"][p], dtype=bool)
        row = self._rows("done", p, np.arange(self.n_shards))
        ids = (self.staged_ids() if staged is None else staged).get(p)
        if ids is not None:
            row[ids] = True
        return row

    def pending(self, points=None) -> tuple[np.ndarray, np.ndarray]:
        """(points, shards) arrays of the shards still to compute, optionally only of ``points``."""
        p, s = pending_pairs(self.n_points, self.n_shards, self.done())
        if points is not None:
            keep = np.isin(p, np.fromiter(points, dtype=np.int64))
            p, s = p[keep], s[keep]
        return p, s

    def read_shards(self, p: int, names: list[str], ids) -> dict[str, np.ndarray]:
        """Per-shard values (len(ids), *shape) of point ``p`` for done shards ``ids``, staged or compacted."""
        ids = np.asarray(ids, dtype=np.int64)
        if not self.staged:
            group = self.group()
            return {n: np.asarray(group[n].get_orthogonal_selection((p, ids))) for n in names}
        staged = np.intersect1d(ids, self.staged_ids().get(p, np.zeros(0, np.int64)))
        is_staged = np.isin(ids, staged)
        out = {name: self._rows(name, p, ids, may_be_missing=is_staged) for name in names}
        for s in staged:
            values = self.read_staged(p, int(s))
            if values is not None:
                for name in names:
                    out[name][ids == s] = values[name]
        return out

    def read_staged(self, p: int, s: int) -> dict[str, np.ndarray] | None:
        """A staged shard's values by accumulator (None where it is not staged, or is being rewritten)."""
        try:
            return self.staging.read(p, s)
        except ChunkError as err:
            raise self.corruption(err) from None

    def blocks(self, p: int) -> list[dict[str, np.ndarray]] | None:
        """Jackknife block sums of point ``p`` over its done shards (None when none is done)."""
        mask = self.done_row(p)
        if not mask.any():
            return None
        cached = self.cached_blocks(p, mask)
        if cached is not None:
            return cached
        ids, edges = block_partition(self._table, np.flatnonzero(mask))
        sizes = shard_members(self._table)[ids].astype(float)
        return summed_blocks(lambda a, b: self.read_shards(p, self.names, ids[a:b]), sizes, edges=edges)

    def block_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """blocks/n_shards and blocks/count: per point, the shard count the block sums are current for, and
        how many blocks there are."""
        try:
            return (self.array(f"{BLOCKS}/n_shards").read_or_fill((0,)).astype(np.int64),
                    self.array(f"{BLOCKS}/count").read_or_fill((0,)).astype(np.int64))
        except ChunkError as err:
            raise self.corruption(err) from None

    def cached_blocks(self, p: int, done_row: np.ndarray) -> list[dict[str, np.ndarray]] | None:
        """The pre-summed blocks of point ``p`` when it is complete and they are current, else None."""
        if not (self.staged and done_row.all()):
            return None
        n_shards, counts = self.block_counts()
        if int(n_shards[p]) != done_row.size:
            return None
        count = int(counts[p])
        data = {}
        for name in [*self.names, "members"]:
            array = self.array(f"{BLOCKS}/{name}")
            coords = array.coords_of(p, 0)
            try:
                chunk = array.read(coords)
            except ChunkError as err:
                raise self.corruption(err) from None
            if chunk is None:
                raise self.corruption(ChunkError(array.name, coords, "missing", array.path(coords)))
            data[name] = chunk[0, :count]
        return [{**{name: data[name][i].copy() for name in self.names}, "members": np.asarray(float(data["members"][i]))}
                for i in range(count)]

    # ----- workers -----
    def shard_writer(self) -> ShardWriter:
        if not self.staged:
            raise StoreError(f"{self.path} was written by an early version without a staging area (layout 1); it "
                             "can be read but not run into: start a new store")
        accs = {a.name: a for a in self.spec.model.accumulators(self.spec.points()[0])}
        return ShardWriter.of(str(self.path), self.staging, [accs[n] for n in self.names])

    # ----- what the run's client records -----
    def add_timings(self, per_point: dict[int, list[float]]) -> None:
        """Add measured [setup seconds, setups, vector seconds, vectors] per point (feeds the cost model of
        :func:`ensemble.engine.variance.variance_components`)."""
        timing = {str(k): list(v) for k, v in (self.attrs.get("timing") or {}).items()}
        for p, values in per_point.items():
            old = timing.get(str(p), [0.0, 0.0, 0.0, 0.0])
            timing[str(p)] = [a + b for a, b in zip(old, values)]
        self.update_attrs(timing=timing)

    def provenance(self) -> list[dict]:
        return list(self.attrs.get("provenance") or [])

    def version_warning(self) -> str | None:
        return version_change(self.provenance())

    def begin_session(self) -> int:
        """Append this run session's provenance record; returns its index for :meth:`end_session`."""
        records = self.provenance() + [session_record(self.spec.model_name)]
        self.update_attrs(provenance=records)
        return len(records) - 1

    def end_session(self, index: int, computed: int) -> None:
        records = self.provenance()
        records[index] = {**records[index], "ended": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                          "shards_computed": int(records[index].get("shards_computed", 0)) + int(computed)}
        self.update_attrs(provenance=records)


def open_store(path: str | Path) -> RunStore:
    path = Path(path)
    if not (path / "zarr.json").is_file():
        raise StoreError(f"{path}: no run store here")
    return RunStore(path)


def check_store(path: str | Path | None, spec: Spec) -> RunStore | None:
    """Read-only check that ``spec`` may run into ``path``; returns the existing store or None.

    Refuses (StoreError) a store made with a different spec, or fewer members than are stored.
    """
    layout.check_layout(spec.model, spec)
    if path is None:
        return None
    path = Path(path)
    if not (path.exists() and any(path.iterdir())):
        return None
    if not (path / "zarr.json").is_file():
        raise StoreError(f"{path} is a non-empty directory that is not a run store; refusing to write into it")
    store = open_store(path)
    stored = store.spec
    if stored.hash() != spec.hash():
        raise StoreError(
            f"{path} holds a different run ({describe_difference(stored.identity(), spec.identity())}); "
            "use another --store"
        )
    if spec.two_level:
        for key in ("realizations", "vectors"):
            new, old = getattr(spec, key), getattr(stored, key)
            if new < old:
                raise StoreError(f"{key} = {new} (from the spec or --{key}) is below the {old} already in {path}; "
                                 f"resume it with `ensemble run --store {path}` or give --{key} >= {old}")
    elif spec.members < stored.members:
        raise StoreError(f"members = {spec.members} (from the spec or --members) is below the {stored.members} "
                         f"members already in {path}; resume it with `ensemble run --store {path}` or give --members >= "
                         f"{stored.members}")
    return store


def same_counts(a: Spec, b: Spec) -> bool:
    return (a.members, a.realizations, a.vectors) == (b.members, b.realizations, b.vectors)


_UNCHECKED = object()


def create_or_resume(path: str | Path, spec: Spec, existing=_UNCHECKED) -> tuple[RunStore, str]:
    """Open ``path`` for ``spec``: create it, resume it, or extend it to more members.

    Returns the store and a one-line description of what was done.  Everything that can refuse
    is checked (by :func:`check_store`, unless its answer is passed as ``existing``) before anything is
    written.
    """
    path = Path(path)
    if existing is _UNCHECKED:
        existing = check_store(path, spec)
    if existing is None:
        layout.create(path, spec, table_for(spec))
        return open_store(path), "new store"
    existing.shard_writer()  # refuses a store that cannot be written into
    stored = existing.spec
    if same_counts(spec, stored):
        done = existing.done()
        return existing, f"resuming: {int(done.sum())} of {done.size} shards done"
    old = existing.shard_range()
    table = table_for(spec, existing=old)
    layout.resize_shards(path, table)
    existing.update_attrs(spec=layout.json_safe(spec.to_dict()))
    what = (f"realizations x vectors {stored.realizations} x {stored.vectors} -> {spec.realizations} x {spec.vectors}"
            if spec.two_level else f"members {stored.members} -> {spec.members}")
    return open_store(path), f"extending: {what} ({len(table) - len(old)} new shards per point)"
