"""Figures of chain_dmft (seed 001 Figs. 4b, 5) and chain_static (Figs. 3a,b and the Eq. (5) fit)."""
from __future__ import annotations

import numpy as np

from ensemble.engine.plotting import point_label, swept_names


def plot_dmft(points, fig):
    """rho(T) per point (Fig. 4b), DOS and Gamma at each T of the first point (Fig. 5a-c), sigma(w) (5d)."""
    swept = swept_names(points)
    ax1, ax2, ax3 = (fig.add_subplot(1, 3, i) for i in (1, 2, 3))
    for pt in points:
        r = pt.estimates.get("resistivity")
        if r is None:
            continue
        line, = ax1.plot(r.coords["T"], r.mean, "o-", ms=3, label=point_label(pt.params, swept) or None)
        ts = pt.estimates.get("T_star")
        if ts is not None and np.ndim(ts.mean) == 1:   # T* under each log-slope rule: v = 2, ^ = 3
            for t_star, slope in zip(ts.mean, ts.coords["log_slope"]):
                if np.isfinite(t_star):
                    y = np.exp(np.interp(np.log(t_star), np.log(r.coords["T"]), np.log(r.mean)))
                    ax1.plot([t_star], [y], "v" if slope == 2 else "^", color=line.get_color(), ms=7, mfc="none")
    ax1.set_xlabel("T / t  (open triangles: T*, log-slope 2 and 3)")
    ax1.set_ylabel("rho (DMFT)")
    ax1.set_yscale("log")
    if swept:
        ax1.legend(fontsize="small")
    pt = points[0]
    if "dos" in pt.estimates:
        dos, gam = pt.estimates["dos"], pt.estimates["gamma"]
        for i, temp in enumerate(dos.coords["T"]):
            line, = ax2.plot(dos.coords["omega"], dos.mean[i], label=f"T={temp:g}")
            ax2.plot(gam.coords["omega"], gam.mean[i], "--", color=line.get_color())
        ax2.set_xlabel("omega / t")
        ax2.set_ylabel("N*(omega) (solid), Gamma (dashed)")
        ax2.set_ylim(0, 1.5)
        ax2.legend(fontsize="small")
    if "sigma_opt" in pt.estimates:
        s = pt.estimates["sigma_opt"]
        for i, temp in enumerate(s.coords["T"]):
            ax3.plot(s.coords["omega_opt"], s.mean[i], label=f"T={temp:g}")
        ax3.set_yscale("log")
        ax3.set_xlabel("omega / t")
        ax3.set_ylabel("sigma(omega) (DMFT)")


def plot_static(points, fig):
    """sigma_static(w) and sigma_RTA(w) at the T closest to t (Fig. 3a), sigma_dc^RTA(p) with the Eq. (5) fit."""
    from ensemble.models.tls_chain.rta import eq5

    swept = swept_names(points)
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for pt in points:
        lab = point_label(pt.params, swept)
        s = pt.estimates["sigma_static"]
        it = int(np.argmin(np.abs(np.asarray(s.coords["T"]) - 1.0)))
        line, = ax1.plot(s.coords["omega"], s.mean[it], label=f"static {lab} T={s.coords['T'][it]:g}")
        r = pt.estimates["rta_sigma"]
        for j, p in enumerate(r.coords["p"]):
            ax1.plot(r.coords["omega_rta"], r.mean[it, j], ":", color=line.get_color(), lw=1)
        dc = pt.estimates["rta_sigma_dc"]
        for i, temp in enumerate(dc.coords["T"]):
            ln, = ax2.errorbar(dc.coords["p"], dc.mean[i], dc.stderr[i], fmt="o", ms=3,
                               label=f"RTA {lab} T={temp:g}").lines[:1]
            a, wb = pt.estimates["eq5_A"].mean[i], pt.estimates["eq5_omega_bar"].mean[i]
            if np.isfinite(a) and np.isfinite(wb):
                x = np.geomspace(dc.coords["p"].min(), dc.coords["p"].max(), 100)
                ax2.plot(x, eq5(x, a, wb), "-", color=ln.get_color(), alpha=0.5)
    ax1.set_xlabel("omega / t")
    ax1.set_ylabel("sigma_static (solid), sigma_RTA (dotted)")
    ax1.legend(fontsize="small")
    ax2.set_xlabel("p = omega0 / t")
    ax2.set_ylabel("sigma_dc^RTA (points), Eq. (5) fit (line)")
    ax2.legend(fontsize="small")
