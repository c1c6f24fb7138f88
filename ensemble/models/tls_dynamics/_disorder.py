"""Disorder realizations of the TLS ensemble of seed 004 (Artiago, Balducci, Scardicchio), Sec. II.

Units: energies in W = 1 eV (W sets the scale, gamma_i = W), times in hbar/W (0.658 fs), rates in W/hbar.
Material constants of Sec. II B: rho = 2 g/cm^3, v_L = v_T = 5 km/s; L = (L0/R) N^(1/3).

Basis: every site is written in the eigenbasis of its LIOM S^0_i; index 0 <-> s = +1 (the ground state,
H_TLS = -1/2 sum hbar nu_i S^0_i), index 1 <-> s = -1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HBAR = 1.054571817e-34      # J s
EV = 1.602176634e-19        # J
KB_EV = 8.617333262e-5      # eV / K
RHO = 2000.0                # kg / m^3
V_L = V_T = 5000.0          # m / s


@dataclass
class Disorder:
    """One disorder realization (all in S^0 eigenbases): what every initial state of it shares."""

    pos: np.ndarray      # (N, 3) positions in m (already rescaled by 1/R)
    eps: np.ndarray      # (N,) asymmetry in W
    delta: np.ndarray    # (N,) tunnelling in W
    nu: np.ndarray       # (N,) hbar nu_i = 2 sqrt(eps^2 + Delta^2) in W
    J: np.ndarray        # (N, N) symmetric, zero diagonal, W; H_LS = sum over ORDERED pairs J_ij S0_i S0_j
    Y: np.ndarray        # (N,) bare rates Y_i of Eq. (7) in W/hbar
    box: float           # side of the periodic cube in m


@dataclass
class Realization(Disorder):
    """A disorder realization with its random product initial state."""

    rho0: np.ndarray = None   # (N, 2, 2) complex initial single-site states (pure, random Bloch vectors)


def min_image_dist(pos: np.ndarray, box: float) -> np.ndarray:
    d = pos[:, None, :] - pos[None, :, :]
    d -= box * np.round(d / box)
    return np.sqrt((d * d).sum(-1))


def bose(nu: np.ndarray, T_K: float) -> np.ndarray:
    if T_K <= 0.0:
        return np.zeros_like(nu)
    with np.errstate(over="ignore"):  # hbar*nu >> kT: expm1 -> inf, occupation -> 0 exactly as it should
        return 1.0 / np.expm1(nu / (KB_EV * T_K))


def random_bloch_states(rng: np.random.Generator, n: int) -> np.ndarray:
    """Pure states with Bloch vectors uniform on the sphere (rho = (1 + n.sigma)/2)."""
    v = rng.normal(size=(n, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    x, y, z = v.T
    rho = np.empty((n, 2, 2), complex)
    rho[:, 0, 0] = (1 + z) / 2
    rho[:, 1, 1] = (1 - z) / 2
    rho[:, 0, 1] = (x - 1j * y) / 2
    rho[:, 1, 0] = (x + 1j * y) / 2
    return rho


# Readings of the printed Eqs. (7) and (8); the first of each is the default (see docs/models/tls_dynamics.md)
J_PROJECTIONS = ("literal", "sigma_z")          # Eq. 8 factor eps/(hbar nu), or the S^0 weight 2 eps/(hbar nu) of sigma^z
DIPOLE_FACTORS = ("independent", "shared")      # L and T angular averages drawn separately, or one draw for both
RATE_TUNNELLINGS = ("ratio", "W_units")         # Eq. 7 "Delta^2" as (Delta/hbar nu)^2, or as (Delta/W)^2


def draw(rng: np.random.Generator, N: int, Delta_bar: float, n_Delta: float, R: float, L0_nm: float,
         J_projection: str = "literal", dipole_factors: str = "independent",
         rate_tunnelling: str = "ratio") -> Realization:
    """The disorder of :func:`draw_disorder`, then the initial state, both from ``rng`` (one flat member).

    The random numbers drawn do not depend on the readings, so one seed gives the same positions,
    eps, Delta and initial state under every reading.
    """
    dis = draw_disorder(rng, N, Delta_bar, n_Delta, R, L0_nm, J_projection, dipole_factors, rate_tunnelling)
    return Realization(**vars(dis), rho0=random_bloch_states(rng, N))


def draw_disorder(rng: np.random.Generator, N: int, Delta_bar: float, n_Delta: float, R: float, L0_nm: float,
                  J_projection: str = "literal", dipole_factors: str = "independent",
                  rate_tunnelling: str = "ratio") -> Disorder:
    """Eq. (2), Eq. (3), Eq. (7) and Eq. (8) with <<DD>>_Pi ~ N(0,1) and <<DD>>_Upsilon ~ chi^2_1."""
    box = L0_nm * 1e-9 / R * N ** (1.0 / 3.0)
    pos = rng.uniform(0.0, box, size=(N, 3))
    eps = rng.uniform(0.0, 1.0, N)
    lo = np.log(Delta_bar) - 0.5 * n_Delta * np.log(10.0)
    delta = np.exp(rng.uniform(lo, lo + n_Delta * np.log(10.0), N))
    nu = 2.0 * np.sqrt(eps ** 2 + delta ** 2)
    gL = rng.normal(size=(N, N))
    gT = rng.normal(size=(N, N))
    if dipole_factors == "shared":
        gT = gL
    g = np.triu(gL / V_L ** 2 + gT / V_T ** 2, 1)
    g = g + g.T
    r = min_image_dist(pos, box)
    np.fill_diagonal(r, np.inf)
    a = eps / nu  # gamma_i eps_i / (hbar nu_i) with gamma = W
    if J_projection == "sigma_z":
        a = 2.0 * a
    J = -(EV ** 2) / (8 * np.pi * RHO * r ** 3) * np.outer(a, a) * g / EV   # in eV = W
    chi = rng.normal(size=(2, N)) ** 2
    if dipole_factors == "shared":
        chi[1] = chi[0]
    # "ratio": |c^pm|^2 = (Delta/hbar nu)^2, the weight of S^pm in sigma^z; "W_units": Delta^2 in units of W^2
    weight = (delta / nu) ** 2 if rate_tunnelling == "ratio" else delta ** 2
    Y_si = EV ** 2 * weight * (nu * EV) ** 3 / (30 * np.pi * RHO * HBAR ** 4) * (
        chi[0] / V_L ** 5 + chi[1] / V_T ** 5)
    Y = Y_si * HBAR / EV
    return Disorder(pos, eps, delta, nu, J, Y, box)


def rates(real: Disorder, eps_diss: float, T_K: float):
    """Per-site (gamma_up, gamma_down) of Eq. (10)*epsilon: decay -1 -> +1 at 4Y(1+f), excitation at 4Yf."""
    f = bose(real.nu, T_K)
    return eps_diss * 4 * real.Y * f, eps_diss * 4 * real.Y * (1 + f)
