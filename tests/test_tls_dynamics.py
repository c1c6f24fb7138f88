"""tls_dynamics: exact factorized solver vs 4^N dense GKSL and 2^N state vectors; concurrence; model."""
import numpy as np
import pytest

from ensemble.engine.model import SpecError
from ensemble.models.tls_dynamics import MODEL, bubble_partitions
from ensemble.models.tls_dynamics import _dense as ref
from ensemble.models.tls_dynamics import _disorder as dis
from ensemble.models.tls_dynamics._entangle import concurrence, vn_entropy
from ensemble.models.tls_dynamics._factorized import pair_rhos, reduced_rho
from ensemble.models.tls_dynamics._haar import haar_mean_concurrence, pair_reduced


def _real(seed, N):
    return dis.draw(np.random.default_rng(seed), N, 0.1, 2.0, 1e3, 10.0)


# ---------- concurrence ----------
def test_concurrence_bell_werner_product():
    bell = np.zeros(4, complex)
    bell[[0, 3]] = 1 / np.sqrt(2)
    P = np.outer(bell, bell.conj())
    ps = np.linspace(0, 1, 11)
    werner = np.array([p * P + (1 - p) * np.eye(4) / 4 for p in ps])
    assert concurrence(P) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(concurrence(werner), np.maximum(0, (3 * ps - 1) / 2), atol=1e-12)
    a, b = dis.random_bloch_states(np.random.default_rng(0), 2)
    assert concurrence(np.kron(b, a)) == pytest.approx(0.0, abs=1e-7)


def test_concurrence_pure_states_formula():
    rng = np.random.default_rng(1)
    psi = rng.normal(size=(50, 4)) + 1j * rng.normal(size=(50, 4))
    psi /= np.linalg.norm(psi, axis=1, keepdims=True)
    rho = psi[:, :, None] * psi[:, None, :].conj()
    exact = 2 * np.abs(psi[:, 0] * psi[:, 3] - psi[:, 1] * psi[:, 2])
    np.testing.assert_allclose(concurrence(rho), exact, atol=1e-10)


def test_haar_two_qubit_mean_concurrence():
    rng = np.random.default_rng(5)
    c = np.mean([haar_mean_concurrence(rng, 2) for _ in range(3000)])
    assert c == pytest.approx(3 * np.pi / 16, abs=0.015)   # known Haar average for two qubits


# ---------- factorized open solver vs dense 4^N Lindblad ----------
@pytest.mark.parametrize("seed,eps_diss,T", [(1, 0.0, 0.0), (2, 1.0, 0.0), (3, 0.05, 0.0), (4, 0.5, 4000.0)])
def test_factorized_vs_dense_lindblad(seed, eps_diss, T):
    N = 4
    r = _real(seed, N)
    times = np.array([0.0, 1e-3, 1e-2, 0.1, 0.7])
    gup, gdn = dis.rates(r, eps_diss, T)
    f = dis.bose(r.nu, T)
    if T > 0:
        assert f.max() > 1e-3   # the thermal branch is really exercised
    U = ref.to_liom_basis(r.eps, r.delta)
    rphys = np.array([U[k] @ r.rho0[k] @ U[k].conj().T for k in range(N)])
    L = ref.lindblad_generator(r.eps, r.delta, r.J, r.Y, f, eps_diss)
    rho = ref.evolve_dense(L, ref.product_state(rphys), times)
    np.testing.assert_allclose(np.trace(rho, axis1=1, axis2=2), 1.0, atol=1e-10)
    for keep in ([0, 1], [2, 3], [1, 3], [0, 2, 3]):
        exact = ref.rotate_to_liom(ref.partial_trace(rho, keep, N), U, keep)
        got = reduced_rho(np.array(keep), times, r.J, r.nu, gup, gdn, r.rho0)
        assert np.abs(got - exact).max() < 1e-8
    pr = pair_rhos(times, r.J, r.nu, gup, gdn, r.rho0)
    exact01 = ref.rotate_to_liom(ref.partial_trace(rho, [0, 1], N), U, [0, 1])
    np.testing.assert_allclose(concurrence(pr[0]), concurrence(exact01), atol=1e-8)


def test_open_long_time_thermal_limit():
    """t -> inf with dissipation: product of Gibbs populations (z = tanh(nu/2T)), no coherence, C = 0."""
    r = _real(7, 5)
    T = 3000.0
    gup, gdn = dis.rates(r, 1.0, T)
    tlong = np.array([50.0 / min(gup + gdn)])
    rho = reduced_rho(np.array([0, 1]), tlong, r.J, r.nu, gup, gdn, r.rho0)[0]
    z = np.tanh(r.nu[:2] / (2 * dis.KB_EV * T))
    exact = np.kron(np.diag([(1 + z[1]) / 2, (1 - z[1]) / 2]), np.diag([(1 + z[0]) / 2, (1 - z[0]) / 2]))
    np.testing.assert_allclose(rho, exact, atol=1e-10)


# ---------- unitary: product formula vs state vector ----------
@pytest.mark.parametrize("N,seed", [(6, 11), (10, 12)])
def test_unitary_pairs_vs_statevector(N, seed):
    r = _real(seed, N)
    times = np.array([0.0, 3e-3, 0.05, 0.8, 20.0])
    U = ref.to_liom_basis(r.eps, r.delta)
    psis = np.empty((N, 2), complex)   # S^0-basis kets with |psi><psi| = rho0
    for k in range(N):
        w, v = np.linalg.eigh(r.rho0[k])
        psis[k] = v[:, -1]
    psi = ref.statevector_unitary(r.eps, r.delta, r.J, np.einsum("kab,kb->ka", U, psis), times)
    zero = np.zeros(N)
    pr = pair_rhos(times, r.J, r.nu, zero, zero, r.rho0)
    red = psi[:, :, None] * psi[:, None, :].conj()
    pair_index = {ij: p for p, ij in enumerate((i, j) for i in range(N) for j in range(i + 1, N))}
    for i, j in ((0, 1), (2, N - 1), (3, 4)):
        exact = ref.rotate_to_liom(ref.partial_trace(red, [i, j], N), U, [i, j])
        assert np.abs(pr[pair_index[i, j]] - exact).max() < 1e-9
    # whole-C(t) check via the pure-state pair matrices (basis independent)
    C_ref = np.array([concurrence(pair_reduced(ps, N)[:, :, :]) for ps in psi])  # C is SWAP- and local-unitary invariant
    C_ref = C_ref.sum(1) / N
    np.testing.assert_allclose(concurrence(pr).sum(0) / N, C_ref, atol=1e-9)


def test_entropy_bubble_vs_statevector():
    N = 8
    r = _real(21, N)
    times = np.array([0.01, 0.3, 10.0])
    U = ref.to_liom_basis(r.eps, r.delta)
    psis = np.array([np.linalg.eigh(r.rho0[k])[1][:, -1] for k in range(N)])
    psi = ref.statevector_unitary(r.eps, r.delta, r.J, np.einsum("kab,kb->ka", U, psis), times)
    zero = np.zeros(N)
    for A in bubble_partitions(r)[:3]:
        assert len(A) == N // 2
        S = vn_entropy(reduced_rho(A, times, r.J, r.nu, zero, zero, r.rho0))
        B = np.setdiff1d(np.arange(N), A)
        m = np.moveaxis(psi.reshape((len(times),) + (2,) * N), list(1 + A), list(range(1, 1 + len(A))))
        sv = np.linalg.svd(m.reshape(len(times), 2 ** len(A), 2 ** len(B)), compute_uv=False) ** 2
        S_ref = -(sv * np.log(np.clip(sv, 1e-300, None))).sum(1)
        np.testing.assert_allclose(S, S_ref, atol=1e-9)


# ---------- model ----------
def _params(**kw):
    p = {x.name: x.default for x in MODEL.params}
    p.update(kw)
    return p


def _run(p, members, shard):
    tot = None
    for start in range(0, members, shard):
        ids = np.arange(start, min(start + shard, members))
        seeds = [np.random.SeedSequence(9, spawn_key=(0, int(m))) for m in ids]
        out = MODEL.run_shard(p, ids, seeds)
        tot = out if tot is None else {k: tot[k] + out[k] for k in out}
    tot["members"] = members
    return tot


def test_model_shard_invariance_and_finalize():
    p = _params(N=6, n_t=12, t_min=1e-4, t_max=1e2, entropy=True, eps_diss=0.1, fit_tmin=1e-2, fit_tmax=1e1)
    a = _run(p, 4, 1)
    b = _run(p, 4, 3)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-12, atol=1e-14)
    est = MODEL.finalize(a, p)
    C = est["C"].value
    assert C.shape == (12,) and np.all(C >= 0) and C[0] < C.max()
    assert np.all(np.diff(est["S_E_per_N"].value[:3]) > 0)   # entanglement entropy grows at early times
    accs = {x.name: x for x in MODEL.accumulators(p)}
    assert accs["C_sum"].shape == (12,)


def test_model_checks():
    with pytest.raises(SpecError, match="t_max"):
        MODEL.check(_params(t_min=10.0, t_max=1.0))
    with pytest.raises(SpecError, match="entropy"):
        MODEL.check(_params(N=40, entropy=True))


@pytest.mark.slow
def test_factorized_vs_qutip_mesolve():
    qutip = pytest.importorskip("qutip")
    N = 3
    r = _real(31, N)
    T = 4000.0
    times = np.array([0.0, 1e-3, 1e-2, 0.05])
    gup, gdn = dis.rates(r, 0.7, T)
    f = dis.bose(r.nu, T)
    U = ref.to_liom_basis(r.eps, r.delta)
    rphys = np.array([U[k] @ r.rho0[k] @ U[k].conj().T for k in range(N)])
    cops = []
    for k in range(N):   # Eq. (10): Y(1+f) D[S+] + Y f D[S-]
        s0, spl, smi = (qutip.Qobj(ref._embed(o, k, N)) for o in ref.site_ops(r.eps[k], r.delta[k]))
        cops += [np.sqrt(0.7 * r.Y[k] * (1 + f[k])) * spl, np.sqrt(0.7 * r.Y[k] * f[k]) * smi]
    res = qutip.mesolve(qutip.Qobj(ref.hamiltonian(r.eps, r.delta, r.J)), qutip.Qobj(ref.product_state(rphys)),
                        times, cops, options={"atol": 1e-12, "rtol": 1e-10, "nsteps": 10**7})
    rho = np.array([s.full() for s in res.states])
    exact = ref.rotate_to_liom(ref.partial_trace(rho, [0, 2], N), U, [0, 2])
    got = reduced_rho(np.array([0, 2]), times, r.J, r.nu, gup, gdn, r.rho0)
    assert np.abs(got - exact).max() < 1e-6


def test_model_plot_smoke():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ensemble.engine.inprocess import point_result

    pts = []
    for N in (4, 5, 6):
        p = _params(N=N, n_t=10, t_min=1e-4, t_max=1e3)
        est = MODEL.finalize(_run(p, 2, 2), p)
        pts.append(point_result(p, 2, est))
    fig = plt.figure()
    MODEL.plot(pts, fig)
    assert len(fig.axes) == 2
    plt.close(fig)
