"""Seed 001 handshake: overlay exact FTLM, DMFT (no vertex corrections) and the RTA on static disorder.

Reads three finished (or partial) run stores of the electron-TLS chain, made from
``tasks/handshake_{ftlm,dmft,static}.toml`` (any stores of these models with common omega0 / T work):

    python scripts/compare_chain_methods.py --ftlm runs/handshake_ftlm --dmft runs/handshake_dmft \
        --static runs/handshake_static --out docs/models/figures/chain_handshake.png

Draws sigma(w, T) for every omega0 found in both FTLM and DMFT (RTA with p = omega0 where the static
store has that p; the FTLM omega0 = 0 point is drawn against sigma_static), rho(T) from the three, and
prints a Markdown table: sigma at w = 0.1, 0.5, 1.0, 1.5 t, rho(T), the total weight (pi/2)<-E_kin>
and SW(0.25 t).  Units t = e = a = hbar = k_B = 1; sigma per particle.  All numbers come from the
models' own estimators through the engine (``point_results``); nothing is recomputed here except
trapezoid integrals of tabulated DMFT/RTA spectra and linear interpolation in w.
"""
from __future__ import annotations

import argparse

import numpy as np

from ensemble.engine.estimators import point_results
from ensemble.engine.store import open_store

PROBES = (0.1, 0.5, 1.0, 1.5)


def _by_omega0(store_path, key="omega0"):
    """{omega0: PointResult} of a store's points that have results."""
    pts = point_results(open_store(store_path))
    return {float(pt.params[key]): pt for pt in pts if pt.estimates}


def _t_index(result, temp):
    temps = np.asarray(result.coords["T"], float)
    i = int(np.argmin(np.abs(temps - temp)))
    if abs(temps[i] - temp) > 1e-9:
        raise SystemExit(f"T = {temp} is not on the stored temperature grid {temps.tolist()}")
    return i


def _trapz_upto(w, y, cutoff):
    keep = w <= cutoff + 1e-12
    return float(np.trapezoid(y[keep], w[keep]))


class Methods:
    """Spectra and resistivities of the three methods at one omega0 (None where not run)."""

    def __init__(self, ftlm, dmft, static, w0):
        self.w0 = w0
        self.f = ftlm.get(w0)
        self.d = dmft.get(w0)
        self.s = static
        self.ip = None
        if static is not None and w0 > 0:
            pv = np.asarray(static.estimates["rta_sigma_dc"].coords["p"], float)
            hit = np.nonzero(np.abs(pv - w0) < 1e-9)[0]
            self.ip = int(hit[0]) if len(hit) else None

    def sigma(self, method, temp):
        """(w, sigma, stderr) at temperature ``temp``."""
        if method == "FTLM" and self.f is not None:
            r = self.f.estimates["sigma"]
            i = _t_index(r, temp)
            return r.coords["omega"], r.mean[i], r.stderr[i]
        if method == "DMFT" and self.d is not None:
            r = self.d.estimates["sigma_opt"]
            i = _t_index(r, temp)
            return r.coords["omega_opt"], r.mean[i], None
        if method == "RTA" and self.ip is not None:
            r = self.s.estimates["rta_sigma"]
            i = _t_index(r, temp)
            return r.coords["omega_rta"], r.mean[i, self.ip], r.stderr[i, self.ip]
        if method == "static" and self.s is not None and self.w0 == 0:
            r = self.s.estimates["sigma_static"]
            i = _t_index(r, temp)
            return r.coords["omega"], r.mean[i], r.stderr[i]
        return None

    def rho(self, method):
        """(T, rho, stderr, band) with band = (lo, hi) of the FTLM filter-width band."""
        if method == "FTLM" and self.f is not None and self.w0 > 0:   # omega0 = 0: localized, rho = inf
            r, band = self.f.estimates["rho"], self.f.estimates["rho_delta"].mean
            return r.coords["T"], r.mean, r.stderr, (band.min(axis=1), band.max(axis=1))
        if method == "DMFT" and self.d is not None:
            r = self.d.estimates["resistivity"]
            return r.coords["T"], r.mean, None, None
        if method == "RTA" and self.ip is not None:
            r = self.s.estimates["rta_resistivity"]
            return r.coords["T"], r.mean[:, self.ip], r.stderr[:, self.ip], None
        return None

    def weights(self, method, temp, cutoff):
        """(total weight (pi/2)<-E_kin> or integral, SW(cutoff))."""
        if method == "FTLM" and self.f is not None:
            e = self.f.estimates
            i = _t_index(e["fsum"], temp)
            return e["fsum"].mean[i], e["sw_partial"].mean[i]
        spec = self.sigma(method, temp)
        if spec is None:
            return None
        w, y, _ = spec
        if method == "DMFT":
            kin = self.d.estimates["kinetic_energy"]
            total = -0.5 * np.pi * kin.mean[_t_index(kin, temp)]
        else:   # RTA: integral of Eq. (3) on its output window (the Lorentzian tails beyond are lost)
            total = _trapz_upto(w, y, np.inf)
        return total, _trapz_upto(w, y, cutoff)


STYLE = {"FTLM": dict(color="C0", lw=1.6), "DMFT": dict(color="0.35", ls="--", lw=1.3),
         "RTA": dict(color="C2", ls=":", lw=1.8), "static": dict(color="C1", lw=1.3)}


def draw(all_methods, temp, fig):
    n = len(all_methods)
    axes = fig.subplots(2, n, squeeze=False)
    for k, m in enumerate(all_methods):
        ax = axes[0, k]
        for name in ("FTLM", "DMFT", "RTA", "static"):
            spec = m.sigma(name, temp)
            if spec is None:
                continue
            w, y, err = spec
            label = {"RTA": f"RTA (p = {m.w0:g})", "static": "static chain"}.get(name, name)
            ax.plot(w, y, label=label, **STYLE[name])
            if err is not None and name == "FTLM":
                ax.fill_between(w, y - err, y + err, color="C0", alpha=0.25, lw=0)
        ax.set_xlim(0, 3)
        ax.set_ylim(bottom=0)
        ax.set_title(f"$\\omega_0 = {m.w0:g}$, $T = {temp:g}$", fontsize=9)
        ax.set_xlabel(r"$\omega/t$")
        ax.legend(fontsize=7)
        ax = axes[1, k]
        for name in ("FTLM", "DMFT", "RTA"):
            r = m.rho(name)
            if r is None:
                continue
            temps, rho, err, band = r
            ax.plot(temps, rho, marker="o" if name == "FTLM" else None, ms=3, label=name, **STYLE[name])
            if band is not None:
                ax.fill_between(temps, band[0], band[1], color="C0", alpha=0.25, lw=0)
        ax.set_xlabel(r"$T/t$")
        if m.w0 == 0:
            ax.text(0.5, 0.5, "static disorder: Anderson localized,\n$\\rho = \\infty$ for $N \\to \\infty$",
                    ha="center", va="center", transform=ax.transAxes, fontsize=8)
            continue
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel(r"$\sigma(\omega)$ per particle")
    axes[1, 0].set_ylabel(r"$\rho$")
    fig.tight_layout()


def table(all_methods, temp, cutoff):
    head = ("| ω0 | method | " + " | ".join(f"σ({w:g})" for w in PROBES)
            + f" | ρ(T={temp:g}) | SW total | SW({cutoff:g}) |")
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for m in all_methods:
        for name in ("FTLM", "DMFT", "RTA", "static"):
            spec = m.sigma(name, temp)
            if spec is None:
                continue
            w, y, _ = spec
            sig = " | ".join(f"{np.interp(x, w, y):.3f}" for x in PROBES)
            r = m.rho(name)
            rho = "–"
            if r is not None:
                i = int(np.argmin(np.abs(np.asarray(r[0]) - temp)))
                rho = f"{r[1][i]:.3f}" + (f"({r[2][i]:.3f})" if r[2] is not None else "")
                if r[3] is not None:
                    rho += f" [{r[3][0][i]:.3f}, {r[3][1][i]:.3f}]"
            if name == "static":
                e = m.s.estimates
                i = _t_index(e["sum_rule"], temp)
                tot, part = e["sum_rule"].mean[i], _trapz_upto(w, y, cutoff)
            else:
                tot, part = m.weights(name, temp, cutoff)
            lines.append(f"| {m.w0:g} | {name} | {sig} | {rho} | {tot:.3f} | {part:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ftlm", required=True, help="chain_ftlm run store")
    ap.add_argument("--dmft", required=True, help="chain_dmft run store")
    ap.add_argument("--static", default=None, help="chain_static run store (sigma_static and RTA)")
    ap.add_argument("--out", default="chain_handshake.png", help="PNG to write")
    ap.add_argument("--T", type=float, default=1.0, help="temperature of the sigma(w) panels and table")
    ap.add_argument("--cutoff", type=float, default=0.25, help="Lambda of the partial spectral weight")
    args = ap.parse_args(argv)

    ftlm, dmft = _by_omega0(args.ftlm), _by_omega0(args.dmft)
    static = None
    if args.static:
        pts = [pt for pt in point_results(open_store(args.static)) if pt.estimates]
        static = pts[0] if pts else None
    w0s = sorted(w for w in ftlm if w in dmft or (w == 0 and static is not None))
    if not w0s:
        raise SystemExit("no omega0 in common between the FTLM and DMFT stores")
    all_methods = [Methods(ftlm, dmft, static, w0) for w0 in w0s]

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(3.2 * len(w0s), 6.0))
    draw(all_methods, args.T, fig)
    fig.savefig(args.out, dpi=130)
    print(f"wrote {args.out}\n")
    print(table(all_methods, args.T, args.cutoff))


if __name__ == "__main__":
    main()
