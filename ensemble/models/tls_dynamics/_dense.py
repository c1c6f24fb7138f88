"""Brute-force references in the PHYSICAL sigma basis (independent of the S^0-basis algebra).

* ``lindblad_generator``: the 4^N x 4^N superoperator of Eq. (12) written literally with the paper's
  operators S^0 = -v0.sigma, S^pm = v_pm.sigma (Sec. III A) and Eq. (10); vec is column stacking.
* ``evolve_dense``: rho(t) on a time grid (dense expm for small N, expm_multiply otherwise).
* ``statevector_unitary``: pure-state evolution with exact diagonalization of H_TLS + H_LS.
* ``to_liom_basis``: the single-site unitaries U_k (columns: S^0 = +1, S^0 = -1 with S^+ u_- = 2 u_+),
  mapping the factorized solver's S^0-basis states to the physical basis and back.
"""
from __future__ import annotations

from functools import reduce

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

SX = np.array([[0, 1], [1, 0]], complex)
SY = np.array([[0, -1j], [1j, 0]])
SZ = np.array([[1, 0], [0, -1]], complex)


def site_ops(eps: float, delta: float):
    E = np.hypot(eps, delta)
    s0 = -(delta * SX + eps * SZ) / E
    mx = (-eps * SX + delta * SZ) / E
    return s0, mx + 1j * SY, mx - 1j * SY


def to_liom_basis(eps, delta) -> np.ndarray:
    """(N, 2, 2) unitaries whose columns are the S^0 = +1 and S^0 = -1 states, phase-locked by S^-."""
    U = np.empty((len(eps), 2, 2), complex)
    for k, (e, d) in enumerate(zip(eps, delta)):
        s0, sp_, sm = site_ops(e, d)
        w, v = np.linalg.eigh(s0)
        up = v[:, np.argmax(w)]
        U[k, :, 0] = up
        U[k, :, 1] = sm @ up / 2
    return U


def _embed(op, k, N, op2=None, l=None):
    """Operator on site k (and op2 on site l); site 0 is the most significant tensor factor."""
    return reduce(np.kron, [op if m == k else (op2 if m == l else np.eye(2)) for m in range(N)])


def hamiltonian(eps, delta, J) -> np.ndarray:
    N = len(eps)
    s0 = [site_ops(eps[k], delta[k])[0] for k in range(N)]
    H = sum(_embed(delta[k] * SX + eps[k] * SZ, k, N) for k in range(N))
    for k in range(N):
        for l in range(N):
            if k != l:
                H = H + J[k, l] * _embed(s0[k], k, N, s0[l], l)   # ordered pairs, as in Eq. (11)
    return H


def lindblad_generator(eps, delta, J, Y, f, eps_diss) -> sp.csr_matrix:
    N = len(eps)
    H = sp.csr_matrix(hamiltonian(eps, delta, J))
    I = sp.identity(2 ** N, format="csr")
    L = -1j * (sp.kron(I, H) - sp.kron(H.T, I))

    def sandwich(A, B):   # rho -> A rho B
        return sp.kron(sp.csr_matrix(B).T, sp.csr_matrix(A))

    for k in range(N):
        s0, spl, smi = (sp.csr_matrix(_embed(o, k, N)) for o in site_ops(eps[k], delta[k]))
        th = eps_diss * Y[k] * f[k]
        L = L + th * (sandwich(spl, smi) + sandwich(smi, spl) - 4 * sandwich(I, I))
        ze = eps_diss * Y[k]
        L = L + ze * (sandwich(spl, smi) + sandwich(I, s0) + sandwich(s0, I) - 2 * sandwich(I, I))
    return L.tocsr()


def product_state(rho_sites_phys) -> np.ndarray:
    return reduce(np.kron, list(rho_sites_phys))


def evolve_dense(L, rho0, times, dense_max_dim=1100) -> np.ndarray:
    """rho(t) for each t (shape (T, d, d)); column-stacked vec."""
    d = rho0.shape[0]
    v0 = rho0.reshape(-1, order="F")
    if L.shape[0] <= dense_max_dim:
        Ld = L.toarray()
        out = [sla.expm(Ld * t) @ v0 for t in times]
    else:
        out = [spla.expm_multiply(L * t, v0) for t in times]
    return np.array([o.reshape(d, d, order="F") for o in out])


def partial_trace(rho, keep, N) -> np.ndarray:
    """Reduced matrix on sites ``keep``; returned index = sum_b s_{keep[b]} 2^b (bit 0 = keep[0])."""
    T = rho.shape[0]
    t = rho.reshape((T,) + (2,) * (2 * N))
    ins = list(range(N))
    outs = list(range(N, 2 * N))
    for m in range(N):
        if m not in keep:
            outs[m] = ins[m]
    order = [ins[k] for k in reversed(keep)] + [outs[k] for k in reversed(keep)]
    red = np.einsum(t, [2 * N] + ins + outs, [2 * N] + order)
    D = 2 ** len(keep)
    return red.reshape(T, D, D)


def rotate_to_liom(red, U, keep) -> np.ndarray:
    V = reduce(np.kron, [U[k] for k in reversed(keep)])
    return np.conj(V.T) @ red @ V


def statevector_unitary(eps, delta, J, psi_sites_phys, times) -> np.ndarray:
    """psi(t) (T, 2^N) by exact diagonalization; psi_sites_phys: (N, 2) single-site kets."""
    H = hamiltonian(eps, delta, J)
    w, v = np.linalg.eigh(H)
    psi0 = reduce(np.kron, list(psi_sites_phys))
    c = np.conj(v.T) @ psi0
    return (v[None] * (np.exp(-1j * np.outer(times, w)) * c)[:, None, :]).sum(-1)
