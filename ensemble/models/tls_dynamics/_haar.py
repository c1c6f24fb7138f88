"""Pair concurrence of Haar-random N-qubit pure states (App. E, Fig. 11)."""
from __future__ import annotations

import numpy as np

from ._entangle import concurrence


def pair_reduced(psi: np.ndarray, N: int) -> np.ndarray:
    """All two-site reduced matrices of a pure state, shape (N(N-1)/2, 4, 4), bit 0 = first site."""
    t = psi.reshape((2,) * N)
    out = []
    for i in range(N):
        for j in range(i + 1, N):
            m = np.moveaxis(t, (j, i), (0, 1)).reshape(4, -1)
            out.append(m @ m.conj().T)
    return np.array(out)


def haar_mean_concurrence(rng: np.random.Generator, N: int) -> float:
    """(1/#pairs) sum_{i<j} C_ij for one Haar state (normalized complex Gaussian vector)."""
    psi = rng.normal(size=2 ** N) + 1j * rng.normal(size=2 ** N)
    psi /= np.linalg.norm(psi)
    return float(concurrence(pair_reduced(psi, N)).mean())
