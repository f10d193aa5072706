"""Understanding a trained AL-RNN: its linear subregions, the symbolic graph of their visits, each subregion's
linear map, fixed points and cycles, and the figures `dsr analyze` draws.

    python examples/tutorial_alrnn.py            # 2-8 minutes on 2 CPU cores (1000 epochs on 100 000 points)
    python examples/tutorial_alrnn.py --tiny     # seconds: what the test suite runs

The documentation page "Understanding a trained AL-RNN" includes this file.
"""

# --8<-- [start:train]
import sys

import jax
import numpy as np

import dsrkit as dsr
from dsrkit.report import interpretation

n, epochs = (3_000, 3) if "--tiny" in sys.argv else (100_000, 1000)   # --tiny: what CI runs

s = dsr.systems.get("lorenz63")
ds, scaler = dsr.Dataset([s.trajectory(n, noise=0.05, seed=0)], dt=s.dt).standardize()
test = scaler.transform(s.trajectory(n, seed=1))
model = dsr.models.ALRNN(obs_dim=3, latent_dim=20, relu_units=2, key=jax.random.key(0))
fit = dsr.train(model, ds, scheme=dsr.STF(interval=16), epochs=epochs, seq_len=200, lr=(1e-3, 1e-5),
                input_noise=0.05, eval_every=10, eval_steps=20_000, seed=0, progress=False)
alrnn = fit.model
print(f"AL-RNN M = {alrnn.latent_dim}, P = {alrnn.n_switch}: {2 ** alrnn.n_switch} linear subregions possible")
# --8<-- [end:train]

# --8<-- [start:subregions]
# the model's own attractor: a free run from the first test point, latent states (T, M), first 1000 dropped
Z = dsr.analysis.infer_latent(alrnn, test[:min(n, 21_000)], mode="free")[1000:]
seq = dsr.analysis.subregions(alrnn, Z)
print(f"{seq.n_regions} subregions visited by the free run")
for label, (code, freq) in enumerate(zip(seq.code_strings, seq.frequencies)):
    print(f"  subregion {label}: code {code} (sign of the {alrnn.n_switch} ReLU units), {freq:.1%} of the time")

# the data's own path through the subregions: latent states inferred by forcing the read-out units to the data
Zd = dsr.analysis.infer_latent(alrnn, test[:min(n, 20_000)], mode="forced")
print("subregions visited along the data:", dsr.analysis.subregions(alrnn, Zd).code_strings)
# --8<-- [end:subregions]

# --8<-- [start:graph]
G = dsr.analysis.symbolic_graph(alrnn, Z, latent=True)   # nodes: subregions; edges: observed transitions
print(f"symbolic graph: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges, "
      f"entropy rate {G.graph['entropy_rate']:.3f} nats per step")
for i, j, edge in sorted(G.edges(data=True)):
    print(f"  {G.nodes[i]['code']} -> {G.nodes[j]['code']}: P = {edge['probability']:.3f} ({edge['count']} steps)")
print("most frequent words of length 3:", dsr.analysis.frequent_words(seq.symbols, 3, top=3))

# in each subregion the model is one affine map z' = J z + c: its eigenvalues say how it moves there
for i in G.nodes:
    radius = np.abs(np.linalg.eigvals(G.nodes[i]["J"])).max()
    print(f"  subregion {G.nodes[i]['code']}: spectral radius of J {radius:.4f}")
# --8<-- [end:graph]

# --8<-- [start:fixed_points]
for fp in dsr.analysis.fixed_points(alrnn):          # exact: every subregion's linear system is solved
    x = fp.points[0][:alrnn.obs_dim]                 # the AL-RNN's first N units are its read-outs
    print(f"fixed point in subregion {''.join(map(str, fp.codes[0]))}: {fp.type}, "
          f"x = {np.round(x, 2)}, |largest eigenvalue| {abs(fp.eigenvalues[0]):.4f}")
for k in (2, 3, 4):                                  # exhaustive over (2^P)^k region sequences while small
    found = dsr.analysis.cycles(alrnn, k)
    print(f"cycles of period {k}: {len(found)}" + "".join(f"\n  {c.type}" for c in found[:3]))
# --8<-- [end:fixed_points]

# --8<-- [start:analyze]
# everything above at once, as `dsr analyze RUN` writes it to analysis.json, with its figures and a summary
analysis = dsr.analysis.analyze(alrnn, test[:min(n, 20_000)], dt=s.dt, max_cycle_period=4)
print(interpretation.describe(analysis))
for path in interpretation.save_figures(alrnn, test[:min(n, 20_000)], analysis, "alrnn_figures"):
    print("wrote", path)
# --8<-- [end:analyze]
