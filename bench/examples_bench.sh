#!/usr/bin/env bash
# Dataset-examples throughput: `featvis examples` recording every Conv output of
# MobileNetV2 over a folder of photos, against ONNX Runtime's plain forward pass over the
# same photos (preprocessed once beforehand) at the same batch size and thread count,
# in one run. Peak memory of both from /usr/bin/time -v. Builds nothing.
#
#   bench/examples_bench.sh [BUILD_DIR]        (default: build)
#
# Environment: THREADS (2), BATCH (16), TOP (3: 3 crops per unit of ~17k units), IMAGES (../shared/images/imagenet-samples),
# EXTRA (more `featvis examples` flags, e.g. --no-crops or --crop-size 64), LAYERS_MAX (the first N conv layers only),
# MODEL (../shared/models/mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx), PYTHON (/usr/bin/python3),
# OUT (the examples folder, $BUILD/bench-examples/out; deleted first).
# Unless EXTRA has --no-crops, featvis runs once more with --no-crops (into OUT.bare), and
# the two process wall times are compared: what the crop stage adds to a whole run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-build}"
[[ "$BUILD" = /* ]] || BUILD="$PWD/$BUILD"
THREADS="${THREADS:-2}"
BATCH="${BATCH:-16}"
TOP="${TOP:-3}"
IMAGES="${IMAGES:-$ROOT/../shared/images/imagenet-samples}"
MODEL="${MODEL:-$ROOT/../shared/models/mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx}"
PYTHON="${PYTHON:-/usr/bin/python3}"

die() { echo "examples_bench.sh: $*" >&2; exit 1; }
FEATVIS="$BUILD/featvis"
[[ -x "$FEATVIS" ]] || die "$FEATVIS not found; build it: ninja -C $BUILD featvis"
[[ -d "$IMAGES" ]] || die "image folder '$IMAGES' not found; set IMAGES=DIR"
[[ -f "$MODEL" ]] || die "model '$MODEL' not found; set MODEL=PATH"
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (Debian: apt-get install time)"
[[ -d "$ROOT/bench/node_modules/onnxruntime-node" ]] || die "onnxruntime-node missing; run: (cd $ROOT/bench && npm ci --ignore-scripts)"

RUN="$BUILD/bench-examples"
OUT="${OUT:-$RUN/out}"
mkdir -p "$RUN"
export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS"

# Every Conv output of the model, as featvis lists its layers.
LAYERS="$("$FEATVIS" layers mobilenet_v2 --json | "$PYTHON" -c '
import json, sys
print(",".join(l["name"] for l in json.load(sys.stdin)["layers"] if l["op"] == "Conv" and len(l["shape"]) == 4))')"
if [[ -n "${LAYERS_MAX:-}" ]]; then LAYERS="$(tr ',' '\n' <<< "$LAYERS" | head -n "$LAYERS_MAX" | paste -sd,)"; fi
echo "recording $(tr ',' '\n' <<< "$LAYERS" | wc -l) conv layers" >&2

"$PYTHON" "$ROOT/bench/onnx_symbolic_batch.py" "$MODEL" "$RUN/model_nbatch.onnx"
"$PYTHON" "$ROOT/bench/preprocess_images.py" "$IMAGES" "$RUN/images.f32"

# The previous run's crops, deleted and flushed before the clock starts. On this VM's disk
# (ext4 without a journal) creating files right after deleting many scans past the freed
# inodes (`recently_deleted` in perf): the same 27,000 small files took 0.24-10 s to write
# depending on that state. OUT=/dev/shm/... measures featvis without the disk.
rm -rf "$OUT"
sync
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
/usr/bin/time -v -o "$RUN/featvis.time" "$FEATVIS" examples mobilenet_v2 --images "$IMAGES" --layers "$LAYERS" \
  --top "$TOP" --batch "$BATCH" --threads "$THREADS" --quiet --json ${EXTRA:-} --out "$OUT" > "$RUN/featvis.json"
/usr/bin/time -v -o "$RUN/ort.time" node "$ROOT/bench/ort_forward.js" --model "$RUN/model_nbatch.onnx" \
  --input-file "$RUN/images.f32" --batch "$BATCH" --threads "$THREADS" > "$RUN/ort.json"
# The same command without crops, as a whole process too: what the crops add to a run,
# startup (libraries, model) on both sides.
rm -f "$RUN/bare.time"
if [[ " ${EXTRA:-} " != *" --no-crops "* ]]; then
  rm -rf "$OUT.bare"
  /usr/bin/time -v -o "$RUN/bare.time" "$FEATVIS" examples mobilenet_v2 --images "$IMAGES" --layers "$LAYERS" \
    --top "$TOP" --batch "$BATCH" --threads "$THREADS" --quiet --json ${EXTRA:-} --no-crops --out "$OUT.bare" > "$RUN/bare.json"
  rm -rf "$OUT.bare"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

"$PYTHON" - "$RUN" <<'PY'
import json, re, sys
run = sys.argv[1]
def time_v(path):
    text = open(path).read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)", text).group(1).split(":")
    return rss / 1024, sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
f = json.load(open(f"{run}/featvis.json")); o = json.load(open(f"{run}/ort.json"))
f_rss, f_wall = time_v(f"{run}/featvis.time"); o_rss, o_wall = time_v(f"{run}/ort.time")
print(f"photos {f['images']}, batch {f['batch']}, threads {f['threads']}, {len(f['layers'])} conv layers, "
      f"{sum(l['units'] for l in f['layers'])} units, top {f['top_k']}")
print("| | images/s | peak RSS MiB | process wall s |")
print("|---|---:|---:|---:|")
print(f"| featvis examples (scan: decode + forward + top-k) | {f['images_per_second']:.1f} | {f_rss:.0f} | {f_wall:.1f} |")
print(f"| ONNX Runtime forward only (pre-decoded input) | {o['images_per_s']:.1f} | {o_rss:.0f} | {o_wall:.1f} |")
print(f"ratio featvis/ORT images/s: {f['images_per_second'] / o['images_per_s']:.2f}")
print(f"featvis process wall / scan alone: {f_wall:.1f} / {f['scan_seconds']:.1f} s = {f_wall / f['scan_seconds']:.2f}")
import os
if os.path.exists(f"{run}/bare.time"):
    b_rss, b_wall = time_v(f"{run}/bare.time")
    print(f"featvis process wall with crops / the same with --no-crops: {f_wall:.2f} / {b_wall:.2f} s = {f_wall / b_wall:.2f}")
c = f.get("crops")
if c:
    print(f"crops: {c['entries']} entries, {c['files']} files, {c['photos']} photos ({c['decoded']} decoded again), "
          f"{c['seconds']:.1f} s wall; summed over threads: decode {c['decode_seconds']:.1f}, resize {c['resize_seconds']:.1f}, "
          f"encode {c['encode_seconds']:.1f}, write {c['write_seconds']:.1f} s; {c['bytes'] / 2**20:.1f} MiB")
PY
