#!/usr/bin/env bash
# Renders the feature-visualization gallery in docs/gallery/ (512 steps at 224 on the
# default MobileNetV2): channels of early, middle and late layers, DeepDream of a layer on
# a real photo, logit vs probability of one class, and the naive recipe vs the default.
# Each picture is kept with its render.json record (objective, settings, values, timing).
#
#   bash scripts/make_gallery.sh [BUILD_DIR]     (default: build; needs ../shared)
#
# Environment: THREADS (1: the batch-1 render loop is fastest on 1 thread on 2 cores),
# ONLY (space-separated names: render just those). PNGs are reduced to a 256-colour palette
# to keep the repository small (needs /usr/bin/python3 with PIL: python3-pil).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
THREADS="${THREADS:-1}"
OUT=docs/gallery
WORK="$BUILD/gallery-work"
PHOTO=../shared/images/imagenet-samples/n02123045_tabby.JPEG
FEATVIS="$BUILD/featvis"
[[ -x "$FEATVIS" ]] || { echo "make_gallery.sh: $FEATVIS not found; build first (scripts/build.sh)" >&2; exit 1; }
[[ -f "$PHOTO" ]] || { echo "make_gallery.sh: sample photo $PHOTO not found (../shared missing?)" >&2; exit 1; }
mkdir -p "$OUT" "$WORK"

# render NAME OBJECTIVE [featvis render flags...]: keeps the final image (or the batch's
# contact sheet) as OUT/NAME.png and the record as OUT/NAME.json.
render() {
  local name="$1" objective="$2"
  shift 2
  [[ -z "${ONLY:-}" || " $ONLY " == *" $name "* ]] || return 0
  echo "== $name: $objective $*" >&2
  rm -rf "${WORK:?}/$name"
  "$FEATVIS" render mobilenet_v2 "$objective" --steps 512 --size 224 --seed 0 --threads "$THREADS" \
    --quiet --out "$WORK/$name" "$@" >/dev/null
  if [[ -f "$WORK/$name/final_sheet.png" ]]; then
    cp "$WORK/$name/final_sheet.png" "$OUT/$name.png"
  else
    cp "$WORK/$name/final_0.png" "$OUT/$name.png"
  fi
  cp "$WORK/$name/render.json" "$OUT/$name.json"
  /usr/bin/python3 -c 'import sys; from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
im.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(sys.argv[1], optimize=True)' \
    "$OUT/$name.png"
}

# General -> specific: four units of each of four layers across the depth.
render layer1_early_expanded_conv_2 "MobileNetV2/expanded_conv_2/expand:0-3" --batch 4
render layer2_middle_expanded_conv_8 "MobileNetV2/expanded_conv_8/expand:0-3" --batch 4
render layer3_late_expanded_conv_15 "MobileNetV2/expanded_conv_15/expand:0-3" --batch 4
# The last conv's ReLU6 output saturates at 6 within a few dozen steps and then gives no
# gradient, so its pre-activation is rendered (as Lucid renders "_pre_relu" layers).
render layer4_last_Conv2d_18_1_preact "MobileNetV2/Conv2d_18_1/preact:0-3" --batch 4
# DeepDream of a middle layer, starting from a real photo.
render deepdream_expanded_conv_8_on_tabby "MobileNetV2/expanded_conv_8/expand" --init "$PHOTO" --lr 0.002
# A class by its pre-softmax logit and by its softmax probability.
render class_flamingo_logit "logit:flamingo"
render class_flamingo_prob "prob:flamingo"
# The same channel, naive recipe vs the default (Lucid's) one.
render naive_expanded_conv_8_unit7 "MobileNetV2/expanded_conv_8/expand:7" --preset naive
render default_expanded_conv_8_unit7 "MobileNetV2/expanded_conv_8/expand:7"
echo "gallery written to $OUT/" >&2
