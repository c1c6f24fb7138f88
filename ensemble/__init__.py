"""Distributed Monte Carlo / ensemble engine for two-level systems in glasses."""

__version__ = "0.1.0"
