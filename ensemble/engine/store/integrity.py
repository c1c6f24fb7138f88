"""Verify every chunk and the metadata of a store; repair what the members' fixed streams can recompute.

A damaged or missing chunk of values, of ``done`` or of the staging area loses the shards it holds: repair
marks exactly those shards pending (the next ``ensemble run`` recomputes them, bitwise as before, since
every member's random stream is fixed).  Damaged block sums are rebuilt from the shards.  Damaged metadata,
spec or shard table cannot be recomputed without guessing: they are reported and repair refuses.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ensemble.engine.store.chunks import ChunkError
from ensemble.engine.store.compaction import compact, set_point_counts, write_rows
from ensemble.engine.store.layout import BLOCKS, STAGING
from ensemble.engine.store.run_store import RunStore, StoreCorruption

PENDING, REBUILD, FATAL = "pending", "rebuild blocks", "cannot repair"


@dataclass(frozen=True)
class Finding:
    array: str
    problem: str                          # corrupted | truncated | missing | unreadable
    action: str                           # PENDING | REBUILD | FATAL
    point: int | None = None
    shards: tuple[int, int] | None = None  # first, last (inclusive)
    coords: tuple[int, ...] = ()

    def line(self) -> str:
        where = "" if self.point is None else f" point {self.point}"
        if self.shards is not None:
            a, b = self.shards
            where += f", shard {a}" if a == b else f", shards {a}–{b}"
        then = {PENDING: "repair marks its shards pending", REBUILD: "repair rebuilds the block sums",
                FATAL: "cannot be recomputed: restore it from a copy"}[self.action]
        return f"{self.array}{where}: {self.problem} ({then})"


def _metadata_findings(path: Path) -> list[Finding]:
    out = []
    for meta in sorted(path.rglob("zarr.json")):
        try:
            json.loads(meta.read_text())
        except (ValueError, UnicodeDecodeError, OSError):
            name = str(meta.parent.relative_to(path)) if meta.parent != path else "group metadata (spec)"
            out.append(Finding(name, "unreadable", FATAL))
    return out


def verify(store: RunStore) -> list[Finding]:
    """Read every chunk and the metadata of ``store``; return what is damaged (empty: all sound)."""
    findings = _metadata_findings(store.path)
    if findings:
        return findings
    for name in ("shard_range", "shard", "point"):
        try:
            store.read_zarr(name)
        except StoreCorruption:
            findings.append(Finding(name, "corrupted", FATAL))
    if findings or not store.staged:
        return findings
    n_s = store.n_shards
    done_rows = []
    for p in range(store.n_points):
        row = np.zeros(n_s, dtype=bool)
        for _, lo, hi, chunk in _point_chunks(store.array("done"), p, n_s, findings):
            if chunk is not None:
                row[lo:hi] = chunk[0, :hi - lo]
        done_rows.append(row)
    for name in store.names:
        for p in range(store.n_points):
            for coords, lo, hi, chunk in _point_chunks(store.array(name), p, n_s, findings):
                if chunk is None and done_rows[p][lo:hi].any():
                    findings.append(Finding(name, "missing", PENDING, p, (lo, hi - 1), coords))
    for p, ids in store.staged_ids().items():
        for s in ids:
            try:
                got = store.staging.read(p, int(s))
            except ChunkError as err:
                findings.append(Finding(err.array, err.problem, PENDING, p, (int(s), int(s)), err.coords))
                continue
            if got is None and not done_rows[p][s]:   # layout 2: done staged, a value chunk gone
                findings.append(Finding(f"{STAGING}", "missing", PENDING, p, (int(s), int(s))))
    findings += _block_findings(store)
    return findings


def _point_chunks(array, p: int, n_shards: int, findings: list[Finding]):
    """(coords, first shard, end shard, chunk or None where no file) of each chunk of point ``p`` of a
    (point, shard, ...) array; a damaged chunk becomes a finding instead."""
    for k, lo, hi in array.shard_chunks(n_shards):
        coords = array.coords_of(p, k)
        try:
            chunk = array.read(coords)
        except ChunkError as err:
            findings.append(Finding(array.name, err.problem, PENDING, p, (lo, hi - 1), coords))
            continue
        yield coords, lo, hi, chunk


def _block_findings(store: RunStore) -> list[Finding]:
    out = []
    counts = {}
    for name in ("n_shards", "count"):
        array = store.array(f"{BLOCKS}/{name}")
        try:
            counts[name] = array.read_or_fill((0,))
        except ChunkError as err:
            out.append(Finding(array.name, err.problem, REBUILD, coords=(0,)))
    if out:
        return out
    for p in np.flatnonzero(counts["n_shards"]):
        for name in [*store.names, "members"]:
            array = store.array(f"{BLOCKS}/{name}")
            coords = array.coords_of(p, 0)
            try:
                problem = None if array.read(coords) is not None else "missing"
            except ChunkError as err:
                problem = err.problem
            if problem:
                out.append(Finding(array.name, problem, REBUILD, int(p), coords=coords))
    return out


def repair(store: RunStore, findings: list[Finding]) -> tuple[int, int]:
    """Mark the shards of damaged chunks pending and rebuild damaged block sums; returns (shards marked
    pending, points whose blocks are rebuilt now).  Refuses (StoreCorruption) what cannot be recomputed."""
    fatal = [f for f in findings if f.action == FATAL]
    if fatal:
        raise StoreCorruption(f"{store.path}: {fatal[0].line()}; not repairing a store whose metadata is damaged")
    if not findings:
        return 0, 0
    pending, invalid_points = 0, set()
    done_array = store.array("done")
    for f in findings:
        if f.action != PENDING:
            continue
        p, (a, b) = f.point, f.shards
        ids = np.arange(a, b + 1)
        invalid_points.add(p)
        if f.array.startswith(STAGING):
            store.staging.remove(p, a)
            pending += 1
            continue
        if f.array == "done":
            store.array("done").delete(f.coords)   # which of its shards were done is lost: none is
            pending += len(ids)
            continue
        try:
            was = store._rows("done", p, ids)
        except StoreCorruption:   # its done chunk is damaged too: handled by its own finding
            was = np.zeros(len(ids), dtype=bool)
        else:
            write_rows(store, done_array, p, ids, np.zeros(len(ids), dtype=bool))  # pending first ...
        store.array(f.array).delete(f.coords)   # ... then the damaged values go
        pending += int(was.sum())
    for f in findings:
        if f.action == REBUILD:
            store.array(f.array).delete(f.coords)
            if f.point is not None:
                invalid_points.add(f.point)
    counts = store.array(f"{BLOCKS}/n_shards").read_or_fill((0,))
    for p in invalid_points:
        if counts[p]:
            set_point_counts(store, p, n_shards=0)
    before = store.block_counts()[0]
    compact(store, all_points=True)   # rebuilds the block sums of every complete point
    rebuilt = int(((store.block_counts()[0] > 0) & (before == 0)).sum())
    return pending, rebuilt
