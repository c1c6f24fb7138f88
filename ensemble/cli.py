"""Command-line interface (thin: parse, call the engine, print)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ensemble.engine.model import REQUIRED, SpecError


def _fail(msg: str, code: int = 2):
    click.echo(f"error: {msg}", err=True)
    sys.exit(code)


class _Guard:
    """Turn SpecError (bad input) into one line on stderr and exit code 2."""

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        if typ is not None and issubclass(typ, SpecError):
            _fail(str(exc))
        return False


@click.group()
@click.version_option(package_name="tls-ensemble")
def main():
    """Sharded Monte Carlo / ensemble runs for two-level systems in glasses."""


@main.command()
@click.argument("spec_file", required=False, type=click.Path(dir_okay=False))
@click.option("--store", "store_path", required=True, type=click.Path(file_okay=False), help="zarr store directory")
@click.option("--members", type=int, default=None, help="override ensemble.members (raise it to extend a run)")
@click.option("--cluster", default="local", show_default=True, help="local | sync | jobqueue:slurm | jobqueue:pbs")
@click.option("--workers", type=int, default=None, help="LocalCluster workers (default: one per core)")
@click.option("--threads-per-worker", type=int, default=1, show_default=True)
@click.option("--memory-limit", default=None, help="memory per worker, e.g. 4GiB")
@click.option("--scheduler", default=None, help="address of an existing dask scheduler to join")
@click.option("--scheduler-file", type=click.Path(dir_okay=False), default=None,
              help="scheduler file of an existing dask cluster")
@click.option("--jobqueue-config", type=click.Path(dir_okay=False), default=None, help="YAML for dask-jobqueue")
@click.option("--jobs", type=int, default=1, show_default=True, help="batch jobs to request (jobqueue)")
@click.option("--retries", type=int, default=2, show_default=True, help="retries of a failing shard")
@click.option("--max-shards", type=int, default=None, help="compute at most this many shards, then stop")
@click.option("--no-progress", is_flag=True, help="no progress bar")
def run(spec_file, store_path, members, cluster, workers, threads_per_worker, memory_limit, scheduler,
        scheduler_file, jobqueue_config, jobs, retries, max_shards, no_progress):
    """Run SPEC_FILE into --store, resuming (or extending) an existing store.

    Without SPEC_FILE the spec stored in an existing --store is resumed.
    """
    from ensemble.engine.execute import ClusterOptions, run_spec
    from ensemble.engine.spec import load_spec, spec_from_dict
    from ensemble.engine.store import open_store

    with _Guard():
        for name, value, low in (("--workers", workers, 1), ("--threads-per-worker", threads_per_worker, 1),
                                 ("--jobs", jobs, 1), ("--retries", retries, 0), ("--max-shards", max_shards, 0),
                                 ("--members", members, 1)):
            if value is not None and value < low:
                raise SpecError(f"{name} = {value}: must be >= {low}")
        if spec_file is None:
            stored = open_store(store_path).spec
            spec = spec_from_dict(stored.to_dict(), members_override=members)
        else:
            spec = load_spec(spec_file, members_override=members)
        click.echo(f"{len(spec.points())} point(s), {spec.members} members each, shard_size {spec.shard_size}")
        opts = ClusterOptions(kind=cluster, workers=workers, threads_per_worker=threads_per_worker,
                              scheduler=scheduler, scheduler_file=scheduler_file, jobqueue_config=jobqueue_config,
                              jobs=jobs, memory_limit=memory_limit)
        try:
            report = run_spec(spec, store_path, opts, retries=retries, progress=not no_progress,
                              max_shards=max_shards, log=click.echo)
        except KeyboardInterrupt:
            click.echo("interrupted: finished shards are kept; rerun the same command to resume", err=True)
            sys.exit(130)
    click.echo(f"computed {report.computed} shard(s) in {report.seconds:.1f} s")
    if report.failed:
        for p, s, text in report.failed:
            click.echo(f"shard (point {p}, shard {s}) failed after {retries + 1} tries:\n{text}", err=True)
        _fail(f"{len(report.failed)} shard(s) failed; the rest are stored; rerun to retry them", code=1)


@main.command()
@click.argument("store_path", type=click.Path(file_okay=False))
def status(store_path):
    """Shards done / total per point, members and a spec summary."""
    from ensemble.engine.store import open_store

    with _Guard():
        store = open_store(store_path)
    spec = store.spec
    done, sizes = store.done(), store.shard_sizes()
    click.echo(f"model {spec.model_name}; spec hash {spec.hash()}; seed {spec.seed}; shard_size {spec.shard_size}")
    fixed = {k: v for k, v in spec.params.items() if k not in spec.swept()}
    click.echo("fixed params: " + ", ".join(f"{k}={v}" for k, v in fixed.items()))
    for p, point in enumerate(spec.points()):
        label = ", ".join(f"{k}={point[k]}" for k in spec.swept()) or "single point"
        click.echo(f"point {p} ({label}): shards {int(done[p].sum())}/{done.shape[1]}, "
                   f"members {int(sizes[done[p]].sum())}/{spec.members}")
    click.echo(f"total: {int(done.sum())}/{done.size} shards done")


@main.command()
@click.argument("store_path", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def show(store_path, as_json):
    """Estimators with jackknife errors from the shards done so far."""
    from ensemble.engine.estimators import point_results
    from ensemble.engine.report import format_scalar_table, results_json
    from ensemble.engine.store import open_store

    with _Guard():
        store = open_store(store_path)
    points = point_results(store)
    if as_json:
        click.echo(json.dumps(results_json(store.spec.model_name, points)))
    else:
        click.echo(format_scalar_table(points, store.spec.swept()))


@main.command()
@click.argument("store_path", type=click.Path(file_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="image file (.png, .pdf)")
def plot(store_path, output):
    """Draw the model's figure from the shards done so far."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ensemble.engine.estimators import point_results
    from ensemble.engine.store import open_store

    with _Guard():
        store = open_store(store_path)
    fig = plt.figure(figsize=(10, 6.5))
    store.spec.model.plot(point_results(store), fig)
    title = store.spec.title or store.spec.model_name
    fig.suptitle(title)
    fig.tight_layout()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=120)
    click.echo(f"wrote {output}")


@main.command()
def models():
    """Registered models with their parameters and units."""
    from ensemble.engine.registry import available_models, get_model

    for name in available_models():
        try:
            model = get_model(name)
        except SpecError as exc:
            click.echo(f"{name}: unavailable ({exc})")
            continue
        click.echo(f"{name}: {model.description}")
        for p in model.params:
            default = "required" if p.default is REQUIRED else f"default {p.default!r}"
            unit = f" [{p.unit}]" if p.unit else ""
            click.echo(f"    {p.name}{unit}: {p.doc} ({p.describe_range()}; {default})")


if __name__ == "__main__":
    main()
