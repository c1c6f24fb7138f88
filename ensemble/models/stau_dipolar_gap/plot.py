"""Fig. 2(b)-(d) / Fig. 4 layout: P_S(E) against E/<E_tau> per point, with the 5g line and T_U."""
from __future__ import annotations

import numpy as np

from ensemble.engine.plotting import legend, param_units, point_label, swept_names

SYMBOLS = {"a_tilde": "ã", "h_tau": "h_τ", "J_stau": "J"}
R_UNITS = {"cell": "cell sides", "nn": "nn distances"}


def _units(params):
    """Parameter units, with a_tilde's length unit spelled out from the point's r_unit."""
    from . import MODEL

    units = param_units(MODEL.params)
    units["a_tilde"] = R_UNITS[params["r_unit"]]
    units["h_tau"] = "⟨E_τ⟩"
    units["L"] = "cells"
    return units


def plot_points(points, fig):
    swept = swept_names(points)
    axes = [fig.add_subplot(1, 2, k + 1) for k in range(2)]
    for pt in points:
        est = pt.estimates
        if "P_S" not in est or "E_tau_mean" not in est:
            continue
        P = est["P_S"]
        scale = est["E_tau_mean"].mean / est["E_tau_rms"].mean   # axis E/<E_tau>_mean
        e = P.coords["E_over_rms"] / scale
        units = _units(pt.params)
        label = point_label(pt.params, swept, units, SYMBOLS) or point_label(pt.params, ["a_tilde"], units, SYMBOLS)
        for ax in axes:
            line, = ax.plot(e, P.mean, lw=1.2, label=label)
            ax.fill_between(e, P.mean - P.stderr, P.mean + P.stderr, color=line.get_color(), alpha=0.25)
            tu = est["T_U_over_E_tau_mean"].mean
            if np.isfinite(tu):
                ax.axvline(float(tu), color=line.get_color(), lw=0.6, ls=":")
    g = points[0].params["g"] if points else 0.02
    for ax in axes:
        ax.axhline(5 * g, color="k", lw=0.7, ls="--")
        ax.set_xlabel(r"$E/\langle E_\tau\rangle$ (mean $|E_\tau|$; dimensionless)")
        ax.set_ylabel(r"$P_S(E)$ (fraction of S spins)")
    axes[0].set_xlim(0, 2.0)
    axes[0].set_ylim(0, 1.02)
    legend(axes[0], key=[("-", r"$P_S(E)$, band ±1 s.e."), ("--", f"5g = {5 * g:g}"),
                         (":", r"$T_U$: where $P_S = 5g$")], fontsize=7, loc="lower right")
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlim(1e-2, 10)
    axes[1].set_ylim(1e-3, 1.2)
    axes[0].set_title("S-spin DOS reduction $P_S(E)=N(E_S^{min}<E)/N$", fontsize=8)
    axes[1].set_title("same, log–log (legend: left)", fontsize=8)
