"""Plain Lanczos tridiagonalization of a Hermitian operator given as ``apply(v, out)``.

Keeps three work vectors; the Krylov basis is written into ``store`` (rows) only when a caller
passes one (FTLM keeps the first run's basis for the current matrix elements), and handed to
``on_vector(index, v)`` otherwise.  ``reorth`` (needs ``store``) does full Gram-Schmidt against the
stored basis: exact-arithmetic behaviour for the small-N checks, not used in production where
FTLM tolerates the usual loss of orthogonality.  A breakdown (beta below ``tol``) ends the run early:
the Krylov space is then invariant and the result exact.
"""
from __future__ import annotations

import numpy as np


def lanczos(apply, v0, m, store=None, on_vector=None, reorth=False, tol=1e-10):
    """Run up to ``m`` steps from ``v0`` (normalized inside).

    Returns ``(alpha, beta, norm0)``: the diagonal (len k), off-diagonal (len k-1) of the k-step
    tridiagonal matrix and the norm of ``v0``.
    """
    if reorth and store is None:
        raise ValueError("reorth needs store")
    norm0 = float(np.linalg.norm(v0))
    v = v0 / norm0
    v_prev = np.zeros_like(v)
    w = np.empty_like(v)
    alpha, beta = [], []
    b_prev = 0.0
    for step in range(m):
        if store is not None:
            store[step] = v
        if on_vector is not None:
            on_vector(step, v)
        apply(v, w)
        a = float(np.vdot(v, w).real)
        w -= a * v
        w -= b_prev * v_prev
        if reorth:
            basis = store[: step + 1]
            for _ in range(2):  # twice is enough (Kahan-Parlett)
                w -= basis.T @ (basis.conj() @ w)
        alpha.append(a)
        b = float(np.linalg.norm(w))
        if step == m - 1 or b < tol * max(1.0, abs(a)):
            break
        beta.append(b)
        v_prev, v = v, v_prev
        np.divide(w, b, out=v)
        b_prev = b
    return np.asarray(alpha), np.asarray(beta), norm0


def ritz(alpha, beta):
    """Eigenvalues and (real, orthonormal) eigenvectors of the Lanczos tridiagonal matrix."""
    from scipy.linalg import eigh_tridiagonal

    if len(alpha) == 1:
        return alpha.copy(), np.ones((1, 1))
    return eigh_tridiagonal(alpha, beta)
