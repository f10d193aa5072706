"""Adapters that run dsrkit's own piecewise-linear RNNs (AL-RNN, PLRNN, shPLRNN) through the Reconstructor protocol.

Training is `dsrkit.training.train` with sparse teacher forcing (STF, interval τ; or adaptive GTF with
`scheme="adaptive_gtf"`), the published loss, RAdam with an
exponentially decaying learning rate and model selection by D_stsp on the training data; free runs are
`dsrkit.generate` from z0 = init_state(x_last), so only the last context observation is used.
References: Brenner et al., "Almost-linear RNNs yield highly interpretable symbolic codes in dynamical systems
reconstruction", NeurIPS 2024 (AL-RNN); Koppe et al., PLoS Comput. Biol. 15, e1007263 (2019) (PLRNN); Hess et al.,
ICML 2023 (shPLRNN, STF/GTF).
"""

from __future__ import annotations

import numpy as np

from .._status import Status
from ..training.names import scheme_class, scheme_names
from ._base import Reconstructor
from ._params import Boolean, Interval, Options

#: The schemes of the registry (`dsrkit.training.names`) these adapters train with: GTF's fixed α is not one of
#: their parameters.
SCHEMES = tuple(name for name in scheme_names() if name != "gtf")
_POSITIVE_INT = [Interval(int, 1, None)]
_TRAIN_CONSTRAINTS = {
    **{k: _POSITIVE_INT for k in ("latent_dim", "interval", "sequence_length", "batch_size", "batches_per_epoch",
                                  "epochs")},
    "lr_start": [Interval(float, 0, None, closed="neither")],
    "lr_end": [Interval(float, 0, None, closed="neither")],
    "input_noise": [Interval(float, 0, None)],
    "eval_every": [Interval(int, 0, None), None],
    "grad_clip": [Interval(float, 0, None, closed="neither"), None],
    "scheme": [Options(*SCHEMES)],
}


class _PLRNNAdapter(Reconstructor):
    _bucket_steps = True
    _model_name = ""

    def _min_length(self):
        return self.sequence_length + 1

    def _build(self, key):
        raise NotImplementedError

    def _skeleton(self, attr, key=None):
        import jax

        return self._build(jax.random.key(0) if key is None else key)

    def _fit(self, trajectories, dt, seed):
        from ..data import Dataset

        self._learn(self._train([Dataset(trajectories, dt=dt)], [seed]).member(0))

    def _train(self, datasets: list, seeds: list[int]):
        """One `train` call: member i is initialised with seeds[i] and trained on datasets[i] with that seed."""
        import jax

        from ..training import TrainConfig, train

        models = [self._build(jax.random.key(seed)) for seed in seeds]
        scheme = scheme_class(self.scheme)(**({"interval": self.interval} if self.scheme == "stf" else {}))
        config = TrainConfig(epochs=self.epochs, seq_len=self.sequence_length, batch_size=self.batch_size,
                             batches_per_epoch=self.batches_per_epoch, lr=(self.lr_start, self.lr_end),
                             input_noise=self.input_noise, seed=seeds[0] if len(seeds) == 1 else list(seeds),
                             eval_every=self.eval_every, grad_clip=self.grad_clip)
        return train(models[0] if len(seeds) == 1 else models, datasets[0] if len(seeds) == 1 else datasets,
                     scheme, config, progress=False)

    def _learn(self, member) -> None:
        self.model_ = member.model
        self.best_epoch_ = int(member.best_epoch)
        if member.status != Status.OK:
            self.reason_ = f"training reported {str(member.status)!r} (diverged_epoch={member.diverged_epoch})"

    def fit_population(self, datasets: list, seeds: list[int]) -> list:
        """Fit one copy of this adapter per (dataset, seed) as one population of `dsrkit.training.train` (one
        compiled program, each member with its own data): copy i is what `fit(datasets[i], seed=seeds[i])`
        gives, to float rounding (vmapped float32). For the seeds of a benchmark task (`bench.execute_seed_group`).
        Returns the fitted copies; `fit_time_` of each is the population's time divided by its size."""
        import time

        if len(datasets) != len(seeds) or not seeds:
            raise ValueError(f"fit_population needs one seed per dataset, got {len(datasets)} datasets and "
                             f"{len(seeds)} seeds")
        copies = [type(self)(**self.get_params()) for _ in seeds]
        prepared = [c._prepare(d, seed, None) for c, d, seed in zip(copies, datasets, seeds)]
        if len({ds.dim for ds in prepared}) > 1:
            raise ValueError(f"fit_population needs datasets of one dimension, got {[ds.dim for ds in prepared]}")
        start = time.perf_counter()
        fit = copies[0]._train(prepared, [int(s) for s in seeds])
        seconds = (time.perf_counter() - start) / len(seeds)
        for i, (c, ds) in enumerate(zip(copies, prepared)):
            c._learn(fit.member(i))
            c._fitted(ds.trajectories, seconds)
        return copies

    def _predict(self, context, n_steps):
        from ..rollout import generate

        return np.asarray(generate(self.model_, np.asarray(context[-1], np.float32), n_steps + 1), np.float64)[1:]


_TRAIN_DOC = """
        scheme: "stf" (default) or "adaptive_gtf" (Hess et al. 2023; `interval` is then unused).
        interval: STF forcing interval τ (default 16). sequence_length: T̃, windows of T̃ + 1 points (default 200).
        batch_size: S (default 16). batches_per_epoch: 50. epochs: default 300 (the published runs use 2000).
        lr_start, lr_end: exponential learning-rate decay per epoch (default 1e-3 -> 1e-5).
        input_noise: std of the Gaussian noise added to the inputs during training, data units (default 0.05).
        eval_every: D_stsp model selection every this many epochs (default None: train's default; 0: off).
        grad_clip: global-norm gradient clipping threshold (default None: off).
    Learned: `model_` (the Equinox model, float32), `best_epoch_`."""


class ALRNNBaseline(_PLRNNAdapter):
    name = "alrnn"
    _parameter_constraints = {**_TRAIN_CONSTRAINTS, "relu_units": _POSITIVE_INT}

    def __init__(self, latent_dim: int = 20, relu_units: int = 2, interval: int = 16, sequence_length: int = 200,
                 batch_size: int = 16, batches_per_epoch: int = 50, epochs: int = 300, lr_start: float = 1e-3,
                 lr_end: float = 1e-5, input_noise: float = 0.05, eval_every: int | None = None,
                 grad_clip: float | None = None, scheme: str = "stf"):
        self.latent_dim = latent_dim
        self.relu_units = relu_units
        self.interval = interval
        self.sequence_length = sequence_length
        self.batch_size = batch_size
        self.batches_per_epoch = batches_per_epoch
        self.epochs = epochs
        self.lr_start = lr_start
        self.lr_end = lr_end
        self.input_noise = input_noise
        self.eval_every = eval_every
        self.grad_clip = grad_clip
        self.scheme = scheme

    def _build(self, key):
        from ..models import ALRNN

        m = max(self.latent_dim, self.dim_ + self.relu_units)  # the first N units are the linear read-outs
        return ALRNN(self.dim_, m, self.relu_units, key=key)


ALRNNBaseline.__doc__ = """AL-RNN (identity observation) trained with STF or adaptive GTF.

    Args:
        latent_dim: M (default 20; raised to N + relu_units if smaller). relu_units: P (default 2).""" + _TRAIN_DOC


class PLRNNBaseline(_PLRNNAdapter):
    name = "plrnn"
    _parameter_constraints = _TRAIN_CONSTRAINTS

    def __init__(self, latent_dim: int = 20, interval: int = 16, sequence_length: int = 200, batch_size: int = 16,
                 batches_per_epoch: int = 50, epochs: int = 300, lr_start: float = 1e-3, lr_end: float = 1e-5,
                 input_noise: float = 0.05, eval_every: int | None = None,
                 grad_clip: float | None = None, scheme: str = "stf"):
        self.latent_dim = latent_dim
        self.interval = interval
        self.sequence_length = sequence_length
        self.batch_size = batch_size
        self.batches_per_epoch = batches_per_epoch
        self.epochs = epochs
        self.lr_start = lr_start
        self.lr_end = lr_end
        self.input_noise = input_noise
        self.eval_every = eval_every
        self.grad_clip = grad_clip
        self.scheme = scheme

    def _build(self, key):
        from ..models import PLRNN

        return PLRNN(self.dim_, max(self.latent_dim, self.dim_), key=key)


PLRNNBaseline.__doc__ = """PLRNN (identity observation) trained with STF or adaptive GTF.

    Args:
        latent_dim: M (default 20; raised to N if smaller).""" + _TRAIN_DOC


class ShallowPLRNNBaseline(_PLRNNAdapter):
    name = "shplrnn"
    _parameter_constraints = {**_TRAIN_CONSTRAINTS, "hidden_dim": _POSITIVE_INT, "clipped": [Boolean()]}

    def __init__(self, latent_dim: int = 3, hidden_dim: int = 50, clipped: bool = False, interval: int = 16,
                 sequence_length: int = 200, batch_size: int = 16, batches_per_epoch: int = 50, epochs: int = 300,
                 lr_start: float = 1e-3, lr_end: float = 1e-5, input_noise: float = 0.05,
                 eval_every: int | None = None, grad_clip: float | None = None, scheme: str = "stf"):
        self.latent_dim = latent_dim
        self.hidden_dim = hidden_dim
        self.clipped = clipped
        self.interval = interval
        self.sequence_length = sequence_length
        self.batch_size = batch_size
        self.batches_per_epoch = batches_per_epoch
        self.epochs = epochs
        self.lr_start = lr_start
        self.lr_end = lr_end
        self.input_noise = input_noise
        self.eval_every = eval_every
        self.grad_clip = grad_clip
        self.scheme = scheme

    def _build(self, key):
        from ..models import ShallowPLRNN

        return ShallowPLRNN(self.dim_, max(self.latent_dim, self.dim_), self.hidden_dim, self.clipped, key=key)


ShallowPLRNNBaseline.__doc__ = """shPLRNN (identity observation) trained with STF or adaptive GTF.

    Args:
        latent_dim: M (default 3; raised to N if smaller). hidden_dim: H (default 50). clipped: clipped variant
        (default False).""" + _TRAIN_DOC
