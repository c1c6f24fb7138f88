"""The arrays of a run store and how a new one is laid out (zarr v3).

  <accumulator>  (point, shard, *shape)  compacted values: chunks of up to SHARDS_PER_CHUNK shards, written
                                         only by the run's client (compaction)
  done           (point, shard) bool     set only after the shard's values are
  staging/shards (point, shard, bytes)   what workers write: one record per (point, shard) holding all of its
                                         accumulators, never shared, flat file names (see staging.py)
  blocks/<acc>, blocks/members           (point, block, ...) jackknife block sums of each complete point
  blocks/n_shards, blocks/count          (point,) shard count those blocks were summed for (0: none), blocks
  shard_range    (shard, 2) int64        [start, stop) member ids of each shard (flat runs), or
                 (shard, 4) int64        [r0, r1, v0, v1) realizations x vectors (two-level runs)
  point, shard   coordinate arrays; swept parameters as 1-d arrays along ``point`` (a swept grid parameter,
                 e.g. a list of temperature lists, as ``<name>_per_point``: one JSON string per point; an
                 accumulator axis whose coordinates then change per point as ``<dim>_coords`` (point, dim));
  per-dim coordinate arrays declared by the model's accumulators.
Group attributes: spec, spec_hash, model, package version, swept parameter names, accumulator names,
``layout``, measured ``timing`` and the ``provenance`` of each run session.

Every array carries zarr's crc32c codec (layout 3), so each chunk is verified whenever it is read, by
the engine or by zarr/xarray.  Stores of layout 2 (staging without checksums, nested staging paths) and 1
(no staging) are still read.  ``dimension_names`` are set on every array so ``xarray.open_zarr`` gives
labelled arrays.
"""
from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import zarr
from zarr.codecs import Crc32cCodec

from ensemble import __version__
from ensemble.engine.blocking import MAX_BLOCKS, sum_dtype
from ensemble.engine.model import Accumulator, Model, SpecError
from ensemble.engine.spec import Spec

LAYOUT = 3
SHARDS_PER_CHUNK = 1000
MAX_CHUNK_BYTES = 16 * 2**20
STAGING, BLOCKS = "staging", "blocks"
RESERVED = {"done", "shard_range", "point", "shard", "members", STAGING, BLOCKS}
CHECKSUM = dict(compressors=[Crc32cCodec()])
FLAT_KEYS = {"name": "default", "separator": "."}


def shards_per_chunk(bytes_per_shard: int) -> int:
    """Shards in one large chunk: SHARDS_PER_CHUNK, fewer for big accumulators (chunk at most 16 MiB)."""
    return int(max(1, min(SHARDS_PER_CHUNK, MAX_CHUNK_BYTES // max(int(bytes_per_shard), 1))))


def json_safe(value):
    return json.loads(json.dumps(value))


def check_layout(model: Model, spec: Spec) -> list[Accumulator]:
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


def consolidate(path: Path) -> None:
    """Consolidated metadata lets xarray open the store in one read (arrays' shapes change only here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(str(path))


def swept_array_name(spec: Spec, name: str) -> str:
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


def create(path: Path, spec: Spec, table: np.ndarray) -> None:
    """Lay out a new store for ``spec`` at ``path`` (absent or an empty directory).

    It is built in a temporary directory beside ``path`` and renamed into place, so a failure (a full
    disk) leaves no half-made store behind.
    """
    accs = check_layout(spec.model, spec)
    building = path.with_name(f".{path.name}.creating.{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        _lay_out(building, spec, accs, table)
        if path.exists():
            path.rmdir()  # an empty directory (check_store refused anything else)
        os.replace(building, path)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def _lay_out(path: Path, spec: Spec, accs: list[Accumulator], table: np.ndarray) -> None:
    points = spec.points()
    swept = spec.swept()
    n_p, n_s = len(points), len(table)
    group = zarr.open_group(str(path), mode="w")
    stored_names = [swept_array_name(spec, name) for name in swept]
    coord_attr = {"coordinates": " ".join(stored_names)} if swept else {}
    per_point_coords = _varying_coords(spec.model, points)

    group.create_array("point", data=np.arange(n_p), dimension_names=("point",), **CHECKSUM)
    group.create_array("shard", data=np.arange(n_s), chunks=(max(n_s, 1024),), dimension_names=("shard",),
                       **CHECKSUM)
    group.create_array("shard_range", data=table, chunks=(max(n_s, 1024), table.shape[1]),
                       dimension_names=("shard", "range"), **CHECKSUM)
    for name, stored in zip(swept, stored_names):
        values = [pt[name] for pt in points]
        if isinstance(values[0], list):  # array-valued parameter swept: store as a JSON string per point
            values = [json.dumps(v) for v in values]
        data = np.asarray(values)
        if data.dtype.kind == "U":  # zarr v3's specified variable-length string, not numpy's fixed-width UTF-32
            data = data.astype(np.dtypes.StringDType())
        group.create_array(stored, data=data,
                           dimension_names=("point",), **CHECKSUM)
    coords_written: dict[str, np.ndarray] = {}
    for acc in accs:
        for dim, values in acc.coords.items():
            values = np.asarray(values)
            if dim in per_point_coords:  # a swept grid: its values differ between points
                if dim not in coords_written:
                    group.create_array(f"{dim}_coords", data=per_point_coords[dim], dimension_names=("point", dim),
                                       **CHECKSUM)
                    coords_written[dim] = values
                continue
            if dim in coords_written:
                if not np.array_equal(coords_written[dim], values):
                    raise SpecError(f"dimension {dim!r} has two different coordinate arrays")
                continue
            group.create_array(dim, data=values, dimension_names=(dim,), **CHECKSUM)
            coords_written[dim] = values
        group.create_array(
            acc.name, shape=(n_p, n_s, *acc.shape),
            chunks=(1, shards_per_chunk(np.dtype(acc.dtype).itemsize * int(np.prod(acc.shape))), *acc.shape),
            dtype=acc.dtype, fill_value=0, dimension_names=("point", "shard", *acc.dims),
            attributes={**coord_attr, "unit": acc.unit, "doc": acc.doc}, **CHECKSUM)
    group.create_array("done", shape=(n_p, n_s), chunks=(1, SHARDS_PER_CHUNK), dtype=bool, fill_value=False,
                       dimension_names=("point", "shard"), attributes=coord_attr, **CHECKSUM)
    _side_groups(group, accs, n_p, n_s)
    group.attrs.update({
        "spec": json_safe(spec.to_dict()),
        "spec_hash": spec.hash(),
        "model": spec.model_name,
        "ensemble_version": __version__,
        "swept": swept,
        "accumulators": [a.name for a in accs],
        "layout": LAYOUT,
    })
    consolidate(path)


def _side_groups(group: zarr.Group, accs: list[Accumulator], n_points: int, n_shards: int) -> None:
    """The staging area workers write to and the block sums compaction keeps."""
    from ensemble.engine.store.staging import RECORDS, record_fields

    staging = group.create_group(STAGING)
    fields = record_fields(accs)
    size = sum(f.nbytes for f in fields)
    staging.create_array(RECORDS, shape=(n_points, n_shards, size), chunks=(1, 1, size), dtype="uint8", fill_value=0,
                         chunk_key_encoding=FLAT_KEYS, dimension_names=("point", "shard", "byte"),
                         attributes={"fields": [[f.name, f.dtype, list(f.shape), f.offset] for f in fields],
                                     "doc": "one staged shard: its accumulators' little-endian bytes, in this order"},
                         **CHECKSUM)
    blocks = group.create_group(BLOCKS)
    for acc in accs:
        blocks.create_array(acc.name, shape=(n_points, MAX_BLOCKS, *acc.shape), chunks=(1, MAX_BLOCKS, *acc.shape),
                            dtype=sum_dtype(acc.dtype), fill_value=0, dimension_names=("point", "block", *acc.dims),
                            **CHECKSUM)
    blocks.create_array("members", shape=(n_points, MAX_BLOCKS), chunks=(1, MAX_BLOCKS), dtype="float64",
                        fill_value=0, dimension_names=("point", "block"), **CHECKSUM)
    for name in ("n_shards", "count"):
        blocks.create_array(name, shape=(n_points,), chunks=(max(n_points, 1),), dtype="int64", fill_value=0,
                            dimension_names=("point",), **CHECKSUM)


def resize_shards(path: Path, table: np.ndarray) -> None:
    """Grow every (.., shard, ..) array to the shard table of an extended run and store the new table."""
    group = zarr.open_group(str(path), mode="r+", use_consolidated=False)

    def grow(g: zarr.Group) -> None:
        for _, arr in g.arrays():
            dims = arr.metadata.dimension_names or ()
            if "shard" in dims:
                shape = list(arr.shape)
                shape[dims.index("shard")] = len(table)
                arr.resize(tuple(shape))
        for _, sub in g.groups():
            grow(sub)

    grow(group)
    group = zarr.open_group(str(path), mode="r+", use_consolidated=False)  # fresh shapes after resize
    group["shard_range"][:] = table
    group["shard"][:] = np.arange(len(table))
