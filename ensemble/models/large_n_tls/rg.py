"""Ohmic spin-boson RG flow, Eq. (8) of Bashan et al.: dα/dℓ = −α h̃², dh̃/dℓ = (1−α) h̃.

Units: energies in units of E_F (= ω_c, the bath cutoff), so h̃ = h at ℓ = 0.  ℓ = ln(E_F/Λ).

The flow has the exact invariant  ln α − α + h̃²/2 = C.  With F(α) = α − 1 − ln α ≥ 0 and
s = sign(1−α)·sqrt(2F(α)) (monotone in α, s ≈ 1−α near α = 1) the invariant reads
h̃² = m + s², m = h̃0² − 2F(α0), and dℓ = g(s) ds/(m + s²) with g = s/(1−α) smooth (g(0) = 1).
ℓ* (where h̃ reaches the stopping value h̃* = 1) is then a 1-d integral that we do by
composite Gauss–Legendre (16 nodes, geometric panels) after the substitution s = √m tanθ (m > 0)
or s = a·coth(a|ψ|), a = √(−m) (m ≤ 0), which removes both the √ singularity at α = 1 and the
log-stiffness at small h̃.  Accuracy ~1e-7 relative in ℓ* (checked against solve_ivp).

O(1) constants (documented choice): stop at h̃* = 1 and set h_R = E_F e^{−ℓ*}, i.e. c_α = 1 in
h_R = c_α E_F h̃^{1/(1−α)}; α_R is α at ℓ*.  At α = 1 the flow gives h_R ≈ E_F h̃^{1/3} e^{−π/(2h̃)},
so b = π/2.  A field is frozen (h̃ → 0, Caldeira–Leggett localisation) iff α0 > 1 and m ≤ 0,
the exact form of the paper's α > 1 + h/E_F; then h_R = 0 and α_R = α(h̃ = 0).
"""
from __future__ import annotations

import numpy as np
from numba import njit

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)
_RATIO = 32.0  # geometric panel ratio of the composite quadrature


@njit(cache=True)
def _q_of_s(s):
    """q = 1 − α solving F(1−q) = s²/2 with sign(q) = sign(s) (Newton in q)."""
    if abs(s) < 1e-4:  # series of the inverse of s = q·sqrt(2F/q²)
        return s - s * s / 3.0 + s * s * s / 36.0
    y = 0.5 * s * s
    if s > 1.0:  # small α: Newton in λ = ln α on e^λ − 1 − λ = y (well conditioned there)
        lam = -1.0 - y
        for _ in range(100):
            step = (np.exp(lam) - 1.0 - lam - y) / (np.exp(lam) - 1.0)
            lam -= step
            if abs(step) < 1e-14 * abs(lam):
                break
        return -np.expm1(lam)
    if s > 0.0:  # α < 1
        q = s - s * s / 3.0
    else:  # α > 1
        q = s - s * s / 3.0 if s > -0.5 else -(y + np.log1p(y))  # α ≈ 1 + y + ln(1+y)
    for _ in range(100):
        a = 1.0 - q
        fq = -q - np.log1p(-q) - y
        dq = fq * a / q
        qn = q - dq
        if s > 0.0 and qn >= 1.0:
            qn = 0.5 * (q + 1.0)
        if s > 0.0 and qn <= 0.0:
            qn = 0.5 * q
        if s < 0.0 and qn >= 0.0:
            qn = 0.5 * q
        if abs(qn - q) <= 1e-14 * abs(q) + 1e-15:  # Newton's rounding floor near q = 0 is ~eps
            q = qn
            break
        q = qn
    return q


@njit(cache=True)
def _g(s):
    return s / _q_of_s(s) if s != 0.0 else 1.0


@njit(cache=True)
def _psi(s, a, h2):
    """ln((s−a)/(s+a))/(2a) with s² − a² = h2, without cancellation in s − a."""
    r = 2.0 * a / (s + a)
    if r < 0.5:
        return np.log1p(-r) / (2.0 * a)
    return np.log(h2 / ((s + a) * (s + a))) / (2.0 * a)


@njit(cache=True)
def _gl_theta(t0, t1, r, nodes, weights):
    half = 0.5 * (t1 - t0)
    mid = 0.5 * (t1 + t0)
    acc = 0.0
    for k in range(nodes.shape[0]):
        acc += weights[k] * _g(r * np.tan(mid + half * nodes[k]))
    return acc * half


@njit(cache=True)
def _gl_psi(p0, p1, a, nodes, weights):
    half = 0.5 * (p1 - p0)
    mid = 0.5 * (p1 + p0)
    acc = 0.0
    for k in range(nodes.shape[0]):
        ap = abs(mid + half * nodes[k])
        acc += weights[k] * _g(a / np.tanh(a * ap) if a * ap > 0.0 else 1.0 / ap)
    return acc * half


@njit(cache=True)
def _ell_tan(s0, s1, m, nodes, weights):
    """∫_{s0}^{s1} g ds/(m+s²), m > 0, composite Gauss–Legendre in θ = atan(s/√m) with panels
    between s/√m = ±4^k, so the sharp rise of s near θ = ±π/2 is resolved at any m."""
    r = np.sqrt(m)
    u0, u1 = s0 / r, s1 / r
    ell = 0.0
    lo = u0
    # negative breakpoints −4^k (descending k), then 0, then +4^k (ascending k)
    kmax = int(np.log(max(abs(u0), abs(u1), 1.0)) / np.log(_RATIO)) + 1
    for j in range(-kmax, kmax + 1):
        if j < 0:
            b = -(_RATIO ** (-j - 1))
        elif j == 0:
            b = 0.0
        else:
            b = _RATIO ** (j - 1)
        if b > lo and b < u1:
            ell += _gl_theta(np.arctan(lo), np.arctan(b), r, nodes, weights)
            lo = b
    ell += _gl_theta(np.arctan(lo), np.arctan(u1), r, nodes, weights)
    return ell / r


@njit(cache=True)
def _ell_coth(s0, s1, a, h2, nodes, weights):
    """∫_{s0}^{s1} g ds/(s²−a²), a > 0, composite Gauss–Legendre in ψ = ln((s−a)/(s+a))/(2a) with
    panels at geometric values of s − a (resolves the crossover from α ≈ α0 to the end of the flow)."""
    t0 = h2 / (s0 + a)  # s0 − a without cancellation
    t1 = s1 - a
    ell = 0.0
    lo_t = t0
    lo_p = _psi(s0, a, h2)
    if lo_t < 1e-3 * a < t1:  # for s − a ≪ a, g ≈ g(a) + O(s − a): one panel suffices
        b = 1e-3 * a
        pb = _psi(a + b, a, b * (b + 2.0 * a))
        ell += _gl_psi(lo_p, pb, a, nodes, weights)
        lo_t, lo_p = b, pb
    while lo_t * _RATIO < t1:
        b = lo_t * _RATIO
        sb = a + b
        pb = _psi(sb, a, b * (b + 2.0 * a))
        ell += _gl_psi(lo_p, pb, a, nodes, weights)
        lo_t, lo_p = b, pb
    ell += _gl_psi(lo_p, _psi(s1, a, s1 * s1 - a * a), a, nodes, weights)
    return ell


@njit(cache=True)
def _flow_kernel(h0, alpha0, nodes, weights, hstop, out_lnhr, out_alphar, out_frozen):
    for i in range(h0.shape[0]):
        h = h0[i]
        a0 = alpha0
        F0 = a0 - 1.0 - np.log(a0)
        if F0 < 0.0:
            F0 = 0.0
        s0 = np.sqrt(2.0 * F0) * (1.0 if a0 < 1.0 else -1.0)
        m = h * h - 2.0 * F0
        if a0 > 1.0 and m <= 0.0:  # h̃ flows to 0: frozen
            out_frozen[i] = True
            out_lnhr[i] = -np.inf
            out_alphar[i] = 1.0 - _q_of_s(-np.sqrt(-m))
            continue
        out_frozen[i] = False
        s1 = np.sqrt(hstop * hstop - m)
        if m > 0.0:
            ell = _ell_tan(s0, s1, m, nodes, weights)
        elif m < 0.0:
            ell = _ell_coth(s0, s1, np.sqrt(-m), h * h, nodes, weights)
        else:  # a = 0: ∫ g ds/s²
            ell = _ell_coth(s0, s1, 1e-300, h * h, nodes, weights)
        out_lnhr[i] = -ell
        out_alphar[i] = 1.0 - _q_of_s(s1)


def flow(h, alpha, h_stop=1.0):
    """Renormalise bare fields h (units of E_F, 0 < h < h_stop) at bare coupling alpha.

    Returns (ln h_R, alpha_R, frozen) arrays; ln h_R = −ℓ* (−inf for frozen fields).
    """
    h = np.ascontiguousarray(np.atleast_1d(np.asarray(h, dtype=float)))
    if np.any(h <= 0) or np.any(h >= h_stop):
        raise ValueError("fields must satisfy 0 < h < h_stop")
    lnhr = np.empty_like(h)
    ar = np.empty_like(h)
    fr = np.empty(h.shape, dtype=np.bool_)
    _flow_kernel(h, float(alpha), _NODES, _WEIGHTS, float(h_stop), lnhr, ar, fr)
    return lnhr, ar, fr


def q_of_s(s):
    """Vectorised 1 − α(s) (for tests)."""
    return np.array([_q_of_s(float(x)) for x in np.atleast_1d(s)])


def closed_form_ln_hr(h, alpha):
    """Fixed-α closed forms: ln h_R = ln h̃/(1−α) (α < 1) and −π/(2h̃) (α = 1)."""
    h = np.asarray(h, dtype=float)
    if alpha == 1.0:
        return -np.pi / (2.0 * h)
    return np.log(h) / (1.0 - alpha)
