"""Figure for a tls_dynamics run: C(t) curves (Figs. 3, 4b, 5, 7), S_E/N (Fig. 6, 10), beta vs 1/N with the
C_late ~ exp(-alpha N) rate (Figs. 4a, 9b), Haar concurrence vs N (Fig. 11)."""
from __future__ import annotations

import numpy as np

from ensemble.engine.plotting import legend, log_floor, param_units, point_styles, swept_names

from ._decay import fit_line
from ._entangle import pair_average_floor
from ._fits import double_exp_in_N

SYMBOLS = {"eps_diss": "ε", "Delta_bar": r"$\bar\Delta$", "n_Delta": r"$n_\Delta$", "L0_nm": r"$L_0$"}
TIME = "t [ħ/W]"


def plot_points(points, fig):
    from . import MODEL

    units = param_units(MODEL.params)
    haar = [pt for pt in points if "C_haar" in pt.estimates]
    if haar:
        _plot_haar(haar, fig)
        return
    swept = swept_names(points)
    has_S = any("S_E_per_N" in pt.estimates for pt in points)
    Ns = sorted({pt.params["N"] for pt in points})
    ncol = 1 + has_S + (len(Ns) > 1)
    ax = fig.add_subplot(1, ncol, 1)
    styles, key = point_styles(points, swept, units, SYMBOLS, name="C(t)")
    peak = []
    for pt, style in zip(points, styles):
        r = pt.estimates["C"]
        t = r.coords["t"] * (pt.params["R"] / 1e3 if "R" in swept else 1.0)
        floor = pair_average_floor(pt.params["N"])   # below it C(t) is not resolved: drawn at the floor
        ax.loglog(t, np.maximum(r.mean, floor), **style)
        ax.fill_between(t, np.maximum(r.mean - r.stderr, floor), np.maximum(r.mean + r.stderr, floor),
                        color=style["color"], alpha=0.3)
        peak.append(r.mean)
    # six decades below the largest C: what decays further (GKSL sudden death) leaves through the bottom
    log_floor(ax, np.concatenate(peak))
    ax.set_xlabel("t R/10³ [ħ/W]" if "R" in swept else TIME)
    ax.set_ylabel("pair concurrence C(t) (dimensionless)")
    ax.set_title("band: ±1 standard error; values below the concurrence floor are drawn at it", fontsize=8)
    legend(ax, key=key, fontsize=6)
    col = 2
    if has_S:
        ax = fig.add_subplot(1, ncol, col)
        col += 1
        for pt, style in zip(points, styles):
            if "S_E_per_N" in pt.estimates:
                r = pt.estimates["S_E_per_N"]
                ax.semilogx(r.coords["t"], r.mean, **style)
        ax.set_xlabel(TIME)
        ax.set_ylabel(r"half-system entanglement $S_E/N$ [nats per TLS]")
        ax.set_title("curves as in the C(t) legend", fontsize=8)
    if len(Ns) > 1:
        _plot_beta(fig.add_subplot(1, ncol, col), points)


def _plot_beta(ax, points):
    """beta (decay exponent of C ~ t^-beta in the fit window) against 1/N, one series per eps."""
    drawn = 0
    for eps in sorted({pt.params["eps_diss"] for pt in points}):
        sel = [pt for pt in points if pt.params["eps_diss"] == eps]
        N = np.array([pt.params["N"] for pt in sel], float)
        b = np.array([float(pt.estimates["beta"].mean) for pt in sel])
        be = np.array([float(pt.estimates["beta"].stderr) for pt in sel])
        drawn += np.isfinite(b).sum()
        p = sel[0].params
        ax.errorbar(1 / N, b, be, fmt="o", label=f"β, window [{p['fit_tmin']:g}, {p['fit_tmax']:g}] ħ/W, ε = {eps:g}")
        if eps == 0:
            Cl = np.array([float(pt.estimates["C_late"].mean) for pt in sel])
            Ce = np.array([float(pt.estimates["C_late"].stderr) for pt in sel])
            ok = (Cl > 0) & (Ce > 0)
            if ok.sum() >= 3:
                f = fit_line(N[ok], np.log(Cl[ok]), Ce[ok] / Cl[ok])
                ax.set_title(f"ε = 0 plateau, fit of ln C(∞) over N = {N[ok].min():g}–{N[ok].max():g}: "
                             f"α = {-f.b:.2f}({f.b_err:.2f}), χ² = {f.chi2:.1f}/{f.dof} dof", fontsize=8)
    if not drawn:
        p = points[0].params
        ax.text(0.5, 0.5, f"no β: fewer than 3 times in the fit window\n"
                f"[{p['fit_tmin']:g}, {p['fit_tmax']:g}] ħ/W (raise n_t)", ha="center", va="center",
                transform=ax.transAxes, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel("1/N (N = number of TLSs)")
    ax.set_ylabel(r"decay exponent β of C ~ $t^{-β}$ (dimensionless)")
    if drawn:
        legend(ax, fontsize=6)


def _plot_haar(haar, fig):
    ax = fig.add_subplot(1, 1, 1)
    N = np.array([pt.params["N"] for pt in haar])
    C = np.array([float(pt.estimates["C_haar"].mean) for pt in haar])
    ax.plot(N, np.log2(-np.log(C)), "o", label="Haar-random states, ensemble mean ⟨C⟩")
    if len(N) >= 2:
        a, b, _ = double_exp_in_N(N, C)
        ax.plot(N, np.log2(a) + b * N, "--", label=f"fit ⟨C⟩ = exp(−a 2^(bN)): a = {a:.3f}, b = {b:.3f}")
    legend(ax)
    ax.set_xlabel("N (number of qubits)")
    ax.set_ylabel(r"$\log_2(-\ln\langle C\rangle)$ (dimensionless)")
