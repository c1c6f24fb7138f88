"""Figures of chain_dmft (seed Figs. 4b, 5) and chain_static (Fig. 3a,b).

Units t = e = a = hbar = k_B = 1: sigma in e²a/ħ, rho in ħ/(e²a), energies and temperatures in t."""
from __future__ import annotations

import numpy as np

from ensemble.engine.plotting import legend, param_units, point_label, swept_names

SYMBOLS = {"omega0": "ω0"}
SIGMA, RHO = "[e²a/ħ]", "[ħ/(e²a)]"
# one dash pattern per RTA relaxation rate p (cycled when there are more)
P_DASHES = [":", "-.", (0, (5, 2)), (0, (1, 1)), (0, (3, 1, 1, 1, 1, 1)), "--", (0, (8, 3))]


def _labels(model, points, fixed):
    """Legend label per point: the swept parameters (or ``fixed`` ones when nothing is swept), with units."""
    units = param_units(model.params)
    swept = swept_names(points) or fixed
    return [point_label(pt.params, swept, units, SYMBOLS) for pt in points], units


def plot_dmft(points, fig):
    """rho(T) per point (Fig. 4b), DOS and Gamma at each T of the first point (Fig. 5a-c), sigma(w) (5d)."""
    from ensemble.models.tls_chain.dmft import MODEL

    labels, units = _labels(MODEL, points, ["g", "omega0"])
    ax1, ax2, ax3 = (fig.add_subplot(1, 3, i) for i in (1, 2, 3))
    for pt, lab in zip(points, labels):
        r = pt.estimates.get("resistivity")
        if r is not None:
            ax1.plot(r.coords["T"], r.mean, "o-", ms=3, label=lab)
    ax1.set_xlabel("T [t]")
    ax1.set_ylabel(f"ρ (DMFT) {RHO}")
    ax1.set_yscale("log")
    ax1.set_title("resistivity (T = 0 omitted)", fontsize=8)
    legend(ax1)
    pt = points[0]
    first = point_label(pt.params, ["g", "omega0"], units, SYMBOLS)
    if "dos" in pt.estimates:
        dos, gam = pt.estimates["dos"], pt.estimates["gamma"]
        for i, temp in enumerate(dos.coords["T"]):
            line, = ax2.plot(dos.coords["omega"], dos.mean[i], label=f"T = {temp:g} t")
            ax2.plot(gam.coords["omega"], gam.mean[i], "--", color=line.get_color())
        ax2.set_xlabel("ω [t]")
        ax2.set_ylabel("N*(ω) [1/t],  Γ(ω) = −ImΣ(ω) [t]")
        ax2.set_ylim(0, 1.5)
        ax2.set_title(f"spectra at {first}", fontsize=8)
        legend(ax2, key=[("-", "N*(ω)"), ("--", "Γ(ω)")], loc="upper right")
    if "sigma_opt" in pt.estimates:
        s = pt.estimates["sigma_opt"]
        for i, temp in enumerate(s.coords["T"]):
            ax3.plot(s.coords["omega_opt"], s.mean[i], label=f"T = {temp:g} t")
        ax3.set_yscale("log")
        ax3.set_xlabel("ω [t]")
        ax3.set_ylabel(f"σ(ω) (DMFT) {SIGMA}")
        ax3.set_title(f"optical conductivity at {first}", fontsize=8)
        legend(ax3)


def plot_static(points, fig):
    """sigma_static(w) and sigma_RTA(w) at the T closest to t (Fig. 3a), sigma_dc^RTA(p) with the Eq. (5) fit."""
    from ensemble.models.tls_chain.rta import eq5
    from ensemble.models.tls_chain.static import MODEL

    labels, _ = _labels(MODEL, points, ["g"])
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    rates = []
    for pt, lab in zip(points, labels):
        s = pt.estimates["sigma_static"]
        it = int(np.argmin(np.abs(np.asarray(s.coords["T"]) - 1.0)))
        line, = ax1.plot(s.coords["omega"], s.mean[it], label=f"{lab}, T = {s.coords['T'][it]:g} t")
        r = pt.estimates["rta_sigma"]
        rates = list(r.coords["p"])
        for j in range(len(rates)):
            ax1.plot(r.coords["omega_rta"], r.mean[it, j], color=line.get_color(), lw=1,
                     ls=P_DASHES[j % len(P_DASHES)])
        dc = pt.estimates["rta_sigma_dc"]
        for i, temp in enumerate(dc.coords["T"]):
            ln, = ax2.errorbar(dc.coords["p"], dc.mean[i], dc.stderr[i], fmt="o", ms=3,
                               label=f"{lab}, T = {temp:g} t").lines[:1]
            a, wb = pt.estimates["eq5_A"].mean[i], pt.estimates["eq5_omega_bar"].mean[i]
            if np.isfinite(a) and np.isfinite(wb):
                x = np.geomspace(dc.coords["p"].min(), dc.coords["p"].max(), 100)
                ax2.plot(x, eq5(x, a, wb), "-", color=ln.get_color(), alpha=0.5)
    legend(ax1, key=[("-", "σ_static (exact Kubo)")] +
           [(P_DASHES[j % len(P_DASHES)], f"σ_RTA, p = {p:g} t") for j, p in enumerate(rates)], fontsize="x-small")
    ax1.set_xlabel("ω [t]")
    ax1.set_ylabel(f"σ(ω) {SIGMA}")
    ax1.set_title("static disorder vs RTA (p = ω0), T closest to t", fontsize=8)
    legend(ax2, key=[("o", "σ_dc^RTA (±1 s.e.)"), ("-", "Eq. (5) fit")], fontsize="x-small")
    ax2.set_xlabel("p = ω0 [t]")
    ax2.set_ylabel(f"σ_dc^RTA {SIGMA}")
