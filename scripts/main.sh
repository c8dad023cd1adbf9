#!/usr/bin/env bash
# The main job: build featvis and show it working on the default model: the models it
# knows, a classification, and a feature visualization of one channel.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build featvis
./build/featvis models
./build/featvis classify mobilenet_v2 ../shared/images/imagenet-samples/n02123045_tabby.JPEG --top 3
./build/featvis render mobilenet_v2 "MobileNetV2/expanded_conv_8/expand:7" --steps 256 \
  --thresholds 32,128 --out build/render-example
echo "feature visualization: build/render-example/final_0.png (and render.json)"
