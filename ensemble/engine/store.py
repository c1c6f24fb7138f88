"""The zarr v3 run store.

Layout of one run (a zarr group):
  <accumulator>  (point, shard, *shape)   compacted: chunks of up to 1000 shards, written only by the run's client
  done           (point, shard) bool      set (compacted) only after the shard's accumulators are
  staging/, blocks/                       what workers write (a chunk per (point, shard), never shared), and
                                          pre-summed jackknife blocks: see compact.py
  shard_range    (shard, 2) int64         [start, stop) member ids of each shard (flat runs), or
                 (shard, 4) int64         [r0, r1, v0, v1) realizations x vectors (two-level runs)
  point, shard   coordinate arrays; swept parameters as 1-d arrays along ``point`` (a swept grid parameter,
                 e.g. a list of temperature lists, as ``<name>_per_point``: one JSON string per point; an
                 accumulator axis whose coordinates then change per point as ``<dim>_coords`` (point, dim));
  per-dim coordinate arrays declared by the model's accumulators.
Group attributes: spec, spec_hash, model, package version, swept parameter names.
``dimension_names`` are set on every array so ``xarray.open_zarr`` gives labelled arrays.
"""
from __future__ import annotations

import json
import os
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import zarr

from ensemble import __version__
from ensemble.engine.compact import SHARDS_PER_CHUNK, STAGING, create_side_groups, is_compacted, shards_per_chunk
from ensemble.engine.model import Accumulator, Model, SpecError
from ensemble.engine.seeding import shard_members, shard_table, two_level_table
from ensemble.engine.spec import Spec, describe_difference, spec_from_dict

RESERVED = {"done", "shard_range", "point", "shard", "members"}


class StoreError(SpecError):
    """A store that cannot be used as asked (missing, foreign, or made with another spec)."""


@dataclass
class RunStore:
    path: Path
    group: zarr.Group
    spec: Spec

    def shard_range(self) -> np.ndarray:
        return np.asarray(self.group["shard_range"][:])

    def done(self) -> np.ndarray:
        from ensemble.engine.compact import with_staged  # done but not yet compacted shards count too

        return with_staged(self.path, np.asarray(self.group["done"][:], dtype=bool))

    def shard_sizes(self) -> np.ndarray:
        """Members in each shard."""
        return shard_members(self.shard_range())

    def pending(self) -> list[tuple[int, int]]:
        done = self.done()
        return [(int(p), int(s)) for p, s in zip(*np.nonzero(~done))]


def _json_safe(value):
    return json.loads(json.dumps(value))


def _check_layout(model: Model, spec: Spec) -> list[Accumulator]:
    """All points must share accumulator shapes (they live in one array); names must not collide."""
    points = spec.points()
    accs = model.accumulators(points[0])
    shapes = {a.name: a.shape for a in accs}
    for point in points[1:]:
        other = {a.name: a.shape for a in model.accumulators(point)}
        if other != shapes:
            swept = ", ".join(spec.swept())
            raise SpecError(f"the swept parameters ({swept}) change accumulator shapes; a swept grid must keep "
                            "its length at every point (or run those values as separate stores)")
    names = {a.name for a in accs}
    clash = (names | set(spec.swept())) & RESERVED or names & set(spec.swept())
    if clash:
        raise SpecError(f"name {sorted(clash)[0]!r} is used twice in the store layout")
    return accs


def open_store(path: str | Path, mode: str = "r") -> RunStore:
    path = Path(path)
    if not (path / "zarr.json").is_file():
        raise StoreError(f"{path}: no run store here")
    group = zarr.open_group(str(path), mode=mode)
    attrs = group.attrs.asdict()
    if "spec" not in attrs:
        raise StoreError(f"{path}: a zarr group but not a run store (no spec attribute)")
    return RunStore(path, group, spec_from_dict(attrs["spec"]))


def check_store(path: str | Path, spec: Spec) -> RunStore | None:
    """Read-only check that ``spec`` may run into ``path``; returns the existing store or None.

    Refuses (StoreError) a store made with a different spec, or fewer members than are stored.
    """
    path = Path(path)
    _check_layout(spec.model, spec)
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


def pending_pairs(n_points: int, n_shards: int, done: np.ndarray | None = None) -> list[tuple[int, int]]:
    """(point, shard) pairs still to compute when a run has ``n_shards`` shards per point and ``done`` (a
    stored done array, possibly for fewer shards before an extension) marks what is stored."""
    return [(p, s) for p in range(n_points) for s in range(n_shards)
            if done is None or s >= done.shape[1] or not done[p, s]]


def table_for(spec: Spec, existing: np.ndarray | None = None) -> np.ndarray:
    """The shard table of ``spec``, extending ``existing`` (a stored table) when given."""
    if spec.two_level:
        return two_level_table(spec.realizations, spec.vectors, spec.shard_size, existing)
    return shard_table(spec.members, spec.shard_size, existing)


def create_or_resume(path: str | Path, spec: Spec) -> tuple[RunStore, str]:
    """Open ``path`` for ``spec``: create it, resume it, or extend it to more members.

    Returns the store and a one-line description of what was done.  Everything that can refuse
    is checked (by :func:`check_store`) before anything is written.
    """
    path = Path(path)
    existing = check_store(path, spec)
    if existing is None:
        return _create(path, spec, _check_layout(spec.model, spec)), "new store"
    stored = existing.spec
    if (spec.members, spec.realizations, spec.vectors) == (stored.members, stored.realizations, stored.vectors):
        done = existing.done()
        return open_store(path, mode="r+"), f"resuming: {int(done.sum())} of {done.size} shards done"
    old = existing.shard_range()
    table = table_for(spec, existing=old)
    group = zarr.open_group(str(path), mode="r+", use_consolidated=False)
    _resize_shards(group, len(table))
    group = zarr.open_group(str(path), mode="r+", use_consolidated=False)  # fresh shapes after resize
    group["shard_range"][:] = table
    group["shard"][:] = np.arange(len(table))
    group.attrs["spec"] = _json_safe(spec.to_dict())
    _consolidate(path)
    what = (f"realizations x vectors {stored.realizations} x {stored.vectors} -> {spec.realizations} x {spec.vectors}"
            if spec.two_level else f"members {stored.members} -> {spec.members}")
    return open_store(path, mode="r+"), f"extending: {what} ({len(table) - len(old)} new shards per point)"


def _consolidate(path: Path) -> None:
    """Consolidated metadata lets xarray open the store in one read (arrays' shapes change only here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(str(path))


def _resize_shards(group: zarr.Group, n_shards: int) -> None:
    for name, arr in group.arrays():
        dims = arr.metadata.dimension_names or ()
        if "shard" in dims:
            shape = list(arr.shape)
            shape[dims.index("shard")] = n_shards
            arr.resize(tuple(shape))
    for _, sub in group.groups():  # the staging arrays of a compacted store
        _resize_shards(sub, n_shards)


def _swept_array_name(spec: Spec, name: str) -> str:
    """Store name of a swept parameter: grid parameters get a suffix, as the grid may also be a dimension."""
    return f"{name}_per_point" if spec.model.param_map()[name].array else name


def _varying_coords(model: Model, points: list[dict]) -> dict[str, np.ndarray]:
    """Accumulator coordinates whose values change from point to point, as (point, n) arrays."""
    per_point = []
    for point in points:
        coords: dict[str, np.ndarray] = {}
        for acc in model.accumulators(point):
            for dim, values in acc.coords.items():
                coords.setdefault(dim, np.asarray(values))
        per_point.append(coords)
    first = per_point[0]
    return {dim: np.stack([c[dim] for c in per_point]) for dim in first
            if any(not np.array_equal(c[dim], first[dim]) for c in per_point[1:])}


def _create(path: Path, spec: Spec, accs: list[Accumulator]) -> RunStore:
    points = spec.points()
    swept = spec.swept()
    table = table_for(spec)
    n_p, n_s = len(points), len(table)
    group = zarr.open_group(str(path), mode="w")
    stored_names = [_swept_array_name(spec, name) for name in swept]
    coord_attr = {"coordinates": " ".join(stored_names)} if swept else {}
    per_point_coords = _varying_coords(spec.model, points)

    group.create_array("point", data=np.arange(n_p), dimension_names=("point",))
    group.create_array("shard", data=np.arange(n_s), chunks=(max(n_s, 1024),), dimension_names=("shard",))
    group.create_array("shard_range", data=table, chunks=(max(n_s, 1024), table.shape[1]),
                       dimension_names=("shard", "range"))
    for name, stored in zip(swept, stored_names):
        values = [pt[name] for pt in points]
        if isinstance(values[0], list):  # array-valued parameter swept: store as a JSON string per point
            values = [json.dumps(v) for v in values]
        data = np.asarray(values)
        group.create_array(stored, data=data if data.dtype.kind != "U" else data.astype(object).astype(str),
                           dimension_names=("point",))
    coords_written: dict[str, np.ndarray] = {}
    for acc in accs:
        for dim, values in acc.coords.items():
            values = np.asarray(values)
            if dim in per_point_coords:  # a swept grid: its values differ between points
                if dim not in coords_written:
                    group.create_array(f"{dim}_coords", data=per_point_coords[dim], dimension_names=("point", dim))
                    coords_written[dim] = values
                continue
            if dim in coords_written:
                if not np.array_equal(coords_written[dim], values):
                    raise SpecError(f"dimension {dim!r} has two different coordinate arrays")
                continue
            group.create_array(dim, data=values, dimension_names=(dim,))
            coords_written[dim] = values
        group.create_array(
            acc.name,
            shape=(n_p, n_s, *acc.shape),
            chunks=(1, shards_per_chunk(np.dtype(acc.dtype).itemsize * int(np.prod(acc.shape))), *acc.shape),
            dtype=acc.dtype,
            fill_value=0,
            compressors=None,  # raw chunks: see _ChunkWriter
            dimension_names=("point", "shard", *acc.dims),
            attributes={**coord_attr, "unit": acc.unit, "doc": acc.doc},
        )
    group.create_array("done", shape=(n_p, n_s), chunks=(1, SHARDS_PER_CHUNK), dtype=bool, fill_value=False,
                       compressors=None, dimension_names=("point", "shard"), attributes=coord_attr)
    create_side_groups(group, accs, n_p, n_s)  # workers write to staging/; see compact.py
    group.attrs.update({
        "spec": _json_safe(spec.to_dict()),
        "spec_hash": spec.hash(),
        "model": spec.model_name,
        "ensemble_version": __version__,
        "swept": swept,
        "accumulators": [a.name for a in accs],
    })
    _consolidate(path)
    return open_store(path, mode="r+")


def raw_chunks(array: zarr.Array) -> bool:
    """Whether a chunk file of ``array`` is exactly its little-endian bytes (local store, ``bytes`` codec only,
    '/' keys) and a (point, shard, ...) chunk spans whole trailing dimensions."""
    meta = array.metadata
    codecs = getattr(meta, "codecs", ())
    return (
        isinstance(array.store, zarr.storage.LocalStore)
        and len(codecs) == 1 and type(codecs[0]).__name__ == "BytesCodec"
        and getattr(codecs[0].endian, "value", None) in ("little", None)
        and getattr(meta.chunk_key_encoding, "separator", None) == "/"
        and meta.chunks[0] == 1 and tuple(meta.chunks[2:]) == tuple(meta.shape[2:])
    )


class _ChunkWriter:
    """Writes whole (point, shard) chunks of one array.

    Accumulator arrays are created uncompressed with the plain little-endian ``bytes`` codec, so on a
    local or shared file system a chunk is exactly its raw bytes: it is written to a temporary file and
    renamed into place (atomic, and ~50x cheaper than zarr's general write path).  Any other store or
    codec falls back to zarr.
    """

    def __init__(self, path: str, name: str):
        self.array = zarr.open_array(f"{path}/{name}", mode="r+")
        meta = self.array.metadata
        self.raw = raw_chunks(self.array) and tuple(meta.chunks[:2]) == (1, 1)
        self.root = Path(path) / name / "c"
        self.dtype = np.dtype(self.array.dtype).newbyteorder("<")
        self.tail = (0,) * (len(meta.shape) - 2)

    def write(self, point: int, shard: int, value: np.ndarray) -> None:
        if not self.raw:
            self.array[point, shard] = value
            return
        target = self.root.joinpath(str(point), str(shard), *map(str, self.tail))
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(np.ascontiguousarray(value, dtype=self.dtype).tobytes())
        os.replace(tmp, target)


@lru_cache(maxsize=64)
def _writer(path: str, name: str, n_shards: int) -> _ChunkWriter:
    # cached per worker process; n_shards in the key invalidates it when a store is extended
    return _ChunkWriter(path, name)


def write_shard(path: str, point: int, shard: int, n_shards: int, sums: dict[str, np.ndarray],
                accumulators: list[Accumulator]) -> None:
    """Write one shard's sums, then mark it done (so a crash in between leaves it pending)."""
    for acc in accumulators:
        if acc.name not in sums:
            raise KeyError(f"run_shard returned no {acc.name!r}")
        value = np.asarray(sums[acc.name], dtype=acc.dtype)
        if value.shape != acc.shape:
            raise ValueError(f"run_shard returned {acc.name!r} with shape {value.shape}, declared {acc.shape}")
        _writer(path, _staged(path, acc.name), n_shards).write(point, shard, value)
    _writer(path, _staged(path, "done"), n_shards).write(point, shard, np.True_)


def _staged(path: str, name: str) -> str:
    """Compacted stores take new shards in their staging group; older stores in the arrays themselves."""
    return f"{STAGING}/{name}" if is_compacted(path) else name


def add_timings(path: str | Path, per_point: dict[int, list[float]]) -> None:
    """Add measured [setup seconds, setups, vector seconds, vectors] per point to the store's attributes.

    Only the client that runs the store writes attributes; the numbers feed the cost model of
    :func:`ensemble.engine.variance.variance_components`.
    """
    group = zarr.open_group(str(path), mode="r+", use_consolidated=False)
    timing = {str(k): list(v) for k, v in (group.attrs.asdict().get("timing") or {}).items()}
    for p, values in per_point.items():
        old = timing.get(str(p), [0.0, 0.0, 0.0, 0.0])
        timing[str(p)] = [a + b for a, b in zip(old, values)]
    group.attrs["timing"] = timing
    _consolidate(Path(path))
