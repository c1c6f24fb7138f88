"""Fig. 1 layout of seed 001: sigma(w) per temperature (left) and rho(T) with its delta band (right)."""
from __future__ import annotations

import numpy as np


def plot_points(points, fig):
    rows = max(1, len(points))
    for row, pt in enumerate(points):
        est = pt.estimates
        ax = fig.add_subplot(rows, 2, 2 * row + 1)
        if "sigma" in est:
            s = est["sigma"]
            temps, omega = s.coords["T"], s.coords["omega"]
            for it, temp in enumerate(temps):
                line, = ax.plot(omega, s.mean[it], lw=1, label=f"T={temp:g}")
                err = s.stderr[it]
                if np.isfinite(err).any():
                    ax.fill_between(omega, s.mean[it] - err, s.mean[it] + err, color=line.get_color(), alpha=0.25)
            ax.set_xlim(0, min(3.0, omega[-1]))
            ax.set_ylabel(r"$\sigma(\omega)$ per particle")
            ax.set_title(f"N={pt.params['N']}, g={pt.params['g']}, $\\omega_0$={pt.params['omega0']}", fontsize=8)
            if row == 0:
                ax.legend(fontsize=6, ncol=2)
        if row == rows - 1:
            ax.set_xlabel(r"$\omega/t$")
        ax = fig.add_subplot(rows, 2, 2 * row + 2)
        if "rho" in est:
            r = est["rho"]
            temps = r.coords["T"]
            ax.errorbar(temps, r.mean, yerr=r.stderr, marker="o", ms=3, lw=1, label="FTLM")
            if "rho_delta" in est:
                band = est["rho_delta"].mean
                ax.fill_between(temps, band.min(axis=1), band.max(axis=1), alpha=0.3, label=r"$\delta$ band")
            ax.set_ylabel(r"$\rho$")
            if row == 0:
                ax.legend(fontsize=6)
        if row == rows - 1:
            ax.set_xlabel(r"$T/t$")
