"""Seed 004: decay exponent beta_i against N (Fig. 3 inset / Fig. 9b analog) and plateau rate alpha(N) (Fig. 4a).

Reads the stores of ``tasks/tls_beta_vs_N.toml`` and ``tasks/tls_plateau_alpha.toml``:

    python scripts/tls_dynamics_decay.py --beta runs/tls_beta_vs_N --alpha runs/tls_plateau_alpha \
        --out docs/models/figures/tls_dynamics_beta_alpha.png

Prints Markdown tables: per N the fixed-window, plateau-subtracted and paper-window exponents (jackknife
errors), t2(N), C(t) at fixed times; beta = beta_inf + b/N fits over stated N ranges with chi^2; the
fixed window moved as the Eq. 7/8 readings rescale time; C(inf) per N with the local alpha(N) and fits
of ln C(inf) = c - alpha N over stated ranges with chi^2.  Every exponent is computed by
``ensemble.models.tls_dynamics._decay`` (finalize estimates or its fit functions).
"""
from __future__ import annotations

import argparse

import numpy as np

import ensemble
from ensemble.models.tls_dynamics import _decay

BETAS = (("beta", "fixed window [2e-3, 2e-2]"), ("beta_minus_plateau", "same window, C - C(inf)"),
         ("beta_paper_window", "paper's window [t1, t2(N)]"))
PROBE_TIMES = (3.16e-3, 5.62e-3, 1e-2, 1.78e-2)
EXTRAPOLATION_NMIN = (16, 20)
ALPHA_RANGES = ((4, 14), (6, 12), (10, 14))


def _points(store):
    return [pt for pt in ensemble.results(store) if pt.members_done > 0 and "C" in pt.estimates]


def _val(pt, name):
    return float(pt.estimates[name].mean), float(pt.estimates[name].stderr)


def beta_tables(pts):
    print("| N | members | " + " | ".join(label for _, label in BETAS) + " | t2(N) [ħ/W] | "
          + " | ".join(f"C({t:.2g})" for t in PROBE_TIMES) + " | first t with C = 0 | C(∞) |")
    print("|---" * (6 + len(BETAS) + len(PROBE_TIMES)) + "|")
    for pt in pts:
        t = pt.estimates["C"].coords["t"]
        C = pt.estimates["C"]
        idx = [int(np.argmin(np.abs(np.log(t / x)))) for x in PROBE_TIMES]
        cells = [f"{m:.2f}({e:.2f})" for m, e in (_val(pt, k) for k, _ in BETAS)]
        probes = [f"{C.mean[i]:.3g}({C.stderr[i]:.1g})" for i in idx]
        zero = t[(C.mean == 0) & (t > t[np.argmax(C.mean)])]
        death = f"{zero[0]:.2g}" if zero.size else "—"
        late, late_err = _val(pt, "C_late")
        floor = _val(pt, "C_floor")[0]
        plateau = f"{late:.3g}({late_err:.1g})" if late > floor else ("0" if late == 0 else "below the floor")
        print(f"| {pt.params['N']} | {pt.members_done} | " + " | ".join(cells)
              + f" | {_val(pt, 't2_paper')[0]:.2g} | " + " | ".join(probes) + f" | {death} | {plateau} |")
    print()
    N = np.array([pt.params["N"] for pt in pts])
    fits = {}
    for key, label in BETAS:
        b = np.array([_val(pt, key) for pt in pts])
        for nmin in EXTRAPOLATION_NMIN:
            m = (N >= nmin) & np.isfinite(b[:, 0]) & (b[:, 1] > 0)
            if m.sum() < 3:
                continue
            f = _decay.extrapolate_inverse_N(N[m], b[m, 0], b[m, 1])
            fits[key, nmin] = f
            print(f"- {label}, N = {N[m].min()}–{N[m].max()}: β = {f.a:.2f}({f.a_err:.2f}) "
                  f"{f.b:+.1f}({f.b_err:.1f})/N, χ² = {f.chi2:.1f} for {f.dof} dof")
    print()
    return fits


def reading_shift(pts):
    """Fixed-window beta when a reading rescales J by c: the literal curve read over [c t1, c t2]."""
    print("| N | literal [2e-3, 2e-2] | shared dipoles (×√2: [2.8e-3, 2.8e-2]) | σ^z projection (×4: [8e-3, 8e-2]) |")
    print("|---|---|---|---|")
    for pt in pts:
        t = pt.estimates["C"].coords["t"]
        C = pt.estimates["C"].mean
        row = [_decay.beta_of(_decay.fit_power_law(t, C, 2e-3 * c, 2e-2 * c)) for c in (1.0, np.sqrt(2), 4.0)]
        print(f"| {pt.params['N']} | " + " | ".join(f"{b:.2f}" for b in row) + " |")
    print()


def alpha_tables(pts):
    N = np.array([pt.params["N"] for pt in pts])
    Cl = np.array([_val(pt, "C_late") for pt in pts])
    rel = Cl[:, 1] / Cl[:, 0]
    print("| N | members | C(∞) | relative error | local α(N → N+1) |")
    print("|---|---|---|---|---|")
    for i, pt in enumerate(pts):
        loc = ""
        if i + 1 < len(pts) and N[i + 1] == N[i] + 1:
            a = np.log(Cl[i, 0] / Cl[i + 1, 0])
            loc = f"{a:.3f}({np.hypot(rel[i], rel[i + 1]):.3f})"
        print(f"| {N[i]} | {pt.members_done} | {Cl[i, 0]:.3g}({Cl[i, 1]:.1g}) | {100 * rel[i]:.1f} % | {loc} |")
    print()
    fits = {}
    for lo, hi in ALPHA_RANGES:
        m = (N >= lo) & (N <= hi)
        f = _decay.fit_line(N[m], np.log(Cl[m, 0]), rel[m])
        fits[lo, hi] = f
        print(f"- ln C(∞) = c − αN over N = {lo}–{hi} (weights 1/relative error): α = {-f.b:.3f}({f.b_err:.3f}), "
              f"χ² = {f.chi2:.1f} for {f.dof} dof")
    print()
    return N, Cl, fits


def figure(beta_pts, beta_fits, alpha, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    ax = axes[0]
    for pt in beta_pts:
        s = pt.estimates["local_slope"]
        t = s.coords["t"]
        m = (t >= 1e-4) & (t <= 0.1) & np.isfinite(s.mean) & (s.stderr < 0.5)
        ax.errorbar(t[m], s.mean[m], s.stderr[m], fmt="-o", ms=3, label=f"N = {pt.params['N']}")
    ax.axvspan(2e-3, 2e-2, color="0.85", zorder=0, label="fixed window [2e-3, 2e-2]")
    ax.set_xscale("log")
    ax.set_xlabel("t [ħ/W]")
    ax.set_ylabel("local slope −d ln C / d ln t (dimensionless)")
    ax.set_title("(a) a power law is a constant; points with jackknife error < 0.5", fontsize=8)
    ax.legend(fontsize=6, ncol=2)
    ax = axes[1]
    N = np.array([pt.params["N"] for pt in beta_pts])
    x = np.linspace(0, 1 / N.min(), 50)
    for (key, label), color, marker in zip(BETAS, ("C0", "C1", "C2"), ("o", "s", "^")):
        b = np.array([_val(pt, key) for pt in beta_pts])
        ax.errorbar(1 / N, b[:, 0], b[:, 1], fmt=marker, color=color, mfc="none", ms=8 if marker == "s" else 5,
                    label=label + (" (= fixed window where C(∞) = 0)" if marker == "s" else ""))
        f = beta_fits.get((key, EXTRAPOLATION_NMIN[0]))
        if f is not None:
            ax.plot(x, f.a + f.b * x, "--", color=color,
                    label=f"fit N ≥ {EXTRAPOLATION_NMIN[0]}: β∞ = {f.a:.2f}({f.a_err:.2f}), χ²/dof = {f.chi2:.1f}/{f.dof}")
    ax.set_xlabel("1/N (N = number of TLSs)")
    ax.set_ylabel("decay exponent β_i of C ~ t^(−β_i) (dimensionless)")
    ax.set_title("(b) Fig. 9b analog, ε = 0; errors: jackknife over 20 blocks", fontsize=8)
    ax.legend(fontsize=6)
    ax = axes[2]
    Na, Cl, afits = alpha
    ax.errorbar(Na, Cl[:, 0], Cl[:, 1], fmt="o", color="k", label="C(∞), mean of t = 10^4.5 … 10^5 ħ/W")
    for (lo, hi), color in zip(ALPHA_RANGES, ("C0", "C1", "C2")):
        f = afits[lo, hi]
        n = np.array([lo, hi], float)
        ax.plot(n, np.exp(f.a + f.b * n), "--", color=color,
                label=f"fit N = {lo}–{hi}: α = {-f.b:.3f}({f.b_err:.3f}), χ²/dof = {f.chi2:.0f}/{f.dof}")
    ax.set_yscale("log")
    ax.set_xlabel("N (number of TLSs)")
    ax.set_ylabel("plateau C(∞) (dimensionless)")
    ax.set_title("(c) Fig. 4a analog: ln C(∞) is concave in N", fontsize=8)
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--beta", required=True, help="store of tasks/tls_beta_vs_N.toml")
    ap.add_argument("--alpha", required=True, help="store of tasks/tls_plateau_alpha.toml")
    ap.add_argument("--out", help="figure file (PNG)")
    a = ap.parse_args()
    beta_pts = _points(a.beta)
    alpha_pts = _points(a.alpha)
    if not beta_pts or not alpha_pts:
        raise SystemExit("error: a store has no finished shards")
    fits = beta_tables(beta_pts)
    reading_shift(beta_pts)
    alpha = alpha_tables(alpha_pts)
    if a.out:
        figure(beta_pts, fits, alpha, a.out)


if __name__ == "__main__":
    main()
