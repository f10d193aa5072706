"""Kuramoto–Sivashinsky observed through its leading POD (Fourier) modes (`modes = k`), and the core suite's KS
task built on it, on which a learned method runs bounded (on the 64 grid values every learned method diverged)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import dsrkit as dsr
from dsrkit.bench import load_suite
from dsrkit.bench.execute import execute_run
from dsrkit.systems.kuramoto_sivashinsky import fourier_modes


def test_modes_are_the_cosine_and_sine_amplitudes():
    L, n = 22.0, 64
    x = L * np.arange(n) / n
    q = 2 * np.pi / L
    u = 0.3 + 1.5 * np.cos(2 * q * x) - 0.7 * np.sin(3 * q * x) + 0.2 * np.cos(q * x + 0.4)
    a = fourier_modes(u[None], 4)[0]
    expected = [0.2 * np.cos(0.4), -0.2 * np.sin(0.4), 1.5, 0.0, 0.0, -0.7, 0.0, 0.0]
    assert np.allclose(a, expected, atol=1e-12)
    with pytest.raises(ValueError, match="modes must be in"):
        fourier_modes(u[None], 32)


def test_system_with_modes_observes_the_grid_trajectory():
    grid = dsr.systems.get("kuramoto_sivashinsky")
    reduced = dsr.systems.get("kuramoto_sivashinsky", modes=4)
    assert (grid.dim, grid.modes, reduced.dim, reduced.modes) == (64, 0, 8, 4)
    assert reduced.variables == ["a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4"]
    assert reduced.x0.shape == (64,) and reduced.reference == grid.reference  # the state stays the grid
    U = grid.trajectory(300, seed=3, transient=100)
    assert np.array_equal(reduced.trajectory(300, seed=3, transient=100), fourier_modes(U, 4))
    assert reduced.trajectories(2, 50, seed=3, transient=100).shape == (2, 50, 8)
    for bad in (32, -1):
        with pytest.raises(ValueError, match="modes"):
            dsr.systems.get("kuramoto_sivashinsky", modes=bad)


def test_leading_principal_components_span_the_first_four_fourier_modes():
    """POD modes of the translation-invariant KS are Fourier modes: the 8 leading principal axes of a grid
    trajectory span (nearly) the same subspace as cos/sin of wavenumbers 1-4."""
    system = dsr.systems.get("kuramoto_sivashinsky")
    U = system.trajectory(20_000, seed=0, transient=2000)
    _, _, vt = np.linalg.svd(U - U.mean(axis=0), full_matrices=False)
    x = 2 * np.pi * np.arange(64) / 64
    F = np.stack([f(j * x) for j in range(1, 5) for f in (np.cos, np.sin)], axis=1)
    F /= np.linalg.norm(F, axis=0)
    cosines = np.linalg.svd(vt[:8] @ F, compute_uv=False)  # cosines of the principal angles
    assert cosines.min() > 0.95, cosines


@pytest.mark.slow  # about 16 s; benchmarks/ks_task.py measures every method at the suite's sizes
def test_core_ks_task_is_learnable():
    """The core suite's KS task at small sizes: EDMD runs bounded and its D_H is at least 5x below the mean
    predictor's (benchmarks/ks_task.py measures all methods at the suite's sizes)."""
    suite = load_suite("core").select(tasks=["kuramoto_sivashinsky-modes4"], methods=["mean", "edmd"], seeds=[0])
    task = dataclasses.replace(suite.tasks[0], n_train=3000, n_test=2000)
    out = {s.method.name: execute_run(s.config) for s in dataclasses.replace(suite, tasks=[task]).runs()}
    assert out["edmd"]["status"] == out["mean"]["status"] == "ok", out["edmd"]["reason"]
    d_h = {k: v["metrics"]["power_spectrum_distance"] for k, v in out.items()}
    assert d_h["mean"] >= 5 * d_h["edmd"], d_h
