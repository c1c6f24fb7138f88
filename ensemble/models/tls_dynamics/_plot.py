"""Figure for a tls_dynamics run: C(t) curves (Figs. 3, 4b, 5, 7), S_E/N (Fig. 6, 10), C_late vs N with
the exp(-alpha N) fit (Fig. 4a), beta vs 1/N (Fig. 9b), Haar concurrence vs N (Fig. 11)."""
from __future__ import annotations

import numpy as np

from ensemble.engine.plotting import point_label, swept_names

from ._fits import double_exp_in_N, exp_in_N

C_FLOOR = 1e-13


def plot_points(points, fig):
    swept = swept_names(points)
    haar = [pt for pt in points if "C_haar" in pt.estimates]
    if haar:
        ax = fig.add_subplot(1, 1, 1)
        N = np.array([pt.params["N"] for pt in haar])
        C = np.array([float(pt.estimates["C_haar"].mean) for pt in haar])
        ax.plot(N, np.log2(-np.log(C)), "o")
        if len(N) >= 2:
            a, b, _ = double_exp_in_N(N, C)
            ax.plot(N, np.log2(a) + b * N, "--", label=f"a={a:.3f}, b={b:.3f}")
            ax.legend()
        ax.set_xlabel("N")
        ax.set_ylabel(r"$\log_2(-\ln\langle C\rangle)$")
        return
    has_S = any("S_E_per_N" in pt.estimates for pt in points)
    Ns = sorted({pt.params["N"] for pt in points})
    ncol = 1 + has_S + (len(Ns) > 1)
    ax = fig.add_subplot(1, ncol, 1)
    for pt in points:
        r = pt.estimates["C"]
        t = r.coords["t"] * (pt.params["R"] / 1e3 if "R" in swept else 1.0)
        # C below ~1e-13 is at the double-precision edge of the concurrence (near-separable states)
        line, = ax.loglog(t, np.maximum(r.mean, C_FLOOR), label=point_label(pt.params, swept) or None)
        ax.fill_between(t, np.maximum(r.mean - r.stderr, C_FLOOR), np.maximum(r.mean + r.stderr, C_FLOOR),
                        color=line.get_color(), alpha=0.3)
    ax.set_ylim(bottom=C_FLOOR)
    ax.set_xlabel("t R/10^3 [hbar/W]" if "R" in swept else "t [hbar/W]")
    ax.set_ylabel("C(t)")
    ax.legend(fontsize=6)
    col = 2
    if has_S:
        ax = fig.add_subplot(1, ncol, col)
        col += 1
        for pt in points:
            if "S_E_per_N" in pt.estimates:
                r = pt.estimates["S_E_per_N"]
                ax.semilogx(r.coords["t"], r.mean, label=point_label(pt.params, swept) or None)
        ax.set_xlabel("t [hbar/W]")
        ax.set_ylabel("S_E / N")
    if len(Ns) > 1:
        ax = fig.add_subplot(1, ncol, col)
        for eps in sorted({pt.params["eps_diss"] for pt in points}):
            sel = [pt for pt in points if pt.params["eps_diss"] == eps]
            N = np.array([pt.params["N"] for pt in sel], float)
            b = np.array([float(pt.estimates["beta"].mean) for pt in sel])
            be = np.array([float(pt.estimates["beta"].stderr) for pt in sel])
            ax.errorbar(1 / N, b, be, fmt="o", label=f"beta, eps={eps:g}")
            if eps == 0:
                Cl = np.array([float(pt.estimates["C_late"].mean) for pt in sel])
                Ce = np.array([float(pt.estimates["C_late"].stderr) for pt in sel])
                ok = Cl > 0
                if ok.sum() >= 2:
                    alpha, da = exp_in_N(N[ok], Cl[ok], Ce[ok] if np.all(Ce[ok] > 0) else None)
                    ax.set_title(f"C(inf) ~ exp(-alpha N): alpha = {alpha:.3f} +- {da:.3f}", fontsize=7)
        ax.set_xlabel("1/N")
        ax.set_ylabel("beta")
        ax.legend(fontsize=6)
