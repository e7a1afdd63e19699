#!/usr/bin/env bash
# Full SurvHTE-Bench synthetic preset: 40 designs x 10 repeats x 3 estimands, 5,000 / 2,500 /
# 2,500 rows, on a local Dask cluster. Needs SURVHTE_DATA (synthetic/idx_split.csv).
# The methods are those that fit in about 25 minutes on 2 cores (S-, T-learner and matching,
# ~0.2-0.4 s per fit); the X-, R- and M-learners take ~2.5, ~10 and ~60 s per fit at n = 5,000
# (add them with --methods on a bigger machine: finished tasks are never recomputed).
# Usage: bash simulations/run_survhte_bench.sh [OUT] [extra 'study run' options]
set -euo pipefail
out=${1:-survhte_study/survhte-bench}
shift || true
methods=${METHODS:-survival-s-learner,survival-t-learner,matching}
start=$(date +%s)
survhte study run preset:survhte-bench --methods "$methods" --out "$out" "$@"
echo "wall time: $(( $(date +%s) - start )) s"
survhte study report "$out"
