"""Shared by the bench scripts: best-of-N wall time and the STREAM-triad memory bandwidth."""
from __future__ import annotations

import time


def best_time(fn, repeat: int = 5) -> float:
    """Fastest of ``repeat`` calls after one warm-up call (compilation, caches)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def triad_bandwidth(mib: int, repeat: int = 5, parallel: bool = True) -> float:
    """Bytes/s of a[i] = b[i] + s c[i] on arrays of ``mib`` MiB (24 bytes per element): the memory bound."""
    import numpy as np
    from numba import njit, prange

    @njit(parallel=parallel)
    def triad(a, b, c, s):
        for i in prange(a.shape[0]):
            a[i] = b[i] + s * c[i]

    m = mib * (1 << 20) // 8
    a, b, c = np.zeros(m), np.random.rand(m), np.random.rand(m)
    return 24 * m / best_time(lambda: triad(a, b, c, 1.5), repeat)
