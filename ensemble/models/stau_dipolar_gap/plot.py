"""Fig. 2(b)-(d) / Fig. 4 layout: P_S(E) against E/<E_tau> per point, with the 5g line and T_U."""
from __future__ import annotations

import numpy as np

from ensemble.engine.plotting import point_label, swept_names


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
        label = point_label(pt.params, swept) or f"a~={pt.params['a_tilde']:g}"
        for ax in axes:
            line, = ax.plot(e, P.mean, lw=1.2, label=label)
            ax.fill_between(e, P.mean - P.stderr, P.mean + P.stderr, color=line.get_color(), alpha=0.25)
            tu = est["T_U_over_E_tau_mean"].mean
            if np.isfinite(tu):
                ax.axvline(float(tu), color=line.get_color(), lw=0.6, ls=":")
    g = points[0].params["g"] if points else 0.02
    for k, ax in enumerate(axes):
        ax.axhline(5 * g, color="k", lw=0.7, ls="--", label="5g" if k == 0 else None)
        ax.set_xlabel(r"$E/\langle E_\tau\rangle$ (mean)")
        ax.set_ylabel(r"$P_S(E)$")
    axes[0].set_xlim(0, 2.0)
    axes[0].set_ylim(0, 1.02)
    axes[0].legend(fontsize=7)
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlim(1e-2, 10)
    axes[1].set_ylim(1e-3, 1.2)
    axes[0].set_title("S-spin DOS reduction $P_S(E)=N(E_S^{min}<E)/N$", fontsize=8)
