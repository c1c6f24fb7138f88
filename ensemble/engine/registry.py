"""Model lookup: built-in models, plugins declared by installed packages, and import paths.

Three ways to name a model in a run spec:

* a built-in name from ``ensemble.models.REGISTRY``;
* a plugin name: an installed distribution declares it under the entry-point group
  ``tls_ensemble.models`` (``my_model = "my_pkg.model:MODEL"`` in its pyproject), see
  docs/writing-a-model.md;
* ``package.module:ATTR``, any importable module.

Workers must be able to import a plugin or module model too (install it where the workers run).
A plugin whose name is also a built-in's or another plugin's is refused, naming both; a plugin that
fails to import is reported for itself and does not affect other models.
"""
from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import metadata

from ensemble.engine.model import Model, SpecError

ENTRY_POINT_GROUP = "tls_ensemble.models"


@dataclass(frozen=True)
class ModelSource:
    """Where a model name comes from: ``kind`` is "built-in", "plugin" or "import path"."""

    name: str
    target: str                       # "module:ATTR"
    kind: str
    distribution: str | None = None   # the installed distribution that provides it
    version: str | None = None

    def describe(self) -> str:
        if self.kind == "plugin":
            return f"plugin from {self.distribution} {self.version} ({self.target})"
        if self.kind == "import path":
            provided = f" from {self.distribution} {self.version}" if self.distribution else ""
            return f"import path{provided}"
        return "built-in"

    def record(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Plugins:
    """The entry points of the group: usable sources, and one line per name that cannot be used."""

    sources: dict[str, ModelSource]
    problems: dict[str, str]


def _builtin() -> dict[str, str]:
    from ensemble.models import REGISTRY

    return REGISTRY


def _distribution_of(entry_point) -> tuple[str | None, str | None]:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


@lru_cache(maxsize=1)
def plugins() -> Plugins:
    """Scan the entry-point group once per process (:func:`refresh` scans again)."""
    from ensemble import __version__

    builtin = _builtin()
    sources: dict[str, ModelSource] = {}
    problems: dict[str, str] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist, version = _distribution_of(ep)
        source = ModelSource(ep.name, ep.value, "plugin", dist, version)
        if ep.name in builtin:
            problems[ep.name] = (f"model name {ep.name!r} of {source.describe()} clashes with the built-in model "
                                 f"{ep.name!r} (tls-ensemble {__version__}); rename the plugin's entry point")
        elif ep.name in sources and sources[ep.name] != source:
            other = sources.pop(ep.name)
            problems[ep.name] = (f"model name {ep.name!r} is declared by two plugins: {other.describe()} and "
                                 f"{source.describe()}; uninstall one or rename its entry point")
        elif ep.name not in problems:
            sources[ep.name] = source
    return Plugins(sources, problems)


def refresh() -> None:
    """Forget the scanned entry points (after installing a plugin into a running process)."""
    plugins.cache_clear()


def available_models() -> list[str]:
    """Built-in and plugin names (plugins that clash are left out; :func:`plugins` lists them)."""
    return sorted(set(_builtin()) | set(plugins().sources))


def model_source(name: str) -> ModelSource:
    """Where ``name`` comes from (recorded in a store's provenance); SpecError for an unknown or clashing name."""
    source = _lookup(name)
    if source.kind == "import path":
        top = name.partition(":")[0].split(".")[0]
        dists = metadata.packages_distributions().get(top) or []
        if dists:
            return ModelSource(name, name, source.kind, dists[0], metadata.version(dists[0]))
    return source


def _lookup(name: str) -> ModelSource:
    if not isinstance(name, str) or not name:
        raise SpecError(f"model: expected a model name, one of {', '.join(available_models())}")
    found = plugins()
    if name in found.problems:
        raise SpecError(found.problems[name])
    if ":" in name:
        return ModelSource(name, name, "import path")
    if name in found.sources:
        return found.sources[name]
    builtin = _builtin()
    if name in builtin:
        from ensemble import __version__

        return ModelSource(name, builtin[name], "built-in", "tls-ensemble", __version__)
    raise SpecError(f"model = {name!r}: unknown model; registered: {', '.join(available_models())} "
                    f"(install a plugin that declares it under the entry-point group {ENTRY_POINT_GROUP!r}, "
                    "or name it as 'package.module:ATTR')")


def get_model(name: str) -> Model:
    source = _lookup(name)
    module_name, _, attr = source.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - a plugin's own import error, reported in one line
        raise SpecError(f"model = {name!r}: cannot import {module_name} ({type(exc).__name__}: {exc})") from None
    model = getattr(module, attr, None)
    if not isinstance(model, Model):
        raise SpecError(f"model = {name!r}: {module_name}.{attr} is not an ensemble Model")
    return model
