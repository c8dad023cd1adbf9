#!/usr/bin/env bash
# Render-loop benchmark: featvis render::render (featvis_bench_render) against the same loop
# as Lucent runs it in PyTorch eager (bench/lucent_eager_render.py), same thread count,
# rounds interleaved (featvis, eager, featvis, eager, ...), median over rounds. Builds
# nothing: build featvis_bench_render first (see docs/PERFORMANCE.md).
#
#   bench/run_render_bench.sh [BUILD_DIR]        (default: build)
#
# Environment: THREADS, one or more thread counts ("1", "1 2"; default 1: the render loop is
# batch-1 work and on a 2-core machine 1 thread is faster, see docs/PERFORMANCE.md),
# ROUNDS (3), REPETITIONS per case and round (3), STEPS per batch-1 render (16),
# BATCH_STEPS per batch-32 render (2),
# MODEL (../shared/models/mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx), PYTHON (/usr/bin/python3).
# Prints markdown tables; the raw JSON stays in BUILD_DIR/render-run/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-build}"
[[ "$BUILD" = /* ]] || BUILD="$PWD/$BUILD"
THREADS="${THREADS:-1}"
ROUNDS="${ROUNDS:-3}"
REPETITIONS="${REPETITIONS:-3}"
STEPS="${STEPS:-16}"
BATCH_STEPS="${BATCH_STEPS:-2}"
MODEL="${MODEL:-$ROOT/../shared/models/mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx}"
PYTHON="${PYTHON:-/usr/bin/python3}"

die() { echo "run_render_bench.sh: $*" >&2; exit 1; }
BENCH="$BUILD/featvis_bench_render"
[[ -x "$BENCH" ]] || die "$BENCH not found; build it: cmake -S $ROOT -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release -DFEATVIS_BUILD_TESTS=OFF && ninja -C $BUILD featvis_bench_render"
[[ -f "$MODEL" ]] || die "model '$MODEL' not found; set MODEL=PATH"
"$PYTHON" -c 'import torch, onnx' 2>/dev/null || die "$PYTHON lacks torch/onnx (Debian: apt-get install python3-torch python3-onnx)"

NPROC="$(nproc --all)"
RUN="$BUILD/render-run"
mkdir -p "$RUN"
rm -f "$RUN"/featvis.t*.json "$RUN"/eager.t*.json

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "load before: $LOAD_BEFORE" >&2
START=$SECONDS
for ((r = 1; r <= ROUNDS; ++r)); do
  for t in $THREADS; do
    # Same thread cap for every library (OpenMP in LibTorch, OpenBLAS); each tool also
    # sets its intra-op thread count explicitly.
    export OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t"
    echo "round $r/$ROUNDS, $t thread(s): featvis (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    "$BENCH" --model "$MODEL" --threads "$t" --steps "$STEPS" --batch-steps "$BATCH_STEPS" \
      --benchmark_repetitions="$REPETITIONS" --benchmark_report_aggregates_only=true \
      --benchmark_format=json > "$RUN/featvis.t$t.$r.json"
    echo "round $r/$ROUNDS, $t thread(s): Lucent-style PyTorch eager (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    "$PYTHON" "$ROOT/bench/lucent_eager_render.py" --model "$MODEL" --card "$ROOT/cards/mobilenet_v2.card.json" \
      --threads "$t" --steps "$STEPS" --batch-steps "$BATCH_STEPS" --repetitions "$REPETITIONS" \
      > "$RUN/eager.t$t.$r.json"
  done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "load after: $LOAD_AFTER ($((SECONDS - START)) s)" >&2

echo "Machine: $NPROC CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "Load average (1, 5, 15 min): $LOAD_BEFORE before, $LOAD_AFTER after; $((SECONDS - START)) s"
echo "ROUNDS=$ROUNDS REPETITIONS=$REPETITIONS STEPS=$STEPS BATCH_STEPS=$BATCH_STEPS"
"$PYTHON" - "$RUN" "$ROUNDS" "$THREADS" <<'EOF'
import json, statistics, sys

run, rounds, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
med = statistics.median
layers = {"early": "early `expanded_conv_2/expand` (112x112)",
          "middle": "middle `expanded_conv_8/expand` (14x14)",
          "last": "last `Conv2d_18_1` (7x7)"}


def featvis(t, r):
    with open(f"{run}/featvis.t{t}.{r}.json") as f:
        data = json.load(f)
    out = {}
    for b in data["benchmarks"]:  # the median aggregate; the run itself at REPETITIONS=1
        if b.get("aggregate_name") == "median" or b.get("run_type") == "iteration":
            name = b["run_name"].split("/")[1]
            out[name] = (b["ms/step"], b["cpu_ms/step"])
    return out


def eager(t, r):
    with open(f"{run}/eager.t{t}.{r}.json") as f:
        data = json.load(f)
    return {c["name"].split("/")[1]: (c["ms_per_step"], c["cpu_ms_per_step"]) for c in data["cases"]}


for t in threads:
    fv = [featvis(t, r) for r in range(1, rounds + 1)]
    ea = [eager(t, r) for r in range(1, rounds + 1)]

    def m(runs, case, i):
        return med([x[case][i] for x in runs])

    def ratios(case, i):
        return ", ".join(f"{e[case][i] / f[case][i]:.2f}" for f, e in zip(fv, ea))

    print(f"\n**{t} thread(s)**, median of {rounds} round(s), batch 1, channel 7, ms per step "
          "(lower is better):\n")
    print("| layer | featvis ms/step | eager ms/step | ratio (eager / featvis) | per round "
          "| featvis CPU ms/step | eager CPU ms/step | CPU ratio |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for case in ("early", "middle", "last"):
        f, e = m(fv, case, 0), m(ea, case, 0)
        fc, ec = m(fv, case, 1), m(ea, case, 1)
        print(f"| {layers[case]} | {f:.1f} | {e:.1f} | {e / f:.2f} | {ratios(case, 0)} "
              f"| {fc:.1f} | {ec:.1f} | {ec / fc:.2f} |")
    print(f"\n**{t} thread(s)**, middle layer, 32 units: one batch of 32 (unit i in item i) against "
          "32 single renders (batch 1), units/s (higher is better):\n")
    print("| | batch-1 units/s | batch-32 units/s | batch-32 / singles | by CPU time |")
    print("|---|---:|---:|---:|---:|")
    rows = {}
    for name, runs in (("featvis", fv), ("Lucent-style eager", ea)):
        one, b32 = 1000.0 / m(runs, "middle", 0), 32000.0 / m(runs, "units32", 0)
        one_c, b32_c = 1000.0 / m(runs, "middle", 1), 32000.0 / m(runs, "units32", 1)
        rows[name] = (one, b32)
        print(f"| {name} | {one:.2f} | {b32:.2f} | {b32 / one:.2f} | {b32_c / one_c:.2f} |")
    print(f"| featvis / eager | {rows['featvis'][0] / rows['Lucent-style eager'][0]:.2f} "
          f"| {rows['featvis'][1] / rows['Lucent-style eager'][1]:.2f} | | |")
    print(f"\n**{t} thread(s)**, middle layer, 8 units: one batch of 8 against 8 single renders, units/s:\n")
    print("| | batch-1 units/s | batch-8 units/s | batch-8 / singles | by CPU time |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in (("featvis", fv), ("Lucent-style eager", ea)):
        one, b8 = 1000.0 / m(runs, "middle", 0), 8000.0 / m(runs, "units8", 0)
        one_c, b8_c = 1000.0 / m(runs, "middle", 1), 8000.0 / m(runs, "units8", 1)
        print(f"| {name} | {one:.2f} | {b8:.2f} | {b8 / one:.2f} | {b8_c / one_c:.2f} |")
EOF
