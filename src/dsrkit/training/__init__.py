"""Training of dsrkit models: teacher-forcing schemes, the training loop and free-running generation.

    fit = train(model, data, scheme=STF(16), epochs=..., ...)   -> TrainResult (member-stacked)
    fit.model, fit.best(), fit.member(i), fit.scores            -> the best member's model, MemberFit, ...
    fit = train(model, data, STF(interval=[8, 16]), lr=[(1e-3, 1e-5), (5e-3, 1e-5)])   -> a population of 2
    Y = generate(fit.model, x0, n_steps)                          -> np.ndarray (n_steps, N)
    cfg = default_config("lorenz63")                              -> dict of published (trimmed) settings
    cfg = config_from_options("alrnn", latent_dim=20, relu_units=2, scheme="stf", interval=16, epochs=200)
    model_names(), scheme_names(), model_class("alrnn"), ...     -> the registry of names (`training.names`)
    sg = suggest(dataset)                                         -> settings derived from the data's time scales
    result = search(train, validation, candidates, budget=600)    -> successive halving over a population
    candidates_for(sg), choose(result, val, interpretable)       -> the main job's population and its pick
"""

from ..rollout import generate
from .callbacks import Callback, ProgressBar, Selection, non_finite
from .config import (DEFAULT_MODELS, TrainConfig, build_model, build_scheme, config_from_options, default_config,
                     normalize_config)
from .loop import PUBLISHED_SELECTION, init_members, penalty, train
from .loss import ForcedMSE, batch_loss, reference_batch_loss
from .result import MemberFit, TrainResult
from .names import model_class, model_name, model_names, scheme_class, scheme_name, scheme_names
from .schemes import GTF, STF, AdaptiveGTF
from .search import Candidate, SearchResult, search
from .hierarchical import FeatureFit, HierarchicalFit, fit_features, train_hierarchical
from .suggest import DataEstimates, Suggestion, estimate, suggest

__all__ = ["train", "generate", "STF", "GTF", "AdaptiveGTF", "TrainConfig", "TrainResult", "MemberFit", "Selection",
           "PUBLISHED_SELECTION", "Callback", "ProgressBar", "non_finite", "ForcedMSE", "batch_loss",
           "reference_batch_loss", "default_config", "build_model", "build_scheme", "init_members", "penalty",
           "config_from_options", "normalize_config", "DEFAULT_MODELS", "model_names", "scheme_names", "model_name",
           "scheme_name", "model_class", "scheme_class", "Candidate", "SearchResult", "search", "DataEstimates",
           "Suggestion", "estimate", "suggest"]
