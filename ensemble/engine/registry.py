"""Model lookup: registered names come from ``ensemble.models.REGISTRY``.

A name of the form ``package.module:ATTR`` loads a user's own model from any importable module, so
models outside this package run on the engine unchanged (workers must be able to import it too).
"""
from __future__ import annotations

import importlib

from ensemble.engine.model import Model, SpecError


def available_models() -> list[str]:
    from ensemble.models import REGISTRY

    return sorted(REGISTRY)


def get_model(name: str) -> Model:
    if not isinstance(name, str) or not name:
        raise SpecError(f"model: expected a model name, one of {', '.join(available_models())}")
    if ":" in name:
        module_name, _, attr = name.partition(":")
    else:
        if name not in available_models():
            raise SpecError(f"model = {name!r}: unknown model; registered: {', '.join(available_models())}")
        from ensemble.models import REGISTRY

        module_name, _, attr = REGISTRY[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpecError(f"model = {name!r}: cannot import {module_name} ({exc})") from None
    model = getattr(module, attr, None)
    if not isinstance(model, Model):
        raise SpecError(f"model = {name!r}: {module_name}.{attr} is not an ensemble Model")
    return model
