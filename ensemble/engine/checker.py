"""``ensemble check-model``: test a model against the promises of the model protocol at a small size.

Every check goes through the engine's own task code (:func:`ensemble.engine.tasks.shard_sums`, the
realization setup task, the shard tables and the jackknife), on one point of the model's parameters:

* seeds: every shard gives bitwise the same sums whichever order the shards run in (and, for two-level
  runs, whether its realization is built in the task or by a setup task) — what bitwise resume needs;
* shard sizes: the totals of the run cut into shards of 1, 2 and 3 members agree (to the rounding of
  a different summation order: 8 M ε Σ|member sums|; integers exactly);
* additivity: the sums of one shard holding all members equal the sums of its two halves;
* finalize on subsets: ``finalize`` runs on every single shard and on every jackknife replica, is a
  pure function of the totals (bitwise the same after more shards ran, totals left untouched), and an
  ensemble duplicated (every sum and the member count doubled, exact in floating point) gives the same
  estimators (an estimator must not depend on how many members were summed, only on their averages);
* finite: every estimator of the whole run is finite;
* memory: ``memory_bytes`` against the peak RSS of a fresh Python process that has imported the model,
  during one shard task, within a factor 2 (the RSS includes the interpreter and the imported libraries,
  as a worker's memory limit does; the task's own growth is printed beside it);
* validation: each declared range or choice refuses a value just outside it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import numpy as np

from ensemble.engine.estimators import jackknife_arrays
from ensemble.engine.model import Model, SpecError
from ensemble.engine.seeding import shard_members
from ensemble.engine.spec import Spec, spec_from_dict
from ensemble.engine.store.run_store import table_for
from ensemble.engine.tasks import prepare_realization, shard_sums

FLAT_MEMBERS = 6                  # divisible by every checked shard size
TWO_LEVEL = (2, 3)                # realizations x vectors: vector shards, whole and multiple realizations
SHARD_SIZES = (1, 2, 3)
MEMORY_FACTOR = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None           # None: not judged (an earlier check makes it meaningless)
    detail: str

    def line(self) -> str:
        word = {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]
        return f"{word}  {self.name}: {self.detail}"


class _Form:
    """One way to run the model (flat members, or realizations x vectors) through the engine's task code."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.model: Model = spec.model
        self.point = spec.points()[0]
        self.accs = self.model.accumulators(self.point)

    def table(self, shard_size: int) -> np.ndarray:
        return table_for(self.spec.replace(shard_size=shard_size))

    def sums(self, row, prepared: bool = False) -> dict[str, np.ndarray]:
        built = None
        if prepared and int(row[1]) - int(row[0]) == 1:   # setup tasks serve shards of one realization
            built = prepare_realization(self.spec.model_name, self.point, self.spec.seed, 0, int(row[0]), 1)
        raw = shard_sums(self.model, self.point, self.spec.seed, 0, tuple(int(x) for x in row), built)[0]
        return {a.name: np.asarray(raw[a.name], dtype=a.dtype).reshape(a.shape) for a in self.accs}

    def totals(self, per_shard: list[dict], sizes) -> dict[str, np.ndarray]:
        out = {a.name: np.sum([s[a.name] for s in per_shard], axis=0) for a in self.accs}
        out["members"] = np.asarray(float(np.sum(sizes)))
        return out


def _bitwise(a: dict, b: dict) -> list[str]:
    return [k for k in a if np.asarray(a[k]).tobytes() != np.asarray(b[k]).tobytes()]


def _close(a: dict, b: dict, scale: dict, members: int) -> list[str]:
    """Names whose values differ by more than the rounding of summing ``members`` values in another order."""
    bad = []
    for k in scale:
        x, y = np.asarray(a[k]), np.asarray(b[k])
        if np.issubdtype(x.dtype, np.inexact):
            tol = 8 * members * np.finfo(x.dtype).eps * np.asarray(scale[k], dtype=float)
            same = np.abs(x - y) <= tol
            same |= (x == y)                                  # equal infinities
            same |= np.isnan(x) & np.isnan(y)
            if not same.all():
                bad.append(k)
        elif not np.array_equal(x, y):
            bad.append(k)
    return bad


def _estimates(model: Model, totals: dict, params: dict) -> dict[str, np.ndarray]:
    snapshot = {k: np.array(v, copy=True) for k, v in totals.items()}
    out = {k: np.asarray(e.value, dtype=float) for k, e in model.finalize(totals, params).items()}
    if _bitwise(snapshot, totals):
        raise ValueError("finalize changed the totals it was given: " + ", ".join(_bitwise(snapshot, totals)))
    return out


def _seed_check(form: _Form, label: str) -> tuple[Check, dict[int, list[dict]] | None]:
    """Per shard size, the sums of every shard; checks that a second order gives the same bits."""
    per_size: dict[int, list[dict]] = {}
    for size in SHARD_SIZES:
        per_size[size] = [form.sums(row) for row in form.table(size)]
    table = form.table(2)
    again = {i: form.sums(table[i], prepared=form.spec.two_level) for i in reversed(range(len(table)))}
    differ = [(i, _bitwise(per_size[2][i], again[i])) for i in range(len(table))]
    differ = [(i, names) for i, names in differ if names]
    how = "reversed order" + (", realizations built by a setup task" if form.spec.two_level else "")
    if differ:
        i, names = differ[0]
        return Check(f"seeds ({label})", False,
                     f"shard {tuple(int(x) for x in table[i])} gives other sums in a second run ({how}): "
                     f"{', '.join(names)}; draw only from the streams the engine passes (no global or shared RNG, "
                     "no state kept between calls)"), None
    passed = Check(f"seeds ({label})", True, f"{len(table)} shards bitwise identical in two worker orders ({how})")
    return passed, per_size


def _size_check(form: _Form, label: str, per_size: dict[int, list[dict]]) -> Check:
    singles = per_size[1]
    members = len(singles)
    scale = {k: np.sum([np.abs(s[k]) for s in singles], axis=0) for k in singles[0]}
    totals = {size: form.totals(rows, shard_members(form.table(size))) for size, rows in per_size.items()}
    bad = [(size, _close(totals[1], totals[size], scale, members)) for size in SHARD_SIZES[1:]]
    bad = [(size, names) for size, names in bad if names]
    name = f"shard sizes ({label})"
    if bad:
        size, names = bad[0]
        return Check(name, False, f"totals with shard size {size} differ from shard size 1 beyond rounding: "
                                  f"{', '.join(names)}")
    return Check(name, True, f"totals for shard sizes {', '.join(map(str, SHARD_SIZES))} agree "
                             f"(to 8·{members}·ε·Σ|member sums|)")


def _halves(form: _Form) -> tuple[tuple, tuple, tuple]:
    if form.spec.two_level:
        r, v = form.spec.realizations, form.spec.vectors
        if r > 1:
            return (0, r, 0, v), (0, r // 2, 0, v), (r // 2, r, 0, v)
        return (0, 1, 0, v), (0, 1, 0, v // 2), (0, 1, v // 2, v)
    m = form.spec.members
    return (0, m), (0, m // 2), (m // 2, m)


def _additivity_check(form: _Form, label: str, per_size: dict[int, list[dict]]) -> Check:
    whole, first, second = _halves(form)
    total = form.sums(whole)
    a, b = form.sums(first), form.sums(second)
    parts = {k: a[k] + b[k] for k in a}
    members = int(shard_members(np.asarray([whole]))[0])
    scale = {k: np.sum([np.abs(s[k]) for s in per_size[1]], axis=0) for k in a}
    bad = _close(total, parts, scale, members)
    name = f"additivity ({label})"
    if bad:
        return Check(name, False, f"the sums of shard {whole} differ from those of {first} plus {second}: "
                                  f"{', '.join(bad)}; run_shard must return sums over its members, not means")
    return Check(name, True, f"sums of {whole} = sums of {first} + {second}")


def _finalize_check(form: _Form, label: str, per_size: dict[int, list[dict]]) -> Check:
    model, params = form.model, form.point
    singles = per_size[1]
    table = form.table(1)
    sizes = shard_members(table)
    whole = form.totals(singles, sizes)
    name = f"finalize on subsets ({label})"
    try:
        full = _estimates(model, whole, params)
        for i, s in enumerate(singles):
            one = form.totals([s], sizes[i:i + 1])
            got = _estimates(model, one, params)
            if set(got) != set(full) or any(got[k].shape != full[k].shape for k in full):
                return Check(name, False, f"finalize of shard {i} alone gives other estimators or shapes")
        stacked = {k: np.stack([s[k] for s in singles]) for k in singles[0]}
        jackknife_arrays(model, params, stacked, sizes.astype(float), table=table)
        form.sums(table[0])                      # more shards run: a count kept on the model would change
        again = _estimates(model, whole, params)
        twice = _estimates(model, {k: v * 2 for k, v in whole.items()}, params)
    except Exception as exc:  # noqa: BLE001 - reported as the check's failure
        return Check(name, False, f"finalize fails on a subset of shards: {type(exc).__name__}: {exc}")
    changed = _bitwise(full, again)
    if changed:
        return Check(name, False, f"finalize gives other values for the same totals after more shards ran: "
                                  f"{', '.join(changed)}; compute estimators from the totals only")
    moved = [k for k in full
             if not np.allclose(twice[k], full[k], rtol=1e-12, atol=0.0, equal_nan=True)]
    if moved:
        return Check(name, False, f"a duplicated ensemble (every sum and the member count doubled) changes "
                                  f"{', '.join(moved)}; divide by accumulated counts (totals['members'] or "
                                  "an accumulator), never by a count kept elsewhere")
    return Check(name, True, f"finalize runs on each of {len(singles)} single shards and every jackknife "
                             "replica, is pure, and is unchanged by a duplicated ensemble")


def _finite_check(form: _Form, label: str, per_size: dict[int, list[dict]]) -> Check:
    est = _estimates(form.model, form.totals(per_size[1], shard_members(form.table(1))), form.point)
    bad = [k for k, v in est.items() if not np.all(np.isfinite(v))]
    name = f"finite ({label})"
    if bad:
        return Check(name, False, f"non-finite values in {', '.join(bad)}")
    return Check(name, True, f"{len(est)} estimators finite")


TASK_RSS_SCRIPT = """
import json, sys
from pathlib import Path
from ensemble.engine.spec import spec_from_dict
from ensemble.engine.tasks import shard_sums

def status(key):
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(key + ":"))
    return int(line.split()[1]) * 1024

spec = spec_from_dict(json.loads(sys.argv[1]))
model, point = spec.model, spec.points()[0]
before = status("VmRSS")
Path("/proc/self/clear_refs").write_text("5")   # reset the peak (VmHWM) to the present RSS
shard_sums(model, point, spec.seed, 0, tuple(json.loads(sys.argv[2])))
print(json.dumps([status("VmHWM"), before]))
"""


def measure_shard_rss(spec: Spec, row) -> tuple[int, int]:
    """(peak RSS during the task, RSS before it) in bytes, of a fresh Python process that has imported the
    engine and the model and then runs shard ``row`` of the spec's first point through the engine's task
    code.  The peak is the kernel's high-water mark (VmHWM, reset just before the task; Linux only)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", TASK_RSS_SCRIPT, json.dumps(spec.to_dict()),
                          json.dumps([int(x) for x in row])], capture_output=True, text=True, env=env, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "no output")
    peak, before = json.loads(out.stdout.strip().splitlines()[-1])
    return peak, before


def _memory_check(form: _Form, label: str) -> Check:
    row = form.table(max(SHARD_SIZES))[0]
    estimate = form.model.memory_bytes(form.point, max(SHARD_SIZES))
    name = f"memory ({label})"
    try:
        peak, before = measure_shard_rss(form.spec, row)
    except Exception as exc:  # noqa: BLE001
        return Check(name, False, f"could not run one shard in a fresh process: {exc}")
    ratio = estimate / peak
    text = (f"memory_bytes {estimate / 2**20:.1f} MiB for shard_size {max(SHARD_SIZES)}; peak RSS of a fresh "
            f"process during one such shard {peak / 2**20:.1f} MiB (resident before it, interpreter and imports: "
            f"{before / 2**20:.1f} MiB): "
            f"ratio {ratio:.2f}")
    ok = 1 / MEMORY_FACTOR <= ratio <= MEMORY_FACTOR
    return Check(name, ok, text + ("" if ok else f", outside [{1 / MEMORY_FACTOR:g}, {MEMORY_FACTOR:g}]"))


def outside_values(param) -> list:
    """Values just outside a parameter's declared range or choices."""
    if param.choices is not None:
        if param.kind is str:
            return ["\0not-a-choice"]
        if param.kind in (int, float):
            return [max(param.choices) + 1]
        return []
    if param.kind not in (int, float):
        return []
    step = 1 if param.kind is int else max(1e-9, 1e-6 * max(abs(param.low or 0), abs(param.high or 0), 1.0))
    out = []
    if param.low is not None:
        out.append(param.kind(param.low) if param.low_open else param.kind(param.low - step))
    if param.high is not None:
        out.append(param.kind(param.high) if param.high_open else param.kind(param.high + step))
    return out


def _validation_check(spec: Spec) -> Check:
    raw = spec.to_dict()
    tried, accepted, unbounded = 0, [], []
    for param in spec.model.params:
        values = outside_values(param)
        if not values and param.kind in (int, float) and not param.array:
            unbounded.append(param.name)
        for value in values:
            tried += 1
            bad = {**raw, "params": {**raw["params"], param.name: [value] if param.array else value}}
            try:
                spec_from_dict(bad)
            except SpecError:
                continue
            accepted.append(f"{param.name} = {value!r}")
    name = "validation"
    if accepted:
        return Check(name, False, f"values outside the declared ranges were accepted: {', '.join(accepted)}")
    note = f"; no range declared for {', '.join(unbounded)}" if unbounded else ""
    return Check(name, True, f"{tried} values just outside declared ranges refused{note}")


def _form_checks(spec: Spec, label: str, memory: bool) -> list[Check]:
    form = _Form(spec)
    rest = [f"shard sizes ({label})", f"additivity ({label})", f"finalize on subsets ({label})",
            f"finite ({label})"]
    try:
        seeds, per_size = _seed_check(form, label)
        checks = [seeds]
        if per_size is None:
            checks += [Check(n, None, "not judged: the same shard gives other results each time") for n in rest]
        else:
            checks += [_size_check(form, label, per_size), _additivity_check(form, label, per_size),
                       _finalize_check(form, label, per_size), _finite_check(form, label, per_size)]
    except Exception as exc:  # noqa: BLE001 - the model's own failure, reported as a line
        checks = [Check(f"runs ({label})", False, f"a shard task raised {type(exc).__name__}: {exc}")]
        checks += [Check(n, None, "not judged: the model does not run") for n in [f"seeds ({label})", *rest]]
    if memory:
        checks.append(_memory_check(form, label))
    return checks


def _forms(model_name: str, params: dict | None, seed: int) -> list[tuple[Spec, str]]:
    """The specs of the flat and the two-level form the model implements, at one point."""
    base = {"model": model_name, "params": dict(params or {})}
    spec = spec_from_dict({**base, "ensemble": {"members": FLAT_MEMBERS, "seed": seed}})
    if len(spec.points()) != 1:
        raise SpecError(f"check-model checks one point; give single values, not lists ({', '.join(spec.swept())})")
    model = spec.model
    forms = []
    if type(model).run_shard is not Model.run_shard:
        forms.append((spec, "flat"))
    if model.two_level:
        r, v = TWO_LEVEL
        forms.append((spec_from_dict({**base, "ensemble": {"realizations": r, "vectors": v, "seed": seed}}),
                      "two-level"))
    if not forms:
        raise SpecError(f"model {model_name!r} implements neither run_shard nor prepare and run_vectors")
    return forms


def check_model(model_name: str, params: dict | None = None, seed: int = 0, memory: bool = True) -> list[Check]:
    """Every check on the model at ``params`` (its defaults otherwise; one point, no sweeps)."""
    forms = _forms(model_name, params, seed)
    checks = []
    for form_spec, label in forms:
        checks += _form_checks(form_spec, label, memory)
    checks.append(_validation_check(forms[0][0]))
    return checks


def check_memory(model_name: str, params: dict | None = None, seed: int = 0) -> list[Check]:
    """Only the memory check, per form (for sizes too large to run the other checks at)."""
    return [_memory_check(_Form(form_spec), label) for form_spec, label in _forms(model_name, params, seed)]
