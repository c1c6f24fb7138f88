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


def _run_options(f):
    """Options shared by ``run`` and ``graph``: the spec and its ensemble overrides."""
    for opt in reversed([
        click.argument("spec_file", required=False, type=click.Path(dir_okay=False)),
        click.option("--members", type=int, default=None, help="override ensemble.members (raise it to extend a run)"),
        click.option("--realizations", type=int, default=None, help="override ensemble.realizations (two-level runs)"),
        click.option("--vectors", type=int, default=None, help="override ensemble.vectors (two-level runs)"),
    ]):
        f = opt(f)
    return f


def _load_spec(spec_file, store_path, members, realizations, vectors):
    """The spec of SPEC_FILE, or the one stored in STORE when no file is given, with count overrides."""
    from ensemble.engine.spec import Spec
    from ensemble.engine.store import open_store

    for name, value in (("--members", members), ("--realizations", realizations), ("--vectors", vectors)):
        if value is not None and value < 1:
            raise SpecError(f"{name} = {value}: must be >= 1")
    if spec_file is None:
        if store_path is None:
            raise SpecError("give a SPEC_FILE (or --store of an existing run to resume it)")
        spec = open_store(store_path).spec
    else:
        spec = Spec.from_file(spec_file)
    overrides = {k: v for k, v in (("members", members), ("realizations", realizations), ("vectors", vectors))
                 if v is not None}
    return spec.replace(**overrides) if overrides else spec


@main.command()
@_run_options
@click.option("--store", "store_path", required=True, type=click.Path(file_okay=False), help="zarr store directory")
@click.option("--cluster", default="local", show_default=True, help="local | sync | jobqueue:slurm | jobqueue:pbs")
@click.option("--workers", type=int, default=None, help="LocalCluster workers (default: one per core)")
@click.option("--threads-per-worker", type=int, default=1, show_default=True)
@click.option("--memory-limit", default=None, help="memory per worker, e.g. 4GiB")
@click.option("--scheduler", default=None, help="address of an existing dask scheduler to join")
@click.option("--scheduler-file", type=click.Path(dir_okay=False), default=None,
              help="scheduler file of an existing dask cluster")
@click.option("--jobqueue-config", type=click.Path(dir_okay=False), default=None,
              help="YAML for dask-jobqueue (default: the packaged one, see `ensemble deploy slurm`)")
@click.option("--jobs", type=int, default=1, show_default=True, help="batch jobs to request (jobqueue)")
@click.option("--lifetime", default=None,
              help="jobqueue: workers retire after this duration (e.g. 3h50m, below the job walltime) and are replaced")
@click.option("--adapt", default=None, metavar="MIN:MAX", help="jobqueue: adaptive number of jobs between MIN and MAX")
@click.option("--retries", type=int, default=2, show_default=True, help="retries of a failing shard")
@click.option("--max-shards", type=int, default=None, help="compute at most this many shards, then stop")
@click.option("--point", "points", type=int, multiple=True,
              help="compute only this point (index as `ensemble status` prints it; repeatable)")
@click.option("--target-error", "targets", multiple=True, metavar="NAME=VALUE[%]",
              help="extend in rounds until NAME's jackknife error is below VALUE (or VALUE%% of |mean|) at every "
                   "point; --members/--realizations is then the cap")
@click.option("--connect-timeout", type=float, default=10.0, show_default=True,
              help="seconds to reach --scheduler / --scheduler-file")
@click.option("--estimate", is_flag=True, help="time a member here and print the projected cost; run nothing")
@click.option("--window", type=int, default=None,
              help="shard tasks in flight at once (default: two per worker thread, following the cluster)")
@click.option("--no-progress", is_flag=True, help="no progress bar")
def run(spec_file, members, realizations, vectors, store_path, cluster, workers, threads_per_worker, memory_limit,
        scheduler, scheduler_file, jobqueue_config, jobs, lifetime, adapt, retries, max_shards, points, targets,
        connect_timeout, estimate, window, no_progress):
    """Run SPEC_FILE into --store, resuming (or extending) an existing store.

    Without SPEC_FILE the spec stored in an existing --store is resumed.  Exit codes: 0 done, 1 some shards
    failed (or a target error was not reached), 2 bad input or an unusable store, 75 stopped by the
    environment (disk full, quota, read-only or forbidden store: free space and resume), 128+N stopped by
    signal N (resume).
    """
    from ensemble import api
    from ensemble.engine.execute import ClusterOptions
    from ensemble.engine.faults import EnvironmentFault
    from ensemble.engine.signals import Stopped, stop_message, stop_on_signals
    from ensemble.engine.target import count_key, parse_target

    with _Guard():
        for name, value, low in (("--workers", workers, 1), ("--threads-per-worker", threads_per_worker, 1),
                                 ("--jobs", jobs, 1), ("--retries", retries, 0), ("--max-shards", max_shards, 0),
                                 ("--window", window, 1)):
            if value is not None and value < low:
                raise SpecError(f"{name} = {value}: must be >= {low}")
        parsed = [parse_target(t) for t in targets]
        cap = None
        spec = _load_spec(spec_file, store_path, None if parsed else members,
                          None if parsed else realizations, vectors)
        if parsed:  # the count options become the cap of the rounds
            cap = realizations if count_key(spec) == "realizations" else members
            if max_shards is not None:
                raise SpecError("--target-error and --max-shards cannot be combined")
        counts = (f"{spec.realizations} realizations x {spec.vectors} vectors" if spec.two_level
                  else f"{spec.members} members")
        click.echo(f"{len(spec.points())} point(s), {counts} each, shard_size {spec.shard_size}")
        for note in _default_notes(spec):
            click.echo(f"note: {note}")
        opts = ClusterOptions(kind=cluster, workers=workers, threads_per_worker=threads_per_worker,
                              scheduler=scheduler, scheduler_file=scheduler_file, jobqueue_config=jobqueue_config,
                              jobs=jobs, memory_limit=memory_limit, connect_timeout=connect_timeout,
                              lifetime=lifetime, adapt=_parse_adapt(adapt))
        if estimate:
            from ensemble.engine.estimate import estimate_cost, format_estimate

            click.echo(format_estimate(estimate_cost(spec, store_path, workers or _default_workers(opts))))
            return
        try:
            with stop_on_signals():
                report = api.run(spec, store_path, cluster=opts, retries=retries, progress=not no_progress,
                                 max_shards=max_shards, target_error=parsed or None, max_count=cap,
                                 points=points or None, window=window, log=click.echo)
        except Stopped as stop:  # SIGTERM (e.g. SLURM time limit) or SIGINT: cluster closed, jobs cancelled
            click.echo(stop_message(stop, store_path, _cluster_args(opts), batch=opts.kind.startswith("jobqueue:")), err=True)
            sys.exit(stop.exit_code)
        except EnvironmentFault as fault:  # full disk, quota, read-only: running shards cancelled, nothing lost
            import shlex

            again = [] if (Path(store_path) / "zarr.json").is_file() or spec_file is None else [str(spec_file)]
            resume = shlex.join(["ensemble", "run", *again, "--store", str(store_path), *_cluster_args(opts)])
            click.echo(f"{fault}; to resume after freeing space (or fixing the permission): {resume}", err=True)
            sys.exit(fault.exit_code)
    click.echo(f"computed {report.computed} shard(s) in {report.seconds:.1f} s")
    if report.failed:
        from ensemble.engine.execute import write_failures

        try:
            log_file = write_failures(store_path, report.failed)
        except OSError as exc:
            log_file = f"nowhere: the log could not be written ({exc.strerror})"
        for p, s, text in report.failed[:5]:
            last = text.strip().splitlines()[-1] if text.strip() else "unknown error"
            click.echo(f"shard (point {p}, shard {s}) failed after {retries + 1} tries: {last}", err=True)
        if len(report.failed) > 5:
            click.echo(f"... and {len(report.failed) - 5} more", err=True)
        _fail(f"{len(report.failed)} shard(s) failed (tracebacks in {log_file}); the rest are stored; "
              "rerun to retry them", code=1)
    if report.target_met is False:
        _fail("target error not reached within the cap; raise --members/--realizations to go on", code=1)


@main.command()
@_run_options
@click.option("--store", "store_path", default=None, type=click.Path(file_okay=False),
              help="an existing store: show only its pending work")
@click.option("--svg", "svg_file", default=None, type=click.Path(dir_okay=False),
              help="draw the graph with dask's visualizer (needs graphviz)")
def graph(spec_file, members, realizations, vectors, store_path, svg_file):
    """Summarize the dask graph of a run (nodes, edges, shards per point, memory) without running it."""
    from ensemble import api

    with _Guard():
        spec = _load_spec(spec_file, store_path, members, realizations, vectors)
        plan = api.plan(spec, store_path)
        info = plan.summary()
        if svg_file:
            _draw_graph(plan, svg_file)
    click.echo(f"nodes {info['nodes']}: {info['shard_nodes']} shard tasks, {info['setup_nodes']} realization setups; "
               f"edges {info['edges']}")
    click.echo(f"points {info['points']}; shards per point: {_compact_list(info['shards_per_point'])}")
    click.echo(f"memory per task (estimate): {info['memory_per_task_bytes'] / 2**20:.1f} MiB; "
               f"setup cost of the model: {spec.model.setup_cost if spec.two_level else 'n/a (flat members)'}")
    if svg_file:
        click.echo(f"wrote {svg_file}")


def _default_notes(spec) -> list[str]:
    notes = []
    if "members" in spec.implicit:
        notes.append("ensemble.members not given: 1 member per point, so no error bars (set members in [ensemble])")
    if "seed" in spec.implicit:
        notes.append("ensemble.seed not given: using seed 0 (set seed in [ensemble] for an independent run)")
    return notes


def _default_workers(opts) -> int:
    from ensemble.engine.execute import _local_workers

    return opts.jobs if opts.kind.startswith("jobqueue:") else _local_workers(opts)


def _compact_list(values) -> str:
    return str(values[0]) + " each" if len(set(values)) == 1 else ", ".join(map(str, values))


def _draw_graph(plan, svg_file):
    import shutil

    from ensemble.engine.graph import to_delayed

    try:
        import graphviz  # noqa: F401
    except ImportError:
        raise SpecError("--svg needs the graphviz Python package (pip install graphviz) and its dot program") from None
    if shutil.which("dot") is None:
        raise SpecError("--svg needs graphviz's dot program on PATH (e.g. apt-get install graphviz)")
    import dask

    dask.visualize(*to_delayed(plan), filename=str(svg_file), format="svg")


def _cluster_args(opts) -> list[str]:
    """The command-line options that recreate ``opts`` (for the resume hint)."""
    args = [] if opts.kind == "local" else ["--cluster", opts.kind]
    for flag, value, default in (("--workers", opts.workers, None), ("--jobs", opts.jobs, 1),
                                 ("--jobqueue-config", opts.jobqueue_config, None),
                                 ("--scheduler", opts.scheduler, None), ("--scheduler-file", opts.scheduler_file, None),
                                 ("--memory-limit", opts.memory_limit, None), ("--lifetime", opts.lifetime, None)):
        if value != default:
            args += [flag, str(value)]
    if opts.adapt:
        args += ["--adapt", f"{opts.adapt[0]}:{opts.adapt[1]}"]
    return args


def _parse_adapt(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    low, sep, high = text.partition(":")
    if not (sep and low.isdigit() and high.isdigit() and 0 <= int(low) <= int(high) and int(high) >= 1):
        raise SpecError(f"--adapt {text!r}: expected MIN:MAX jobs with 0 <= MIN <= MAX, MAX >= 1")
    return int(low), int(high)


@main.command()
@click.argument("store_path", type=click.Path(file_okay=False))
def status(store_path):
    """Shards done / total per point, members and a spec summary."""
    from ensemble.engine.store import open_store

    from ensemble.engine.store.provenance import format_records

    with _Guard():
        store = open_store(store_path)
        done, sizes = store.done(), store.shard_sizes()
    spec = store.spec
    _note(store)
    click.echo(f"model {spec.model_name}; spec hash {spec.hash()}; seed {spec.seed}; shard_size {spec.shard_size}")
    if spec.two_level:
        click.echo(f"two-level: {spec.realizations} realizations x {spec.vectors} vectors per point")
    fixed = {k: v for k, v in spec.params.items() if k not in spec.swept()}
    click.echo("fixed params: " + ", ".join(f"{k}={v}" for k, v in fixed.items()))
    for p, point in enumerate(spec.points()):
        label = ", ".join(f"{k}={point[k]}" for k in spec.swept()) or "single point"
        click.echo(f"point {p} ({label}): shards {int(done[p].sum())}/{done.shape[1]}, "
                   f"members {int(sizes[done[p]].sum())}/{spec.members}")
    click.echo(f"total: {int(done.sum())}/{done.size} shards done")
    records = store.provenance()
    if records:
        click.echo("run sessions:")
        for line in format_records(records):
            click.echo(f"  {line}")


def _note(store) -> None:
    note = store.note()
    if note:
        click.echo(f"note: {note}", err=True)


@main.command()
@click.argument("store_path", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def show(store_path, as_json):
    """Estimators with jackknife errors from the shards done so far."""
    from ensemble.engine.estimators import point_results
    from ensemble.engine.report import (format_scalar_table, format_stratified, format_variance, results_json,
                                        stratified_json, variance_json)
    from ensemble.engine.store import open_store
    from ensemble.engine.strata import stratified_report
    from ensemble.engine.variance import variance_report

    with _Guard():
        store = open_store(store_path)
        _note(store)
        points = point_results(store)
        spec = store.spec
        variances, stratified = [], {}   # two-level runs: strata (Model.strata) or random realizations
        for p, params in enumerate(spec.points() if spec.two_level else []):
            if spec.model.strata(params):
                stratified[p] = stratified_report(store, p)
            else:
                variances.append(variance_report(store, p))
    if as_json:
        doc = results_json(spec.model_name, points)
        for rep in variances:
            doc["points"][rep.point]["variance_components"] = variance_json(rep)
        for p, result in stratified.items():
            doc["points"][p]["stratified"] = stratified_json(result)
        click.echo(json.dumps(doc))
    else:
        click.echo(format_scalar_table(points, spec.swept()))
        if variances:
            click.echo(format_variance(variances))
        if stratified:
            click.echo(format_stratified(stratified))


@main.command()
@click.argument("store_path", type=click.Path(file_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="image file (.png, .pdf)")
def plot(store_path, output):
    """Draw the model's figure from the shards done so far."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ensemble.engine.estimators import point_results
    from ensemble.engine.plotting import figure_title
    from ensemble.engine.store import open_store

    with _Guard():
        fig = plt.figure(figsize=(10, 6.5))
        formats = fig.canvas.get_supported_filetypes()
        suffix = Path(output).suffix.lstrip(".").lower()
        if suffix not in formats:
            raise SpecError(f"-o {output}: unknown image format {suffix!r}; use one of {', '.join(sorted(formats))}")
        store = open_store(store_path)
        if not store.done().any():
            raise SpecError(f"{store_path}: no shard is done yet; nothing to plot (run or resume it first)")
        everything = point_results(store)
    points = [pt for pt in everything if pt.members_done]  # a point with no shard done has nothing to draw
    store.spec.model.plot(points, fig)
    fig.suptitle(figure_title(store.spec, points))
    fig.tight_layout()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=120)
    skipped = len(everything) - len(points)
    click.echo(f"wrote {output}" + (f" ({skipped} of {len(everything)} points have no shard done and are left out)"
                                     if skipped else ""))


@main.command()
@click.argument("flavour", type=click.Choice(["slurm", "pbs"]))
def deploy(flavour):
    """Print the packaged dask-jobqueue config (start your own: ensemble deploy slurm > my.yaml)."""
    from ensemble.engine.execute import packaged_config

    click.echo(packaged_config(flavour), nl=False)


@main.command()
def models():
    """Registered models (built-in and plugins) with their parameters and units.

    Exit code 1 when a plugin cannot be used (it fails to import, or its name clashes); the others are
    listed all the same.
    """
    from ensemble.engine.registry import available_models, get_model, model_source, plugins

    problems = dict(plugins().problems)
    for name in available_models():
        try:
            source = model_source(name)
            model = get_model(name)
        except SpecError as exc:
            problems[name] = str(exc)
            continue
        origin = f" [{source.describe()}]" if source.kind != "built-in" else ""
        click.echo(f"{name}: {model.description}{origin}")
        for p in model.params:
            default = "required" if p.default is REQUIRED else f"default {p.default!r}"
            unit = f" [{p.unit}]" if p.unit else ""
            click.echo(f"    {p.name}{unit}: {p.doc} ({p.describe_range()}; {default})")
    for name in sorted(problems):
        click.echo(f"error: {name}: unavailable: {problems[name]}", err=True)
    if problems:
        sys.exit(1)


def _parse_param(text: str) -> tuple[str, object]:
    """``k=v`` with v read as a TOML value (``L=8``, ``T=[0.1, 0.2]``, ``method="dqt"``; bare words are strings)."""
    import tomllib

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise SpecError(f"--param {text!r}: expected NAME=VALUE")
    try:
        return key.strip(), tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return key.strip(), value


@main.command("check-model")
@click.argument("name")
@click.option("--param", "param_texts", multiple=True, metavar="NAME=VALUE",
              help="a parameter of the point to check (default: the model's defaults; keep it small); repeatable")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-memory", is_flag=True, help="skip the memory check (it starts one fresh Python process per form)")
def check_model(name, param_texts, seed, no_memory):
    """Check that model NAME keeps the engine's promises, one PASS/FAIL line each.

    Runs the engine's own task code on one point: the same shards in two worker orders (bitwise), shard
    sizes 1, 2 and 3, additivity of the sums, finalize on subsets of shards, finite estimators, the
    memory estimate against a measured peak RSS, and parameter validation; two-level models also as
    realizations x vectors.  Exit code 0 when every check passes, 1 otherwise, 2 for bad input.
    """
    from ensemble.engine.checker import check_model as run_checks

    with _Guard():
        params = dict(_parse_param(t) for t in param_texts)
        checks = run_checks(name, params, seed=seed, memory=not no_memory)
    for check in checks:
        click.echo(check.line())
    failed = [c for c in checks if c.passed is not True]
    click.echo(f"{name}: {len(checks) - len(failed)} of {len(checks)} checks passed")
    if failed:
        sys.exit(1)


@main.command()
@click.argument("store_path", type=click.Path(file_okay=False))
def compact(store_path):
    """Merge staged shards into the store's large chunks and pre-sum complete points.

    A run does this itself every few seconds; use it for a store filled through ``ensemble.graph``.
    """
    from ensemble.engine.lease import store_lease
    from ensemble.engine.store import open_store
    from ensemble.engine.store.compaction import compact as compact_store

    with _Guard():
        store = open_store(store_path)
        with store_lease(store_path):
            moved = compact_store(store, all_points=True)
    click.echo(f"{store_path}: {moved} staged shard(s) compacted")


@main.command()
@click.argument("store_path", type=click.Path(file_okay=False))
@click.option("--repair", is_flag=True, help="mark the shards of damaged chunks pending and rebuild damaged block sums")
def verify(store_path, repair):
    """Read every chunk and the metadata of a store; report damaged, truncated or missing chunks.

    Exit code 0: all sound (or repaired); 1: damage found (without --repair), or damage that cannot be
    recomputed (metadata, spec, shard table).  After --repair, `ensemble run --store STORE` recomputes the
    pending shards, bitwise as they were.
    """
    from ensemble.engine.lease import store_lease
    from ensemble.engine.store import StoreCorruption, open_store
    from ensemble.engine.store.integrity import repair as repair_store, verify as verify_store

    with _Guard():
        try:
            store = open_store(store_path)
        except StoreCorruption as exc:
            click.echo(f"{exc}", err=True)
            _fail("the store's metadata is damaged; it cannot be repaired (restore it from a copy)", code=1)
        _note(store)
        findings = verify_store(store)
    for finding in findings:
        click.echo(f"{store_path}: {finding.line()}")
    if not findings:
        click.echo(f"{store_path}: all {store.n_points * store.n_shards} shard(s) and their metadata are sound"
                   + ("" if store.checksummed else " (as far as chunk lengths tell: no checksums)"))
        return
    if not repair:
        _fail(f"{len(findings)} damaged chunk(s); `ensemble verify {store_path} --repair` marks their shards "
              "pending, then `ensemble run --store` recomputes them", code=1)
    with _Guard(), store_lease(store_path):
        try:
            pending, rebuilt = repair_store(store, findings)
        except StoreCorruption as exc:   # damaged metadata: repair refuses to guess
            _fail(str(exc), code=1)
    click.echo(f"{store_path}: repaired: {pending} shard(s) marked pending, block sums of {rebuilt} point(s) "
               f"rebuilt; recompute with `ensemble run --store {store_path}`")


if __name__ == "__main__":
    main()
