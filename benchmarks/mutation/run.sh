#!/usr/bin/env bash
# Mutation testing (Cosmic Ray) of checkpoint and member selection, divergence status, the `reconstruct` protocol
# and the neural baselines' trainer. Not part of `make test`; see benchmarks/mutation/README.md.
#
#   benchmarks/mutation/run.sh [--rev REV | --worktree] [--configs DIR] [--overlay PATH[:DEST] ...] [--out DIR]
#                              [--every K] [--resume | --rerun-survivors] [GROUP ...]
#   benchmarks/mutation/run.sh --seeded [--rev REV | --worktree] [--configs DIR] [--overlay PATH[:DEST] ...]
#
# GROUP names a configuration GROUP.toml in the configuration folder (--configs, default benchmarks/mutation: loop,
# pipeline and baselines, all by default; benchmarks/mutation/at-0a50bde holds those of the recorded measurement).
# The mutants are applied to a snapshot of src/, tests/ and pyproject.toml (of commit REV, default HEAD; or of the
# working tree with --worktree) under the output folder (--out, default ${TMPDIR:-/tmp}/dsrkit-mutation-<rev>),
# never to the checkout itself. --overlay PATH[:DEST] copies the working tree's file PATH over the snapshot's DEST
# (default PATH), e.g. a test file not yet committed.
# Per group: the group's tests must pass unmutated, then `cosmic-ray init`, function_filter.py (scope and
# operators), `cosmic-ray exec`; at the end summary.py prints killed / survived / score per group (also written to
# summary.md in the output folder).
# --every K runs a systematic 1-in-K sample of the selected mutants (see function_filter.py).
# --resume continues the pending mutants of existing sessions; --rerun-survivors runs the survivors of existing
# sessions again (e.g. after adding tests; the snapshot is refreshed, the mutated modules must be unchanged).
# --seeded applies each seeded/GROUP-*.patch of the configuration folder in turn to the snapshot, runs GROUP's
# tests and reports killed (a test failed; the first failing test is named) or SURVIVED (table in seeded.md).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
rev=HEAD worktree=0 out="" mode=new every=1 groups=() overlays=() configs=$here
while (($#)); do
  case $1 in
    --rev) rev=$2; shift 2 ;;
    --worktree) worktree=1; shift ;;
    --overlay) overlays+=("$2"); shift 2 ;;
    --configs) configs=$(cd "$2" && pwd); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --every) every=$2; shift 2 ;;
    --resume) mode=resume; shift ;;
    --rerun-survivors) mode=survivors; shift ;;
    --seeded) mode=seeded; shift ;;
    -*) echo "usage: $0 [--rev REV | --worktree] [--configs DIR] [--overlay PATH[:DEST] ...] [--out DIR] [--every K]" \
             "[--resume | --rerun-survivors | --seeded] [GROUP ...]" >&2
        exit 2 ;;
    *) groups+=("$1"); shift ;;
  esac
done
if ((${#groups[@]} == 0)); then
  for f in "$configs"/*.toml; do groups+=("$(basename "$f" .toml)"); done
fi
for g in "${groups[@]}"; do
  [[ -f $configs/$g.toml ]] || { echo "no configuration $configs/$g.toml" >&2; exit 2; }
done
if ((worktree)); then label=worktree; else label=$(git -C "$root" rev-parse --short "$rev"); fi
[[ $mode == seeded ]] && label=$label-seeded
out=${out:-${TMPDIR:-/tmp}/dsrkit-mutation-$label}
out=$(mkdir -p "$out" && cd "$out" && pwd)
snap=$out/tree

# --- snapshot (the checkout is only read)
rm -rf "$snap" && mkdir -p "$snap/mutation"
if ((worktree)); then
  (cd "$root" && git ls-files -co --exclude-standard -- src tests pyproject.toml | while read -r f; do
     [[ -e $f ]] && printf '%s\n' "$f"; done | tar -c -T - | tar -x -C "$snap")
else
  git -C "$root" archive "$rev" src tests pyproject.toml | tar -x -C "$snap"
fi
for f in ${overlays[@]+"${overlays[@]}"}; do
  src=${f%%:*} dest=${f#*:}
  mkdir -p "$snap/$(dirname "$dest")" && cp "$root/$src" "$snap/$dest"
done
cp "$here"/*.py "$configs"/*.toml "$snap/mutation/"
[[ -d $configs/seeded ]] && cp -r "$configs/seeded" "$snap/mutation/"

export PYTHONPATH=$snap/src PATH=$(dirname "$python"):$PATH PYTHONDONTWRITEBYTECODE=1
# compiled programs are reused across mutants (a mutant of jitted code gets its own cache key)
export JAX_COMPILATION_CACHE_DIR=$out/jax-cache DSRKIT_JAX_CACHE=$out/jax-cache
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0
cd "$snap"
python -c 'import sys, dsrkit; assert dsrkit.__file__.startswith(sys.argv[1]), dsrkit.__file__' "$snap/src"
echo "snapshot: $([[ $worktree == 1 ]] && echo "working tree of $root" || echo "$rev = $(git -C "$root" rev-parse "$rev")")${overlays[@]+ with ${overlays[*]} from the working tree} in $snap"

if [[ $mode == seeded ]]; then
  table=$out/seeded.md
  printf '| seeded bug | tests | result |\n|---|---|---|\n' >"$table"
  for patch in mutation/seeded/*.patch; do
    name=$(basename "$patch" .patch) g=${name%%-*}
    patch -p1 --quiet --forward <"$patch" || { echo "$name does not apply to this snapshot" >&2; exit 1; }
    start=$SECONDS
    set +e
    python mutation/run_tests.py "mutation/$g.toml" >"$out/$name.log" 2>&1
    rc=$?
    set -e
    patch -p1 --quiet -R <"$patch"
    case $rc in
      0) result="SURVIVED" ;;
      1) result="killed by $(grep -m1 -oE '^FAILED [^ ]+' "$out/$name.log" | cut -d' ' -f2)" ;;
      *) echo "$name: the test run failed with exit code $rc; see $out/$name.log" >&2; exit 1 ;;
    esac
    echo "$name: $result ($((SECONDS - start)) s)"
    printf '| %s | %s | %s |\n' "$name" "$g" "$result" >>"$table"
  done
  cat "$table"
  exit 0
fi

for g in "${groups[@]}"; do
  session=$out/$g.sqlite
  echo "== $g: the group's tests on the unmutated snapshot ($(python mutation/run_tests.py "mutation/$g.toml" --list | wc -l) tests)"
  start=$SECONDS
  if ! python mutation/run_tests.py "mutation/$g.toml" >"$out/$g.baseline.log" 2>&1; then
    echo "the unmutated tests fail; see $out/$g.baseline.log" >&2
    exit 1
  fi
  echo "   passed in $((SECONDS - start)) s"
  modules=$(python -c 'import sys, tomllib; m = tomllib.load(open(sys.argv[1], "rb"))["cosmic-ray"]["module-path"]
print(" ".join([m] if isinstance(m, str) else m))' "mutation/$g.toml")
  case $mode in
    new)
      cosmic-ray init "mutation/$g.toml" "$session"
      sha256sum $modules >"$out/$g.module.sha256"
      python mutation/function_filter.py "$session" "mutation/$g.toml" --every "$every" ;;
    *)  # a session's mutants are positions in the module as it was at `init`
      sha256sum --quiet -c "$out/$g.module.sha256" ||
        { echo "$modules differ from those $session was made from; start a new run" >&2; exit 1; } ;;&
    survivors)
      python - "$session" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'").rowcount
db.commit()
print(f"   {n} survivors to run again")
PY
      ;;
  esac
  start=$SECONDS
  cosmic-ray exec "mutation/$g.toml" "$session"
  echo "   mutants run in $((SECONDS - start)) s"
done

cd "$out"
python "$snap/mutation/summary.py" "${groups[@]/%/.sqlite}" | tee "$out/summary.md"
