"""The tour from the README, as a script: simulate Lorenz-63, train an AL-RNN by hand, judge its free run on an
independent trajectory and list its fixed points.

    python examples/tutorial_tour.py            # 2-5 minutes on 2 CPU cores (100 000 points, 1000 epochs)
    python examples/tutorial_tour.py --tiny     # seconds: what the test suite runs (3 000 points, 3 epochs)

The code between the markers is the README's Python tour and the tour page of the documentation, verbatim
(tests/test_docs.py checks it).
"""

# --8<-- [start:tour]
import sys

import jax

import dsrkit as dsr

n, epochs = (3_000, 3) if "--tiny" in sys.argv else (100_000, 1000)   # --tiny: what CI runs

s = dsr.systems.get("lorenz63")                        # ground truth: rhs, Jacobian, parameters, references
X = s.trajectory(n, noise=0.05, seed=0)                # (T, 3), float64, 5 % observation noise
ds, scaler = dsr.Dataset([X], dt=s.dt).standardize()
test = scaler.transform(s.trajectory(n, seed=1))       # an independent clean trajectory, same standardisation

# the published Lorenz-63 AL-RNN (M = 20, P = 2, STF tau = 16, T~ = 200, lr 1e-3 -> 1e-5, input noise 0.05);
# the checkpoint with the lowest D_stsp on the first 20 000 training points, scored every 10 epochs, is kept
model = dsr.models.ALRNN(obs_dim=3, latent_dim=20, relu_units=2, key=jax.random.key(0))
fit = dsr.train(model, ds, scheme=dsr.STF(interval=16), epochs=epochs, seq_len=200, lr=(1e-3, 1e-5),
                input_noise=0.05, eval_every=10, eval_steps=20_000, seed=0, progress=False)
print(f"{fit.status}: selected epoch {fit.best_epoch} of {epochs}, {fit.seconds:.0f} s")

Y = dsr.generate(fit.model, test[0], 10_000)           # a free run from the first test point, (10000, 3)
result = dsr.evaluate(fit.model, test, dt=s.dt, lyapunov_max=s.reference["lyapunov_max"])
for key in ("status", "state_space_divergence", "power_spectrum_distance", "valid_prediction_time", "lyapunov_max"):
    print(f"{key:>24}: {result[key]}")
print(result["protocol"]["description"])

for fp in dsr.analysis.fixed_points(fit.model):       # exact: one linear solve per linear subregion
    print(f"fixed point in subregion {''.join(map(str, fp.codes[0]))}: {fp.type}, x = {fp.points[0][:3].round(2)}")

# --8<-- [end:tour]
