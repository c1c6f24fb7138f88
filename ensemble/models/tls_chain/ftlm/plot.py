"""Fig. 1 layout of seed 001: sigma(w) per temperature (left) and rho(T) with its delta band (right).

Units t = e = a = hbar = k_B = 1: sigma in e²a/ħ, rho in ħ/(e²a), energies and temperatures in t."""
from __future__ import annotations

import numpy as np

from ensemble.engine.plotting import legend, param_units, point_label

SYMBOLS = {"omega0": r"$\omega_0$"}


def plot_points(points, fig):
    from . import MODEL

    units = param_units(MODEL.params)
    rows = max(1, len(points))
    for row, pt in enumerate(points):
        est = pt.estimates
        ax = fig.add_subplot(rows, 2, 2 * row + 1)
        if "sigma" in est:
            s = est["sigma"]
            temps, omega = s.coords["T"], s.coords["omega"]
            for it, temp in enumerate(temps):
                line, = ax.plot(omega, s.mean[it], lw=1, label=f"T = {temp:g} t")
                err = s.stderr[it]
                if np.isfinite(err).any():
                    ax.fill_between(omega, s.mean[it] - err, s.mean[it] + err, color=line.get_color(), alpha=0.25)
            ax.set_xlim(0, min(3.0, omega[-1]))
            ax.set_ylabel(r"$\sigma(\omega)$ per particle [$e^2a/\hbar$]", fontsize=8)
            ax.set_title(point_label(pt.params, ["N", "g", "omega0"], units, SYMBOLS) + " (band: ±1 s.e.)",
                         fontsize=8)
            if row == 0:
                legend(ax, fontsize=6, ncol=2)
        ax.set_xlabel(r"$\omega$ [t]")
        ax = fig.add_subplot(rows, 2, 2 * row + 2)
        if "rho" in est:
            r = est["rho"]
            temps = r.coords["T"]
            p = pt.params
            mid = np.sqrt(p["delta_dc_min"] * p["delta_dc_max"])
            ax.errorbar(temps, r.mean, yerr=r.stderr, marker="o", ms=3, lw=1,
                        label=f"{p.get('method', 'ftlm').upper()}, filter δ = {mid:.2g} t (±1 s.e.)")
            if "rho_delta" in est and p["delta_dc_min"] < p["delta_dc_max"]:  # one width: no band
                band = est["rho_delta"].mean
                ax.fill_between(temps, band.min(axis=1), band.max(axis=1), alpha=0.3,
                                label=f"range over δ = {p['delta_dc_min']:g}–{p['delta_dc_max']:g} t")
            ax.set_ylabel(r"$\rho$ [$\hbar/(e^2a)$]", fontsize=8)
            if row == 0:
                legend(ax, fontsize=6)
        ax.set_xlabel("T [t]")
