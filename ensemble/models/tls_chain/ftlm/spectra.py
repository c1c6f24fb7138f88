"""From summed FTLM tallies to sigma(w, T), rho(T) and spectral weights (pure numpy, fast).

The folded histogram holds, at node b (w_b = b h), the weight of both +-w_b; the symmetric
spectrum has half of it at each sign except node 0.  sigma is per particle; the Gaussian filter
exp(-w^2 / 2 delta^2) / (sqrt(2 pi) delta) has standard deviation delta.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d


def output_omegas(h: float, delta: float, omega_out: float):
    """(node count on [0, omega_out], stride, reported w): sigma(w) is reported every ~delta/5."""
    nout = int(round(omega_out / h)) + 1
    stride = max(1, int(delta / (5 * h)))
    return nout, stride, np.arange(nout)[::stride] * h


def unfolded_weights(hist_over_z: np.ndarray) -> np.ndarray:
    """Weights of sigma at w_b >= 0 of the symmetric spectrum (node 0 is the w = 0 line)."""
    arr = 0.5 * hist_over_z
    arr[..., 0] = hist_over_z[..., 0]
    return arr


def broadened(weights: np.ndarray, h: float, delta: float) -> np.ndarray:
    """sigma_delta(w_b) on the grid nodes: Gaussian-filtered, reflected about w = 0."""
    return gaussian_filter1d(weights / h, delta / h, axis=-1, mode="mirror", truncate=5.0)


def sigma_at_zero(weights: np.ndarray, h: float, delta: float) -> np.ndarray:
    """sigma_delta(w = 0) = sum over both signs of weight * G_delta(w_b)."""
    w = np.arange(weights.shape[-1]) * h
    gauss = np.exp(-0.5 * (w / delta) ** 2) / (np.sqrt(2 * np.pi) * delta)
    gauss[1:] *= 2.0
    return weights @ gauss


def spectral_weight(weights: np.ndarray, h: float, cutoff: float) -> np.ndarray:
    """SW(cutoff) = int_0^cutoff sigma dw (half of the w = 0 line lies at w >= 0)."""
    nb = weights.shape[-1]
    stop = nb if cutoff >= (nb - 1) * h else int(np.floor(cutoff / h + 1e-9)) + 1
    return weights[..., :stop].sum(axis=-1) - 0.5 * weights[..., 0]


def peak_position(sig: np.ndarray, h: float, wmin: float) -> np.ndarray:
    """Frequency of the maximum of sigma_delta(w) for w >= wmin (the displaced Drude peak).

    NaN where that maximum sits at wmin, i.e. sigma only decreases there (no finite-w peak).
    """
    start = int(np.ceil(wmin / h))
    idx = np.argmax(sig[..., start:], axis=-1)
    return np.where(idx > 0, (start + idx) * h, np.nan)
