"""Run a task file of tasks/ in process, for the tests that check a number quoted on a docs page."""
from __future__ import annotations

import tomllib
from pathlib import Path

from ensemble.engine.inprocess import run_in_process

TASKS = Path(__file__).resolve().parent.parent / "tasks"


def run_task(name: str, params: dict | None = None, **ensemble):
    """PointResults of tasks/NAME.toml, with ``params`` and ensemble settings (members, seed, ...)
    overriding the file's; same seeds as `ensemble run`, so the numbers are those of the page."""
    spec = tomllib.loads((TASKS / f"{name}.toml").read_text())
    ens = {**spec.get("ensemble", {}), **ensemble}
    counts = ({"realizations": ens["realizations"], "vectors": ens.get("vectors", 1)} if "realizations" in ens
              else {"members": ens.get("members", 1)})
    return run_in_process(spec["model"], {**spec.get("params", {}), **(params or {})},
                          shard_size=ens.get("shard_size", 1), seed=ens.get("seed", 0), **counts)
