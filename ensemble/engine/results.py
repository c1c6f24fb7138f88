"""What a finished (or partial) run hands to plots, reports and users: estimators with error bars.

Kept apart from the model protocol (``model.py``) so that plotting and reporting depend on results
only, not on models.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Result:
    """An estimator with its error bar, as handed to plots and printed by ``ensemble show``."""

    mean: np.ndarray
    stderr: np.ndarray
    dims: tuple[str, ...]
    coords: dict[str, np.ndarray]
    unit: str = ""


@dataclass
class PointResult:
    params: dict[str, Any]
    members_done: int
    estimates: dict[str, Result]
