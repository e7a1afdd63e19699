"""survhte: heterogeneous treatment effects on censored survival outcomes.

Estimators follow one scikit-learn style contract (``fit(X, y, w)``, ``predict``, ``ate``);
see ``docs/architecture.md``. Public names are importable from the top level and load their
module on first use, so ``import survhte`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0.dev0"

_EXPORTS = {
    "KaplanMeier": "survhte.survival",
    "NelsonAalen": "survhte.survival",
    "rmst_difference": "survhte.survival",
    "SurvivalTLearner": "survhte.survival_model_learners",
    "CoxPH": "survhte.survival",
    "SurvivalSLearner": "survhte.survival_model_learners",
    "SurvivalXLearner": "survhte.survival_model_learners",
    "MatchingLearner": "survhte.survival_model_learners",
    "SurvivalMLearner": "survhte.survival_model_learners",
    "SurvivalRLearner": "survhte.survival_model_learners",
    "ShrunkEffectRegressor": "survhte.survival_model_learners",
    "SurvivalModel": "survhte.survival",
    "WeibullAFT": "survhte.survival",
    "KaplanMeierSurvival": "survhte.survival",
    "TransformedSurvivalModel": "survhte.survival",
    "SelectedSurvivalModel": "survhte.survival",
    "LifelinesSurvivalModel": "survhte.survival",
    "TLearner": "survhte.imputed_learners",
    "SLearner": "survhte.imputed_learners",
    "XLearner": "survhte.imputed_learners",
    "DRLearner": "survhte.imputed_learners",
    "RLearner": "survhte.imputed_learners",
    "MLearner": "survhte.imputed_learners",
    "CrossValidatedRegressor": "survhte.imputed_learners",
    "SplineRidge": "survhte.imputed_learners",
    "BinnedBoosting": "survhte.imputed_learners",
    "Margin": "survhte.imputation",
    "IPCWT": "survhte.imputation",
    "PseudoObservations": "survhte.imputation",
    "IPCWeights": "survhte.imputation",
    "CensoringKaplanMeier": "survhte.imputation",
    "AIPCW": "survhte.inference",
    "doubly_robust_scores": "survhte.heterogeneity",
    "get_scores": "survhte.heterogeneity",
    "EnsembleCATE": "survhte.ensemble",
    "best_linear_projection": "survhte.heterogeneity",
    "test_calibration": "survhte.heterogeneity",
    "rank_average_treatment_effect": "survhte.heterogeneity",
    "RankAverageTreatmentEffect": "survhte.heterogeneity",
    "cate_group_effects": "survhte.heterogeneity",
    "variable_importance": "survhte.heterogeneity",
    "cross_fitted_cate": "survhte.heterogeneity",
    "dr_loss": "survhte.metrics",
    "r_loss": "survhte.metrics",
    "cate_losses": "survhte.metrics",
    "make_dr_scorer": "survhte.metrics",
    "make_r_scorer": "survhte.metrics",
    "concordance_index_ipcw": "survhte.metrics",
    "brier_score": "survhte.metrics",
    "integrated_brier_score": "survhte.metrics",
    "RegressionForest": "survhte.forest",
    "CausalForest": "survhte.forest",
    "SurvivalForest": "survhte.forest",
    "CausalSurvivalForest": "survhte.forest",
    "MultiArmCausalForest": "survhte.forest",
    "MultiArmCausalSurvivalForest": "survhte.forest",
    "survhte_bench": "survhte.simulate",
    "SurvivalSimulation": "survhte.simulate",
    "benchmark_split": "survhte.simulate",
    "load_rossi": "survhte.datasets",
    "load_gbsg2": "survhte.datasets",
    "load_actg175": "survhte.datasets",
    "load_actg_synthetic": "survhte.datasets",
    "load_study": "survhte.study",
    "parse_study": "survhte.study",
    "run_study": "survhte.study",
    "read_results": "survhte.study",
    "write_report": "survhte.study",
    "preset_names": "survhte.study",
    "set_config": "survhte.config",
    "get_config": "survhte.config",
    "config_context": "survhte.config",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'survhte' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
