"""Taking a trained piecewise-linear RNN apart: symbolic dynamics, fixed points and cycles (SCYFI), summaries.

Public functions: `subregions`, `symbolic_graph`, `entropy_rate`, `frequent_words`, `infer_latent`,
`fixed_points`, `cycles`, `attractor_summary`, `analyze`. Algorithms work on a `PiecewiseAffine` (batched
callables code / affine / step), built from any model with `region_code` / `region_affine` or by hand with
`plrnn_pieces`, `alrnn_pieces`, `shplrnn_pieces`.

Modules: `pieces` (the batched affine description), `scyfi` (fixed points and cycles: exhaustive search and
SCYFI, Eisenmann et al. 2023), `symbolic` (symbolic sequences and graphs), `summary` (`attractor_summary`,
`analyze`). Figures of the results are in `dsrkit.report.interpretation`.
"""

from .scyfi import SCYFI_DEFAULTS, Cycle, CycleList, classify_eigenvalues, cycles, fixed_points
from .pieces import PiecewiseAffine, alrnn_pieces, as_piecewise_affine, plrnn_pieces, shplrnn_pieces
from .summary import analyze, attractor_summary, free_run_latent
from .symbolic import (
    SymbolicSequence,
    entropy_rate,
    frequent_words,
    infer_latent,
    markov_entropy_rate,
    subregions,
    symbolic_graph,
    symbolic_sequence,
    transition_counts,
    transition_graph,
    transition_matrix,
)

__all__ = [
    "SCYFI_DEFAULTS",
    "analyze",
    "attractor_summary",
    "free_run_latent",
    "Cycle",
    "CycleList",
    "PiecewiseAffine",
    "alrnn_pieces",
    "as_piecewise_affine",
    "classify_eigenvalues",
    "cycles",
    "fixed_points",
    "plrnn_pieces",
    "shplrnn_pieces",
    "SymbolicSequence",
    "entropy_rate",
    "frequent_words",
    "infer_latent",
    "markov_entropy_rate",
    "subregions",
    "symbolic_graph",
    "symbolic_sequence",
    "transition_counts",
    "transition_graph",
    "transition_matrix",
]
