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
        import jax

        from ..data import Dataset
        from ..training import TrainConfig, train

        model = self._build(jax.random.key(seed))
        scheme = scheme_class(self.scheme)(**({"interval": self.interval} if self.scheme == "stf" else {}))
        config = TrainConfig(epochs=self.epochs, seq_len=self.sequence_length, batch_size=self.batch_size,
                             batches_per_epoch=self.batches_per_epoch, lr=(self.lr_start, self.lr_end),
                             input_noise=self.input_noise, seed=seed, eval_every=self.eval_every,
                             grad_clip=self.grad_clip)
        fit = train(model, Dataset(trajectories, dt=dt), scheme, config, progress=False).best()
        self.model_ = fit.model
        self.best_epoch_ = int(fit.best_epoch)
        if fit.status != Status.OK:
            self.reason_ = f"training reported {str(fit.status)!r} (diverged_epoch={fit.diverged_epoch})"

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
