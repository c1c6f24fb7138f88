"""The model protocol: what a physical model declares so the engine can run it.

A model knows physics and nothing about dask or zarr.  It is an instance of a subclass of :class:`Model`
that a module exposes (by convention as ``MODEL``).  A run spec names it in one of three ways
(:mod:`ensemble.engine.registry`): a built-in name (``ensemble.models.REGISTRY``), the name a plugin
declares under the entry-point group ``tls_ensemble.models`` of an installed distribution, or
``"package.module:ATTR"``.  docs/writing-a-model.md writes one from zero; ``ensemble check-model NAME``
tests a model against the promises below.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ensemble.engine.results import PointResult, Result  # noqa: F401  (re-exported for models)

REQUIRED = object()


class SpecError(ValueError):
    """Bad user input: the message is one line naming the offending key and what is allowed."""


@dataclass(frozen=True)
class Param:
    """A typed, validated model parameter.

    ``kind`` is int, float, str or bool.  ``array=True`` marks a parameter whose value is itself a
    list of ``kind`` (e.g. a temperature grid); a list of lists is then a sweep.  Otherwise a list
    value in a spec makes a sweep axis.  ``low``/``high`` bound numeric values (inclusive unless
    ``low_open``/``high_open``), ``choices`` enumerates allowed values.  ``stored_default`` is the value
    that stores written before the parameter existed ran with, when it differs from ``default`` (a new
    default then never resumes an old store with other physics: the two specs differ and the run is refused).
    """

    name: str
    kind: type
    default: Any = REQUIRED
    unit: str = ""
    doc: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple | None = None
    array: bool = False
    stored_default: Any = REQUIRED

    def describe_range(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        lo = "(" if self.low_open else "["
        hi = ")" if self.high_open else "]"
        if self.low is None and self.high is None:
            return f"any {self.kind.__name__}"
        a = "-inf" if self.low is None else repr(self.low)
        b = "inf" if self.high is None else repr(self.high)
        return f"{self.kind.__name__} in {lo}{a}, {b}{hi}"

    def validate_scalar(self, value: Any) -> Any:
        """Return the value converted to ``kind``; raise SpecError naming the key otherwise."""
        kind = self.kind
        ok_types = {int: (int,), float: (int, float), str: (str,), bool: (bool,)}[kind]
        if isinstance(value, bool) and kind is not bool:
            ok = False
        else:
            ok = isinstance(value, ok_types)
        if not ok:
            raise SpecError(
                f"params.{self.name}: expected {kind.__name__}, got {type(value).__name__} {value!r}"
            )
        value = kind(value)
        if self.choices is not None and value not in self.choices:
            raise SpecError(f"params.{self.name} = {value!r}: allowed {self.describe_range()}")
        if kind in (int, float):
            bad = (
                (self.low is not None and (value < self.low or (self.low_open and value == self.low)))
                or (self.high is not None and (value > self.high or (self.high_open and value == self.high)))
                or (kind is float and not np.isfinite(value))
            )
            if bad:
                raise SpecError(f"params.{self.name} = {value!r}: allowed {self.describe_range()}")
        return value

    def validate(self, value: Any) -> Any:
        if self.array:
            if not isinstance(value, (list, tuple)) or len(value) == 0:
                raise SpecError(f"params.{self.name}: expected a non-empty list of {self.kind.__name__}")
            return [self.validate_scalar(v) for v in value]
        return self.validate_scalar(value)


@dataclass(frozen=True)
class Accumulator:
    """An additive raw quantity that one shard produces (a sum over its members).

    ``dims`` names each axis of ``shape``; ``coords`` optionally gives a coordinate array per dim
    (dimension names must be unique across a model's accumulators unless the coords agree).
    """

    name: str
    shape: tuple[int, ...] = ()
    dims: tuple[str, ...] = ()
    coords: dict[str, np.ndarray] = field(default_factory=dict)
    dtype: str = "float64"
    unit: str = ""
    doc: str = ""

    def __post_init__(self):
        if len(self.shape) != len(self.dims):
            raise ValueError(f"accumulator {self.name}: shape {self.shape} and dims {self.dims} differ in rank")


@dataclass
class Estimate:
    """A physical estimator produced by ``finalize`` from summed accumulators.

    The engine attaches an error bar by jackknife over shard blocks unless ``jackknife`` is False
    (use False for exact/derived axes such as grids).
    """

    value: Any
    dims: tuple[str, ...] = ()
    coords: dict[str, np.ndarray] = field(default_factory=dict)
    unit: str = ""
    jackknife: bool = True


class Model:
    """Base class.  Subclasses set ``name``, ``description``, ``params`` and implement the methods.

    accumulators(params) -> list[Accumulator]
        The additive quantities one shard returns, with their shapes (the same for every shard).
    run_shard(params, member_ids, seeds) -> dict[str, ndarray]
        Simulate members ``member_ids`` (ints, stable ids) whose random streams are ``seeds``
        (``numpy.random.SeedSequence`` each, one per member); return per accumulator the *sum*
        over these members, shaped as declared by :meth:`accumulators`.
    finalize(totals, params) -> dict[str, Estimate]
        ``totals`` holds the summed accumulators plus ``totals["members"]``, the number of members
        summed.  Must be a pure function of its inputs (it is called once per jackknife block).

    The promises the engine relies on (``ensemble check-model`` tests each):

    * every random number a member uses comes from its own seed (``numpy.random.default_rng(seed)``),
      never from numpy's global generator or a generator or state kept on the model: a shard's sums
      are then the same bits whichever worker, order or restart computes them;
    * sums are additive: the sums of a shard equal the sums of its members computed in any split;
    * ``finalize`` works on the totals of any subset of shards (the jackknife leaves blocks out) and
      divides only by accumulated counts (an accumulator or ``totals["members"]``), so an ensemble
      summed twice gives the same estimators; its estimators are finite;
    * :meth:`memory_bytes` is the peak memory of one shard task, within a factor 2;
    * parameters declare their ranges (``Param.low``/``high``/``choices``), so bad values are refused
      before a run starts.
    """

    name: str = ""
    description: str = ""
    params: Sequence[Param] = ()
    #: Two-level runs only: "cheap" lets every task that needs a realization build it itself;
    #: "expensive" builds it once in a setup task that feeds all of its vector tasks.
    setup_cost: str = "cheap"

    # ----- required -----
    def accumulators(self, params: dict) -> list[Accumulator]:
        raise NotImplementedError

    def run_shard(self, params: dict, member_ids: np.ndarray, seeds: list) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def zero_sums(self, params: dict) -> dict[str, np.ndarray]:
        """Zero sums shaped and typed as :meth:`accumulators` declares them (a shard's starting totals)."""
        return {a.name: np.zeros(a.shape, a.dtype) for a in self.accumulators(params)}

    def finalize(self, totals: dict[str, np.ndarray], params: dict) -> dict[str, Estimate]:
        raise NotImplementedError

    # ----- optional: two-level members (realization, random vector) -----
    def prepare(self, params: dict, seed: np.random.SeedSequence) -> Any:
        """Build one disorder realization from its own stream (shared by all of its vectors)."""
        raise NotImplementedError

    def run_vectors(self, params: dict, realization: Any, vector_ids: np.ndarray, seeds: list) -> dict[str, np.ndarray]:
        """Sums over random vectors ``vector_ids`` (one stream each) of one realization."""
        raise NotImplementedError

    def strata(self, params: dict) -> int:
        """Two-level runs: 0 when realizations are random draws (the default); n > 0 when realization r is the
        fixed stratum r mod n of a sum of n equally weighted strata (e.g. the momentum sectors of a trace;
        ``ensemble.engine.seeding.realization_of(seed)`` gives r in :meth:`prepare`).  ``ensemble show`` then
        reports the stratified estimate and Neyman allocation (``ensemble.engine.strata``) instead of the
        variance components, which assume random realizations."""
        return 0

    @property
    def two_level(self) -> bool:
        """True when the model implements :meth:`prepare` and :meth:`run_vectors`."""
        cls = type(self)
        return cls.prepare is not Model.prepare and cls.run_vectors is not Model.run_vectors

    # ----- optional -----
    def check(self, params: dict) -> None:
        """Cross-parameter validation of one point; raise SpecError with a one-line message."""

    def memory_bytes(self, params: dict, shard_size: int) -> int:
        """Estimated peak memory of one shard task in bytes (used to refuse runs that cannot fit)."""
        accs = self.accumulators(params)
        return int(sum(np.prod(a.shape, dtype=np.int64) * np.dtype(a.dtype).itemsize for a in accs)) * 4 + (64 << 20)

    def plot(self, points: list[PointResult], fig) -> None:
        """Draw the model's figure for a finished (or partial) run into a matplotlib Figure."""
        from ensemble.engine.plotting import default_plot

        default_plot(points, fig, self.params)

    # ----- helpers used by the engine -----
    def param_map(self) -> dict[str, Param]:
        return {p.name: p for p in self.params}

    def default_point(self, **overrides) -> dict:
        """One point's parameters: the declared defaults with ``overrides``, cross-checked by :meth:`check`
        (for direct calls of the model's methods; run specs are validated key by key by the engine)."""
        point = {p.name: p.default for p in self.params}
        point.update(overrides)
        self.check(point)
        return point
