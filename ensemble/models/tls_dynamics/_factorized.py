"""Exact O(N) reduced density matrices for the GKSL equation (12) of seed 004.

Derivation (all sites in their S^0 eigenbasis, s_k = +-1, q_k = s_k - s'_k in {-2, 0, 2}).
H = -1/2 sum_k nu_k s_k + sum_{k != l} J_kl s_k s_l is diagonal, so the Hamiltonian part multiplies the
element rho[s, s'] by exp(-i (H[s] - H[s']) t).  The jump operators S^pm_k are local and map
|s><s'| of site k to |s+2><s'+2| (or to 0), and the anticommutators are diagonal: every q_k is conserved.
Hence the elements with a fixed vector q form a closed linear system.  Within it:
 * a site with q_k != 0 has s_k = q_k/2, s'_k = -s_k fixed: its coherence decays at Gamma_k/2
   (Gamma = g_up + g_down) and rotates at +nu_k q_k/2; the pair terms with another q != 0 site cancel
   (s_k s_l - s'_k s'_l = 0 when both flip);
 * a site with q_k = 0 keeps only its population p_k(s_k), which follows the rate generator
   G_k = [[-g_up, g_down], [g_up, -g_down]], and picks up the phase rate s_k phi_k with
   phi_k = 2 sum_l J_kl q_l (factor 2: ordered pairs).
All these generators act on different sites and commute, so for a product initial state
    rho_A[s, s'](t) = prod_{k in A, q_k != 0} rho0_k[s_k, s'_k] e^{(i nu_k q_k/2 - Gamma_k/2) t}
                    x prod_{k in A, q_k = 0} [exp(M_k t) p_k(0)]_{s_k}
                    x prod_{k not in A} 1^T exp(M_k t) p_k(0),        M_k = G_k - i phi_k diag(1, -1).
The 2x2 exponential is closed form: eigenvalues m +- d with m = -Gamma/2,
d^2 = Gamma^2/4 - phi^2 - i phi (g_down - g_up), exp(Mt) = a 1 + b (M - m 1),
a = e^{mt} cosh(dt), b = e^{mt} sinh(dt)/d (series for small |d t|).  At epsilon = 0 the traced factor is
cos(phi t) - i z_k sin(phi t), the product formula of Sec. IV.  Cost: O(3^|A| N) per time.

Element index convention: bit b of a row/column index of rho_A is site A[b]; bit 0 <-> s = +1.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _expm2_apply(t, gup, gdn, phi, p0, p1):
    """Return (exp(M t) p)_0, (exp(M t) p)_1 for M = G - i phi diag(1,-1)."""
    if gup == 0.0 and gdn == 0.0:   # unitary: pure phases
        ph = np.exp(complex(0.0, -phi * t))
        return p0 * ph, p1 / ph
    gam = gup + gdn
    m = -0.5 * gam
    d = np.sqrt(complex(0.25 * gam * gam - phi * phi, -phi * (gdn - gup)))
    dt = d * t
    if abs(dt) < 1e-3:
        emt = np.exp(m * t)
        a = emt * (1 + dt * dt / 2 + dt ** 4 / 24)
        b = emt * t * (1 + dt * dt / 6 + dt ** 4 / 120)
    else:
        ep = np.exp((m + d) * t)
        em = np.exp((m - d) * t)
        a = 0.5 * (ep + em)
        b = 0.5 * (ep - em) / d
    # (M - m) p
    r0 = (-gup - 1j * phi - m) * p0 + gdn * p1
    r1 = gup * p0 + (-gdn + 1j * phi - m) * p1
    return a * p0 + b * r0, a * p1 + b * r1


@njit(cache=True)
def reduced_rho(A, times, J, nu, gup, gdn, rho0):
    """rho_A(t) for the sites A (int array), shape (T, 2^|A|, 2^|A|); see module docstring."""
    N = nu.shape[0]
    nA = A.shape[0]
    D = 1 << nA
    T = times.shape[0]
    out = np.zeros((T, D, D), np.complex128)
    inA = np.zeros(N, np.bool_)
    for b in range(nA):
        inA[A[b]] = True
    nsec = 3 ** nA
    q = np.zeros(nA, np.int64)
    phi = np.zeros(N)
    fac = np.zeros((nA, 2), np.complex128)   # per A-site: value(s) for this sector
    for it in range(T):
        t = times[it]
        for sec in range(nsec):
            x = sec
            for b in range(nA):
                q[b] = 2 * (x % 3) - 2   # -2, 0, 2
                x //= 3
            lead = 0   # sector -q is the Hermitian conjugate of sector q: do only leading q > 0
            for b in range(nA):
                if q[b] != 0:
                    lead = q[b]
                    break
            if lead < 0:
                continue
            for k in range(N):
                acc = 0.0
                for b in range(nA):
                    acc += J[k, A[b]] * q[b]
                phi[k] = 2.0 * acc
            traced = 1.0 + 0.0j
            for k in range(N):
                if inA[k] or lead == 0:   # all q = 0: traced populations sum to 1
                    continue
                v0, v1 = _expm2_apply(t, gup[k], gdn[k], phi[k], rho0[k, 0, 0], rho0[k, 1, 1])
                traced *= v0 + v1
            for b in range(nA):
                k = A[b]
                if q[b] == 0:
                    v0, v1 = _expm2_apply(t, gup[k], gdn[k], phi[k], rho0[k, 0, 0], rho0[k, 1, 1])
                    fac[b, 0] = v0
                    fac[b, 1] = v1
                else:
                    s = 0 if q[b] > 0 else 1   # q = +2: s = +1 (index 0), s' = -1 (index 1)
                    g = gup[k] + gdn[k]
                    fac[b, 0] = rho0[k, s, 1 - s] * np.exp(complex(-0.5 * g * t, 0.5 * nu[k] * q[b] * t))
            # fill all elements of this sector: q_b = 0 sites range over s, others fixed
            nfree = 0
            for b in range(nA):
                if q[b] == 0:
                    nfree += 1
            for f in range(1 << nfree):
                row = 0
                col = 0
                val = traced
                c = 0
                for b in range(nA):
                    if q[b] == 0:
                        s = (f >> c) & 1
                        c += 1
                        row |= s << b
                        col |= s << b
                        val *= fac[b, s]
                    else:
                        s = 0 if q[b] > 0 else 1
                        row |= s << b
                        col |= (1 - s) << b
                        val *= fac[b, 0]
                out[it, row, col] = val
                if lead != 0:
                    out[it, col, row] = np.conj(val)
    return out


@njit(cache=True)
def pair_rhos(times, J, nu, gup, gdn, rho0):
    """rho_ij(t) for all pairs i < j (row-major order), shape (P, T, 4, 4); bit 0 = site i."""
    N = nu.shape[0]
    P = N * (N - 1) // 2
    out = np.empty((P, times.shape[0], 4, 4), np.complex128)
    A = np.zeros(2, np.int64)
    p = 0
    for i in range(N):
        for j in range(i + 1, N):
            A[0] = i
            A[1] = j
            out[p] = reduced_rho(A, times, J, nu, gup, gdn, rho0)
            p += 1
    return out
