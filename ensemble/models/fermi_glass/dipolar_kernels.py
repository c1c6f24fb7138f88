"""Numba kernels of the strongly localized Fermi glass with elastic-dipole interactions.

Sites: the L^3 periodic simple-cubic lattice (spacing 1), occupations n_i in {0, 1} at fixed number.
H = sum_i eps_i n_i + 1/2 sum_{i != j} U_ij (n_i - nu)(n_j - nu),  U_ij = U0 c_ij / R_ij^3
(R_ij the minimum-image distance).  c_ij = c_ji is uniform in [-1, 1], one independent draw per
pair, made by hashing (key, i, j), so no N^2 matrix is stored.  Single-particle energies
E_i = dH/dn_i = eps_i + sum_j U_ij (n_j - nu); moving a particle i -> j costs E_j - E_i - U_ij.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _mix(z):
    """splitmix64 finalizer (uint64 arithmetic wraps)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def angular_factor(key, i, j):
    """c_ij uniform in [-1, 1), symmetric in (i, j)."""
    lo, hi = (i, j) if i < j else (j, i)
    pair = (np.uint64(hi) << np.uint64(32)) | np.uint64(lo)       # distinct for n < 2^32 sites
    z = _mix(np.uint64(key) ^ (pair * np.uint64(0x9E3779B97F4A7C15)))
    return (z >> np.uint64(11)) * (2.0 / 9007199254740992.0) - 1.0


def inverse_cube_table(L: int) -> np.ndarray:
    """1/R^3 for minimum-image displacements (dx, dy, dz), each in 0..L-1; 0 at the origin."""
    d = np.arange(L)
    d = np.minimum(d, L - d).astype(float)
    r2 = d[:, None, None] ** 2 + d[None, :, None] ** 2 + d[None, None, :] ** 2
    with np.errstate(divide="ignore"):
        out = np.where(r2 > 0, r2 ** -1.5, 0.0)
    return out


def geometry(L: int, U0: float, key: int):
    """(coordinates (3, N), 1/R^3 table, U0, pair key): all a coupling evaluation needs."""
    idx = np.arange(L ** 3)
    xyz = np.stack([idx // (L * L), (idx // L) % L, idx % L]).astype(np.int64)
    return (xyz, inverse_cube_table(L), float(U0), int(key))


@njit(cache=True)
def coupling(i, j, g):
    if i == j:
        return 0.0
    xyz, inv_r3, U0, key = g
    L = inv_r3.shape[0]
    dx = xyz[0, i] - xyz[0, j]
    dy = xyz[1, i] - xyz[1, j]
    dz = xyz[2, i] - xyz[2, j]
    if dx < 0:
        dx += L
    if dy < 0:
        dy += L
    if dz < 0:
        dz += L
    return U0 * angular_factor(key, i, j) * inv_r3[dx, dy, dz]


@njit(cache=True)
def site_energies(occ, eps, nu, g):
    n = len(eps)
    E = eps.copy()
    for i in range(n):
        s = 0.0
        for j in range(n):
            if j != i:
                s += coupling(i, j, g) * (occ[j] - nu)
        E[i] += s
    return E


@njit(cache=True)
def total_energy(occ, eps, nu, g):
    n = len(eps)
    h = 0.0
    for i in range(n):
        h += eps[i] * occ[i]
        for j in range(i + 1, n):
            h += coupling(i, j, g) * (occ[i] - nu) * (occ[j] - nu)
    return h


@njit(cache=True)
def apply_move(occ, E, i, j, g):
    """Particle i -> j; E_k += U_kj - U_ki for every k."""
    occ[i] = 0
    occ[j] = 1
    for k in range(len(E)):
        E[k] += coupling(k, j, g) - coupling(k, i, g)


@njit(cache=True)
def relax(occ, E, g, u_max, tol, order_seed=-1):
    """Single-particle moves i -> j with E_j - E_i - U_ij < -tol until none is left (a pseudo-ground
    state in the Efros-Shklovskii / Baranovskii sense).  Only pairs with E_j - E_i < u_max can lower
    the energy (|U_ij| <= u_max), so each pass scans those, taking every improving move as it is found
    (first improvement), in site order, or, for order_seed >= 0, in a random order drawn anew each
    pass.  Returns the number of moves."""
    n = len(E)
    moves = 0
    if order_seed >= 0:
        np.random.seed(order_seed)
    while True:
        e_occ_max = -np.inf
        e_emp_min = np.inf
        for k in range(n):
            if occ[k] == 1:
                e_occ_max = max(e_occ_max, E[k])
            else:
                e_emp_min = min(e_emp_min, E[k])
        if e_emp_min - e_occ_max >= u_max:
            return moves
        occ_c = np.empty(n, np.int64)
        emp_c = np.empty(n, np.int64)
        no = ne = 0
        for k in range(n):
            if occ[k] == 1 and E[k] > e_emp_min - u_max:
                occ_c[no] = k
                no += 1
            elif occ[k] == 0 and E[k] < e_occ_max + u_max:
                emp_c[ne] = k
                ne += 1
        if order_seed >= 0:
            np.random.shuffle(occ_c[:no])
            np.random.shuffle(emp_c[:ne])
        moved = 0
        for a in range(no):
            i = occ_c[a]
            for b in range(ne):
                j = emp_c[b]
                if occ[i] == 1 and occ[j] == 0:
                    if E[j] - E[i] - coupling(i, j, g) < -tol:
                        apply_move(occ, E, i, j, g)
                        moved += 1
        moves += moved
        if moved == 0:
            return moves


@njit(cache=True)
def worst_move(occ, E, g):
    """min over occupied i, empty j of E_j - E_i - U_ij (>= 0 means stable), full O(N^2) scan."""
    n = len(E)
    best = np.inf
    for i in range(n):
        if occ[i] == 1:
            for j in range(n):
                if occ[j] == 0:
                    best = min(best, E[j] - E[i] - coupling(i, j, g))
    return best


@njit(cache=True)
def metropolis(occ, E, h, T, sweeps, g, seed, samples):
    """Particle-conserving Metropolis at temperature T: a move picks a random occupied i and a random
    empty j (symmetric proposal), accepted with min(1, exp(-dE/T)).  A sweep is N attempts; the total
    energy after each sweep goes to samples[s].  Returns (h, accepted)."""
    np.random.seed(seed)
    n = len(E)
    occ_list = np.empty(n, np.int64)
    emp_list = np.empty(n, np.int64)
    where = np.empty(n, np.int64)
    no = ne = 0
    for k in range(n):
        if occ[k] == 1:
            occ_list[no] = k
            where[k] = no
            no += 1
        else:
            emp_list[ne] = k
            where[k] = ne
            ne += 1
    accepted = 0
    for s in range(sweeps):
        for _ in range(n):
            a = np.random.randint(no)
            b = np.random.randint(ne)
            i = occ_list[a]
            j = emp_list[b]
            dE = E[j] - E[i] - coupling(i, j, g)
            if dE <= 0.0 or np.random.random() < np.exp(-dE / T):
                apply_move(occ, E, i, j, g)
                occ_list[a] = j
                emp_list[b] = i
                where[j] = a
                where[i] = b
                h += dE
                accepted += 1
        if s < len(samples):
            samples[s] = h
    return h, accepted
