"""Electron-TLS chain of seed 001 (Rammal, Ciuchi, Fratini), solved three ways.

Model, Eq. (1): H = -t sum c+c + (w0/2) sum sigma^z - g sum n_i sigma^x_i, one electron.
Units t = e = a = hbar = k_B = 1; conductivities per particle.  Modules follow the paper:

  ftlm/            Sec. II-III, Figs. 1-3: exact finite-temperature Lanczos on a ring (model chain_ftlm)
  dmft.py          Sec. V, App. A, Figs. 4b, 5: single-site DMFT and its Kubo bubble (model chain_dmft)
  dmft_solver.py   App. A1-A2: the real-axis self-consistency (Eq. A6) and Eqs. (A14)-(A17)
  static.py        Sec. II (w0 = 0) and Sec. IV: binary-disorder chain and the RTA (model chain_static)
  static_kernels.py  exact Kubo sigma_static of one open chain
  rta.py           Sec. IV, Eqs. (3)-(5): relaxation-time approximation and the Eq. (5) fit
  common.py        lattice Green functions and bubble kernels shared by DMFT and the RTA (Eq. A15)
  plots.py         figures of chain_dmft and chain_static

Results against the paper: docs/models/tls_chain.md.
"""
