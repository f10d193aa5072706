#!/usr/bin/env bash
# `make demo` (dsr reconstruct lorenz63 on defaults) at several commits, one after the other, in throw-away
# worktrees sharing this checkout's virtual environment; prints one row of test metrics per commit.
#
#   benchmarks/demo_across_commits.sh 224b5cc 14e082f HEAD
#
# Metrics come from each run's metrics.json (the test series of the evaluation protocol) and the job's wall time
# from the summary `dsr reconstruct` prints. The environment's editable install is pointed at each worktree in
# turn and back at this checkout at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="$root/.venv/bin/python"
trap '"$py" -m pip install -q -e "$root" >/dev/null 2>&1' EXIT
printf "%-10s %8s %8s %9s %6s %8s %s\n" commit D_stsp D_H "PE(20)" VPT lam_max "job_s"
for rev in "$@"; do
  wt="$(mktemp -d)/tree"
  git -C "$root" worktree add -q --detach "$wt" "$rev"
  "$py" -m pip install -q -e "$wt" >/dev/null 2>&1
  (cd "$wt" && "$root/.venv/bin/dsr" reconstruct lorenz63 --out "$wt/runs/demo" > "$wt/demo.log" 2>&1)
  secs="$(grep -o 'wall time (s).*' "$wt/demo.log" | grep -oE '[0-9]+(\.[0-9]+)?' | tail -1)"
  "$py" - "$wt/runs/demo/metrics.json" "$rev" "$secs" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
f = lambda k: m.get(k) if m.get(k) is not None else float("nan")
print(f"{sys.argv[2]:<10} {f('state_space_divergence'):8.4g} {f('power_spectrum_distance'):8.4g} "
      f"{f('prediction_error'):9.4g} {f('valid_prediction_time'):6.3g} {f('lyapunov_max'):8.4g} {sys.argv[3]}")
PY
  git -C "$root" worktree remove --force "$wt"
done
