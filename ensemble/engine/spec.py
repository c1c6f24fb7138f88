"""Run specs: load a TOML file, validate it completely, expand sweeps into points, hash it.

Nothing here touches a store: a spec is validated in full before any run starts.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ensemble.engine.model import REQUIRED, Model, SpecError
from ensemble.engine.registry import get_model

ENSEMBLE_KEYS = {"members": "int >= 1", "realizations": "int >= 1", "vectors": "int >= 1",
                 "shard_size": "int >= 1", "seed": "int >= 0"}
TOP_KEYS = {"model", "params", "ensemble", "title"}


@dataclass
class Spec:
    """A validated run spec.  Build one with :meth:`from_file` or :meth:`from_dict`; derive variants
    with :meth:`replace` (ensemble keys or parameters), which validates again."""

    model_name: str
    params: dict[str, Any]          # validated, defaults filled; swept params hold lists
    members: int                    # per point; realizations * vectors for two-level runs
    shard_size: int
    seed: int
    title: str = ""
    realizations: int | None = None  # set (with vectors) for two-level runs
    vectors: int | None = None
    implicit: tuple[str, ...] = ()   # ensemble keys the spec did not give (their defaults were used)

    @classmethod
    def from_file(cls, path: str | Path, **overrides) -> "Spec":
        return load_spec(path).replace(**overrides) if overrides else load_spec(path)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], **overrides) -> "Spec":
        return spec_from_dict(raw).replace(**overrides) if overrides else spec_from_dict(raw)

    def replace(self, **overrides) -> "Spec":
        """A new spec with ensemble keys (members, realizations, vectors, shard_size, seed), ``title`` or
        model parameters replaced."""
        raw = self.to_dict()
        raw["params"] = dict(raw["params"])
        raw["ensemble"] = dict(raw["ensemble"])
        for key, value in overrides.items():
            if key == "title":
                raw["title"] = value
            elif key in ENSEMBLE_KEYS:
                if key == "members" and self.two_level:
                    raise SpecError("members: this is a two-level run; set realizations and vectors instead")
                raw["ensemble"][key] = value
            else:
                raw["params"][key] = value
        return spec_from_dict(raw)

    @property
    def two_level(self) -> bool:
        return self.realizations is not None

    @property
    def model(self) -> Model:
        return get_model(self.model_name)

    def swept(self) -> list[str]:
        """Names of swept parameters, in the model's declaration order."""
        model = self.model
        return [p.name for p in model.params if _is_sweep(p, self.params[p.name])]

    def points(self) -> list[dict[str, Any]]:
        """The Cartesian product of swept values; point index is row-major in declaration order."""
        swept = self.swept()
        combos = itertools.product(*(self.params[name] for name in swept))
        return [{**self.params, **dict(zip(swept, combo))} for combo in combos]

    def to_dict(self) -> dict[str, Any]:
        counts = ({"realizations": self.realizations, "vectors": self.vectors} if self.two_level
                  else {"members": self.members})
        d = {
            "model": self.model_name,
            "params": self.params,
            "ensemble": {**counts, "shard_size": self.shard_size, "seed": self.seed},
        }
        if self.title:
            d["title"] = self.title
        return d

    def identity(self) -> dict[str, Any]:
        """What must match for a store to be resumed: everything but the member counts and title."""
        ident = {
            "model": self.model_name,
            "params": self.params,
            "shard_size": self.shard_size,
            "seed": self.seed,
        }
        if self.two_level:
            ident["members"] = "realizations x vectors"
        return ident

    def hash(self) -> str:
        blob = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _is_sweep(param, value) -> bool:
    if param.array:
        return isinstance(value, list) and len(value) > 0 and isinstance(value[0], list)
    return isinstance(value, list)


def _check_int(section: str, key: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SpecError(f"{section}.{key} = {value!r}: allowed {ENSEMBLE_KEYS[key]}")
    return value


def _ensemble_counts(model: Model, ens: dict[str, Any]) -> tuple[int, int | None, int | None]:
    """(members, realizations, vectors) from the [ensemble] table; the last two are None for flat runs."""
    if "realizations" in ens or "vectors" in ens:
        if "members" in ens:
            raise SpecError("ensemble: give either members or realizations (and vectors), not both")
        if not model.two_level:
            raise SpecError(f"ensemble.realizations: model {model.name!r} has no realization/vector split; "
                            "use ensemble.members")
        if "realizations" not in ens:
            raise SpecError("ensemble.vectors: also give ensemble.realizations")
        r = _check_int("ensemble", "realizations", ens["realizations"], 1)
        v = _check_int("ensemble", "vectors", ens.get("vectors", 1), 1)
        return r * v, r, v
    return _check_int("ensemble", "members", ens.get("members", 1), 1), None, None


def spec_from_dict(raw: dict[str, Any], stored: bool = False) -> Spec:
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise SpecError(f"unknown top-level key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(TOP_KEYS))}")
    if "model" not in raw:
        raise SpecError("missing key 'model'")
    model = get_model(raw["model"])

    raw_params = raw.get("params", {})
    if not isinstance(raw_params, dict):
        raise SpecError("params: expected a table [params]")
    pmap = model.param_map()
    extra = set(raw_params) - set(pmap)
    if extra:
        raise SpecError(
            f"params.{sorted(extra)[0]}: unknown parameter of model {raw['model']!r}; allowed: {', '.join(pmap)}"
        )
    params: dict[str, Any] = {}
    for p in model.params:
        if p.name not in raw_params:
            if stored and p.stored_default is not REQUIRED:  # a store from before the parameter existed
                params[p.name] = p.stored_default
                continue
            if p.default is REQUIRED:
                raise SpecError(f"params.{p.name}: missing required parameter ({p.describe_range()}, {p.unit or 'no unit'})")
            params[p.name] = p.default
            continue
        value = raw_params[p.name]
        if _is_sweep(p, value):
            if len(value) == 0:
                raise SpecError(f"params.{p.name}: an empty list sweeps over nothing")
            params[p.name] = [p.validate(v) for v in value]
        else:
            params[p.name] = p.validate(value)

    ens = raw.get("ensemble", {})
    if not isinstance(ens, dict):
        raise SpecError("ensemble: expected a table [ensemble]")
    extra = set(ens) - set(ENSEMBLE_KEYS)
    if extra:
        raise SpecError(f"ensemble.{sorted(extra)[0]}: unknown key; allowed: {', '.join(ENSEMBLE_KEYS)}")
    members, realizations, vectors = _ensemble_counts(model, ens)
    spec = Spec(
        model_name=raw["model"],
        params=params,
        members=members,
        shard_size=_check_int("ensemble", "shard_size", ens.get("shard_size", 1), 1),
        seed=_check_int("ensemble", "seed", ens.get("seed", 0), 0),
        title=str(raw.get("title", "")),
        realizations=realizations,
        vectors=vectors,
        implicit=tuple(k for k in ("members", "seed") if k not in ens and not (k == "members" and realizations)),
    )
    for point in spec.points():
        model.check(point)
    return spec


def load_spec(path: str | Path) -> Spec:
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec file {str(path)!r} does not exist")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})") from None
    return spec_from_dict(raw)


def describe_difference(stored: dict[str, Any], new: dict[str, Any]) -> str:
    """One line naming the keys whose values differ between two spec identities."""
    diffs = []
    for key in sorted(set(stored) | set(new)):
        a, b = stored.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            for sub in sorted(set(a) | set(b)):
                if a.get(sub) != b.get(sub):
                    diffs.append(f"{key}.{sub}: store has {a.get(sub)!r}, spec has {b.get(sub)!r}")
        elif a != b:
            diffs.append(f"{key}: store has {a!r}, spec has {b!r}")
    return "; ".join(diffs) if diffs else "no visible difference (hash mismatch)"
