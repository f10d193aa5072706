"""Shared pieces of the training tests: a tiny AL-RNN on a 2-D sine wave, parameter comparison, and a scripted
stand-in for the free-run evaluation (so that the best checkpoint is known in advance)."""

import equinox as eqx
import jax
import numpy as np

from dsrkit.models import ALRNN
from dsrkit.training import STF

_T = np.arange(600) * 0.1
SINE = np.stack([np.sin(_T), np.cos(_T)], axis=1)
TINY = dict(scheme=STF(4), seq_len=20, batch_size=4, batches_per_epoch=5, eval_steps=300, progress=False)


def tiny_model(key=0, latent=4):
    return ALRNN(2, latent, 1, key=jax.random.key(key))


def leaves(model):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))]


def same_params(a, b, tol=1e-6):
    return all(np.allclose(x, y, rtol=tol, atol=tol) for x, y in zip(leaves(a), leaves(b), strict=True))


class ScriptedEvaluation:
    """Stands in for `loop._evaluate`: records every model `train` evaluates (in call order: epoch-major,
    member-minor) and returns the scripted D_stsp (D_H = D_stsp / 2)."""

    def __init__(self, scores):
        self.scores, self.models = list(scores), []

    def __call__(self, model, true, n_eval):
        self.models.append(model)
        d = self.scores[len(self.models) - 1]
        return d, d / 2
