"""Training of dsrkit models: teacher-forcing schemes, the training loop and free-running generation.

    fit = train(model, data, scheme=STF(16), epochs=..., ...)   -> TrainResult
    Y = generate(fit.model, x0, n_steps)                          -> np.ndarray (n_steps, N)
    cfg = default_config("lorenz63")                              -> dict of published (trimmed) settings
"""

from .config import build_model, build_scheme, default_config
from .loop import TrainResult, init_members, penalty, train
from ..rollout import generate
from .schemes import GTF, STF, AdaptiveGTF

__all__ = ["train", "generate", "STF", "GTF", "AdaptiveGTF", "TrainResult", "default_config", "build_model", "build_scheme",
           "init_members", "penalty"]
