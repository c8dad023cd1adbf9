#!/bin/sh
# featvis probe's feature pass against the featvis examples scan on the same photos:
# MobileNetV2, every card layer, the first N Fashion-MNIST test images written as PNGs with
# a labels.csv (so that both commands decode the same files).
#   THREADS=1 N=1000 bench/probe_bench.sh build
set -eu
BUILD=${1:-build}
THREADS=${THREADS:-1}
N=${N:-1000}
BATCH=${BATCH:-32}
DATA=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
WORK=$BUILD/bench-run/probe
mkdir -p "$WORK/photos"
/usr/bin/python3 - "$DATA" "$WORK/photos" "$N" <<'PY'
import gzip, sys, numpy as np
from PIL import Image
data, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
images = np.frombuffer(gzip.open(f"{data}/t10k-images-idx3-ubyte.gz").read()[16:], np.uint8).reshape(-1, 28, 28)
labels = np.frombuffer(gzip.open(f"{data}/t10k-labels-idx1-ubyte.gz").read()[8:], np.uint8)
with open(f"{out}/labels.csv", "w") as f:
    f.write("file,class_index\n")
    for i in range(n):
        Image.fromarray(images[i]).save(f"{out}/{i:05d}.png")
        f.write(f"{i:05d}.png,{labels[i]}\n")
PY
export OMP_NUM_THREADS=$THREADS
# probe: N training images and 1 test image through the 14 card layers (+ the regressions, not timed)
"$BUILD/featvis" probe mobilenet_v2 --train "$WORK/photos" --test "$WORK/photos" --test-count 1 --batch "$BATCH" \
    --max-iterations 20 --threads "$THREADS" --out "$WORK/probe-out" -q --json > "$WORK/probe.json"
"$BUILD/featvis" examples mobilenet_v2 --images "$WORK/photos" --batch "$BATCH" --no-crops --threads "$THREADS" \
    --out "$WORK/examples-out" -q --json > "$WORK/examples.json"
/usr/bin/python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
p = json.load(open(f"{w}/probe.json"))["models"][0]
e = json.load(open(f"{w}/examples.json"))
print(f"probe feature pass: {p['images_per_second']:.1f} images/s ({len(p['layers'])} card layers, {p['feature_seconds']:.1f} s)")
print(f"examples scan:      {e['images_per_second']:.1f} images/s ({len(e['layers'])} layers, {e['scan_seconds']:.1f} s)")
PY
