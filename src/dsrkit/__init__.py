"""dsrkit: dynamical systems reconstruction.

Simulate ground-truth systems, train generative models (piecewise-linear RNNs and baselines) whose free-running
behaviour reproduces measured time series, judge them with the field's metrics, and analyse them.

Importing dsrkit changes no process-wide setting: JAX's `jax_enable_x64` stays as the caller left it (dsrkit's
functions that compute in float64, such as integration, Lyapunov exponents and the analysis, switch 64-bit types on
for their own duration, see `dsrkit._precision`; models are float32 unless asked otherwise), and no matplotlib
backend is chosen (figures are `matplotlib.figure.Figure` objects, outside pyplot).
"""

from . import analysis, baselines, evaluation, metrics, models, rollout, systems
from ._version import __version__
from .data import Dataset
from .evaluation import evaluate
from .hierarchical import fit_features, reconstruct_family
from .io import load, save
from .reconstruction import Reconstruction, reconstruct
from .rollout import generate
from .training import STF, GTF, AdaptiveGTF, TrainResult, train

__all__ = ["Dataset", "Reconstruction", "reconstruct", "reconstruct_family", "fit_features", "STF", "GTF", "AdaptiveGTF", "TrainResult", "evaluate", "generate", "load", "save", "train",
           "analysis", "baselines", "evaluation", "metrics", "models", "rollout", "systems", "__version__"]
