"""Matrix-free H and current J of one electron + TLS chain in a total-momentum sector.

Lab basis |x, s> (electron on site x, TLS bit i = 1 <=> sigma^z_i = +1, the excited level).
Sector basis |K, u> = N^-1/2 sum_x e^{iKx} |x, rotl(u, x)>: bit j of u is the TLS at distance j
ahead of the electron, so bit 0 is the TLS on the electron's site.  In this frame

    (H v)[u] = (w0/2)(2 popcount(u) - N) v[u] - g v[u ^ 1]
               - t e^{-iK} v[rotl(u)] - t e^{+iK} v[rotr(u)],
    (J v)[u] = i t (e^{-iK} v[rotl(u)] - e^{+iK} v[rotr(u)]),        J = dH/dK = -dH/dA,

i.e. the lab-frame J = i t sum_x (c+_{x+1} c_x - c+_x c_{x+1}) (particle current, e = a = 1).
PBC: K = 2 pi k / N; a boundary twist phi is K -> K + phi/N (any real K is a valid twisted
chain).  Units t = 1 (fixed), energies in t.  The 2^N amplitudes per sector are complex128.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _popcount(x):
    # SWAR bit count (64-bit), branch-free so the gather loop vectorizes
    x = x - ((x >> 1) & 0x5555555555555555)
    x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0F
    return (x * 0x0101010101010101) >> 56


@njit(cache=True, parallel=True)
def _apply(x, y, n, w0, g, fr, fi, br, bi, shift, beta, acc, coef):
    """y[u] = (w0/2)(2 pc(u) - n) x[u] - shift x[u] - g x[u^1] + f x[rotl u] + b x[rotr u] + beta y[u].

    x, y are complex vectors viewed as float64 (re, im interleaved); f = fr + i fi, b = br + i bi.
    ``beta`` = 0 never reads y (it may hold garbage); also acc[s, u] += c_s y[u] for every row s of
    acc (float view of complex rows), c_s = coef[s, 0] + i coef[s, 1]: one sweep does a Chebyshev
    recursion step and its accumulation into several sums (e.g. several time steps).
    Loop over the middle bits m of u = (h, m, l): the four outputs (h, l) of one m read x at
    2m+l, D/2+2m+l (direct and TLS flip), the contiguous quad 4m..4m+3 (rotl) and the four
    sequential streams m + (2l+h) D/4 (rotr): every access is a forward sequential stream, and
    the body is branch-free real arithmetic so LLVM can vectorize it.
    """
    half = 1 << (n - 1)
    quarter = 1 << (n - 2)
    c = 0.5 * w0
    use_y = beta != 0.0
    n_acc = acc.shape[0]
    for m in prange(quarter):
        d0 = c * (2 * _popcount(m) - n) - shift
        d1 = d0 + w0
        d2 = d1 + w0
        # direct/flip pairs
        a0r, a0i, a1r, a1i = x[4 * m], x[4 * m + 1], x[4 * m + 2], x[4 * m + 3]
        p = 2 * (half + 2 * m)
        b0r, b0i, b1r, b1i = x[p], x[p + 1], x[p + 2], x[p + 3]
        # rotl quad 4m..4m+3
        q = 8 * m
        q0r, q0i, q1r, q1i = x[q], x[q + 1], x[q + 2], x[q + 3]
        q2r, q2i, q3r, q3i = x[q + 4], x[q + 5], x[q + 6], x[q + 7]
        # rotr streams
        s0r, s0i = x[2 * m], x[2 * m + 1]
        t = 2 * (quarter + m)
        s1r, s1i = x[t], x[t + 1]
        t = 2 * (half + m)
        s2r, s2i = x[t], x[t + 1]
        t = 2 * (half + quarter + m)
        s3r, s3i = x[t], x[t + 1]
        # (h, l) = (0, 0): u = 2m, rotl -> 4m, rotr -> m
        o0r = d0 * a0r - g * a1r + fr * q0r - fi * q0i + br * s0r - bi * s0i
        o0i = d0 * a0i - g * a1i + fr * q0i + fi * q0r + br * s0i + bi * s0r
        # (0, 1): u = 2m+1, rotl -> 4m+2, rotr -> D/2 + m
        o1r = d1 * a1r - g * a0r + fr * q2r - fi * q2i + br * s2r - bi * s2i
        o1i = d1 * a1i - g * a0i + fr * q2i + fi * q2r + br * s2i + bi * s2r
        # (1, 0): u = D/2+2m, rotl -> 4m+1, rotr -> D/4 + m
        o2r = d1 * b0r - g * b1r + fr * q1r - fi * q1i + br * s1r - bi * s1i
        o2i = d1 * b0i - g * b1i + fr * q1i + fi * q1r + br * s1i + bi * s1r
        # (1, 1): u = D/2+2m+1, rotl -> 4m+3, rotr -> 3D/4 + m
        o3r = d2 * b1r - g * b0r + fr * q3r - fi * q3i + br * s3r - bi * s3i
        o3i = d2 * b1i - g * b0i + fr * q3i + fi * q3r + br * s3i + bi * s3r
        if use_y:
            o0r += beta * y[4 * m]
            o0i += beta * y[4 * m + 1]
            o1r += beta * y[4 * m + 2]
            o1i += beta * y[4 * m + 3]
            o2r += beta * y[p]
            o2i += beta * y[p + 1]
            o3r += beta * y[p + 2]
            o3i += beta * y[p + 3]
        y[4 * m], y[4 * m + 1], y[4 * m + 2], y[4 * m + 3] = o0r, o0i, o1r, o1i
        y[p], y[p + 1], y[p + 2], y[p + 3] = o2r, o2i, o3r, o3i
        for s in range(n_acc):
            cr = coef[s, 0]
            ci = coef[s, 1]
            acc[s, 4 * m] += cr * o0r - ci * o0i
            acc[s, 4 * m + 1] += cr * o0i + ci * o0r
            acc[s, 4 * m + 2] += cr * o1r - ci * o1i
            acc[s, 4 * m + 3] += cr * o1i + ci * o1r
            acc[s, p] += cr * o2r - ci * o2i
            acc[s, p + 1] += cr * o2i + ci * o2r
            acc[s, p + 2] += cr * o3r - ci * o3i
            acc[s, p + 3] += cr * o3i + ci * o3r


_NO_ACC = np.empty((0, 0))
_NO_COEF = np.empty((0, 2))


def _run(v, out, n, w0, g, f, b):
    _apply(v.view(np.float64), out.view(np.float64), n, w0, g, f.real, f.imag, b.real, b.imag,
           0.0, 0.0, _NO_ACC, _NO_COEF)


def apply_h_step(v, out, n, k, g, w0, scale, shift, beta, acc=None, coef=None):
    """out = scale (H_K - shift) v + beta out, and acc[s] += coef[s] out for the rows of acc (one sweep).

    The Chebyshev recursion T_{k+1} = 2 H~ T_k - T_{k-1} with H~ = (H - shift)/a is
    ``apply_h_step(t_k, t_km1, ..., 2/a, shift, -1.0, acc, c_k)``: t_km1 becomes T_{k+1}.
    """
    f = -scale * np.exp(-1j * k)
    b = -scale * np.exp(1j * k)
    if acc is None:
        accv, cf = _NO_ACC, _NO_COEF
    else:
        accv = acc.view(np.float64)
        if isinstance(coef, np.ndarray) and coef.dtype == np.float64 and coef.ndim == 2:
            cf = coef  # already (rows, 2) = (re, im)
        else:
            c = np.atleast_1d(np.asarray(coef, dtype=complex))
            cf = np.stack([c.real, c.imag], axis=1)
    _apply(v.view(np.float64), out.view(np.float64), n, scale * w0, scale * g, f.real, f.imag, b.real, b.imag,
           scale * shift, float(beta), accv, cf)


def apply_h(v, out, n, k, g, w0):
    """out = H_K v (overwrites out)."""
    _run(v, out, n, w0, g, -np.exp(-1j * k), -np.exp(1j * k))


def apply_j(v, out, n, k):
    """out = J_K v (overwrites out)."""
    _run(v, out, n, 0.0, 0.0, 1j * np.exp(-1j * k), -1j * np.exp(1j * k))


def apply_hkin(v, out, n, k):
    """out = H_kin,K v, the hopping part of H (kinetic energy operator)."""
    _run(v, out, n, 0.0, 0.0, -np.exp(-1j * k), -np.exp(1j * k))


def energy_floor(n: int, g: float, w0: float) -> float:
    """A rigorous lower bound of the spectrum, -2t - g - N w0/2 (norm bound of each term).

    Used as the fixed energy reference of Boltzmann factors, identical for every member; the true
    ground energy lies within g of it (trial state: all TLS down, electron at k = 0).
    """
    return -2.0 - g - 0.5 * n * w0


def sector_dim(n: int) -> int:
    return 1 << n


def dense_operator(apply, n: int, *args) -> np.ndarray:
    """Dense matrix of a sector operator by applying it to unit vectors (small n only, for tests)."""
    d = 1 << n
    mat = np.zeros((d, d), dtype=np.complex128)
    e = np.zeros(d, dtype=np.complex128)
    col = np.empty(d, dtype=np.complex128)
    for c in range(d):
        e[:] = 0.0
        e[c] = 1.0
        apply(e, col, n, *args)
        mat[:, c] = col
    return mat


def csr_h(n: int, k: float, g: float, w0: float):
    """scipy CSR matrix of H_K built with vectorized index arithmetic (benchmark reference)."""
    import scipy.sparse as sp

    d = 1 << n
    u = np.arange(d, dtype=np.int64)
    pc = np.zeros(d, dtype=np.int64)
    x = u.copy()
    for _ in range(n):
        pc += x & 1
        x >>= 1
    mask = d - 1
    left = ((u << 1) | (u >> (n - 1))) & mask
    right = (u >> 1) | ((u & 1) << (n - 1))
    rows = np.concatenate([u, u, u, u])
    cols = np.concatenate([u, u ^ 1, left, right])
    vals = np.concatenate([
        (0.5 * w0 * (2 * pc - n)).astype(np.complex128),
        np.full(d, -g, dtype=np.complex128),
        np.full(d, -np.exp(-1j * k)),
        np.full(d, -np.exp(1j * k)),
    ])
    return sp.csr_matrix((vals, (rows, cols)), shape=(d, d))
