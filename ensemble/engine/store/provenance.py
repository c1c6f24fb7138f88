"""Who made a store: one record per run session (versions, commit, host, times, shards computed, and
where the model came from: built-in, a plugin with its distribution and version, or an import path).

Bitwise resume is promised for the same code and libraries only; the records let ``ensemble status``
show what made each part of a store, and a resume with other versions warns once.
"""
from __future__ import annotations

import platform
import socket
import subprocess
import time
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from ensemble import __version__

LIBRARIES = ("numpy", "scipy", "numba", "dask", "distributed", "zarr")


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the package's source tree when it runs from a git checkout (an editable install)."""
    here = Path(__file__).resolve().parents[3]
    if not (here / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out + ("+dirty" if dirty else "")


@lru_cache(maxsize=1)
def versions() -> dict[str, str | None]:
    out = {"tls-ensemble": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def session_record(model_name: str | None = None) -> dict:
    record = {"versions": versions(), "git_commit": git_commit(), "host": socket.gethostname(),
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "ended": None, "shards_computed": 0}
    if model_name is not None:
        from ensemble.engine.registry import model_source

        record["model"] = model_source(model_name).record()
    return record


def version_change(records: list[dict]) -> str | None:
    """One line when this process's versions differ from the last session that computed shards."""
    earlier = [r for r in records if r.get("shards_computed")]
    if not earlier:
        return None
    last = earlier[-1]
    now = session_record(last["model"]["name"] if last.get("model") else None)
    changed = [f"{k} {last['versions'].get(k)} -> {v}" for k, v in now["versions"].items()
               if last.get("versions", {}).get(k) != v]
    if last.get("model") and last["model"].get("version") != now["model"].get("version"):
        changed.append(f"model {last['model']['distribution']} {last['model'].get('version')} -> "
                       f"{now['model']['distribution']} {now['model'].get('version')}")
    if last.get("git_commit") and now["git_commit"] and last["git_commit"] != now["git_commit"]:
        changed.append(f"commit {last['git_commit'][:12]} -> {now['git_commit'][:12]}")
    if not changed:
        return None
    return ("earlier shards of this store were computed with other versions (" + ", ".join(changed) +
            "); new shards are not guaranteed bitwise identical to what those versions would give")


def format_records(records: list[dict]) -> list[str]:
    lines = []
    for r in records:
        v = r.get("versions", {})
        libs = ", ".join(f"{k} {v.get(k)}" for k in ("numpy", "scipy", "numba", "dask", "distributed", "zarr"))
        sha = r.get("git_commit") or ""
        commit = f", commit {sha[:12]}{'+dirty' if sha.endswith('+dirty') else ''}" if sha else ""
        model = r.get("model")
        origin = f"model {model['name']}: {_origin_text(model)}; " if model else ""
        lines.append(f"{r.get('started')} → {r.get('ended') or 'did not end cleanly'} on {r.get('host')}: "
                     f"{r.get('shards_computed', 0)} shard(s); {origin}tls-ensemble {v.get('tls-ensemble')}{commit}, "
                     f"python {v.get('python')}, {libs}")
    return lines


def _origin_text(model: dict) -> str:
    from ensemble.engine.registry import ModelSource

    return ModelSource(**model).describe()
