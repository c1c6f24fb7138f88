"""Physical models, one package per seed paper.

``REGISTRY`` maps the model name used in run specs to ``module:attribute`` of its :class:`Model`
instance; modules are imported only when their model is asked for.
"""

REGISTRY = {
    "normal_mean": "ensemble.models.normal_mean:MODEL",
    "normal_two_level": "ensemble.models.normal_two_level:MODEL",
    # seed 000: large-N electrons + TLSs
    "large_n_tls": "ensemble.models.large_n_tls:MODEL",
    "spin_boson_nrg": "ensemble.models.spin_boson_nrg:MODEL",
    # seed 001: electron-TLS chain (FTLM, DMFT, static disorder + RTA)
    "chain_ftlm": "ensemble.models.tls_chain.ftlm:MODEL",
    "chain_dmft": "ensemble.models.tls_chain.dmft:MODEL",
    "chain_static": "ensemble.models.tls_chain.static:MODEL",
    # seed 002: S-tau dipolar gap
    "stau_dipolar_gap": "ensemble.models.stau_dipolar_gap:MODEL",
    # seed 003: Fermi glass of glassons
    "fermi_glass_dos": "ensemble.models.fermi_glass.dos:MODEL",
    "fermi_glass_dipolar": "ensemble.models.fermi_glass.dipolar:MODEL",
    "fermi_glass_phenomenology": "ensemble.models.fermi_glass.phenomenology:MODEL",
    # seed 004: TLS ensembles under unitary / GKSL dynamics
    "tls_dynamics": "ensemble.models.tls_dynamics:MODEL",
}
