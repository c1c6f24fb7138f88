"""Localization length of the 1D Anderson model: a model plugin for tls-ensemble (docs/writing-a-model.md)."""
