"""The staging area: one chunk file per (point, shard) and array, written by workers, emptied by compaction.

Layout 3 names staged chunks flat (``staging/<array>/c.<point>.<shard>...``), so compaction leaves no
directories behind; layout 2 nested them (``c/<point>/<shard>/...``), which is still read and cleaned.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ensemble.engine.store.chunks import ChunkedArray
from ensemble.engine.store.layout import STAGING


def staged_done(path: Path, n_points: int, n_shards: int) -> dict[int, np.ndarray]:
    """Per point, the sorted shard ids whose staged ``done`` chunk exists (ids beyond the table ignored)."""
    root = path / STAGING / "done"
    found: dict[int, list[int]] = {}
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return {}
    if "c" in names and (root / "c").is_dir():  # layout 2: c/<point>/<shard>
        for p in os.listdir(root / "c"):
            if p.isdigit():
                found[int(p)] = [int(s) for s in os.listdir(root / "c" / p) if s.isdigit()]
    else:
        for name in names:
            parts = name.split(".")
            if len(parts) == 3 and parts[0] == "c" and parts[1].isdigit() and parts[2].isdigit():
                found.setdefault(int(parts[1]), []).append(int(parts[2]))
    out = {}
    for p, ids in found.items():
        ids = np.sort(np.asarray(ids, dtype=np.int64))
        ids = ids[ids < n_shards]
        if p < n_points and len(ids):
            out[p] = ids
    return out


def staged_coords(array: ChunkedArray, p: int, s: int) -> tuple[int, ...]:
    return (p, s, *(0,) * (len(array.shape) - 2))


def remove_staged(arrays: list[ChunkedArray], p: int, s: int) -> None:
    """Delete the staged chunks of one shard (``arrays`` in order: done first, so it never looks done
    without its values); nested directories of layout 2 are removed once empty."""
    for array in arrays:
        array.delete(staged_coords(array, p, s))
        if array.separator == "/":
            parent, top = Path(array.path(staged_coords(array, p, s))).parent, Path(array.root) / "c" / str(p)
            while parent != top and parent.is_relative_to(top):
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent
