#!/usr/bin/env bash
# Forward / forward+gradient benchmark of featvis against PyTorch eager and ONNX Runtime,
# all in one run with the same thread count. Builds nothing: build featvis_bench_forward
# first (see docs/PERFORMANCE.md) and install bench/node_modules (npm ci --ignore-scripts).
#
#   bench/run_forward_bench.sh [BUILD_DIR]        (default: build)
#
# Environment: THREADS (2), MIN_TIME seconds per repetition (1), REPETITIONS (3),
# ROUNDS of all three tools, interleaved, median taken over rounds (1),
# MODEL (../shared/models/mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx), PYTHON (/usr/bin/python3).
# Prints a markdown table; the raw JSON stays in BUILD_DIR/bench-run/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-build}"
[[ "$BUILD" = /* ]] || BUILD="$PWD/$BUILD"
THREADS="${THREADS:-2}"
MIN_TIME="${MIN_TIME:-1}"
REPETITIONS="${REPETITIONS:-3}"
ROUNDS="${ROUNDS:-1}"
MODEL="${MODEL:-$ROOT/../shared/models/mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx}"
PYTHON="${PYTHON:-/usr/bin/python3}"

die() { echo "run_forward_bench.sh: $*" >&2; exit 1; }
BENCH="$BUILD/featvis_bench_forward"
[[ -x "$BENCH" ]] || die "$BENCH not found; build it: cmake -S $ROOT -B $BUILD -G Ninja -DFEATVIS_BUILD_TESTS=OFF && ninja -C $BUILD featvis_bench_forward"
[[ -f "$MODEL" ]] || die "model '$MODEL' not found; set MODEL=PATH"
"$PYTHON" -c 'import torch, onnx' 2>/dev/null || die "$PYTHON lacks torch/onnx (Debian: apt-get install python3-torch python3-onnx)"
[[ -d "$ROOT/bench/node_modules/onnxruntime-node" ]] || die "onnxruntime-node missing; run: (cd $ROOT/bench && npm ci --ignore-scripts)"
command -v node >/dev/null || die "node not found (Debian: apt-get install nodejs npm)"

NPROC="$(nproc --all)"  # before OMP_NUM_THREADS, which nproc obeys
RUN="$BUILD/bench-run"
mkdir -p "$RUN"
# Same thread cap for every library (OpenMP in LibTorch, OpenBLAS); each tool also sets
# its intra-op thread count explicitly to THREADS.
export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS"

# ONNX Runtime checks the declared input shape; the file declares batch 1.
"$PYTHON" "$ROOT/bench/onnx_symbolic_batch.py" "$MODEL" "$RUN/model_nbatch.onnx"

# Same input through all three: their logits must agree before their speeds are compared.
"$PYTHON" "$ROOT/bench/torch_eager_onnx.py" --model "$MODEL" --threads "$THREADS" \
  --make-input "$RUN/parity_input.f32" --batch 2 --dump-logits "$RUN/eager_logits.f32"
"$BENCH" --model "$MODEL" --threads "$THREADS" --dump-logits "$RUN/parity_input.f32" "$RUN/featvis_logits.f32"
node "$ROOT/bench/ort_forward.js" --model "$RUN/model_nbatch.onnx" --threads "$THREADS" \
  --dump-logits "$RUN/parity_input.f32" "$RUN/ort_logits.f32"
"$PYTHON" "$ROOT/bench/torch_eager_onnx.py" --compare "$RUN/eager_logits.f32" \
  "$RUN/featvis_logits.f32" "$RUN/ort_logits.f32" > "$RUN/parity.json"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 1; r <= ROUNDS; ++r)); do
  echo "round $r/$ROUNDS: featvis" >&2
  "$BENCH" --model "$MODEL" --threads "$THREADS" \
    --benchmark_min_time="$MIN_TIME" --benchmark_repetitions="$REPETITIONS" \
    --benchmark_report_aggregates_only=true --benchmark_format=json > "$RUN/featvis.$r.json"
  echo "round $r/$ROUNDS: PyTorch eager" >&2
  "$PYTHON" "$ROOT/bench/torch_eager_onnx.py" --model "$MODEL" --threads "$THREADS" \
    --min-time "$MIN_TIME" --repetitions "$REPETITIONS" > "$RUN/eager.$r.json"
  echo "round $r/$ROUNDS: ONNX Runtime" >&2
  node "$ROOT/bench/ort_forward.js" --model "$RUN/model_nbatch.onnx" --threads "$THREADS" \
    --min-time "$MIN_TIME" --repetitions "$REPETITIONS" > "$RUN/ort.$r.json"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo "Machine: $NPROC CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
"$PYTHON" "$ROOT/bench/summarize_forward_bench.py" "$RUN" "$ROUNDS"
