"""The papers behind the methods dsrkit implements: one table (method name -> citation), read by the reports and
kept consistent with CITATION.cff (its "references").

    REFERENCES[name]                      the citation string of a method
    methods_used(config, metrics, ...)    the method names a run used (model, scheme, metrics, analysis, references)
    citations(names)                      [(name, citation)] in the order given, each once
"""

from __future__ import annotations

#: method name (the vocabulary of `dsrkit.training.names`, the metrics and the reference baselines) -> citation
REFERENCES: dict[str, str] = {
    "plrnn": ("Koppe, G., Toutounji, H., Kirsch, P., Lis, S., Durstewitz, D. (2019). Identifying nonlinear "
              "dynamical systems via generative recurrent neural networks with applications to fMRI. PLoS "
              "Computational Biology 15(8): e1007263."),
    "plrnn_model": ("Durstewitz, D. (2017). A state space approach for piecewise-linear recurrent neural networks "
                    "for identifying computational dynamics from neural measurements. PLoS Computational Biology "
                    "13(6): e1005542."),
    "dendplrnn": ("Brenner, M., Hess, F., Mikhaeil, J. M., Bereska, L., Monfared, Z., Kuo, P.-C., Durstewitz, D. "
                  "(2022). Tractable dendritic RNNs for reconstructing nonlinear dynamical systems. Proceedings of "
                  "the 39th International Conference on Machine Learning (ICML), PMLR 162: 2292-2320."),
    "shplrnn": ("Hess, F., Monfared, Z., Brenner, M., Durstewitz, D. (2023). Generalized teacher forcing for "
                "learning chaotic dynamics. Proceedings of the 40th International Conference on Machine Learning "
                "(ICML), PMLR 202: 13017-13049."),
    "alrnn": ("Brenner, M., Hemmer, C. J., Monfared, Z., Durstewitz, D. (2024). Almost-linear RNNs yield highly "
              "interpretable symbolic codes in dynamical systems reconstruction. Advances in Neural Information "
              "Processing Systems 37 (NeurIPS)."),
    "stf": ("Mikhaeil, J., Monfared, Z., Durstewitz, D. (2022). On the difficulty of learning chaotic dynamics "
            "with RNNs. Advances in Neural Information Processing Systems 35 (NeurIPS)."),
    "gtf": ("Hess, F., Monfared, Z., Brenner, M., Durstewitz, D. (2023). Generalized teacher forcing for learning "
            "chaotic dynamics. ICML, PMLR 202: 13017-13049."),
    "state_space_divergence": ("Koppe et al. (2019), PLoS Computational Biology 15(8): e1007263 (D_stsp, binned); "
                               "Mikhaeil, Monfared, Durstewitz (2022), NeurIPS 35 (D_stsp with Gaussian mixtures)."),
    "power_spectrum_distance": ("Mikhaeil, Monfared, Durstewitz (2022), NeurIPS 35; Hess et al. (2023), ICML "
                                "(D_H, Hellinger distance of smoothed power spectra)."),
    "lyapunov_qr": ("Benettin, G., Galgani, L., Giorgilli, A., Strelcyn, J.-M. (1980). Lyapunov characteristic "
                    "exponents for smooth dynamical systems and for Hamiltonian systems; a method for computing all "
                    "of them. Meccanica 15: 9-20 and 21-30."),
    "rosenstein": ("Rosenstein, M. T., Collins, J. J., De Luca, C. J. (1993). A practical method for calculating "
                   "largest Lyapunov exponents from small data sets. Physica D 65: 117-134."),
    "kaplan_yorke": ("Kaplan, J. L., Yorke, J. A. (1979). Chaotic behavior of multidimensional difference "
                     "equations. Lecture Notes in Mathematics 730: 204-227."),
    "scyfi": ("Eisenmann, L., Monfared, Z., Göring, N., Durstewitz, D. (2023). Bifurcations and loss jumps in RNN "
              "training. Advances in Neural Information Processing Systems 36 (NeurIPS)."),
    "successive_halving": ("Jamieson, K., Talwalkar, A. (2016). Non-stochastic best arm identification and "
                           "hyperparameter optimization. AISTATS, PMLR 51: 240-248."),
    "esn": ("Jaeger, H. (2001). The \"echo state\" approach to analysing and training recurrent neural networks. "
            "GMD Report 148, German National Research Center for Information Technology."),
    "nvar": ("Gauthier, D. J., Bollt, E., Griffith, A., Barbosa, W. A. S. (2021). Next generation reservoir "
             "computing. Nature Communications 12: 5564."),
    "sindy": ("Brunton, S. L., Proctor, J. L., Kutz, J. N. (2016). Discovering governing equations from data by "
              "sparse identification of nonlinear dynamical systems. PNAS 113(15): 3932-3937."),
}

#: what each method name stands for in the report
LABELS: dict[str, str] = {
    "plrnn": "PLRNN (model, and D_stsp)", "plrnn_model": "PLRNN (model)", "dendplrnn": "dendPLRNN (model)",
    "shplrnn": "shPLRNN (model)", "alrnn": "AL-RNN (model)", "stf": "sparse teacher forcing (training)",
    "gtf": "generalized teacher forcing, fixed or adaptive α (training)",
    "state_space_divergence": "D_stsp (metric)", "power_spectrum_distance": "D_H (metric)",
    "lyapunov_qr": "Lyapunov exponents of the model, QR method", "rosenstein": "λ_max from data",
    "kaplan_yorke": "Kaplan-Yorke dimension", "scyfi": "fixed points and cycles (SCYFI)",
    "successive_halving": "population search (successive halving)", "esn": "echo state network (reference)",
    "nvar": "NG-RC (reference)", "sindy": "SINDy (reference)",
}

_MODEL_PAPERS = {"plrnn": ("plrnn_model", "plrnn"), "alrnn": ("alrnn",), "shplrnn": ("shplrnn",),
                 "dendplrnn": ("dendplrnn",)}
_SCHEME_PAPERS = {"stf": ("stf",), "gtf": ("gtf",), "adaptive_gtf": ("gtf",)}


def methods_used(config: dict, metrics: dict | None = None, analysis: dict | None = None,
                 extra: dict | None = None) -> list[str]:
    """Method names (keys of REFERENCES) of what a run used: its model and scheme (`config`, in the vocabulary of
    `dsrkit.training.names`), the metrics it reports, the analysis (Lyapunov exponents, fixed points) and, for
    the main job (`extra`), the data-derived λ_max, the search and the reference baselines."""
    names: list[str] = []
    names += _MODEL_PAPERS.get(str(config.get("model", "")), ())
    names += _SCHEME_PAPERS.get(str(config.get("scheme", "")), ())
    metrics = metrics or {}
    names += [k for k in ("state_space_divergence", "power_spectrum_distance") if k in metrics]
    analysis = analysis or {}
    if analysis.get("lyapunov") or metrics.get("lyapunov_max") is not None:
        names.append("lyapunov_qr")
    if (analysis.get("lyapunov") or {}).get("kaplan_yorke_dimension") is not None:
        names.append("kaplan_yorke")
    if "fixed_points" in analysis:
        names.append("scyfi")
    if extra:
        names += ["rosenstein", "successive_halving"]
        names += [n for n in (extra.get("references") or {}) if n in REFERENCES]
    return list(dict.fromkeys(names))


def citations(names) -> list[tuple[str, str]]:
    """[(label, citation)] for method names (unknown names raise a KeyError naming the known ones)."""
    out = []
    for n in dict.fromkeys(names):
        if n not in REFERENCES:
            raise KeyError(f"no citation for {n!r}; known: {sorted(REFERENCES)}")
        out.append((LABELS.get(n, n), REFERENCES[n]))
    return out
