#!/usr/bin/env bash
# Issue 10's GPU measurements in one run, for the few minutes a lent GPU machine gives:
#   1. image-steps/s of MobileNetV2's middle layer at 224 for batches of 1, 16, 64 and 256
#      units (one unit per image, `featvis render ... --batch B`);
#   2. a real Microscope build of 2 layers x 64 units at default settings (every render lens,
#      512 steps, 224), timed;
#   3. the whole-model estimate (`microscope build --units all --dry-run`) on the same device.
# Prints a markdown summary and writes it, with every render.json and dry run, under OUT.
#
#   bench/gpu_render_bench.sh BUILD_DIR OUT          (BUILD_DIR holds featvis; OUT is made)
#
# On a lent machine after the CUDA build (scripts/cuda_check.sh, which also checks CPU and
# CUDA agree), with the model and photos copied into the repository by scripts/gpu_prepare.sh:
#   bash scripts/cuda_check.sh .device/debs .device/models .device/images $OUT/check &&
#     FEATVIS_MODEL_PATH=.device/models bash bench/gpu_render_bench.sh build-cuda $OUT/bench
#
# Environment: DEVICE (cuda), BATCHES ("1 16 64 256"), STEPS (64, per batch render),
# UNITS (64 per Microscope layer), BUILD_STEPS (512), BUILD_TIMEOUT (300 s: a build cut there
# is reported with the units it finished), THREADS (host threads, 0 = all).
# On a CPU (DEVICE=cpu BATCHES="1 4" STEPS=4 UNITS=2 BUILD_STEPS=8) it checks itself.
set -euo pipefail

BUILD="${1:?usage: gpu_render_bench.sh BUILD_DIR OUT}"
OUT="${2:?usage: gpu_render_bench.sh BUILD_DIR OUT}"
DEVICE="${DEVICE:-cuda}"
BATCHES="${BATCHES:-1 16 64 256}"
STEPS="${STEPS:-64}"
UNITS="${UNITS:-64}"
BUILD_STEPS="${BUILD_STEPS:-512}"
BUILD_TIMEOUT="${BUILD_TIMEOUT:-300}"
THREADS="${THREADS:-0}"
FEATVIS="$BUILD/featvis"
MIDDLE=MobileNetV2/expanded_conv_8/expand
LAYERS=(MobileNetV2/expanded_conv_8/expand MobileNetV2/expanded_conv_15/expand)
[[ -x "$FEATVIS" ]] || { echo "gpu_render_bench.sh: $FEATVIS not found" >&2; exit 1; }
mkdir -p "$OUT"
summary="$OUT/summary.md"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }

say "# featvis on $DEVICE: $(date -u +%FT%TZ), $(nproc) host CPUs"
if [[ "$DEVICE" == cuda* ]] && command -v nvidia-smi >/dev/null; then
  say "GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)"
fi
say ""
say "## Render throughput, middle layer \`$MIDDLE\`, 224, $STEPS steps"
say ""
say "| batch | ms a step | image-steps/s |"
say "|---:|---:|---:|"
for b in $BATCHES; do
  # A warm-up render of 2 steps first: the first call compiles kernels and fills caches.
  "$FEATVIS" render mobilenet_v2 "$MIDDLE:0-$((b - 1))" --batch "$b" --steps 2 --size 224 --seed 0 \
    --device "$DEVICE" --threads "$THREADS" --quiet --out "$OUT/warm$b" > /dev/null
  "$FEATVIS" render mobilenet_v2 "$MIDDLE:0-$((b - 1))" --batch "$b" --steps "$STEPS" --size 224 --seed 0 \
    --device "$DEVICE" --threads "$THREADS" --quiet --out "$OUT/batch$b" > /dev/null
  rm -rf "$OUT/warm$b"
  ms=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["timing"]["ms_per_step"])' "$OUT/batch$b/render.json")
  say "| $b | $(python3 -c "print(f'{$ms:.2f}')") | $(python3 -c "print(f'{$b * 1000 / $ms:.0f}')") |"
done

say ""
say "## A Microscope build: ${#LAYERS[@]} layers x $UNITS units, every render lens, $BUILD_STEPS steps, 224"
start=$(date +%s.%N)
rc=0
timeout "$BUILD_TIMEOUT" "$FEATVIS" microscope build mobilenet_v2 --layers "${LAYERS[@]}" --units "$UNITS" \
  --steps "$BUILD_STEPS" --device "$DEVICE" --threads "$THREADS" --quiet --out "$OUT/site" > "$OUT/build.log" 2>&1 || rc=$?
seconds=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
done_units=$(find "$OUT/site" -name unit.json 2>/dev/null | wc -l)
say ""
say "- exit status $rc ($([[ $rc == 124 ]] && echo "stopped at ${BUILD_TIMEOUT} s" || echo finished)), $seconds s, $done_units units written"
tail -3 "$OUT/build.log" | sed 's/^/  > /' | tee -a "$summary"
rm -rf "$OUT/site"  # pictures stay out of what comes back; the log and the timing stay

say ""
say "## The whole model's estimate (\`--units all --dry-run\`, the same lenses)"
"$FEATVIS" microscope build mobilenet_v2 --units all --dry-run --device "$DEVICE" --threads "$THREADS" --json \
  > "$OUT/dry_run.json"
python3 - "$OUT/dry_run.json" <<'PY' | tee -a "$summary"
import json, sys
d = json.load(open(sys.argv[1]))
print(f"- {d['units']} units in {d['layers']} layers, {d['image_steps']:.3g} image-steps x "
      f"{d['ms_per_image_step']:.3f} ms = {d['estimated_seconds'] / 3600:.2f} h")
PY
echo "summary: $summary" >&2
