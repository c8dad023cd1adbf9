#!/usr/bin/env bash
# The render step's fixed cost (issue 10): everything but the network, CPU ms/step at 224,
# batch 1, of one or more builds, runs interleaved (A, B, A, B, ...), median over rounds.
# Cases: objective l2 (the image penalty; transforms forward only) and `input` (mean of the
# network's input: transforms and the card's scaling forward and backward), each with
# --transforms none and standard (featvis_bench_render_profile --fixed). Builds nothing.
#
#   bench/fixed_cost_bench.sh BUILD_DIR [BUILD_DIR ...]
#
# Environment: ROUNDS (5), REPEAT renders per case and round (5), STEPS per render (64),
# THREADS (1). Prints a markdown table.
set -euo pipefail
ROUNDS="${ROUNDS:-5}"
REPEAT="${REPEAT:-5}"
STEPS="${STEPS:-64}"
THREADS="${THREADS:-1}"
[[ $# -ge 1 ]] || { echo "usage: bench/fixed_cost_bench.sh BUILD_DIR [BUILD_DIR ...]" >&2; exit 2; }
for b in "$@"; do
  [[ -x "$b/featvis_bench_render_profile" ]] || { echo "fixed_cost_bench.sh: no $b/featvis_bench_render_profile" >&2; exit 1; }
done
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" FEATVIS_BENCH_THREADS="$THREADS"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 1; r <= ROUNDS; ++r)); do
  for objective in l2 input; do
    for transforms in none standard; do
      for ((i = 1; i <= $#; ++i)); do
        b="${!i}"
        "$b/featvis_bench_render_profile" --fixed "$objective" --transforms "$transforms" --steps "$STEPS" \
          --repeat "$REPEAT" --no-profile | sed -n 's/.*: \([0-9.]*\) ms\/step CPU.*/\1/p' \
          >> "$OUT/$i.$objective.$transforms"
      done
    done
  done
  echo "round $r/$ROUNDS done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
median() { sort -g "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
printf "| objective, transforms |"
for b in "$@"; do printf " %s CPU ms/step |" "$(basename "$b")"; done
printf "\n|---|"
for b in "$@"; do printf -- "---:|"; done
printf "\n"
for objective in l2 input; do
  for transforms in none standard; do
    printf "| %s, %s |" "$objective" "$transforms"
    for ((i = 1; i <= $#; ++i)); do printf " %.2f |" "$(median "$OUT/$i.$objective.$transforms")"; done
    printf "\n"
  done
done
