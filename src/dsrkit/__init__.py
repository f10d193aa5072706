"""dsrkit: dynamical systems reconstruction.

Simulate ground-truth systems, train generative models (piecewise-linear RNNs and baselines) whose free-running
behaviour reproduces measured time series, judge them with the field's metrics, and analyse them.

JAX runs with 64-bit types enabled: integration, metrics and tests use float64, while models and training ask for
float32 explicitly.
"""

import jax

jax.config.update("jax_enable_x64", True)

from . import analysis, baselines, evaluation, metrics, models, rollout, systems  # noqa: E402
from ._version import __version__  # noqa: E402
from .data import Dataset  # noqa: E402
from .evaluation import evaluate  # noqa: E402
from .io import load, save  # noqa: E402
from .rollout import generate  # noqa: E402
from .training import STF, GTF, AdaptiveGTF, TrainResult, train  # noqa: E402

__all__ = ["Dataset", "STF", "GTF", "AdaptiveGTF", "TrainResult", "evaluate", "generate", "load", "save", "train",
           "analysis", "baselines", "evaluation", "metrics", "models", "rollout", "systems", "__version__"]
