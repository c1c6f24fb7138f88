"""Figure: f_α(x) at T = 0 for every point (with the exact Toulouse form), and f(x, T/h_R) of one point."""
from __future__ import annotations

from ensemble.models.large_n_tls.scaling import f_toulouse


def plot_points(points, fig):
    ax0, ax1 = fig.subplots(1, 2)
    for pt in points:
        f = pt.estimates["f"]
        ax0.loglog(f.coords["x"], f.mean[0], label=f"α = {pt.params['alpha']:g}")
    x = points[0].estimates["f"].coords["x"]
    ax0.loglog(x, f_toulouse(x), "k:", label="Toulouse (α = ½, exact)")
    ax0.set(xlabel="x = ω/h_R", ylabel="f_α(x) = ω Imχ", title="T = 0")
    ax0.legend(fontsize=7)
    pick = min(points, key=lambda p: abs(p.params["alpha"] - 0.5))
    f = pick.estimates["f"]
    for i, t in enumerate(f.coords["t_over_hr"]):
        ax1.loglog(f.coords["x"], f.mean[i], label=f"T/h_R = {t:g}")
    ax1.set(xlabel="x = ω/h_R", ylabel="f(x, T/h_R)", title=f"α = {pick.params['alpha']:g} (reliable for x ≥ 3T/h_R)")
    ax1.legend(fontsize=7)
