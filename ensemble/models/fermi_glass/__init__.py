"""Seed 003 (Turlakov): Fermi glass of glassons.

fermi_glass_dos (dos.py): KPM DOS, typical DOS, C_v of the non-interacting Fermi glass;
fermi_glass_dipolar (dipolar.py): dipolar gap of Eq. (13) by Monte Carlo;
fermi_glass_phenomenology (phenomenology.py): Eqs. (8)-(18) in CGS.
"""
