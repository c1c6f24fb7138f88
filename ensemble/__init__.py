"""Distributed Monte Carlo / ensemble engine for two-level systems in glasses.

Python API (see :mod:`ensemble.api`): ``run``, ``load``, ``results``, ``graph``, ``plan`` and ``Spec``.
"""

__version__ = "0.1.0"

_API = {"run", "load", "results", "graph", "plan", "Spec", "ClusterOptions"}
__all__ = sorted(_API)


def __getattr__(name):  # imported on first use: workers importing ensemble.* stay light
    if name in _API:
        from ensemble import api

        return getattr(api, name)
    raise AttributeError(f"module 'ensemble' has no attribute {name!r}")
