"""Reconstruct Lorenz-63 with an AL-RNN, evaluate it on an independent trajectory and list its fixed points.

    python examples/quickstart.py            # a few minutes: 300 epochs on 100 000 noisy points
    python examples/quickstart.py --tiny     # seconds: what the test suite runs
"""

import sys

import jax
import numpy as np

import dsrkit as dsr

tiny = "--tiny" in sys.argv
n_train, n_test, epochs = (3_000, 2_000, 3) if tiny else (100_000, 100_000, 300)

system = dsr.systems.get("lorenz63")
train, scaler = dsr.Dataset([system.trajectory(n_train, noise=0.05, seed=0)], dt=system.dt).standardize()
test = scaler.transform(system.trajectory(n_test, seed=1))

model = dsr.models.ALRNN(obs_dim=3, latent_dim=20, relu_units=2, key=jax.random.key(0))
fit = dsr.train(model, train, scheme=dsr.STF(interval=16), epochs=epochs, seq_len=200 if not tiny else 50,
                input_noise=0.05, seed=0, progress=not tiny)

result = dsr.evaluate(fit.model, test, dt=system.dt, lyapunov_max=system.reference["lyapunov_max"])
print(f"status {result['status']}: D_stsp = {result['state_space_divergence']}, "
      f"D_H = {result['power_spectrum_distance']}")
print(result["protocol"]["description"])

Z = dsr.analysis.infer_latent(fit.model, test[:5_000], mode="free")
print("linear subregions visited:", dsr.analysis.subregions(fit.model, Z).n_regions)
for fp in dsr.analysis.fixed_points(fit.model):
    print("fixed point", np.round(fp.points[0][:3], 3), fp.stability)
