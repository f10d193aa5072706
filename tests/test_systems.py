"""Tests of the ground-truth systems database (dsrkit.systems): analytic facts, SciPy references, contracts."""

import functools
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from dsrkit import systems
from dsrkit.systems import _integrate

REQUIRED = ["lorenz63", "rossler", "lorenz96", "chua", "thomas", "halvorsen", "sprott_b", "hindmarsh_rose",
            "duffing", "van_der_pol", "lotka_volterra4", "mackey_glass", "kuramoto_sivashinsky", "logistic", "henon",
            "leslie_predator_prey"]


def _scipy_reference(system, x0, n, rtol=1e-12):
    with jax.enable_x64(True):  # the jitted wrapper is the test's own: its float64 inputs need 64-bit mode
        f = jax.jit(system.rhs)
        times = system.dt * np.arange(n)
        sol = solve_ivp(lambda t, x: np.asarray(f(x)), (0, times[-1]), x0, method="DOP853", rtol=rtol, atol=rtol,
                        t_eval=times)
    return sol.y.T


@functools.lru_cache(maxsize=None)
def _sample(name):
    """400 samples after a 200-sample transient (one compiled chunk length shared by several tests)."""
    return systems.get(name).trajectory(400, transient=200, seed=4)


# -- registry -------------------------------------------------------------------------------------------------------

def test_names_sorted_and_complete():
    names = systems.names()
    assert names == sorted(names)
    assert set(REQUIRED) <= set(names)


def test_metadata_entries_have_citation_and_sourced_references():
    for name, meta in systems.metadata().items():
        assert meta["kind"] in ("flow", "map", "delay", "pde"), name
        assert meta["citation"], name
        for entry in meta["reference"]:
            assert entry["source"] and entry["values"], name


def test_get_rejects_unknown_name_listing_valid_ones():
    with pytest.raises(ValueError, match="lorenz63"):
        systems.get("lorenz64")


def test_get_rejects_unknown_parameter_listing_valid_ones():
    with pytest.raises(ValueError, match="beta, rho, sigma"):
        systems.get("lorenz63", gamma=1.0)


def test_get_validates_parameter_types():
    with pytest.raises(TypeError):
        systems.get("lorenz96", n=10.5)
    with pytest.raises(ValueError):
        systems.get("lorenz96", n=2)
    with pytest.raises(TypeError):
        systems.get("lorenz63", rho="28")
    with pytest.raises(ValueError):
        systems.get("kuramoto_sivashinsky", n=63)


def test_overrides_make_new_object_and_systems_are_immutable():
    s = systems.get("lorenz63")
    t = systems.get("lorenz63", rho=35.0)
    assert s.params["rho"] == 28.0 and t.params["rho"] == 35.0
    with pytest.raises(AttributeError):
        s.dt = 0.1
    p = s.params
    p["rho"] = 99.0
    assert s.params["rho"] == 28.0
    x0 = s.x0
    x0[0] = 1e6
    assert s.x0[0] != 1e6
    assert s.with_params(rho=35.0).params == t.params


def test_reference_values_follow_parameters():
    s = systems.get("lorenz63")
    assert s.reference["lyapunov_max"] == pytest.approx(0.906, abs=1e-3)
    assert s.reference["lyapunov_spectrum"][2] == pytest.approx(-14.57, abs=1e-2)
    assert s.reference["correlation_dimension"] == pytest.approx(2.05)
    assert s.reference["kaplan_yorke_dimension"] == pytest.approx(2.06, abs=1e-2)
    assert "Sprott" in s.reference_sources["lyapunov_max"]
    assert systems.get("lorenz63", rho=35.0).reference == {}  # values are only valid at the cited parameters
    assert systems.get("lorenz96").reference_sources["lyapunov_max"].startswith("computed (dsrkit")
    assert systems.get("lorenz96", n=40).reference["lyapunov_max"] == pytest.approx(1.65)
    assert systems.get("lorenz96", n=12).reference == {}
    assert systems.get("logistic").reference["lyapunov_max"] == pytest.approx(np.log(2))
    assert systems.get("henon").reference["lyapunov_max"] == pytest.approx(0.419, abs=1e-3)


def test_dimensions_follow_shape_parameters():
    assert systems.get("lorenz96", n=7).dim == 7
    assert systems.get("kuramoto_sivashinsky", n=32).dim == 32
    assert systems.get("mackey_glass", embedding_dim=3).dim == 3
    assert systems.get("lorenz96", n=7).trajectory(20, transient=0).shape == (20, 7)


# -- Jacobians ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [n for n in systems.names() if n != "mackey_glass"])
def test_jacobian_matches_central_differences(name):
    """Analytic (or jacfwd) Jacobian vs central differences, eps = 1e-6, at three points of a trajectory."""
    s = systems.get(name)
    f = s.step if s.kind == "map" else s.rhs
    X = _sample(name)
    for x in X[[0, 150, 399]]:
        jac = np.asarray(s.jacobian(x))
        assert jac.shape == (s.dim, s.dim)
        eps = 1e-6 * np.maximum(1.0, np.abs(x))
        fd = np.stack([(np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * e[i])
                       for i, e in enumerate(np.diag(eps))], axis=1)
        np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(fd).max()))


@pytest.mark.parametrize("name", ["lorenz63", "kuramoto_sivashinsky", "henon"])
def test_flow_map_is_one_sample_of_trajectory_and_differentiable(name):
    """flow_map(x) is the next trajectory sample; jax.jacfwd of it matches central differences (tangent map)."""
    s = systems.get(name)
    X = _sample(name)
    np.testing.assert_allclose(np.asarray(s.flow_map(X[10])), X[11], rtol=1e-12, atol=1e-12)
    jac = np.asarray(jax.jacfwd(s.flow_map)(X[10]))
    eps = 1e-6
    fd = np.stack([(np.asarray(s.flow_map(X[10] + e)) - np.asarray(s.flow_map(X[10] - e))) / (2 * eps)
                   for e in eps * np.eye(s.dim)[:4]], axis=1)
    np.testing.assert_allclose(jac[:, :4], fd, rtol=1e-5, atol=1e-6 * np.abs(jac).max())


def test_mackey_glass_has_no_finite_jacobian_but_exposes_delay_rhs():
    s = systems.get("mackey_glass")
    with pytest.raises(NotImplementedError):
        s.jacobian(s.x0)
    assert float(s.rhs_delay(1.0, 1.0)) == pytest.approx(0.2 * 1.0 / 2.0 - 0.1)


# -- accuracy against SciPy and analytic facts ------------------------------------------------------------------------

def test_lorenz63_matches_scipy_dop853_over_5_time_units():
    """Fixed-step integrator vs DOP853 at rtol = atol = 1e-12: max abs deviation < 1e-6 (measured ~1e-8)."""
    s = systems.get("lorenz63")
    x0 = np.array([1.0, 1.0, 1.0])
    X = s.trajectory(501, transient=0, x0=x0)
    ref = _scipy_reference(s, x0, 501)
    assert np.abs(X - ref).max() < 1e-6


@pytest.mark.parametrize("name", [n for n in systems.names() if systems.metadata()[n]["kind"] == "flow"])
def test_flow_matches_scipy_dop853_over_a_short_horizon(name):
    """Every flow's max_step gives agreement with DOP853 (rtol 1e-12) over 100 samples: relative deviation < 1e-6
    (Chua: < 1e-4; the kinks of its piecewise-linear diode limit any fixed-step method to ~1e-5)."""
    s = systems.get(name)
    x0 = _sample(name)[0]
    X = s.trajectory(600, transient=0, x0=x0)[:100]
    ref = _scipy_reference(s, x0, 100)
    tol = 1e-4 if name == "chua" else 1e-6
    assert np.abs(X - ref).max() < tol * np.abs(ref).max()


def test_adaptive_method_agrees_with_fixed_step():
    s = systems.get("lorenz63")
    x0 = np.array([1.0, 1.0, 1.0])
    fixed = s.trajectory(200, transient=0, x0=x0)
    adaptive = s.trajectory(200, transient=0, x0=x0, method="adaptive")
    assert np.abs(fixed - adaptive).max() < 1e-7


def test_logistic_r4_follows_the_sine_squared_conjugacy():
    """x_k = sin^2(2^k pi theta) for x_0 = sin^2(pi theta); fixed point 3/4; |f'(x)| = 4 |1 - 2x|."""
    s = systems.get("logistic")
    theta = 0.1234
    X = s.trajectory(12, transient=0, x0=[np.sin(np.pi * theta) ** 2])[:, 0]
    exact = np.sin(2.0 ** np.arange(12) * np.pi * theta) ** 2
    np.testing.assert_allclose(X, exact, atol=1e-11)
    assert float(s.step(jnp.array([0.75]))[0]) == pytest.approx(0.75, abs=1e-15)
    assert float(s.jacobian(jnp.array([0.1]))[0, 0]) == pytest.approx(3.2)


def test_henon_fixed_point_and_constant_jacobian_determinant():
    s = systems.get("henon")
    a, b = 1.4, 0.3
    xs = (-(1 - b) + np.sqrt((1 - b) ** 2 + 4 * a)) / (2 * a)
    fp = np.array([xs, b * xs])
    np.testing.assert_allclose(np.asarray(s.step(fp)), fp, atol=1e-14)
    for x in s.trajectory(5, seed=3):
        assert np.linalg.det(np.asarray(s.jacobian(x))) == pytest.approx(-b)
    X = s.trajectory(3, transient=0, x0=[0.1, 0.2])
    np.testing.assert_allclose(X[1], [1 - a * 0.01 + 0.2, b * 0.1])


def test_duffing_settles_in_a_well_and_van_der_pol_period():
    wells = systems.get("duffing").trajectories(6, 10, transient=4000)[:, -1, 0]
    np.testing.assert_allclose(np.abs(wells), 1.0, atol=1e-3)
    assert (wells > 0).any() and (wells < 0).any()  # seeds reach both basins (multistability)
    s = systems.get("van_der_pol")
    x = s.trajectory(4000, transient=2000, dt=0.01)[:, 0]
    up = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    crossings = up + x[up] / (x[up] - x[up + 1])  # linear interpolation of upward zero crossings
    assert np.diff(crossings).mean() * 0.01 == pytest.approx(s.reference["period"], abs=1e-3)


def test_kuramoto_sivashinsky_conserves_mean_and_converges_in_time_step():
    s = systems.get("kuramoto_sivashinsky")
    X = s.trajectory(400, transient=0, seed=1)
    np.testing.assert_allclose(X.mean(axis=1), X[0].mean(), atol=1e-10)
    fine = systems.get("kuramoto_sivashinsky")
    object.__setattr__(fine, "max_step", 0.03125)  # 8 ETDRK4 substeps per sample instead of 2
    Y = fine.trajectory(40, transient=0, seed=1)
    assert np.abs(X[:40] - Y).max() < 5e-5  # ETDRK4 at h = 0.125 vs h = 0.03125 over 10 time units (measured 1.6e-5)


def test_mackey_glass_embedding_and_step_convergence():
    s = systems.get("mackey_glass")
    X = _sample("mackey_glass")
    lag = 6  # embedding_lag 6 / dt 1
    np.testing.assert_array_equal(X[lag:, 1], X[:-lag, 0])
    np.testing.assert_array_equal(X[3 * lag:, 3], X[:-3 * lag, 0])
    assert 0.2 < X[:, 0].min() and X[:, 0].max() < 1.5
    fine = systems.get("mackey_glass")
    object.__setattr__(fine, "max_step", 0.0125)
    Y = fine.trajectory(150, transient=0, seed=0)
    # RK4 at h = 0.1 vs h = 0.0125, 4th order (one-sided derivatives where the history has kinks)
    assert np.abs(s.trajectory(600, transient=0, seed=0)[:150] - Y).max() < 1e-8
    with pytest.raises(ValueError, match="multiple of dt"):
        s.trajectory(10, dt=0.7)


# -- every system ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", systems.names())
def test_every_system_gives_a_bounded_finite_trajectory_of_its_dimension(name):
    s = systems.get(name)
    X = _sample(name)
    assert X.shape == (400, s.dim) and X.dtype == np.float64
    assert np.all(np.isfinite(X)) and np.abs(X).max() < 1e3
    assert np.all(X.std(axis=0) > 0)


# -- trajectory() contract -------------------------------------------------------------------------------------------

def test_seeds_are_reproducible_and_independent():
    s = systems.get("lorenz63")
    a, b, c = s.trajectory(500, seed=7), s.trajectory(500, seed=7), s.trajectory(500, seed=8)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1.0
    X = s.trajectory(3, transient=0, x0=[1.0, 2.0, 3.0], seed=99)
    np.testing.assert_array_equal(X[0], [1.0, 2.0, 3.0])  # an explicit x0 is not perturbed


def test_observation_noise_has_requested_relative_std_and_standardize():
    s = systems.get("lorenz63")
    clean = s.trajectory(20000, seed=3)
    noisy = s.trajectory(20000, seed=3, noise=0.1)
    ratio = (noisy - clean).std(axis=0) / clean.std(axis=0)
    np.testing.assert_allclose(ratio, 0.1, rtol=0.03)
    Z = s.trajectory(2000, seed=3, standardize=True)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", ["lorenz63", "henon", "mackey_glass", "kuramoto_sivashinsky"])
def test_trajectories_equals_repeated_trajectory(name):
    """Batched (vmap) rows equal single runs with seeds seed + i, also for explicit initial conditions."""
    s = systems.get(name)
    batch = s.trajectories(3, 400, transient=200, seed=5, noise=0.05)
    assert batch.shape == (3, 400, s.dim)
    for i in range(3):
        np.testing.assert_allclose(batch[i], s.trajectory(400, transient=200, seed=5 + i, noise=0.05),
                                   rtol=1e-9, atol=1e-9)
    starts = batch[:2, 0]
    explicit = s.trajectories(2, 400, transient=200, x0=starts)
    np.testing.assert_allclose(explicit[1], s.trajectory(400, transient=200, x0=starts[1]), rtol=1e-9, atol=1e-9)


def test_argument_validation():
    s = systems.get("lorenz63")
    with pytest.raises(ValueError, match="n_steps"):
        s.trajectory(0)
    with pytest.raises(TypeError, match="n_steps"):
        s.trajectory(10.5)
    with pytest.raises(ValueError, match="dt"):
        s.trajectory(10, dt=-0.1)
    with pytest.raises(ValueError, match="noise"):
        s.trajectory(10, noise=-0.1)
    with pytest.raises(ValueError, match=r"x0 must have shape \(3,\)"):
        s.trajectory(10, x0=[1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        s.trajectory(10, x0=[1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="method"):
        s.trajectory(10, method="euler")
    with pytest.raises(ValueError, match="dt must be None or 1"):
        systems.get("henon").trajectory(10, dt=0.5)
    with pytest.raises(ValueError, match="flows only"):
        systems.get("henon").trajectory(10, process_noise=0.1)
    with pytest.raises(ValueError, match="must lie in"):
        systems.get("logistic").trajectory(10, x0=[1.5])
    with pytest.raises(FloatingPointError):
        systems.get("lorenz63").trajectory(10, transient=0, x0=[1e200, 1e200, 1e200])


def test_process_noise_is_seeded_and_matches_linear_theory():
    """Seeded paths; near the Duffing well bottom (±1, 0) the SDE is nearly linear, dX = A X dt + sigma dW, whose
    stationary covariance P solves A P + P A^T + sigma^2 I = 0 (checked to 15 % on 2500 time units)."""
    from scipy.linalg import solve_continuous_lyapunov

    s = systems.get("lorenz63")
    x0 = np.array([1.0, 1.0, 1.0])
    a = s.trajectory(200, transient=0, x0=x0, seed=1, process_noise=0.5)
    b = s.trajectory(200, transient=0, x0=x0, seed=1, process_noise=0.5)
    c = s.trajectory(200, transient=0, x0=x0, seed=2, process_noise=0.5)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-2
    batch = s.trajectories(2, 200, transient=0, x0=np.stack([x0, x0]), seed=1, process_noise=0.5)
    np.testing.assert_allclose(batch[0], a, rtol=1e-9, atol=1e-9)
    ode = s.trajectory(200, transient=0, x0=x0)
    tiny = s.trajectory(200, transient=0, x0=x0, seed=1, process_noise=1e-9)
    assert np.abs(tiny[:100] - ode[:100]).max() < 1e-6  # same drift step: only the noise separates the paths

    duffing = systems.get("duffing")
    sigma = 0.02
    X = duffing.trajectory(12500, dt=0.2, transient=50, x0=[1.0, 0.0], seed=0, process_noise=sigma)
    A = np.asarray(duffing.jacobian(np.array([1.0, 0.0])))
    P = solve_continuous_lyapunov(A, -sigma**2 * np.eye(2))
    np.testing.assert_allclose(np.cov(X.T).diagonal(), P.diagonal(), rtol=0.15)


def test_repeated_calls_do_not_recompile_and_progress_bar_gives_same_result():
    s = systems.get("lorenz63")
    s.trajectory(3000, seed=1)
    before = _integrate.flow_chunk._cache_size()  # one module-level jit: one entry per static arguments and shapes
    s.with_params(rho=30.0).trajectory(3000, seed=2)  # new parameter values are traced leaves: no new compile
    systems.get("lorenz63").trajectory(3000, seed=3)  # nor does a new object of the same system
    assert _integrate.flow_chunk._cache_size() == before >= 1
    np.testing.assert_array_equal(s.trajectory(3000, seed=1, progress=True), s.trajectory(3000, seed=1))


# -- dysts catalogue ---------------------------------------------------------------------------------------------------

def test_catalogue_without_dysts_gives_install_hint(monkeypatch):
    from dsrkit.systems import _dysts

    _dysts._catalogue.cache_clear()
    monkeypatch.setitem(sys.modules, "dysts", None)
    monkeypatch.setitem(sys.modules, "dysts.flows", None)
    try:
        with pytest.raises(ImportError, match=r"pip install 'dsrkit\[dysts\]'"):
            systems.get("dysts:Lorenz")
    finally:
        _dysts._catalogue.cache_clear()


def test_catalogue_system_through_the_same_interface():
    pytest.importorskip("dysts")
    state = np.random.get_state()
    names = systems.catalogue_names()
    assert "dysts:Lorenz" in names and names == sorted(names)
    s = systems.get("dysts:Lorenz")
    X = s.trajectory(150, transient=0, seed=1)
    assert X.shape == (150, 3) and np.all(np.isfinite(X))
    assert s.reference["lyapunov_max"] > 0 and "period" in s.reference and "dysts" in s.reference_sources["period"]
    x0 = np.array([1.0, 1.0, 1.0])
    ours = systems.get("lorenz63", beta=s.params["beta"]).trajectory(150, transient=0, x0=x0, dt=s.dt)
    theirs = s.trajectory(150, transient=0, x0=x0)
    assert np.abs(ours - theirs).max() < 1e-6  # same equations, DOP853 at 1e-10 vs our fixed-step integrator
    np.testing.assert_allclose(s.jacobian(x0), np.asarray(systems.get("lorenz63", beta=2.667).jacobian(x0)))
    with pytest.raises(ValueError, match="valid parameters"):
        systems.get("dysts:Lorenz", gamma=1.0)
    with pytest.raises(ValueError, match="dysts:Lorenz"):
        systems.get("dysts:NoSuchSystem")
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2] == after[2]  # global NumPy generator untouched


# -- slow: the published reference exponents are reproduced by this package's dynamics ---------------------------------

@jax.enable_x64(True)  # the test's own float64 loop
def _lyapunov_max(s, time_units):
    """λ_max by propagating one tangent vector with JVPs of the integrator step (Benettin et al. 1980)."""
    x = jnp.asarray(_sample(s.name)[-1])
    if s.kind == "map":
        step, per_step, n = s._step_fn, 1.0, int(time_units)
    else:
        sub = _integrate.substeps_for(s.dt, s.max_step)
        h = s.dt / sub
        step, per_step, n = (lambda y, p: _integrate.rk_step(s._rhs_fn, y, p, h)), h, int(time_units / h)

    @jax.jit
    def run(x, v):
        def body(carry, _):
            y, w, acc = carry
            y, w = jax.jvp(lambda z: step(z, s._jparams), (y,), (w,))
            norm = jnp.linalg.norm(w)
            return (y, w / norm, acc + jnp.log(norm)), None

        return jax.lax.scan(body, (x, v, 0.0), None, length=n)[0][2] / (n * per_step)

    return float(run(x, jnp.ones(s.dim) / np.sqrt(s.dim)))


@pytest.mark.slow
@pytest.mark.parametrize("name, time_units, rtol", [("lorenz63", 2000, 0.03), ("rossler", 20000, 0.1),
                                                    ("sprott_b", 5000, 0.05), ("lotka_volterra4", 100000, 0.1),
                                                    ("henon", 200000, 0.01), ("logistic", 200000, 0.01)])
def test_published_lyapunov_exponent_is_reproduced(name, time_units, rtol):
    s = systems.get(name)
    assert _lyapunov_max(s, time_units) == pytest.approx(s.reference["lyapunov_max"], rel=rtol)
